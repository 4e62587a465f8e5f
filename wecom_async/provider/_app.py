"""``ProviderApp``: one service provider's suite, and a ``WeComClient`` per authorized corp."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal

import anyio
import attrs
import httpx
from typing_extensions import Unpack

from .._auth import TokenAuth
from .._budget import MemoryRateBudget
from .._client import DEFAULT_BASE_URL, TransportName, WeComClient, http_setup
from .._core import Core, check_deadline
from .._exceptions import ClientClosedError, NotAuthorizedError, ValidationError, WeComError
from .._logging import Secret, logger, register_secret
from .._options import RequestOptions
from .._retry import DEFAULT_DEADLINE, RetryPolicy
from .._token import IssuedToken, MemoryTokenStore, TokenManager, TokenStore, token_key
from .._validation import check_id, check_secret
from .._wire import RateBudget
from ..models.provider import AuthInfoResponse, PermanentCodeInfo
from ._pushes import CorpLocks, Exchanged, refused_for_good, retryable
from ._service import AuthorizationService
from ._stores import MemorySuiteTicketStore, PermanentCodeStore, SuiteTicketStore
from ._tokens import (
    fetch_corp_token,
    fetch_custom_corp_token,
    fetch_provider_token,
    fetch_suite_token,
)

if TYPE_CHECKING:
    from ..callback import CallbackCrypto, CallbackReceiver, Event, InfoEvent

__all__ = ["DEFAULT_PROVIDER_MAX_IN_FLIGHT", "AppKind", "ProviderApp"]

#: Connections of the HTTP pool an app owns, shared by every corp's client.
DEFAULT_PROVIDER_MAX_IN_FLIGHT: Final = 64

#: ``"third_party"``: a third-party app (第三方应用), corp tokens from get_corp_token.
#: ``"custom"``: a provider-built custom app (代开发自建应用), corp tokens from gettoken
#: with the permanent code as the secret.
AppKind = Literal["third_party", "custom"]


@attrs.frozen
class _Shared:
    """What every client of one app shares: the HTTP client and the call settings."""

    http: httpx.AsyncClient
    base_url: str
    retry: RetryPolicy | None
    timeout: httpx.Timeout | None
    deadline: float
    rate_budget: RateBudget | None

    def client(
        self, corp_id: str, tokens: Callable[[Core], TokenManager], param: str = "access_token"
    ) -> WeComClient:
        return WeComClient._authenticated_by(
            corp_id,
            tokens,
            self.http,
            base_url=self.base_url,
            retry=self.retry,
            timeout=self.timeout,
            deadline=self.deadline,
            rate_budget=self.rate_budget,
            param=param,
        )

    def core(self, auth: Callable[[Core], TokenAuth]) -> Core:
        return Core(
            self.http,
            base_url=self.base_url,
            retry=self.retry or RetryPolicy(),
            max_in_flight=None,
            timeout=self.timeout,
            deadline=self.deadline,
            rate_budget=self.rate_budget,
            auth=auth,
        )


class ProviderApp:
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
        max_in_flight: connections of the owned pool (requests in flight for all corps).

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
        self._shared = _Shared(http.client, base_url, retry, http.timeout, deadline, budget)
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
        #: Every client handed out and still referenced, closed with the app.
        self._clients: weakref.WeakSet[WeComClient] = weakref.WeakSet()
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

    def _handed_out(self, client: WeComClient) -> WeComClient:
        self._clients.add(client)
        return client

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError("this ProviderApp is closed; create a new one")

    # -- tokens and clients -------------------------------------------------------------

    @property
    def suite_tokens(self) -> TokenManager:
        """The suite access token's manager (``await app.suite_tokens.get()``)."""
        return self._suite_tokens

    def corp_token_key(self, corp_id: str) -> str:
        """The token-store key of ``corp_id``'s access token under this app."""
        return token_key(corp_id, self.suite_id, kind="corp_token")

    def client_for(self, corp_id: str) -> WeComClient:
        """Return a client for one authorized corp; nothing is sent until it is used.

        The corp's access token is fetched on first use (and shared through the token
        store by every client of that corp); the permanent code is read from
        ``permanent_codes`` at each fetch, so a code replaced or deleted there applies
        to existing clients too.

        Calls then raise :class:`~wecom_async.NotAuthorizedError` when the store has no
        code for the corp, :class:`~wecom_async.ConfigurationError` when WeCom refuses
        the code (a cancelled authorization not yet deleted), and
        :class:`~wecom_async.SuiteTicketError` when no suite ticket has arrived
        (third-party apps).

        Raises:
            ValidationError: ``corp_id`` is empty.
            ClientClosedError: the app is closed.
        """
        check_id(corp_id, "corp_id")
        self._check_open()
        key = self.corp_token_key(corp_id)
        codes, suite_core = self.permanent_codes, self._suite_core

        def tokens(core: Core) -> TokenManager:
            if self.kind == "custom":
                return TokenManager(
                    lambda: fetch_custom_corp_token(core, corp_id, codes), self._store, key
                )
            return TokenManager(
                lambda: fetch_corp_token(suite_core, corp_id, codes), self._store, key
            )

        return self._handed_out(self._shared.client(corp_id, tokens))

    def suite_client(self) -> WeComClient:
        """Return the client whose calls carry the ``suite_access_token`` (one per app).

        For the calls WeCom authenticates by the suite token, e.g.
        ``await app.suite_client().id_convert.unionid_to_external_userid_3rd(...)``, or
        ``request()``: the app's suite token is fetched with the latest suite ticket,
        sent as ``suite_access_token`` and replaced once when WeCom refuses it.

        Raises:
            ClientClosedError: the app is closed.
        """
        self._check_open()
        if self._suite_client is None:
            self._suite_client = self._handed_out(
                self._shared.client(
                    self.suite_id, lambda core: self._suite_tokens, param="suite_access_token"
                )
            )
        return self._suite_client

    def provider_client(self) -> WeComClient:
        """Return the client whose calls carry ``provider_access_token`` (one per app).

        For the calls WeCom authenticates by the provider token, e.g.
        ``await app.provider_client().id_convert.finish_external_userid_migration(corp)``,
        or ``request("POST", "service/...", json=...)``: the token is fetched with
        ``service/get_provider_token``, sent as ``provider_access_token`` and replaced
        once when WeCom refuses it.

        Raises:
            ValidationError: the app was built without ``provider_corp_id`` /
                ``provider_secret``.
            ClientClosedError: the app is closed.
        """
        self._check_open()
        if self._provider is None:
            raise ValidationError("provider_client() needs provider_corp_id and provider_secret")
        if self._provider_client is None:
            corp_id, secret = self._provider
            key = token_key(corp_id, secret, kind="provider_token")

            def tokens(core: Core) -> TokenManager:
                return TokenManager(
                    lambda: fetch_provider_token(core, corp_id, secret), self._store, key
                )

            self._provider_client = self._handed_out(
                self._shared.client(corp_id, tokens, param="provider_access_token")
            )
        return self._provider_client

    # -- authorization ------------------------------------------------------------------

    async def get_permanent_code(
        self, auth_code: str, **options: Unpack[RequestOptions]
    ) -> PermanentCodeInfo:
        """Exchange an auth code for a permanent code, without storing it.

        ``POST /cgi-bin/service/v2/get_permanent_code``; see :meth:`authorize`, which
        also stores it. Docs: https://developer.work.weixin.qq.com/document/path/100776

        Raises:
            SuiteTicketError: no suite ticket yet.
            APIError: WeCom refused the code.
        """
        return await self._authorization.get_permanent_code(auth_code, **options)

    async def get_auth_info(
        self, corp_id: str, **options: Unpack[RequestOptions]
    ) -> AuthInfoResponse:
        """Read a corp's authorization (its apps and visible range), e.g. on ``change_auth``.

        ``POST /cgi-bin/service/get_auth_info`` with the stored permanent code.
        Docs: https://developer.work.weixin.qq.com/document/path/90604

        Raises:
            NotAuthorizedError: no permanent code is stored for ``corp_id``.
            APIError: WeCom refused the corp or code.
        """
        code = await self.permanent_codes.get(check_id(corp_id, "corp_id"))
        if not code:
            raise NotAuthorizedError(
                f"corp {corp_id!r} has not authorized this app (no permanent code)", corp_id=corp_id
            )
        return await self._authorization.get_auth_info(corp_id, code, **options)

    async def authorize(self, auth_code: str) -> PermanentCodeInfo:
        """Handle ``create_auth`` / ``reset_permanent_code``: exchange the auth code and
        store the permanent code under the corp id (replacing a reset one).

        The exchange runs to its end even when the caller is cancelled (an auth code works
        once: an exchange cut off after sending may have used it). A code exchanged but
        not stored (the store failed) is kept in this process for the auth code's ten
        minutes, so that calling this again with the same auth code (WeCom's next delivery
        of the push) only stores it.

        Returns:
            What get_permanent_code answered (the corp in ``auth_corp_info``).

        Raises:
            SuiteTicketError, TransportError, APIError: as :meth:`get_permanent_code`;
                nothing is stored.
            Exception: whatever ``permanent_codes.put`` raised (logged with the corp id).
        """
        info = self._exchanged.get(auth_code) or await self._exchange(auth_code)
        corp_id = info.auth_corp_info.corpid
        async with self._corp_locks(corp_id):
            try:
                await self.permanent_codes.put(corp_id, info.permanent_code)
            except Exception:
                logger.error(
                    "corp %s authorized suite %s but its permanent code could not be stored; "
                    "it is kept in this process for the auth code's ten minutes, to be stored "
                    "when WeCom delivers the push again",
                    corp_id,
                    self.suite_id,
                    exc_info=True,
                )
                raise
            self._exchanged.drop(auth_code)
            # A token fetched with a code that was just reset may already be refused.
            await self._forget(self.corp_token_key(corp_id))
        logger.info("corp %s authorized suite %s", corp_id, self.suite_id)
        return info

    async def _exchange(self, auth_code: str) -> PermanentCodeInfo:
        with anyio.CancelScope(shield=True):
            info = await self.get_permanent_code(auth_code)
        self._exchanged.keep(auth_code, info)
        return info

    async def cancel(self, corp_id: str) -> bool:
        """Handle ``cancel_auth``: delete the corp's permanent code and cached token.

        A ``cancel_auth`` may arrive after a newer ``create_auth`` of the same corp (a
        late delivery, another receiver process): the stored code is then the new one.
        So the stored code is first checked with ``service/get_auth_info``; while WeCom
        still accepts it, nothing is deleted. Every client of a cancelled corp then raises
        :class:`~wecom_async.NotAuthorizedError` on its next token fetch.

        Returns:
            True when the corp's code and token were deleted, False when WeCom still
            accepts the stored code (the cancel is older than the authorization).

        Raises:
            TransportError, SystemBusyError, TokenError, ...: the check could not be made;
                nothing is deleted (deliver the push again later).
            Exception: whatever the permanent-code store raised.
        """
        check_id(corp_id, "corp_id")
        async with self._corp_locks(corp_id):
            code = await self.permanent_codes.get(corp_id)
            if code and await self._still_accepted(corp_id, code):
                logger.warning(
                    "ignored a cancel_auth of corp %s for suite %s: WeCom still accepts the "
                    "stored permanent code (an authorization newer than the cancel)",
                    corp_id,
                    self.suite_id,
                )
                return False
            await self.permanent_codes.delete(corp_id)
            await self._forget(self.corp_token_key(corp_id))
        logger.info("corp %s cancelled its authorization of suite %s", corp_id, self.suite_id)
        return True

    async def _still_accepted(self, corp_id: str, code: str) -> bool:
        register_secret(code)
        try:
            await self._authorization.get_auth_info(corp_id, code)
        except WeComError as exc:
            if refused_for_good(exc):
                return False
            raise
        return True

    async def put_ticket(self, ticket: str) -> None:
        """Store a pushed ``suite_ticket`` (what :meth:`handle` does with one)."""
        register_secret(check_secret(ticket, "suite_ticket"))
        await self.tickets.put(self.suite_id, ticket)

    async def _forget(self, key: str) -> None:
        """Drop the token of ``key`` from the store, whatever it is (compare-and-delete)."""
        got = await self._store.get_or_lease(key)
        if isinstance(got, IssuedToken):
            await self._store.invalidate(key, got)
            return
        # A lease not given back would hold every fetch of the corp until it expires.
        with anyio.CancelScope(shield=True):
            await self._store.release(got)

    # -- callbacks ----------------------------------------------------------------------

    def callback_crypto(self, token: str, encoding_aes_key: str) -> CallbackCrypto:
        """The crypto of the app's command callback URL: its Token, EncodingAESKey, and
        the suite id as receive id. Needs the ``callback`` extra."""
        from ..callback import CallbackCrypto

        return CallbackCrypto(token, encoding_aes_key, self.suite_id)

    def attach(self, receiver: CallbackReceiver) -> None:
        """Run :meth:`handle` for every provider push ``receiver`` gets, before it is
        acknowledged: a push that :meth:`handle` could not act on yet is answered 503 and
        not remembered, so WeCom delivers it again; your own handlers run after it and
        see the ticket or code already stored."""
        from ..callback import InfoEvent

        receiver.on(InfoEvent, before_ack=True)(self.handle)

    async def handle(self, event: Event) -> None:
        """Act on one provider push of this suite: store a ticket (``suite_ticket``),
        exchange and store a permanent code (``create_auth``, ``reset_permanent_code``),
        drop a corp (``cancel_auth``). Other pushes, and another suite's, are ignored.

        A push that failed for good (WeCom refused the auth code: used, expired) is
        logged at ERROR and returns: answer it 200, another delivery cannot help. A push
        that failed in a way a later delivery may fix raises: do not acknowledge it, so
        that WeCom delivers it again (:meth:`attach` makes the receiver answer 503).

        Raises:
            WeComError: the network, a 5xx, WeCom busy, no suite ticket yet, a closed app.
            Exception: whatever the ticket or permanent-code store raised.
        """
        from ..callback import InfoEvent

        if not isinstance(event, InfoEvent) or event.suite_id != self.suite_id:
            return
        try:
            await self._act(event)
        except Exception as exc:
            if retryable(exc):
                raise
            logger.error(
                "suite %s: the %s push of %s failed for good and is acknowledged: %s "
                "(for an auth code refused as used, the corp admin must authorize the app "
                "again, or the provider reset its permanent code)",
                self.suite_id,
                event.info_type,
                event.auth_corp_id or "an unnamed corp",
                exc,
            )

    async def _act(self, event: InfoEvent) -> None:
        from ..callback import CancelAuth, CreateAuth, ResetPermanentCode, SuiteTicket

        if isinstance(event, SuiteTicket):
            await self.put_ticket(event.suite_ticket)
        elif isinstance(event, CreateAuth | ResetPermanentCode):
            await self.authorize(event.auth_code)
        elif isinstance(event, CancelAuth):
            await self.cancel(event.auth_corp_id)
