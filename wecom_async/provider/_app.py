"""``ProviderApp``: one service provider's suite, and a ``WeComClient`` per authorized corp.

The app is built in parts, one responsibility each: :class:`~._clients.CorpClients` (the
tokens and the clients handed out), :class:`~._authorize.Authorizations` (permanent codes
exchanged, stored and cancelled) and :class:`~._callbacks.PushHandling` (the command
callback's pushes); this module holds the settings and the lifecycle.
"""

from __future__ import annotations

import weakref
from types import TracebackType
from typing import Final

import httpx

from .._auth import TokenAuth
from .._budget import MemoryRateBudget
from .._client import DEFAULT_BASE_URL, TransportName, WeComClient, http_setup
from .._core import Core, check_deadline
from .._exceptions import ValidationError
from .._logging import Secret, register_secret
from .._retry import DEFAULT_DEADLINE, RetryPolicy
from .._token import MemoryTokenStore, TokenManager, TokenStore, token_key
from .._validation import check_id, check_secret
from .._wire import RateBudget
from ._callbacks import PushHandling
from ._clients import AppKind, AppShared
from ._pushes import CorpLocks, Exchanged
from ._service import AuthorizationService
from ._stores import MemorySuiteTicketStore, PermanentCodeStore, SuiteTicketStore
from ._tokens import fetch_suite_token

__all__ = ["DEFAULT_PROVIDER_MAX_IN_FLIGHT", "AppKind", "ProviderApp"]

#: Connections of the HTTP pool an app owns, shared by every corp's client.
DEFAULT_PROVIDER_MAX_IN_FLIGHT: Final = 64


class ProviderApp(PushHandling):
    """A service provider's app (suite) and the corps that authorized it.

    ``client_for(corp_id)`` returns a :class:`~wecom_async.WeComClient` for one authorized
    corp, on which every service works as for a self-built app; its access token comes
    from ``service/get_corp_token`` (third-party app) or from ``gettoken`` with the
    permanent code as the secret (代开发 custom app). Every corp's client shares this
    app's HTTP connection pool, token store and rate budget, so a client per corp is
    cheap; closing one leaves the pool open, :meth:`aclose` closes it.

    The suite access token is a token kind of its own in the same ``token_store``: single
    flight, refreshed ahead of expiry, replaced once when WeCom refuses it (40082, 42009).
    It is fetched with the latest ``suite_ticket`` from ``tickets``, which the command
    callback feeds: :meth:`attach` a :class:`~wecom_async.callback.CallbackReceiver`
    built with :meth:`callback_crypto`, or call :meth:`handle` / :meth:`put_ticket`
    from your own receiver.

    Args:
        suite_id: the suite id (third-party app) or the 代开发 template id.
        suite_secret: its secret.
        permanent_codes: where the corps' permanent codes live (your database behind a
            :class:`PermanentCodeStore`); ``authorize`` writes and ``cancel`` deletes.
        kind: ``"third_party"`` or ``"custom"`` (代开发), see :data:`AppKind`.
        tickets: where the latest suite ticket lives (default: this process's memory;
            share it, e.g. on Redis, when several processes fetch the suite token).
        token_store: where suite, corp and provider tokens live (default: memory).
        provider_corp_id: the provider's own corp id, for :meth:`provider_client`.
        provider_secret: the provider secret (服务商 secret), for :meth:`provider_client`.
        http_client: send everything through this client (never closed by the app; its
            own pool limits apply). Default: one the app owns, a ``ShardedTransport``
            of ``max_in_flight`` connections shared by every corp.
        base_url, timeout, retry, deadline, proxy, trust_env, transport: as for
            :class:`~wecom_async.WeComClient`, applied to every client of the app.
        rate_budget: as for :class:`~wecom_async.WeComClient`; one budget serves every
            corp of the app (its keys carry the corp id). Default: one
            :class:`~wecom_async.MemoryRateBudget` for the app.
        max_in_flight: connections of the owned pool (requests in flight for all corps),
            1 to 1,000.

    Docs: https://developer.work.weixin.qq.com/document/path/90597 (third-party apps),
    https://developer.work.weixin.qq.com/document/path/97111 (代开发).
    """

    def __init__(
        self,
        suite_id: str,
        suite_secret: str,
        *,
        permanent_codes: PermanentCodeStore,
        kind: AppKind = "third_party",
        tickets: SuiteTicketStore | None = None,
        token_store: TokenStore | None = None,
        provider_corp_id: str | None = None,
        provider_secret: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_PROVIDER_MAX_IN_FLIGHT,
        proxy: str | httpx.URL | None = None,
        trust_env: bool = True,
        deadline: float = DEFAULT_DEADLINE,
        rate_budget: RateBudget | None = None,
        transport: TransportName = "httpx",
    ) -> None:
        check_id(suite_id, "suite_id")
        suite_secret = Secret(check_secret(suite_secret, "suite_secret"))
        register_secret(suite_secret)
        if kind not in ("third_party", "custom"):
            raise ValidationError(f"kind must be 'third_party' or 'custom', got {kind!r}")
        if (provider_corp_id is None) is not (provider_secret is None):
            raise ValidationError("provider_corp_id and provider_secret go together")
        if provider_secret is not None:
            provider_secret = Secret(check_secret(provider_secret, "provider_secret"))
            register_secret(provider_secret)
        check_deadline(deadline)
        http = http_setup(
            http_client,
            timeout=timeout,
            max_in_flight=max_in_flight,
            proxy=proxy,
            trust_env=trust_env,
            transport=transport,
        )
        self.suite_id = suite_id
        self.kind: AppKind = kind
        self.permanent_codes = permanent_codes
        self.tickets: SuiteTicketStore = tickets or MemorySuiteTicketStore()
        self._store: TokenStore = token_store or MemoryTokenStore()
        self._owns_http = http.owned
        # One budget for every corp of the app: its keys carry the corp id.
        budget = rate_budget if rate_budget is not None else MemoryRateBudget()
        self._shared = AppShared(http.client, base_url, retry, http.timeout, deadline, budget)
        self._closed = False

        def suite_auth(core: Core) -> TokenAuth:
            self._suite_tokens = TokenManager(
                lambda: fetch_suite_token(core, suite_id, suite_secret, self.tickets),
                self._store,
                token_key(suite_id, suite_secret, kind="suite_token"),
            )
            return TokenAuth(self._suite_tokens, param="suite_access_token")

        self._suite_core = self._shared.core(suite_auth)
        self._authorization = AuthorizationService(self._suite_core)
        self._provider: tuple[str, str] | None = (
            None
            if provider_secret is None or provider_corp_id is None
            else (provider_corp_id, provider_secret)
        )
        self._provider_client: WeComClient | None = None
        self._suite_client: WeComClient | None = None
        self._clients = weakref.WeakSet()
        self._exchanged = Exchanged()
        self._corp_locks = CorpLocks()

    def __repr__(self) -> str:
        return f"ProviderApp(suite_id={self.suite_id!r}, kind={self.kind!r}, closed={self._closed})"

    async def __aenter__(self) -> ProviderApp:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every client of the app, and the shared HTTP client if the app created
        it (a given ``http_client`` stays open); every client of the app, and the app
        itself, then raises :class:`~wecom_async.ClientClosedError`."""
        self._closed = True
        self._suite_core.closed = True
        for client in list(self._clients):
            await client.aclose()
        if self._owns_http:
            await self._shared.http.aclose()
