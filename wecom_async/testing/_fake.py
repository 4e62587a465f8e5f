"""``FakeWeCom``: one in-memory WeCom corp, served in-process or over ASGI."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

import anyio

from ._actions import ClientActions
from ._asgi import FakeASGIApp
from ._chaos import DEFAULT_KINDS, Chaos, ChaosKind
from ._clock import FakeClock
from ._cursor import CursorCodec
from ._dispatch import Backend, Dispatcher, FakeRequest, FakeResponse, RecordedRequest
from ._faults import Fault, FaultBook
from ._limits import ConcurrencyLimiter, RateLimiter
from ._route import JSON, Route
from ._seed import SeedReport, seed_corp
from ._setup import Follower, new_customer, new_follow, new_staff
from ._state import CorpState, Customer, Follow, Staff
from ._transport import FakeTransport
from .routes import discover

__all__ = ["FakeWeCom"]

_BASE_URL: Final = "https://qyapi.weixin.qq.com"


def _api_path(path: str) -> str:
    """``/cgi-bin/externalcontact/get`` or ``externalcontact/get`` -> ``externalcontact/get``."""
    path = path.lstrip("/")
    return path.removeprefix("cgi-bin/")


def _cursor_key(corp_id: str, generation: int) -> bytes:
    suffix = f"\x1f{generation}" if generation else ""
    return hashlib.sha256(f"cursor\x1f{corp_id}{suffix}".encode()).digest()


class FakeWeCom(ClientActions):
    """A stateful fake of one WeCom corp that speaks the real wire format.

    Serve it in-process with ``httpx.AsyncClient(transport=fake.transport())`` or over a
    real socket with ``fake.app`` (ASGI).  Both faces share one state and one
    :meth:`handle`.  Every method here is thread-safe: a server thread may serve requests
    while the test thread sets up data, injects faults or reads ``requests``.

    ``rate_limit_per_minute`` is the default budget of every API (None: no limit);
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
        #: The corp's app secrets and issued tokens (the same object as ``state.tokens``).
        self.tokens = self.state.tokens
        self.rate = RateLimiter(rate_limits if rate_limits is not None else rate_limit_per_minute)
        self.concurrency = ConcurrencyLimiter()
        self.faults = FaultBook()
        self._cursors = CursorCodec(_cursor_key(corp_id, 0))
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
        )
        self._dispatcher = Dispatcher(
            backend, routes, tickers, record_limit=record_limit, chaos=chaos
        )
        self._app = FakeASGIApp(self.handle)

    # -- faces --------------------------------------------------------------------------

    @property
    def cursors(self) -> CursorCodec:
        """Signs and checks the opaque cursors the fake hands out (:meth:`expire_cursors`)."""
        return self._cursors

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

    # -- data ---------------------------------------------------------------------------

    def seed(
        self,
        *,
        staff: int = 20,
        customers_per_staff: int = 50,
        seed: int = 0,
        shared_ratio: float = 0.1,
        wecom_ratio: float = 0.2,
        big_customer_followers: int = 0,
        non_customers_per_staff: int = 2,
        unlicensed_staff: int = 0,
    ) -> SeedReport:
        """Build a deterministic demo corp on this fresh fake and report what it holds.

        ``staff`` members each own ``customers_per_staff`` customers (a ``wecom_ratio``
        share of WeCom users, the rest WeChat users); a ``shared_ratio`` share of customers
        is followed by up to three more members.  ``big_customer_followers`` > 0 adds one
        customer followed by that many members (the staff is enlarged to that size when
        needed), so that ``get`` pages its followers.  The last ``unlicensed_staff``
        members have no interop license.  Tags, non-customer contacts and the data of
        every route module's ``SEEDERS`` are added too.
        """
        with self.lock:
            return seed_corp(
                self.state,
                now=self.clock.now(),
                staff=staff,
                customers_per_staff=customers_per_staff,
                seed=seed,
                shared_ratio=shared_ratio,
                wecom_ratio=wecom_ratio,
                big_customer_followers=big_customer_followers,
                non_customers_per_staff=non_customers_per_staff,
                unlicensed_staff=unlicensed_staff,
                seeders=self._seeders,
            )

    def add_staff(
        self,
        userid: str,
        *,
        name: str | None = None,
        department: Sequence[int] = (1,),
        customer_contact: bool = True,
        licensed: bool = True,
        resigned: bool = False,
    ) -> Staff:
        """Add a member; ``customer_contact`` (the 客户联系 feature) and ``licensed``
        (an interop license) default to True."""
        with self.lock:
            return new_staff(
                self.state,
                userid,
                name=name,
                department=department,
                customer_contact=customer_contact,
                licensed=licensed,
                resigned=resigned,
            )

    def add_customer(
        self,
        *,
        type: int = 1,
        followers: Sequence[str | Follower] = (),
        external_userid: str | None = None,
        name: str | None = None,
        avatar: str | None = None,
        gender: int = 0,
        unionid: str | None = None,
        position: str | None = None,
        corp_name: str | None = None,
        corp_full_name: str | None = None,
        external_profile: Mapping[str, object] | None = None,
    ) -> str:
        """Add a customer followed by ``followers`` (userids or :class:`Follower` specs).

        ``type`` 1 is a WeChat user (``wm…`` id; may have ``unionid``), 2 a WeCom user
        (``wo…`` id; position, corp names and ``external_profile``).  Returns the
        external_userid.  Impossible combinations raise ValueError.
        """
        with self.lock:
            customer = new_customer(
                self.state,
                type=type,
                external_userid=external_userid,
                name=name,
                avatar=avatar,
                gender=gender,
                unionid=unionid,
                position=position,
                corp_name=corp_name,
                corp_full_name=corp_full_name,
                external_profile=external_profile,
            )
            for follower in followers:
                self.add_follow(customer.external_userid, follower)
            return customer.external_userid

    def add_follow(self, external_userid: str, follower: str | Follower) -> Follow:
        """Make a member follow an existing customer and return the relation."""
        spec = Follower(userid=follower) if isinstance(follower, str) else follower
        with self.lock:
            customer = self.state.customers[external_userid]
            return new_follow(self.state, customer, spec, now=int(self.clock.now()))

    def remove_follow(self, external_userid: str, userid: str) -> Follow:
        """End a relation (as if the member deleted the customer) and return it."""
        with self.lock:
            return self.state.detach(external_userid, userid)

    def customers_of(self, userid: str) -> list[str]:
        """Return the external_userids a member follows, in the order ``list`` returns."""
        with self.lock:
            return [f.external_userid for f in self.state.follows_of(userid)]

    def customer(self, external_userid: str) -> Customer:
        """Return a customer record (KeyError when unknown)."""
        with self.lock:
            return self.state.customers[external_userid]

    def follow(self, external_userid: str, userid: str) -> Follow | None:
        """Return the relation between a customer and a member, if any."""
        with self.lock:
            return self.state.follow(external_userid, userid)

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
        """Make every cursor issued so far answer 50100, as WeCom's cursors do after hours;
        the cursors issued from now on work."""
        with self.lock:
            self._cursor_keys += 1
            self._cursors.rekey(_cursor_key(self.corp_id, self._cursor_keys))

    def set_rate_limit(self, path: str, per_minute: int | None) -> None:
        """Set one API's budget per minute (None: unlimited); over it answers 45009."""
        with self.lock:
            self.rate.set_limit(_api_path(path), per_minute)

    def set_rate_limits(self, path: str, limits: Sequence[tuple[int, float]] | None) -> None:
        """Set one API's windows ``[(calls, seconds), ...]`` (None: unlimited); the call
        over any of them answers 45009 and blocks the API for that window's length."""
        with self.lock:
            self.rate.set_limit(_api_path(path), limits)

    def set_concurrency_limit(self, path: str, max_in_flight: int | None) -> None:
        """Cap one API's requests in flight (None: no cap); over it answers 45033."""
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
