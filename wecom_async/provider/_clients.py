"""The clients a :class:`~wecom_async.provider.ProviderApp` hands out, one per corp.

Every client of an app shares the app's HTTP pool, token store and rate budget
(:class:`AppShared`), so a client per corp is cheap; :class:`CorpClients` builds them
(a corp's, the suite's, the provider's) and remembers each one handed out, so that
closing the app closes them all.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Literal

import attrs
import httpx

from .._auth import TokenAuth
from .._client import WeComClient
from .._core import Core
from .._exceptions import ClientClosedError, ValidationError
from .._retry import RetryPolicy
from .._token import TokenManager, TokenStore, token_key
from .._validation import check_id
from .._wire import RateBudget
from ._stores import PermanentCodeStore
from ._tokens import fetch_corp_token, fetch_custom_corp_token, fetch_provider_token

__all__ = ["AppKind", "AppShared", "CorpClients"]

#: ``"third_party"``: a third-party app (第三方应用), corp tokens from get_corp_token.
#: ``"custom"``: a provider-built custom app (代开发自建应用), corp tokens from gettoken
#: with the permanent code as the secret.
AppKind = Literal["third_party", "custom"]


@attrs.frozen
class AppShared:
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
        """A client on the shared pool whose tokens come from ``tokens(core)``."""
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
        """A core on the shared pool, for the app's own (suite-token) calls."""
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


class CorpClients:
    """The token and client half of ``ProviderApp``: a client per corp, the suite's
    client and the provider's, each remembered so that the app closes it."""

    # Set by ProviderApp.__init__.
    suite_id: str
    kind: AppKind
    permanent_codes: PermanentCodeStore
    _store: TokenStore
    _shared: AppShared
    _suite_core: Core
    _suite_tokens: TokenManager
    _provider: tuple[str, str] | None
    _provider_client: WeComClient | None
    _suite_client: WeComClient | None
    #: Every client handed out and still referenced, closed with the app.
    _clients: weakref.WeakSet[WeComClient]
    _closed: bool

    def _handed_out(self, client: WeComClient) -> WeComClient:
        self._clients.add(client)
        return client

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError("this ProviderApp is closed; create a new one")

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
