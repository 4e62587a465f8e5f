"""Token injection: the access token goes into the query, and a refused token is replaced once.

A business call answered with 40014, 42001 or 40001 invalidates exactly that token
(compare-and-delete), fetches a new one (single flight) and resends once. This is not a
retry and does not spend the retry budget. If the new token is refused too,
:class:`~wecom_async.TokenError` is raised: no loop.

gettoken is a nested call that spends the attempts and the deadline of the call that
needed the token; when it fails, the call fails with its error (see ``Settled``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._core import Auth, Core, Endpoint, Exchange, Params, Settled
from ._exceptions import (
    GETTOKEN_CONFIG_ERRCODES,
    TOKEN_ERRCODES,
    APIError,
    ConfigurationError,
    ResponseError,
    TokenError,
    ValidationError,
    WeComError,
)
from ._logging import Secret
from ._token import IssuedToken, TokenManager
from ._wire import errcode_of
from .models._base import JsonObject

__all__ = ["GETTOKEN", "TOKEN_ERRCODES", "TokenAuth", "fetch_credential", "fetch_token"]

#: Longest token lifetime taken from gettoken (WeCom answers 7200).
MAX_EXPIRES_IN: Final = 86_400

GETTOKEN: Final = Endpoint("GET", "gettoken", retry_safe=True, authenticated=False)


class TokenAuth(Auth):
    """Adds ``access_token`` to the query and replaces a refused token once.

    ``param`` names the query parameter: ``suite_access_token`` and
    ``provider_access_token`` for a service provider's own calls.
    """

    def __init__(self, tokens: TokenManager, *, param: str = "access_token") -> None:
        self._tokens = tokens
        self._param = param

    async def call(self, endpoint: Endpoint, params: Params, exchange: Exchange) -> JsonObject:
        """Send with the current token; on a token errcode, refresh and resend once."""
        if not endpoint.authenticated:
            return await exchange(params)
        if endpoint.token is not None and endpoint.token != self._param:
            raise Settled(
                ValidationError(
                    f"{endpoint.line} is authenticated by a {endpoint.token}, which this "
                    f"client does not carry (it sends {self._param}): call it on a client "
                    "that does (a ProviderApp's suite_client() / provider_client()), or pass "
                    "the token yourself"
                )
            )
        token = await self._token()
        data = await exchange({**params, self._param: Secret(token.value)})
        if errcode_of(endpoint.line, data) not in TOKEN_ERRCODES:
            return data
        await self._tokens.invalidate(token)
        token = await self._token()
        data = await exchange({**params, self._param: Secret(token.value)})
        errcode = errcode_of(endpoint.line, data)
        if errcode in TOKEN_ERRCODES:
            errmsg = data.get("errmsg")
            raise TokenError(
                errcode,
                errmsg if isinstance(errmsg, str) else "",
                request_line=endpoint.line,
            )
        return data

    async def _token(self) -> IssuedToken:
        """The current token; a failed fetch ends the call with its error, not retried."""
        try:
            return await self._tokens.get()
        except WeComError as exc:
            error = exc
        raise Settled(error)


async def fetch_token(core: Core, corp_id: str, secret: str) -> tuple[str, int]:
    """Call gettoken and return ``(access_token, expires_in)``.

    Made inside a business call, gettoken spends that call's attempts and deadline.

    Raises:
        ConfigurationError: gettoken refused the corp id or secret (40001, 40013, 41002,
            41004); raised at once, never retried.
        APIError: any other errcode, after the retries allowed for gettoken.
    """
    return await fetch_credential(
        core, GETTOKEN, key="access_token", params={"corpid": corp_id, "corpsecret": secret}
    )


async def fetch_credential(
    core: Core,
    endpoint: Endpoint,
    *,
    key: str,
    params: Params | None = None,
    json_body: Mapping[str, object] | None = None,
    config_errcodes: frozenset[int] = GETTOKEN_CONFIG_ERRCODES,
) -> tuple[str, int]:
    """Call a token endpoint and return ``(its token at key, expires_in)``.

    gettoken, and a provider's get_suite_token, get_corp_token and get_provider_token.

    Raises:
        ConfigurationError: an errcode of ``config_errcodes`` (a credential refused);
            raised at once, never retried.
        APIError: any other errcode, after the retries allowed for the endpoint.
        ResponseError: no token, or an ``expires_in`` that is not 1 to 86,400 seconds.
    """
    try:
        data = await core.call(endpoint, params=params, json_body=json_body)
    except APIError as exc:
        # On a token endpoint 40001 means "bad secret", not "bad token": the table maps
        # it to TokenError for business calls, so these codes are re-classed here.
        if exc.errcode not in config_errcodes or isinstance(exc, ConfigurationError):
            raise
        refused = exc
    else:
        return _issued(data, key, endpoint)
    raise ConfigurationError(refused.errcode, refused.errmsg, request_line=refused.request_line)


def _issued(data: JsonObject, key: str, endpoint: Endpoint) -> tuple[str, int]:
    token, expires_in = data.get(key), data.get("expires_in", 7200)
    if not isinstance(token, str) or not token:
        raise ResponseError(f"{endpoint.path} answered without {key}", request_line=endpoint.line)
    if type(expires_in) is not int or not 0 < expires_in <= MAX_EXPIRES_IN:
        # WeCom says 7200; a lifetime of none, or of years, is no answer to build a cache on.
        raise ResponseError(
            f"{endpoint.path} answered an expires_in that is not 1 to 86,400 seconds",
            request_line=endpoint.line,
        )
    return Secret(token), expires_in
