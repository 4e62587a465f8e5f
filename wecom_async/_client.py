"""``WeComClient``: options, lifecycle, the services, and ``request()`` as the escape hatch."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal

import attrs
import httpx

from ._auth import TokenAuth, fetch_token
from ._budget import MemoryRateBudget
from ._core import Auth, Core, Endpoint, Params, check_deadline
from ._exceptions import ClientClosedError, ValidationError
from ._logging import Secret, register_secret
from ._options import RequestOptions
from ._proxy import HTTPX_PROXY_SCHEMES, proxy_mounts
from ._retry import DEFAULT_DEADLINE, RetryPolicy
from ._token import MemoryTokenStore, TokenManager, TokenStore, token_key
from ._transport import MAX_IN_FLIGHT, OwnedClient, ShardedTransport
from ._validation import check_id, check_seconds, check_secret, check_whole
from ._wire import RateBudget
from .models._base import JsonObject

if TYPE_CHECKING:
    from .services.acquisition import AcquisitionService
    from .services.contact_way import ContactWayService
    from .services.external_contact import ExternalContactService
    from .services.group_chat import GroupChatService
    from .services.id_convert import IdConvertService
    from .services.infra import InfraService
    from .services.intercept_rules import InterceptRulesService
    from .services.media import MediaService
    from .services.messages import MessagesService
    from .services.moments import MomentsService
    from .services.product_albums import ProductAlbumsService
    from .services.rule_groups import StrategyService
    from .services.statistics import StatisticsService
    from .services.tags import TagsService
    from .services.transfer import TransferService

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_IN_FLIGHT",
    "DEFAULT_TIMEOUT",
    "TransportName",
    "WeComClient",
]

DEFAULT_BASE_URL: Final = "https://qyapi.weixin.qq.com"
#: Connect, read, write and pool-wait limits in seconds; never "no timeout".
DEFAULT_TIMEOUT: Final = httpx.Timeout(15.0, connect=5.0)
#: Requests one client keeps in flight at once; callers beyond it wait on a semaphore.
DEFAULT_MAX_IN_FLIGHT: Final = 16


def _unbounded(timeout: httpx.Timeout) -> bool:
    return None in (timeout.connect, timeout.read, timeout.write, timeout.pool)


#: The HTTP layers an owned client can run on (``transport=``).
TransportName = Literal["httpx", "aiohttp"]


def _transport_maker(
    transport: TransportName, connections: int
) -> tuple[Callable[[str | None], httpx.AsyncBaseTransport], tuple[str, ...]]:
    """Make transports of ``connections`` connections (given a proxy URL or None), and the
    proxy schemes they take."""
    if transport == "httpx":
        return (lambda url: ShardedTransport(connections, proxy=url)), HTTPX_PROXY_SCHEMES
    if transport != "aiohttp":
        raise ValidationError(f"transport must be 'httpx' or 'aiohttp', got {transport!r}")
    try:
        from ._aiohttp import PROXY_SCHEMES, AioHttpTransport
    except ImportError:
        raise ValidationError(
            "transport='aiohttp' needs the aiohttp extra: pip install 'wecom-async[aiohttp]'"
        ) from None
    return (lambda url: AioHttpTransport(connections, proxy=url)), PROXY_SCHEMES


def _owned_client(
    timeout: httpx.Timeout,
    connections: int,
    proxy: str | httpx.URL | None,
    trust_env: bool,
    transport: TransportName,
) -> httpx.AsyncClient:
    make, schemes = _transport_maker(transport, connections)
    mounts = proxy_mounts(proxy, trust_env=trust_env, make=make, schemes=schemes)
    return OwnedClient(timeout=timeout, transport=make(None), mounts=mounts, trust_env=trust_env)


def _check_base_url(base_url: str) -> None:
    """Refuse a base URL the endpoint paths cannot be appended to.

    Raises:
        ValidationError: ``base_url`` has a query or a fragment (even an empty one):
            every call would go to the wrong place.
    """
    if "?" in base_url or "#" in base_url:
        raise ValidationError(
            "base_url must be a scheme, host and optional path, without a query or fragment"
        )


@attrs.frozen
class HttpSetup:
    """The HTTP client a client (or a provider app) sends through, and who closes it.

    ``timeout`` is what the core adds per request: None for an owned client (its own
    timeouts apply), the SDK's defaults for a given client that has none.
    """

    client: httpx.AsyncClient
    owned: bool
    timeout: httpx.Timeout | None


def http_setup(
    http_client: httpx.AsyncClient | None,
    *,
    timeout: httpx.Timeout | float | None,
    max_in_flight: int,
    proxy: str | httpx.URL | None,
    trust_env: bool,
    transport: TransportName,
) -> HttpSetup:
    """Check the HTTP options and build (or adopt) the HTTP client; nothing is sent.

    Raises:
        ValidationError: ``max_in_flight`` is not a whole number from 1 to 1,000, a number
            ``timeout`` is not finite seconds above 0 (NaN included), or ``proxy=`` /
            ``transport=`` given with a caller's own ``http_client`` (they apply to the
            SDK's own client only).
    """
    check_whole(max_in_flight, "max_in_flight", high=MAX_IN_FLIGHT)
    if http_client is not None and proxy is not None:
        raise ValidationError("proxy= applies to the SDK's own HTTP client; set it on yours")
    if http_client is not None and transport != "httpx":
        raise ValidationError("transport= applies to the SDK's own HTTP client, not yours")
    if timeout is not None and not isinstance(timeout, httpx.Timeout):
        timeout = httpx.Timeout(check_seconds(timeout, "timeout"))
    if http_client is None:
        owned = _owned_client(
            timeout or DEFAULT_TIMEOUT, max_in_flight, proxy, trust_env, transport
        )
        return HttpSetup(owned, owned=True, timeout=None)
    if timeout is None and _unbounded(http_client.timeout):
        # A given client without timeouts would let one stuck request hang a caller.
        timeout = DEFAULT_TIMEOUT
    return HttpSetup(http_client, owned=False, timeout=timeout)


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


class WeComClient:
    """The asynchronous WeCom 客户联系 client.

    Args:
        corp_id: the corp id (``ww...``).
        secret: the secret of a self-built app configured in 客户联系 "可调用接口的应用".
        http_client: an ``httpx.AsyncClient`` to send every request through (gettoken too);
            the SDK never closes a client it was given. Default: one the SDK owns.
        base_url: the WeCom host; tests and the sandbox point it at a fake. No query or
            fragment (``ValidationError``): endpoint paths are appended to it.
        token_store: where access tokens live (default: in this process's memory).
        timeout: per-request timeouts; default :data:`DEFAULT_TIMEOUT` for an owned client,
            the given client's own timeouts otherwise (unless one of them is None: the SDK
            never sends without a timeout, so :data:`DEFAULT_TIMEOUT` applies then).
        retry: attempts and delays (:class:`RetryPolicy`); ``RetryPolicy.no_delay()`` in tests.
            ``max_attempts`` bounds a whole call, the gettoken requests it needs included.
        deadline: seconds one call may take in all (attempts, waits, token fetch); past it
            :class:`APITimeoutError`. Default ``DEFAULT_DEADLINE`` (120 s: one 45009 wait
            and the retries around it). A call's ``deadline=`` option overrides it;
            ``math.inf`` turns it off.
        max_in_flight: requests in flight at once, 1 to 1,000; further callers wait their
            turn. An owned HTTP client gets a :class:`ShardedTransport` of this many
            connections, whose throughput does not fall as concurrency grows.
        proxy: send every request of the owned HTTP client through this proxy
            (``"http://proxy.internal:3128"``); the environment's proxy variables are then
            not read. With ``http_client``, configure the proxy on that client instead.
        trust_env: read ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` for
            the owned HTTP client, as httpx does (default True).
        transport: the HTTP layer of the owned client: ``"httpx"`` (default, httpx's own on
            a :class:`ShardedTransport`) or ``"aiohttp"`` (httpx on aiohttp:
            ``pip install "wecom-async[aiohttp]"``; less CPU per request, asyncio only).
            Timeouts, deadlines, retries, proxies and errors are the same on both. Not
            with ``http_client``.
        rate_budget: paces every HTTP exchange (token fetches and retries included) below
            WeCom's limits, per corp and per API path, and blocks an API for every caller
            it serves once WeCom answers 45009 (the retry then waits for the block).
            Default: a :class:`MemoryRateBudget` of this client (9,000 calls a minute and
            135,000 an hour per API). Clients of one process that share a corp should
            share one ``MemoryRateBudget``; processes share a
            ``wecom_async.redis.RedisRateBudget``. Waiting one's turn counts towards a
            call's deadline but not towards the exchange limit.

    Whatever the deadline (even ``math.inf``), one HTTP exchange never takes longer than
    300 s in all (sending to the last body byte: a server dripping its answer is cut off),
    and an answer larger than 64 MiB once decoded is refused with ``ResponseError``.

    Use it as ``async with WeComClient(...) as client:`` or call :meth:`aclose`.
    Docs: https://developer.work.weixin.qq.com/document/path/92109

    Raises:
        ValidationError: an argument is unusable: an empty ``corp_id`` or ``secret``, a
            ``base_url`` with a query, a ``timeout`` or ``deadline`` that is not seconds
            above 0 (NaN included; ``deadline`` may be ``math.inf``), a ``max_in_flight``
            that is not a whole number from 1 to 1,000, or options that need the SDK's own
            HTTP client given with ``http_client``.
    """

    def __init__(
        self,
        corp_id: str,
        secret: str,
        *,
        http_client: httpx.AsyncClient | None = None,
        base_url: str = DEFAULT_BASE_URL,
        token_store: TokenStore | None = None,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        proxy: str | httpx.URL | None = None,
        trust_env: bool = True,
        deadline: float = DEFAULT_DEADLINE,
        rate_budget: RateBudget | None = None,
        transport: TransportName = "httpx",
    ) -> None:
        check_id(corp_id, "corp_id")
        secret = Secret(check_secret(secret, "secret"))
        register_secret(secret)
        check_deadline(deadline)
        http = http_setup(
            http_client,
            timeout=timeout,
            max_in_flight=max_in_flight,
            proxy=proxy,
            trust_env=trust_env,
            transport=transport,
        )
        self.corp_id = corp_id
        store = token_store or MemoryTokenStore()

        def token_auth(core: Core) -> TokenAuth:
            # The token layer fetches through the core it authenticates for: gettoken
            # spends the attempts and deadline of the call that needs the token.
            self._tokens = TokenManager(
                lambda: fetch_token(core, corp_id, secret), store, token_key(corp_id, secret)
            )
            return TokenAuth(self._tokens)

        self._setup(
            http.client,
            owns_http=http.owned,
            auth=token_auth,
            base_url=base_url,
            retry=retry,
            max_in_flight=None if http.owned else max_in_flight,
            timeout=http.timeout,
            deadline=deadline,
            rate_budget=rate_budget,
        )

    def _setup(
        self,
        http_client: httpx.AsyncClient,
        *,
        owns_http: bool,
        auth: Callable[[Core], Auth],
        base_url: str,
        retry: RetryPolicy | None,
        max_in_flight: int | None,
        timeout: httpx.Timeout | None,
        deadline: float,
        rate_budget: RateBudget | None,
    ) -> None:
        _check_base_url(base_url)
        self._owns_http = owns_http
        self._http = http_client
        self._state = _State.UNOPENED
        self._core = Core(
            http_client,
            base_url=base_url,
            retry=retry or RetryPolicy(),
            max_in_flight=max_in_flight,
            timeout=timeout,
            deadline=deadline,
            rate_budget=rate_budget if rate_budget is not None else MemoryRateBudget(),
            rate_scope=self.corp_id,
            auth=auth,
        )

    @classmethod
    def _authenticated_by(
        cls,
        corp_id: str,
        tokens: Callable[[Core], TokenManager],
        http_client: httpx.AsyncClient,
        *,
        base_url: str,
        retry: RetryPolicy | None,
        timeout: httpx.Timeout | None,
        deadline: float,
        rate_budget: RateBudget | None,
        param: str = "access_token",
    ) -> WeComClient:
        """A client on a shared HTTP client it never closes, whose tokens come from
        ``tokens(core)`` (a service provider's corp, suite or provider tokens).

        The shared client's transport caps connections, so no per-client cap is added.
        """
        client = cls.__new__(cls)
        client.corp_id = corp_id

        def auth(core: Core) -> TokenAuth:
            client._tokens = tokens(core)
            return TokenAuth(client._tokens, param=param)

        client._setup(
            http_client,
            owns_http=False,
            auth=auth,
            base_url=base_url,
            retry=retry,
            max_in_flight=None,
            timeout=timeout,
            deadline=deadline,
            rate_budget=rate_budget,
        )
        return client

    def __repr__(self) -> str:
        return f"WeComClient(corp_id={self.corp_id!r}, state={self._state.value})"

    async def __aenter__(self) -> WeComClient:
        if self._state is _State.CLOSED:
            raise ClientClosedError("this WeComClient is closed; create a new one")
        self._state = _State.OPENED
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if the SDK created it; a given client stays open.

        Every call made afterwards raises :class:`~wecom_async.ClientClosedError`.
        """
        self._core.closed = True
        if self._state is not _State.CLOSED and self._owns_http:
            await self._http.aclose()
        self._state = _State.CLOSED

    @property
    def tokens(self) -> TokenManager:
        """The token manager (e.g. to ``invalidate`` a token known to be revoked)."""
        return self._tokens

    async def request(
        self,
        method: Literal["GET", "POST"],
        path: str,
        *,
        params: Params | None = None,
        json: Mapping[str, object] | None = None,
        retry_safe: bool = False,
        deadline: float | None = None,
    ) -> JsonObject:
        """Call an endpoint that has no method yet, with the same token, retry and errors.

        Args:
            method: ``"GET"`` or ``"POST"``.
            path: the path under ``/cgi-bin/`` (``"externalcontact/get"``; a leading
                ``/cgi-bin/`` is accepted).
            params: query parameters (never the access token: the SDK adds it).
            json: the JSON body of a POST.
            retry_safe: whether the call may be resent after an ambiguous failure.
            deadline: seconds the whole call may take (as the ``deadline`` of
                :class:`RequestOptions`).

        Returns:
            The decoded JSON object, envelope (errcode/errmsg) included and checked.

        Raises:
            APIError: a non-zero errcode; TransportError / ResponseError as for any call.
        """
        if method not in ("GET", "POST"):
            raise ValidationError(f"method must be GET or POST, got {method!r}")
        path = path.strip("/").removeprefix("cgi-bin/")
        check_id(path, "path")
        endpoint = Endpoint(method, path, retry_safe=retry_safe)
        options: RequestOptions | None = None if deadline is None else {"deadline": deadline}
        return await self._core.call(endpoint, params=params, json_body=json, options=options)

    @cached_property
    def external_contact(self) -> ExternalContactService:
        """Staff and customers (客户管理): ``externalcontact/get``, ``batch/get_by_user``, ..."""
        from .services.external_contact import ExternalContactService

        return ExternalContactService(self._core)

    @cached_property
    def tags(self) -> TagsService:
        """Corp and strategy tags (客户标签)."""
        from .services.tags import TagsService

        return TagsService(self._core)

    @cached_property
    def transfer(self) -> TransferService:
        """On-job and resigned inheritance (在职继承 / 离职继承)."""
        from .services.transfer import TransferService

        return TransferService(self._core)

    @cached_property
    def group_chat(self) -> GroupChatService:
        """Customer groups (客户群)."""
        from .services.group_chat import GroupChatService

        return GroupChatService(self._core)

    @cached_property
    def contact_way(self) -> ContactWayService:
        """「联系我」 contact ways and 「加入群聊」 join ways."""
        from .services.contact_way import ContactWayService

        return ContactWayService(self._core)

    @cached_property
    def messages(self) -> MessagesService:
        """Mass messages, welcome messages and group welcome templates (消息推送)."""
        from .services.messages import MessagesService

        return MessagesService(self._core)

    @cached_property
    def moments(self) -> MomentsService:
        """Customer moments (客户朋友圈)."""
        from .services.moments import MomentsService

        return MomentsService(self._core)

    @cached_property
    def statistics(self) -> StatisticsService:
        """Statistics (统计管理)."""
        from .services.statistics import StatisticsService

        return StatisticsService(self._core)

    @cached_property
    def strategy(self) -> StrategyService:
        """Customer and moment rule groups (客户联系规则组 / 客户朋友圈规则组)."""
        from .services.rule_groups import StrategyService

        return StrategyService(self._core)

    @cached_property
    def acquisition(self) -> AcquisitionService:
        """Customer acquisition links (获客助手)."""
        from .services.acquisition import AcquisitionService

        return AcquisitionService(self._core)

    @cached_property
    def intercept_rules(self) -> InterceptRulesService:
        """Chat intercept rules (管理聊天敏感词)."""
        from .services.intercept_rules import InterceptRulesService

        return InterceptRulesService(self._core)

    @cached_property
    def product_albums(self) -> ProductAlbumsService:
        """The product album (商品图册)."""
        from .services.product_albums import ProductAlbumsService

        return ProductAlbumsService(self._core)

    @cached_property
    def media(self) -> MediaService:
        """Media uploads used by messages, moments and templates."""
        from .services.media import MediaService

        return MediaService(self._core)

    @cached_property
    def id_convert(self) -> IdConvertService:
        """Customer id conversions: old and new, corp and provider, unionid and openid."""
        from .services.id_convert import IdConvertService

        return IdConvertService(self._core)

    @cached_property
    def infra(self) -> InfraService:
        """WeCom's own infrastructure (``getcallbackip``)."""
        from .services.infra import InfraService

        return InfraService(self._core)
