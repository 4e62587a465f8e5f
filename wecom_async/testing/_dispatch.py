"""One request in, one response out: routing, the checks every WeCom call passes, envelopes.

Order of processing, the same for both faces of the fake:

1. The fault of the request is chosen: a pending injected fault of its path, else the
   chaos setting's draw (see :mod:`._faults` and :mod:`._chaos`).  A ``connect`` fault
   ends here: the request never reached WeCom.
2. Record the request (``fake.requests``, ``fake.calls(path)``), whatever happens next.
3. A path outside ``/cgi-bin/`` or without a route answers HTTP 404 (plain text naming the
   path): the fake does not pretend to implement endpoints it lacks.
4. An ``errcode`` fault, or a ``status`` fault with ``processed=False``, answers now.
5. Wrong verb: 40058 whose errmsg says which verb the API takes.  WeCom's own answer to a
   wrong verb varies (40058 / 40063 / 40003 because the body is not read, endpoints.md §0.2);
   the fake always answers 40058 and names the verb, so the mistake is obvious.
6. Token (all routes but gettoken): 41001 / 40014 / 42001, from the query only.
7. Frequency budget (45009) and concurrency cap (45033) of the API, counted for the corp
   whose token the call carries, as WeCom counts per corp (see :mod:`._limits`).  A call
   without a corp token counts for the corp it names (``gettoken`` its ``corpid``, a
   provider's call its ``auth_corpid`` / ``corpid`` or auth code: the route's ``payer``)
   when the fake serves that corp, else under :data:`NO_CORP`, budgets that are no
   corp's (a provider's own calls, a gettoken of an unknown corp).
8. A POST body that is not a UTF-8 JSON object: 40058 "Warning: wrong json format."
   (multipart uploads are passed through raw).
9. The handler; a ``rewrite`` fault replaces its data, which is then wrapped as
   ``{"errcode": 0, "errmsg": "ok", ...}``.
10. Any other fault spoils the response.

A handler's cursors are signed for the corp it answers for, so that a cursor is refused
(50100) by every other corp (see :mod:`._cursor`).

Every business error is HTTP 200 with ``{"errcode", "errmsg"}``, the errmsg in WeCom's
style: ``<message>, hint: [<ts>-<hex>], from ip: <ip>, more info at ...?e=<code>``.
Steps 1-10 run under the fake's lock, so handlers never run concurrently.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Final, TypeAlias
from urllib.parse import parse_qsl

from .._jsontext import json_text
from ._chaos import Chaos, ChaosEvent
from ._clock import FakeClock
from ._cursor import CursorCodec
from ._errors import WeComFault, default_message, format_errmsg, make_hint
from ._faults import Fault, FaultBook
from ._json import JSON
from ._limits import ConcurrencyLimiter, RateLimiter
from ._route import RequestContext, Route, Ticker
from ._state import CorpState

__all__ = [
    "NO_CORP",
    "PREFIX",
    "Backend",
    "Dispatcher",
    "FakeRequest",
    "FakeResponse",
    "Handle",
    "InFlight",
    "RecordedRequest",
]

#: Every WeCom API path starts with this.
PREFIX: Final = "/cgi-bin/"
#: Whose budgets the calls that concern no corp of the fake spend (not a valid corp id).
NO_CORP: Final = "(no corp)"
_REDACTED: Final = ("access_token", "corpsecret", "suite_access_token", "provider_access_token")
#: Credentials a provider's token calls carry in their JSON body.
_REDACTED_BODY: Final = frozenset(
    {"suite_secret", "suite_ticket", "permanent_code", "provider_secret", "auth_code"}
)
_JSON_TYPE: Final = "application/json; charset=UTF-8"
_HTML_TYPE: Final = "text/html; charset=utf-8"
_WRONG_JSON: Final = "Warning: wrong json format."


@dataclass(frozen=True, slots=True)
class FakeRequest:
    """A request as both faces hand it to :meth:`FakeWeCom.handle`."""

    method: str
    #: The URL path, e.g. ``/cgi-bin/externalcontact/get``.
    path: str
    #: The raw query string (without ``?``).
    query: bytes = b""
    body: bytes = b""
    content_type: str = ""
    #: The caller's address, shown in errmsg ``from ip:``.
    client_host: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class FakeResponse:
    """What the fake answers; the fields after ``content_type`` tell the face how to
    deliver it (or fail to)."""

    status: int
    body: bytes
    content_type: str
    #: Abandon the connection instead of delivering the response.
    drop: bool = False
    #: Deliver the response this many seconds late.
    delay: float = 0.0
    #: Refuse the connection: the request never reached the fake.
    connect: bool = False
    #: Reset the connection while the response is being read.
    reset: bool = False
    #: A ``Content-Encoding`` header to send ("" for none), whatever the body is.
    content_encoding: str = ""
    #: The chaos event of this request, told when the response was handed over.
    event: ChaosEvent | None = None

    @property
    def lost(self) -> bool:
        """True when the response never reaches the client (connect, reset, drop)."""
        return self.connect or self.reset or self.drop

    def mark_delivered(self) -> None:
        """Record that the face handed the whole response to the client."""
        if self.event is not None:
            self.event.delivered = True


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request that reached the fake, for assertions.

    ``path`` is without ``/cgi-bin/``; ``query`` has ``access_token`` and ``corpsecret``
    values replaced by ``***``; ``json`` is the parsed JSON object body, or None for a GET,
    an upload or a body that is not a JSON object; ``at`` is the fake clock's time.
    """

    method: str
    path: str
    query: Mapping[str, str]
    json: JSON | None
    #: When it arrived, on the fake's clock.
    at: float = field(default=0.0, compare=False)


#: What both faces of the fake call to answer a request (``FakeWeCom.handle``).
Handle: TypeAlias = Callable[[FakeRequest], Awaitable[FakeResponse]]

#: A request in flight until its response leaves: (corp id, path), for the concurrency cap.
InFlight: TypeAlias = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Backend:
    """Exactly what the dispatcher uses of the fake; the fake hands it over at creation.

    The handlers get ``state``, ``clock`` and ``cursors`` through their
    :class:`RequestContext`; the rest serves the checks every request passes.
    """

    #: Held while a request is processed; the fake's own methods hold it too.
    lock: AbstractContextManager[object]
    clock: FakeClock
    #: The corp's records, its app secrets and tokens included.
    state: CorpState
    #: The fake's codec; a handler gets ``cursors.scoped(corp_id)`` of the corp it serves.
    cursors: CursorCodec
    rate: RateLimiter
    concurrency: ConcurrencyLimiter
    faults: FaultBook
    #: Every corp by id (``state`` among them) when the fake serves several; a business
    #: call is answered from the corp whose token it carries.
    corps: Mapping[str, CorpState] | None = None

    def state_for(self, access_token: str | None) -> CorpState:
        """The corp that issued ``access_token`` (``state`` when none did)."""
        if self.corps is None or not access_token or self.state.tokens.knows(access_token):
            return self.state
        for corp in self.corps.values():
            if corp.tokens.knows(access_token):
                return corp
        return self.state

    def payer(self, route: Route, query: Mapping[str, str], body: JSON) -> str:
        """Whose budgets a request spends: the corp whose token it carries; for a route
        without a corp token, the corp its ``payer`` names when the fake serves it, else
        :data:`NO_CORP`."""
        if route.auth:
            return self.state_for(query.get("access_token")).corp_id
        named = route.payer(self.state, query, body) if route.payer is not None else None
        if named is None:
            return NO_CORP
        known = named in self.corps if self.corps is not None else named == self.state.corp_id
        return named if known else NO_CORP


class _BadJSON:
    """Marker for a POST body that is not a UTF-8 JSON object."""


_BAD_JSON: Final = _BadJSON()


class Dispatcher:
    """Routes requests to handlers and applies the common checks (module doc)."""

    def __init__(
        self,
        backend: Backend,
        routes: Mapping[str, Route],
        tickers: Sequence[Ticker] = (),
        *,
        record_limit: int | None,
        chaos: Chaos | None = None,
    ) -> None:
        """Create a dispatcher over ``backend`` serving ``routes`` (path -> route).

        ``tickers`` run before every handler. Only the latest ``record_limit`` requests
        are kept (None: all of them).  ``chaos`` spoils a share of the requests.
        """
        self._backend = backend
        #: The chaos setting in force, if any; change it under the backend's lock.
        self.chaos = chaos
        self.routes: dict[str, Route] = dict(routes)
        self._tickers = tuple(tickers)
        self.records: deque[RecordedRequest] = deque(maxlen=record_limit)
        self.counts: dict[str, int] = {}
        self._serial = 0

    def dispatch(self, request: FakeRequest) -> tuple[FakeResponse, InFlight | None]:
        """Answer ``request``; the second item is what is now in flight, if anything (hand
        it to :meth:`leave` once the response left)."""
        with self._backend.lock:
            self._serial += 1
            query: dict[str, str] = {}
            for key, value in parse_qsl(request.query.decode("utf-8", "replace"), True):
                query.setdefault(key, value)
            path = request.path[len(PREFIX) :] if request.path.startswith(PREFIX) else ""
            body = self._parse_body(request)
            route = self.routes.get(path) if path else None
            fault, event = (None, None)
            if route is not None:
                fault, event = self._fault_for(request.method, path, route, query, body)
            if fault is not None and fault.connect:
                return FakeResponse(502, _html_error(502), _HTML_TYPE, connect=True), None
            self._record(request.method, path or request.path, query, body)
            if route is None:
                message = f"fake WeCom has no route for {request.method} {request.path}"
                return FakeResponse(404, message.encode(), "text/plain; charset=utf-8"), None
            if fault is not None and not fault.runs_handler:
                return dataclasses.replace(self._refusal(request, fault), event=event), None
            rewrite = fault.rewrite if fault is not None else None
            response, in_flight = self._process(request, path, route, query, body, rewrite)
            if fault is not None:
                response = _spoil(response, fault)
            return dataclasses.replace(response, event=event), in_flight

    def _fault_for(
        self,
        method: str,
        path: str,
        route: Route,
        query: Mapping[str, str],
        body: JSON | _BadJSON | None,
    ) -> tuple[Fault | None, ChaosEvent | None]:
        """The injected fault pending for ``path``, else what the chaos setting draws."""
        fault = self._backend.faults.take(path)
        chaos = self.chaos
        if fault is not None or chaos is None:
            return fault, None
        return chaos.draw(
            method,
            path,
            authenticated=route.auth,
            query=query,
            body=body if isinstance(body, dict) else None,
            corp_id=self._backend.payer(route, query, body if isinstance(body, dict) else {}),
        )

    def _refusal(self, request: FakeRequest, fault: Fault) -> FakeResponse:
        """The answer of a fault that answers before processing."""
        if fault.errcode is not None:
            return self._error(request, fault.errcode, fault.errmsg)
        status = fault.status if fault.status is not None else 502
        return FakeResponse(status, _html_error(status), _HTML_TYPE)

    def leave(self, in_flight: InFlight) -> None:
        """Mark one request that :meth:`dispatch` left in flight as delivered."""
        corp_id, path = in_flight
        with self._backend.lock:
            self._backend.concurrency.leave(path, corp_id)

    def _process(
        self,
        request: FakeRequest,
        path: str,
        route: Route,
        query: dict[str, str],
        body: JSON | _BadJSON | None,
        rewrite: Callable[[JSON], JSON] | None,
    ) -> tuple[FakeResponse, InFlight | None]:
        backend = self._backend
        if request.method != route.method:
            message = f"Warning: wrong request method, {path} requires {route.method}"
            return self._error(request, 40058, message), None
        now = backend.clock.now()
        state = backend.state_for(query.get("access_token")) if route.auth else backend.state
        if route.auth:
            corp_id = state.corp_id
        else:
            corp_id = backend.payer(route, query, body if isinstance(body, dict) else {})
        in_flight = (corp_id, path)
        try:
            if route.auth:
                state.tokens.check(query.get("access_token"), now)
            if not backend.rate.allow(path, now, corp_id):
                raise WeComFault(45009)
            if not backend.concurrency.enter(path, corp_id):
                raise WeComFault(45033)
        except WeComFault as fault:
            return self._error(request, fault.errcode, fault.message), None
        try:
            if isinstance(body, _BadJSON):
                raise WeComFault(40058, _WRONG_JSON)
            for tick in self._tickers:
                tick(state, now)
            ctx = RequestContext(
                state=state,
                clock=backend.clock,
                cursors=backend.cursors.scoped(state.corp_id),
                method=request.method,
                path=path,
                query=query,
                body=body if body is not None and route.method == "POST" else {},
                raw_body=request.body,
                content_type=request.content_type,
            )
            data = route.handler(ctx)
            if rewrite is not None:
                # A private copy: handlers may hand out lists and dicts of the state.
                data = rewrite(copy.deepcopy(data))
        except WeComFault as fault:
            return self._error(request, fault.errcode, fault.message), in_flight
        except BaseException:
            backend.concurrency.leave(path, corp_id)
            raise
        return _json_response({"errcode": 0, "errmsg": "ok", **data}), in_flight

    def _parse_body(self, request: FakeRequest) -> JSON | _BadJSON | None:
        if request.method != "POST" or request.content_type.startswith("multipart/"):
            return None
        if not request.body.strip():
            return None
        try:
            value = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _BAD_JSON
        return value if isinstance(value, dict) else _BAD_JSON

    def _record(
        self, method: str, path: str, query: dict[str, str], body: JSON | _BadJSON | None
    ) -> None:
        shown = {k: ("***" if k in _REDACTED else v) for k, v in query.items()}
        parsed = None if isinstance(body, _BadJSON) else body
        if parsed is not None and not _REDACTED_BODY.isdisjoint(parsed):
            parsed = {k: ("***" if k in _REDACTED_BODY else v) for k, v in parsed.items()}
        at = self._backend.clock.now()
        self.records.append(RecordedRequest(method, path, shown, parsed, at))
        self.counts[path] = self.counts.get(path, 0) + 1

    def _error(self, request: FakeRequest, errcode: int, message: str | None) -> FakeResponse:
        backend = self._backend
        hint = make_hint(backend.clock.now(), backend.state.corp_id, self._serial)
        text = message if message is not None else default_message(errcode)
        errmsg = format_errmsg(errcode, text, hint=hint, ip=request.client_host)
        return _json_response({"errcode": errcode, "errmsg": errmsg})


def _json_response(data: JSON) -> FakeResponse:
    body = json_text(data).encode()  # a customer's lone surrogate arrives escaped, as from WeCom
    return FakeResponse(200, body, _JSON_TYPE)


def _spoil(response: FakeResponse, fault: Fault) -> FakeResponse:
    if fault.status is not None:
        return FakeResponse(fault.status, _html_error(fault.status), _HTML_TYPE)
    if fault.html:
        return FakeResponse(200, _PORTAL_PAGE, _HTML_TYPE)
    if fault.truncated:
        return dataclasses.replace(response, body=response.body[: max(1, len(response.body) // 2)])
    if fault.drop or fault.reset:
        return dataclasses.replace(response, drop=fault.drop, reset=fault.reset)
    if fault.bad_gzip:
        return dataclasses.replace(response, content_encoding="gzip")
    if fault.delay is not None:
        return dataclasses.replace(response, delay=fault.delay)
    return response  # a rewrite already changed the data


#: What a captive portal or a misconfigured proxy answers with HTTP 200.
_PORTAL_PAGE: Final = (
    b"<!DOCTYPE html>\r\n<html><head><title>Network login</title></head>\r\n"
    b"<body><h1>Sign in to continue</h1></body></html>\r\n"
)


_REASONS: Final = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def _html_error(status: int) -> bytes:
    title = f"{status} {_REASONS.get(status, 'Server Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()
