"""Chaos mode: seeded faults of every kind on any route, at a given rate.

A :class:`Chaos` setting turns a share ``rate`` of the requests it sees into one fault each,
drawn from ``kinds`` with one ``random.Random(seed)``, so the same seed and the same
sequence of requests spoil the same requests the same way.  Each spoiled request becomes a
one-shot :class:`~._faults.Fault` and goes through exactly the machinery of
``FakeWeCom.inject``; the response-shaped kinds are ``rewrite`` faults.

Kinds (:data:`ChaosKind`), and whether the fake processes the request first:

==================  =========  ==========================================================
kind                processed  what the client sees
==================  =========  ==========================================================
``connect``         no         connection refused (``httpx.ConnectError`` in-process)
``reset``           yes        connection reset while reading (``httpx.ReadError``)
``drop``            yes        server disconnected (``httpx.RemoteProtocolError``)
``status``          either     HTTP 502 or 503 with an HTML page; half of them unprocessed
``truncated``       yes        HTTP 200, JSON cut in half
``html``            yes        HTTP 200, an HTML page
``bad_gzip``        yes        HTTP 200 declared gzip but not gzip (``httpx.DecodingError``)
``busy``            no         errcode -1
``rate_limit``      no         errcode 45009
``token_expired``   no         errcode 42001 (business calls only, never gettoken)
``cursor_repeat``   yes        ``next_cursor`` set to a cursor already followed in this pass
``oversized``       yes        one string field 500 bytes or 1,000 characters long
``odd_type``        yes        one field oddly typed: a string holding an object or a list,
                               an integer holding a float or a numeric string, a boolean
                               holding ``"false"`` / ``"true"``
``delay``           yes        the response leaves ``delay`` seconds late (opt-in)
==================  =========  ==========================================================

``cursor_repeat`` applies only to a request that follows a cursor: the pass of pages
(same corp, path, and parameters but the cursor) started by the last request without a
cursor is remembered, and the repeated cursor is one of its cursors, the current one
included, so cycles of any length occur. The latest ``pass_limit`` passes are remembered
(the least recently paged forgotten first), so a long-running sandbox does not grow
without bound; a cursor of a forgotten pass starts a new pass. ``oversized`` and
``odd_type`` change one field of a successful answer (never ``next_cursor``,
``next_offset`` or ``total``); an answer without a field of the right type goes out
unchanged and its event has ``field`` None.

Every request chaos sees is logged as a :class:`ChaosEvent` (``kind`` None when it was let
through), so a test can tell which of a call's requests were spoiled, and how.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, get_args

from .._validation import check_seconds, check_whole
from ._faults import Fault
from ._json import JSON

__all__ = [
    "ALL_KINDS",
    "DEFAULT_KINDS",
    "FAILING_KINDS",
    "LOST_KINDS",
    "MANGLING_KINDS",
    "REFUSED_KINDS",
    "Chaos",
    "ChaosEvent",
    "ChaosKind",
]

#: One kind of chaos; see the module doc.
ChaosKind: TypeAlias = Literal[
    "connect",
    "reset",
    "drop",
    "status",
    "truncated",
    "html",
    "bad_gzip",
    "busy",
    "rate_limit",
    "token_expired",
    "cursor_repeat",
    "oversized",
    "odd_type",
    "delay",
]

ALL_KINDS: Final[tuple[ChaosKind, ...]] = get_args(ChaosKind)
#: Every kind but ``delay``, which really waits and so is asked for explicitly.
DEFAULT_KINDS: Final[tuple[ChaosKind, ...]] = tuple(k for k in ALL_KINDS if k != "delay")
#: Kinds that WeCom provably refused before doing anything: a client may resend.
REFUSED_KINDS: Final[frozenset[ChaosKind]] = frozenset({"connect", "rate_limit", "token_expired"})
#: Kinds whose response never reaches the client.
LOST_KINDS: Final[frozenset[ChaosKind]] = frozenset({"connect", "reset", "drop"})
#: Kinds that change a field of a successful answer: a client keeps what was sent or
#: refuses it, but its result differs from the data the fake holds.
MANGLING_KINDS: Final[frozenset[ChaosKind]] = frozenset({"oversized", "odd_type"})
#: The default kinds but the mangling ones: after any of them a call either fails or
#: returns exactly the data the fake holds.
FAILING_KINDS: Final[tuple[ChaosKind, ...]] = tuple(
    k for k in DEFAULT_KINDS if k not in MANGLING_KINDS
)

#: Top-level keys that steer paging; changing them is ``cursor_repeat``'s job alone.
_PAGING_KEYS: Final = frozenset({"next_cursor", "next_offset", "total"})
_ERRCODES: Final[Mapping[ChaosKind, int]] = {
    "busy": -1,
    "rate_limit": 45009,
    "token_expired": 42001,
}
_DEFAULT_LOG_LIMIT: Final = 100_000
#: Passes of pages remembered for ``cursor_repeat``: far more than any client pages at once.
_DEFAULT_PASS_LIMIT: Final = 1_000

#: Where a field sits in an answer: keys and list indices from the top.
FieldPath: TypeAlias = tuple[str | int, ...]


@dataclass(slots=True)
class ChaosEvent:
    """One request that chaos saw, and what it did to it.

    ``kind`` is None for a request let through untouched.  ``processed`` is False when
    the fake answered without processing the request (``connect``, ``busy``,
    ``rate_limit``, ``token_expired``, half of ``status``).  For ``oversized`` and
    ``odd_type``, ``field`` is where the answer was changed (``"follow_user[0].remark"``)
    and ``value`` what was sent there; ``field`` stays None when the answer had no field
    to change (or the handler answered an error).  ``delivered`` turns True when the face
    handed the whole response over; it stays False for a lost response or a ``delay``
    that the client gave up waiting for.
    """

    #: Order among the requests this setting saw, from 1.
    serial: int
    method: str
    #: The API path without ``/cgi-bin/``.
    path: str
    kind: ChaosKind | None = None
    processed: bool = True
    field: str | None = None
    value: object = None
    delivered: bool = False


class Chaos:
    """A seeded chaos setting for :class:`~wecom_async.testing.FakeWeCom` (module doc).

    Args:
        rate: share of requests spoiled, in [0, 1].
        seed: seed of the one random generator behind every choice.
        kinds: the kinds to draw from (default :data:`DEFAULT_KINDS`: all but ``delay``).
        paths: the API paths to spoil (``"externalcontact/get"``); None: every route,
            ``gettoken`` included.
        delay: seconds a ``delay`` response waits.
        log_limit: how many :class:`ChaosEvent` are kept (the latest ones).
        pass_limit: how many passes of pages ``cursor_repeat`` remembers (the latest
            paged ones).
    """

    def __init__(
        self,
        rate: float,
        *,
        seed: int = 0,
        kinds: Iterable[ChaosKind] = DEFAULT_KINDS,
        paths: Iterable[str] | None = None,
        delay: float = 10.0,
        log_limit: int = _DEFAULT_LOG_LIMIT,
        pass_limit: int = _DEFAULT_PASS_LIMIT,
    ) -> None:
        """Check and keep the setting; see the class doc."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        chosen = tuple(dict.fromkeys(kinds))
        unknown = [k for k in chosen if k not in ALL_KINDS]
        if unknown or not chosen:
            raise ValueError(f"kinds must be a non-empty subset of {ALL_KINDS}, got {unknown}")
        check_seconds(delay, "delay", zero=True)
        check_whole(pass_limit, "pass_limit")
        self.rate = rate
        self.seed = seed
        self.kinds: tuple[ChaosKind, ...] = chosen
        self.paths = None if paths is None else frozenset(_api_path(p) for p in paths)
        self.delay = delay
        #: Every request seen so far (the latest ``log_limit``), oldest first.
        self.events: deque[ChaosEvent] = deque(maxlen=log_limit)
        self._rng = random.Random(seed)
        self._serial = 0
        self._paused = 0
        self._pass_limit = pass_limit
        #: Pass key -> its cursors so far, the least recently paged first.
        self._passes: OrderedDict[str, list[str]] = OrderedDict()

    def __repr__(self) -> str:
        return (
            f"Chaos(rate={self.rate}, seed={self.seed}, kinds={list(self.kinds)}, "
            f"events={len(self.events)})"
        )

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Let every request through untouched, and unlogged, inside the ``with`` block."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def spoiled(self) -> list[ChaosEvent]:
        """Return the events of the requests chaos spoiled, oldest first."""
        return [event for event in self.events if event.kind is not None]

    def draw(
        self,
        method: str,
        path: str,
        *,
        authenticated: bool,
        query: Mapping[str, str],
        body: object,
        corp_id: str = "",
    ) -> tuple[Fault | None, ChaosEvent | None]:
        """Decide the fate of one request (the caller holds the fake's lock).

        ``corp_id`` is the corp the request is for: passes of pages are told apart per
        corp, so a repeated cursor is always one the same corp was given.  Returns the
        one-shot fault to apply (None: let it through) and the logged event (None when
        chaos is paused or the path is out of scope).
        """
        if self._paused or (self.paths is not None and path not in self.paths):
            return None, None
        self._serial += 1
        event = ChaosEvent(self._serial, method, path)
        self.events.append(event)
        followed = self._follow_pass(corp_id, path, query, body)
        if self._rng.random() >= self.rate:
            return None, event
        kinds = [
            k
            for k in self.kinds
            if (k != "token_expired" or authenticated) and (k != "cursor_repeat" or followed)
        ]
        if not kinds:
            return None, event
        kind = self._rng.choice(kinds)
        event.kind = kind
        fault = self._fault(kind, path, event, followed)
        event.processed = fault.runs_handler
        return fault, event

    def _fault(self, kind: ChaosKind, path: str, event: ChaosEvent, followed: list[str]) -> Fault:
        rng = self._rng
        if kind in _ERRCODES:
            return Fault(path, errcode=_ERRCODES[kind])
        if kind == "status":
            return Fault(path, status=rng.choice((502, 503)), processed=rng.random() < 0.5)
        if kind == "delay":
            return Fault(path, delay=self.delay)
        if kind == "cursor_repeat":
            cursor = rng.choice(followed)
            return Fault(path, rewrite=lambda data: {**data, "next_cursor": cursor})
        if kind == "oversized":
            return Fault(path, rewrite=lambda data: _oversize(data, rng, event))
        if kind == "odd_type":
            return Fault(path, rewrite=lambda data: _odd_type(data, rng, event))
        return Fault(
            path,
            connect=kind == "connect",
            reset=kind == "reset",
            drop=kind == "drop",
            truncated=kind == "truncated",
            html=kind == "html",
            bad_gzip=kind == "bad_gzip",
        )

    def _follow_pass(
        self, corp_id: str, path: str, query: Mapping[str, str], body: object
    ) -> list[str]:
        """Track the pass of pages this request belongs to; return its cursors so far."""
        params = dict(body) if isinstance(body, dict) else {}
        params.update({k: v for k, v in query.items() if k != "access_token"})
        cursor = params.pop("cursor", None)
        key = json.dumps([corp_id, path, params], sort_keys=True, default=str)
        fresh = not isinstance(cursor, str) or not cursor
        followed = [] if fresh else self._passes.get(key, [])
        self._passes[key] = followed
        self._passes.move_to_end(key)
        if len(self._passes) > self._pass_limit:
            self._passes.popitem(last=False)
        if not fresh and cursor not in followed:
            followed.append(cursor)
        return list(followed)


def _api_path(path: str) -> str:
    return path.lstrip("/").removeprefix("cgi-bin/")


def _leaves(data: JSON) -> list[tuple[FieldPath, object]]:
    """Every scalar leaf of an answer, paging keys left out, in document order."""
    found: list[tuple[FieldPath, object]] = []

    def walk(value: object, where: FieldPath) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if not where and key in _PAGING_KEYS:
                    continue
                walk(inner, (*where, str(key)))
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, (*where, index))
        elif where:
            found.append((where, value))

    walk(data, ())
    return found


def _render_path(where: FieldPath) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _replace(data: JSON, where: FieldPath, value: object) -> JSON:
    """Replace the leaf at ``where`` in ``data`` (the fake's private copy) and return it."""
    node: object = data
    for part in where[:-1]:
        node = node[part]  # type: ignore[index]
    node[where[-1]] = value  # type: ignore[index]
    return data


def _mangle(
    data: JSON,
    rng: random.Random,
    event: ChaosEvent,
    pick: Callable[[object], bool],
    change: Callable[[object], object],
) -> JSON:
    candidates = [(where, value) for where, value in _leaves(data) if pick(value)]
    if not candidates:
        return data
    where, old = rng.choice(candidates)
    new = change(old)
    event.field, event.value = _render_path(where), new
    return _replace(data, where, new)


def _oversize(data: JSON, rng: random.Random, event: ChaosEvent) -> JSON:
    """One string field made far longer than any request limit (500 bytes or 1,000 chars)."""
    marker = f"chaos#{event.serial}:"

    def longer(_: object) -> object:
        if rng.random() < 0.5:
            return (marker + "x" * 500)[:500]  # 500 bytes, e.g. a link title
        return (marker + "长" * 1000)[:1000]  # 1,000 characters, e.g. a remark

    return _mangle(data, rng, event, lambda v: isinstance(v, str), longer)


def _odd_type(data: JSON, rng: random.Random, event: ChaosEvent) -> JSON:
    """One field of an unexpected JSON type, chosen by the type it has."""
    marker = f"chaos#{event.serial}"

    def oddly(value: object) -> object:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return value + 0.5 if rng.random() < 0.5 else str(value)
        return {"chaos": marker} if rng.random() < 0.5 else [marker]

    return _mangle(data, rng, event, lambda v: isinstance(v, (str, int)), oddly)
