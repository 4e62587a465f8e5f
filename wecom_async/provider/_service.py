"""The authorization calls a provider makes with its suite token (应用授权)."""

from __future__ import annotations

from typing import Final

from typing_extensions import Unpack

from .._core import Endpoint
from .._logging import Secret, register_secret
from .._options import RequestOptions
from .._validation import check_id, check_secret
from ..models.provider import AuthInfoResponse, PermanentCodeInfo
from ..services._base import Service

__all__ = ["GET_AUTH_INFO", "GET_PERMANENT_CODE", "AuthorizationService"]

#: The v2 call: the code and the corp at once, faster than the old
#: ``service/get_permanent_code``, which WeCom now advises against (D:100776). Not
#: retry-safe: an auth code works once, so a resent request after an ambiguous failure
#: would be refused even if the first one succeeded.
GET_PERMANENT_CODE: Final = Endpoint(
    "POST", "service/v2/get_permanent_code", retry_safe=False, response=PermanentCodeInfo
)
#: D:90604.
GET_AUTH_INFO: Final = Endpoint(
    "POST", "service/get_auth_info", retry_safe=True, response=AuthInfoResponse
)


class AuthorizationService(Service):
    """``service/...`` calls authenticated with the suite access token."""

    async def get_permanent_code(
        self, auth_code: str, **options: Unpack[RequestOptions]
    ) -> PermanentCodeInfo:
        """Exchange a temporary auth code for the corp's permanent code.

        ``POST /cgi-bin/service/v2/get_permanent_code``

        Args:
            auth_code: from the ``create_auth`` / ``reset_permanent_code`` push or the
                authorization redirect; valid 10 minutes, once.

        Returns:
            The permanent code and the authorizing corp (``auth_corp_info.corpid``).

        Raises:
            ValidationError: ``auth_code`` is empty.
            APIError: WeCom refused the code (used, expired: 40078 / 42008, unverified).

        Docs: https://developer.work.weixin.qq.com/document/path/100776
        """
        check_secret(auth_code, "auth_code")
        body = {"auth_code": Secret(auth_code)}
        info = await self._answer(GET_PERMANENT_CODE, body=body, options=options)
        register_secret(info.permanent_code)
        return info

    async def get_auth_info(
        self, auth_corpid: str, permanent_code: str, **options: Unpack[RequestOptions]
    ) -> AuthInfoResponse:
        """Read a corp's authorization: the corp, the authorized app and its visible range.

        ``POST /cgi-bin/service/get_auth_info``

        Args:
            auth_corpid: the authorizing corp.
            permanent_code: its permanent code.

        Raises:
            ValidationError: an argument is empty.
            ConfigurationError / APIError: WeCom refused the corp or code (40084).

        Docs: https://developer.work.weixin.qq.com/document/path/90604
        """
        check_id(auth_corpid, "auth_corpid")
        code = Secret(check_secret(permanent_code, "permanent_code"))
        body = {"auth_corpid": auth_corpid, "permanent_code": code}
        return await self._answer(GET_AUTH_INFO, body=body, options=options)
