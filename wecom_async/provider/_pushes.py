"""What a provider app needs to handle authorization pushes without losing a corp.

WeCom delivers a push again when it gets no 200 (three tries), and an auth code stays
valid ten minutes. So a push that failed in a way a later try can fix is answered non-200
(:func:`retryable`), and a permanent code already exchanged but not yet stored is kept
here (:class:`Exchanged`) for that later try: the auth code works once, so exchanging it
again would be refused. :class:`CorpLocks` orders the pushes of one corp in a process, so
that a ``cancel_auth`` never deletes a code a ``create_auth`` stores at the same time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

import anyio

from .._exceptions import (
    APIError,
    ClientClosedError,
    RateLimitError,
    ResponseError,
    StructureError,
    SuiteTicketError,
    SystemBusyError,
    TokenError,
    TransportError,
    WeComError,
)
from ..models.provider import PermanentCodeInfo

__all__ = ["AUTH_CODE_LIFETIME", "CorpLocks", "Exchanged", "refused_for_good", "retryable"]

#: Seconds an auth code of ``create_auth`` / ``reset_permanent_code`` is valid (D:90642).
AUTH_CODE_LIFETIME: Final = 600.0
#: Most exchanged codes kept waiting for their store (each only while the store fails).
MAX_EXCHANGED: Final = 10_000
_STRIPES: Final = 64


def retryable(exc: BaseException) -> bool:
    """Whether a later delivery of the same push may succeed where this one failed.

    Yes for whatever did not get a definite answer from WeCom (the network, a 5xx or a
    garbled body, WeCom busy or rate-limited, no suite ticket yet, a closed app) and for
    every error of the vendor's own stores; no for a definite refusal (an errcode, an
    answer that does not match its model, a bad argument).
    """
    if not isinstance(exc, WeComError):
        return isinstance(exc, Exception)
    if isinstance(exc, SystemBusyError | RateLimitError):
        return True
    if isinstance(exc, ResponseError):
        return not isinstance(exc, StructureError)
    return isinstance(exc, TransportError | ClientClosedError | SuiteTicketError)


def refused_for_good(exc: BaseException) -> bool:
    """Whether WeCom's answer says a stored permanent code no longer works (a cancelled
    authorization), as opposed to the check itself failing (suite token, busy, network)."""
    return (
        isinstance(exc, APIError)
        and not isinstance(exc, TokenError | SystemBusyError | RateLimitError)
        and not retryable(exc)
    )


class Exchanged:
    """Permanent codes exchanged but not yet stored, by auth code, until the code expires."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._infos: dict[str, tuple[PermanentCodeInfo, float]] = {}

    def __len__(self) -> int:
        return len(self._infos)

    def get(self, auth_code: str) -> PermanentCodeInfo | None:
        """The exchanged code of ``auth_code``, if it still waits to be stored."""
        now = self._clock()
        for code in [c for c, (_, until) in self._infos.items() if until <= now]:
            del self._infos[code]
        entry = self._infos.get(auth_code)
        return None if entry is None else entry[0]

    def keep(self, auth_code: str, info: PermanentCodeInfo) -> None:
        """Keep ``info`` for a later delivery of ``auth_code``'s push (oldest dropped)."""
        if len(self._infos) >= MAX_EXCHANGED:
            del self._infos[next(iter(self._infos))]
        self._infos[auth_code] = (info, self._clock() + AUTH_CODE_LIFETIME)

    def drop(self, auth_code: str) -> None:
        """Forget ``auth_code``: its code is stored."""
        self._infos.pop(auth_code, None)


class CorpLocks:
    """A fixed set of locks, one per corp id's hash: a corp's pushes run one at a time."""

    def __init__(self) -> None:
        self._locks: list[anyio.Lock] | None = None

    def __call__(self, corp_id: str) -> anyio.Lock:
        """The lock of ``corp_id`` (created on first use, inside the event loop)."""
        if self._locks is None:
            self._locks = [anyio.Lock() for _ in range(_STRIPES)]
        return self._locks[hash(corp_id) % _STRIPES]
