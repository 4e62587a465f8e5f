"""What a provider app needs to handle authorization pushes without losing a corp.

WeCom delivers a push again when it gets no 200 (three tries), and an auth code stays
valid ten minutes. So a push that failed in a way a later try can fix is answered non-200
(:func:`retryable`), and a permanent code already exchanged but not yet stored is kept
here (:class:`Exchanged`) for that later try: the auth code works once, so exchanging it
again would be refused. A stored permanent code is dropped on WeCom's word alone that it
is void (:func:`refused_for_good`). :class:`CorpLocks` orders the pushes of one corp in a
process, so that a ``cancel_auth`` never deletes a code a ``create_auth`` stores at the
same time.
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
from ._service import GET_AUTH_INFO
from ._tokens import GET_SUITE_TOKEN

__all__ = [
    "AUTH_CODE_LIFETIME",
    "CODE_VOID_ERRCODES",
    "CorpLocks",
    "Exchanged",
    "refused_for_good",
    "retryable",
    "suite_credentials_failed",
]

#: Seconds an auth code of ``create_auth`` / ``reset_permanent_code`` is valid (D:90642).
AUTH_CODE_LIFETIME: Final = 600.0
#: Most exchanged codes kept waiting for their store (each only while the store fails).
MAX_EXCHANGED: Final = 10_000
_STRIPES: Final = 64
#: What ``service/get_auth_info`` answers for a permanent code WeCom no longer accepts:
#: 40084 invalid permanent_code (D:90313: a wrong code, a cancelled authorization, another
#: provider's code; seen answered as "invalid authorizer permanent code"). No other code
#: is read as "void": for a corp that never installed the suite WeCom was once seen
#: answering 40082, which is also its answer for a bad suite token, so it proves nothing.
CODE_VOID_ERRCODES: Final = frozenset({40084})


def retryable(exc: BaseException) -> bool:
    """Whether a later delivery of the same push may succeed where this one failed.

    Yes for whatever did not get a definite answer from WeCom (the network, a 5xx or a
    garbled body, WeCom busy or rate-limited, no suite ticket yet, a closed app), for a
    failure of the suite's own credentials (:func:`suite_credentials_failed`: the push
    itself was never judged) and for every error of the vendor's own stores; no for a
    definite refusal of the push (an errcode, an answer that does not match its model, a
    bad argument).
    """
    if not isinstance(exc, WeComError):
        return isinstance(exc, Exception)
    if isinstance(exc, SystemBusyError | RateLimitError) or suite_credentials_failed(exc):
        return True
    if isinstance(exc, ResponseError):
        return not isinstance(exc, StructureError)
    return isinstance(exc, TransportError | ClientClosedError | SuiteTicketError)


def suite_credentials_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure to get or use the suite access token, whatever its
    errcode: ``get_suite_token`` refused (a stale ticket 40085, a rotated secret 40080,
    ...), or a call's suite token refused again after a refresh (TokenError)."""
    return isinstance(exc, TokenError) or (
        isinstance(exc, APIError) and exc.request_line == GET_SUITE_TOKEN.line
    )


def refused_for_good(exc: BaseException) -> bool:
    """Whether ``service/get_auth_info`` itself answered that a stored permanent code is
    void (:data:`CODE_VOID_ERRCODES`), as opposed to the check failing: the suite token
    (any errcode), WeCom busy or rate-limited, the network, a 5xx, any other errcode."""
    return (
        isinstance(exc, APIError)
        and not isinstance(exc, TokenError)
        and exc.errcode in CODE_VOID_ERRCODES
        and exc.request_line == GET_AUTH_INFO.line
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
