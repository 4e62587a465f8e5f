"""``FakeWeCom``: an in-memory WeCom corp (and, for a service provider, more corps), served
in-process or over ASGI."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Final

import anyio

from ._actions import ClientActions
from ._asgi import FakeASGIApp
from ._chaos import DEFAULT_KINDS, Chaos, ChaosKind
from ._clock import FakeClock
from ._corp import CorpData, FakeCorp
from ._cursor import CursorCodec
from ._dispatch import NO_CORP, Backend, Dispatcher, FakeRequest, FakeResponse, RecordedRequest
from ._faults import Fault, FaultBook
from ._limits import ConcurrencyLimiter, RateLimiter
from ._provider_actions import ProviderActions
from ._route import JSON, Route
from ._state import CorpState
from ._transport import FakeTransport
from .routes import discover
from .routes._provider_state import ProviderState

__all__ = ["FakeWeCom"]

_BASE_URL: Final = "https://qyapi.weixin.qq.com"


def _api_path(path: str) -> str:
    """``/cgi-bin/externalcontact/get`` or ``externalcontact/get`` -> ``externalcontact/get``."""
    path = path.lstrip("/")
    return path.removeprefix("cgi-bin/")


def _check_corp_id(corp_id: str) -> None:
    if corp_id == NO_CORP:
        raise ValueError(f"{NO_CORP!r} is reserved: the budgets of calls about no corp")


def _cursor_key(corp_id: str, generation: int) -> bytes:
    suffix = f"\x1f{generation}" if generation else ""
    return hashlib.sha256(f"cursor\x1f{corp_id}{suffix}".encode()).digest()


class FakeWeCom(CorpData, ClientActions, ProviderActions):
    """A stateful fake of one WeCom corp that speaks the real wire format.

    Serve it in-process with ``httpx.AsyncClient(transport=fake.transport())`` or over a
    real socket with ``fake.app`` (ASGI).  Both faces share one state and one
    :meth:`handle`.  Every method here is thread-safe: a server thread may serve requests
    while the test thread sets up data, injects faults or reads ``requests``.

    ``rate_limit_per_minute`` is the default budget of every API (None: no limit), counted
    per corp as WeCom counts it (one corp's overrun never refuses another);
    ``rate_limits`` replaces it with windows ``[(calls, seconds), ...]`` that all hold
    (e.g. WeCom's minute and hour, or ``[(50, 1.0), (200, 10.0)]`` scaled down), each
    blocking the API for its own length once exceeded;
    ``latency`` (seconds, really slept with ``anyio.sleep``) is added to every response;
    ``requests`` keeps the latest ``record_limit`` requests (None: all), so that a
    long-running sandbox does not grow without bound (``calls()`` always counts them all).
    ``chaos`` spoils a share of all requests from the start (see :meth:`set_chaos`).

    Besides the API, its methods play what happens outside it (a member confirming a
    mass message, a customer adding a member, a member resigning, ...): see
    :meth:`confirm_groupmsg` and its neighbours.

    For a service provider's tests it serves more corps, each with its own records and
    tokens (:meth:`add_corp`, :meth:`corp`), and plays the provider flow: suites
    (:meth:`add_suite`), suite-ticket pushes, authorizing and cancelling corps (see
    :class:`~wecom_async.testing._provider_actions.ProviderActions`). The data methods
    of the fake itself act on its first corp, ``corp_id``.
    """

    def __init__(
        self,
        corp_id: str = "wwfake",
        secret: str = "fake-secret",
        *,
        clock: FakeClock | None = None,
        latency: float = 0.0,
        rate_limit_per_minute: int | None = 10_000,
        rate_limits: Sequence[tuple[int, float]] | None = None,
        record_limit: int | None = 100_000,
        chaos: Chaos | None = None,
    ) -> None:
        """Create an empty corp ``corp_id`` with one app ``secret``; see the class doc."""
        _check_corp_id(corp_id)
        self.corp_id = corp_id
        #: The app secret given at creation (``add_secret`` accepts more).
        self.secret = secret
        self.clock = clock if clock is not None else FakeClock()
        #: Seconds added to every response (benchmarks); may be changed at any time.
        self.latency = latency
        #: Serialises handlers and every public method (re-entrant).
        self.lock = threading.RLock()
        self.state = CorpState(corp_id)
        self.state.tokens.add_secret(secret)
        self._corps: dict[str, CorpState] = {corp_id: self.state}
        self.state.ext(ProviderState).corps = self._corps
        #: The corp's app secrets and issued tokens (the same object as ``state.tokens``).
        self.tokens = self.state.tokens
        self.rate = RateLimiter(rate_limits if rate_limits is not None else rate_limit_per_minute)
        self.concurrency = ConcurrencyLimiter()
        self.faults = FaultBook()
        self._cursors = CursorCodec(_cursor_key(corp_id, 0))
        self._corp_cursors = self._cursors.scoped(corp_id)
        self._cursor_keys = 0
        routes, self._seeders, tickers = discover()
        backend = Backend(
            lock=self.lock,
            clock=self.clock,
            state=self.state,
            cursors=self._cursors,
            rate=self.rate,
            concurrency=self.concurrency,
            faults=self.faults,
            corps=self._corps,
        )
        self._dispatcher = Dispatcher(
            backend, routes, tickers, record_limit=record_limit, chaos=chaos
        )
        self._app = FakeASGIApp(self.handle)

    # -- faces --------------------------------------------------------------------------

    @property
    def cursors(self) -> CursorCodec:
        """Signs and checks the opaque cursors the fake hands out to its first corp,
        ``corp_id``, which no other corp accepts; ``cursors.scoped(other_corp_id)`` is
        the codec of another corp of the fake (:meth:`expire_cursors` expires every
        corp's)."""
        return self._corp_cursors

    @property
    def base_url(self) -> str:
        """The WeCom host, ``https://qyapi.weixin.qq.com`` (any host works in-process)."""
        return _BASE_URL

    def transport(self) -> FakeTransport:
        """Return an httpx transport that serves requests in-process."""
        return FakeTransport(self.handle)

    @property
    def app(self) -> FakeASGIApp:
        """The ASGI 3 application serving this fake (lifespan supported)."""
        return self._app

    async def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one request; both faces call this."""
        response, in_flight = self._dispatcher.dispatch(request)
        try:
            if self.latency > 0:
                await anyio.sleep(self.latency)
        finally:
            if in_flight is not None:
                self._dispatcher.leave(in_flight)
        return response

    def add_route(self, route: Route) -> None:
        """Serve an extra endpoint on this fake only (replacing any route of that path)."""
        with self.lock:
            self._dispatcher.routes[_api_path(route.path)] = route

    # -- corps --------------------------------------------------------------------------

    def add_corp(self, corp_id: str) -> FakeCorp:
        """Add another, empty corp (a corp that authorizes a provider's app) and return it;
        build its data with its own ``seed`` / ``add_staff`` / ``add_customer``."""
        _check_corp_id(corp_id)
        with self.lock:
            if corp_id in self._corps:
                raise ValueError(f"corp {corp_id!r} exists")
            self._corps[corp_id] = CorpState(corp_id)
            return self.corp(corp_id)

    def corp(self, corp_id: str) -> FakeCorp:
        """The corp ``corp_id`` of this fake (its first one included); KeyError if none."""
        with self.lock:
            state = self._corps[corp_id]
        return FakeCorp(state, lock=self.lock, clock=self.clock, seeders=self._seeders)

    # -- observation --------------------------------------------------------------------

    def calls(self, path: str) -> int:
        """How many requests reached ``path`` (``"gettoken"``, ``"externalcontact/get"``)."""
        with self.lock:
            return self._dispatcher.counts.get(_api_path(path), 0)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests so far (the latest ``record_limit``), oldest first; a copy, with
        ``access_token`` and ``corpsecret`` values shown as ``***``."""
        with self.lock:
            return list(self._dispatcher.records)

    def clear_requests(self) -> None:
        """Forget the recorded requests and call counts."""
        with self.lock:
            self._dispatcher.records.clear()
            self._dispatcher.counts.clear()

    # -- tokens, limits, faults ---------------------------------------------------------

    def add_secret(self, secret: str) -> None:
        """Accept another app secret of this corp; it gets tokens of its own."""
        with self.lock:
            self.tokens.add_secret(secret)

    def expire_tokens(self) -> None:
        """Make every issued token answer 42001; the next gettoken issues a fresh one."""
        with self.lock:
            self.tokens.expire_all()

    def invalidate_tokens(self) -> None:
        """Make every issued token answer 40014, as when WeCom revokes tokens early."""
        with self.lock:
            self.tokens.invalidate_all()

    def expire_cursors(self) -> None:
        """Make every cursor issued so far, to any corp, answer 50100, as WeCom's cursors
        do after hours; the cursors issued from now on work."""
        with self.lock:
            self._cursor_keys += 1
            self._cursors.rekey(_cursor_key(self.corp_id, self._cursor_keys))

    def set_rate_limit(self, path: str, per_minute: int | None) -> None:
        """Set one API's budget per minute, for each corp (None: unlimited); a corp's call
        over it answers 45009.

        A call counts for the corp whose token it carries, else the corp it names (a
        gettoken's ``corpid``, a provider call's ``auth_corpid`` / ``corpid`` or auth
        code); calls about no corp of the fake (a provider's own token calls, a gettoken
        of an unknown corp) share a budget of their own, never a corp's."""
        with self.lock:
            self.rate.set_limit(_api_path(path), per_minute)

    def set_rate_limits(self, path: str, limits: Sequence[tuple[int, float]] | None) -> None:
        """Set one API's windows ``[(calls, seconds), ...]``, for each corp (None:
        unlimited); a corp's call over any of them answers 45009 and blocks the API for
        that corp for that window's length. Calls are counted as :meth:`set_rate_limit`
        says."""
        with self.lock:
            self.rate.set_limit(_api_path(path), limits)

    def set_concurrency_limit(self, path: str, max_in_flight: int | None) -> None:
        """Cap one API's requests in flight, for each corp (None: no cap); a corp's
        request over it answers 45033. Requests are counted as :meth:`set_rate_limit`
        says."""
        with self.lock:
            self.concurrency.set_limit(_api_path(path), max_in_flight)

    def inject(
        self,
        path: str,
        *,
        errcode: int | None = None,
        errmsg: str | None = None,
        status: int | None = None,
        truncated: bool = False,
        drop: bool = False,
        delay: float | None = None,
        connect: bool = False,
        reset: bool = False,
        html: bool = False,
        bad_gzip: bool = False,
        rewrite: Callable[[JSON], JSON] | None = None,
        processed: bool = True,
        times: int = 1,
    ) -> Fault:
        """Spoil the next ``times`` calls to ``path`` with exactly one kind of fault.

        ``errcode`` (optionally with ``errmsg``) answers that errcode without processing
        the request, and ``connect`` refuses the connection (``httpx.ConnectError``
        in-process) before the request is even recorded.  ``status`` (HTTP 5xx, HTML body;
        ``processed=False``: without processing), ``truncated`` (JSON cut in half),
        ``drop`` (connection dropped), ``reset`` (connection reset, ``httpx.ReadError``),
        ``html`` (HTTP 200 HTML page), ``bad_gzip`` (a body declared gzip that is not),
        ``rewrite`` (a function of the handler's data returning the data to send) and
        ``delay`` (seconds late; past the client's read timeout in-process it raises
        ``httpx.ReadTimeout`` without sleeping) process the request first, so its effects
        happen, and spoil only the response.  Faults of one path apply in the order
        injected, before any chaos.  Returns the :class:`Fault` (see ``remaining``).
        """
        api = _api_path(path)
        fault = Fault(
            api,
            errcode=errcode,
            errmsg=errmsg,
            status=status,
            truncated=truncated,
            drop=drop,
            delay=delay,
            connect=connect,
            reset=reset,
            html=html,
            bad_gzip=bad_gzip,
            rewrite=rewrite,
            processed=processed,
            times=times,
        )
        with self.lock:
            if api not in self._dispatcher.routes:
                raise ValueError(f"the fake has no route {api!r}")
            return self.faults.add(fault)

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        with self.lock:
            self.faults.clear()

    def set_chaos(
        self,
        rate: float,
        *,
        seed: int = 0,
        kinds: Iterable[ChaosKind] = DEFAULT_KINDS,
        paths: Iterable[str] | None = None,
        delay: float = 10.0,
    ) -> Chaos:
        """Spoil a share ``rate`` of the requests to any route, seeded; returns the setting.

        Each spoiled request gets one fault drawn from ``kinds`` (default: every kind
        but ``delay``): transport errors before sending (``connect``) and after the fake
        processed the request (``reset``, ``drop``), HTTP 502/503 with and without
        processing, mangled bodies (``truncated``, ``html``, ``bad_gzip``), errcodes -1,
        45009 and 42001, repeated cursors, oversized and oddly typed fields, and, when
        asked for, responses ``delay`` seconds late.  ``paths`` limits chaos to those
        APIs.  The same seed and the same requests give the same faults.  Pending
        injected faults go first.  The returned :class:`Chaos` logs every request it saw
        in ``events`` and can be ``paused()``; this replaces any earlier setting.
        """
        chaos = Chaos(rate, seed=seed, kinds=kinds, paths=paths, delay=delay)
        with self.lock:
            unknown = sorted(p for p in chaos.paths or () if p not in self._dispatcher.routes)
            if unknown:
                raise ValueError(f"the fake has no route {unknown[0]!r}")
            self._dispatcher.chaos = chaos
        return chaos

    def clear_chaos(self) -> None:
        """End chaos mode: every later request is answered normally."""
        with self.lock:
            self._dispatcher.chaos = None

    @property
    def chaos(self) -> Chaos | None:
        """The chaos setting in force, if any (:meth:`set_chaos`, :meth:`clear_chaos`)."""
        with self.lock:
            return self._dispatcher.chaos

    def __repr__(self) -> str:
        return (
            f"FakeWeCom(corp_id={self.corp_id!r}, staff={len(self.state.staff)}, "
            f"customers={len(self.state.customers)}, now={self.clock.now():.0f})"
        )
