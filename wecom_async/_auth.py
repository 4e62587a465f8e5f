"""Token injection: the access token goes into the query, and a refused token is replaced once.

A business call answered with 40014, 42001 or 40001 invalidates exactly that token
(compare-and-delete), fetches a new one (single flight) and resends once. This is not a
retry and does not spend the retry budget. If the new token is refused too,
:class:`~wecom_async.TokenError` is raised: no loop.

gettoken is a nested call that spends the attempts and the deadline of the call that
needed the token; when it fails, the call fails with its error (see ``Settled``).
"""

from __future__ import annotations

from typing import Final

from ._core import Auth, Core, Endpoint, Exchange, Params, Settled
from ._exceptions import (
    GETTOKEN_CONFIG_ERRCODES,
    TOKEN_ERRCODES,
    APIError,
    ConfigurationError,
    ResponseError,
    TokenError,
    WeComError,
)
from ._logging import Secret
from ._token import IssuedToken, TokenManager
from ._wire import errcode_of
from .models._base import JsonObject

__all__ = ["GETTOKEN", "TOKEN_ERRCODES", "TokenAuth", "fetch_token"]

#: Longest token lifetime taken from gettoken (WeCom answers 7200).
MAX_EXPIRES_IN: Final = 86_400

GETTOKEN: Final = Endpoint("GET", "gettoken", retry_safe=True, authenticated=False)


class TokenAuth(Auth):
    """Adds ``access_token`` to the query and replaces a refused token once."""

    def __init__(self, tokens: TokenManager) -> None:
        self._tokens = tokens

    async def call(self, endpoint: Endpoint, params: Params, exchange: Exchange) -> JsonObject:
        """Send with the current token; on a token errcode, refresh and resend once."""
        if not endpoint.authenticated:
            return await exchange(params)
        token = await self._token()
        data = await exchange({**params, "access_token": Secret(token.value)})
        if errcode_of(endpoint.line, data) not in TOKEN_ERRCODES:
            return data
        await self._tokens.invalidate(token)
        token = await self._token()
        data = await exchange({**params, "access_token": Secret(token.value)})
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
    try:
        data = await core.call(GETTOKEN, params={"corpid": corp_id, "corpsecret": secret})
    except APIError as exc:
        # On gettoken 40001 means "bad secret", not "bad token": the table maps it to
        # TokenError for business calls, so the gettoken codes are re-classed here.
        if exc.errcode not in GETTOKEN_CONFIG_ERRCODES or isinstance(exc, ConfigurationError):
            raise
        refused = exc
    else:
        return _issued(data)
    raise ConfigurationError(refused.errcode, refused.errmsg, request_line=refused.request_line)


def _issued(data: JsonObject) -> tuple[str, int]:
    token, expires_in = data.get("access_token"), data.get("expires_in", 7200)
    if not isinstance(token, str) or not token:
        raise ResponseError("gettoken answered without an access_token", request_line=GETTOKEN.line)
    if type(expires_in) is not int or not 0 < expires_in <= MAX_EXPIRES_IN:
        # WeCom says 7200; a lifetime of none, or of years, is no answer to build a cache on.
        raise ResponseError(
            "gettoken answered an expires_in that is not 1 to 86,400 seconds",
            request_line=GETTOKEN.line,
        )
    return Secret(token), expires_in
