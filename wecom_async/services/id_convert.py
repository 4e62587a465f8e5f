"""``client.id_convert``: external_userid conversions, endpoints.md #100-#107.

The 2022 account-ID upgrade gave every service provider its own external_userid for a
customer, and unionid lookups moved under ``/cgi-bin/idconvert/``. These calls translate
between the ids: old and new (get_new_external_userid), corp and provider
(to_/from_service_external_userid), unionid and external_userid, external_userid and
openid. Every conversion only reads, so each is retry-safe; so is
finish_external_userid_migration, which sets a flag that stays set.

Which token a call needs depends on who calls (the docstrings say it per method):

* most take the corp ``access_token`` of the client they are called on: a self-built
  app's client, or the client of one authorized corp a provider app builds;
* ``unionid_to_external_userid_3rd`` takes a ``suite_access_token`` and
  ``finish_external_userid_migration`` a ``provider_access_token``: call them on the
  client that carries that token (``ProviderApp.suite_client()`` /
  ``ProviderApp.provider_client()``), which fetches it, sends it and replaces it once
  when WeCom refuses it; or hand a token you hold over explicitly (sent as given, from
  any client). Either way the value is masked in every log line and error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs
from typing_extensions import Unpack

from .._core import Endpoint, R
from .._exceptions import ValidationError
from .._logging import Secret, register_token
from .._options import RequestOptions
from .._validation import check_id, check_ids, check_range, check_secret
from ..models._base import EmptyResponse, WireList, WireStr
from ..models.id_convert import (
    CorpExternalUserid,
    ExternalUseridResponse,
    NewExternalUserid,
    NewExternalUseridResponse,
    OpenidResponse,
    SubjectType,
    UnionidConversion,
    UnionidToExternalUserid3rdResponse,
)
from ._base import Service

__all__ = ["MAX_OLD_IDS", "IdConvertService"]

_UNIONID_TO_EXTERNAL_USERID = Endpoint(
    "POST", "idconvert/unionid_to_external_userid", retry_safe=True, response=UnionidConversion
)
_UNIONID_TO_EXTERNAL_USERID_3RD = Endpoint(
    "POST",
    "service/externalcontact/unionid_to_external_userid_3rd",
    retry_safe=True,
    response=UnionidToExternalUserid3rdResponse,
    key="external_userid_info",
    token="suite_access_token",
)
_GET_NEW_EXTERNAL_USERID = Endpoint(
    "POST",
    "externalcontact/get_new_external_userid",
    retry_safe=True,
    response=NewExternalUseridResponse,
    key="items",
)
_GROUPCHAT_GET_NEW_EXTERNAL_USERID = Endpoint(
    "POST",
    "externalcontact/groupchat/get_new_external_userid",
    retry_safe=True,
    response=NewExternalUseridResponse,
    key="items",
)
_TO_SERVICE_EXTERNAL_USERID = Endpoint(
    "POST",
    "externalcontact/to_service_external_userid",
    retry_safe=True,
    response=ExternalUseridResponse,
    key="external_userid",
)
_FROM_SERVICE_EXTERNAL_USERID = Endpoint(
    "POST",
    "externalcontact/from_service_external_userid",
    retry_safe=True,
    response=ExternalUseridResponse,
    key="external_userid",
)
_FINISH_EXTERNAL_USERID_MIGRATION = Endpoint(
    "POST",
    "service/externalcontact/finish_external_userid_migration",
    retry_safe=True,
    response=EmptyResponse,
    token="provider_access_token",
)
_CONVERT_TO_OPENID = Endpoint(
    "POST",
    "externalcontact/convert_to_openid",
    retry_safe=True,
    response=OpenidResponse,
    key="openid",
)

#: get_new_external_userid (both kinds): old ids per call.
MAX_OLD_IDS: Final = 1000


def _given(endpoint: Endpoint[R], value: str | None) -> tuple[Endpoint[R], dict[str, str]]:
    """The endpoint and query of a provider-level call: as is (the client's own token is
    sent) when no token is given, else unauthenticated with the caller's token in the
    query, masked from now on wherever it is logged."""
    name = endpoint.token or "access_token"
    if value is None:
        return endpoint, {}
    token = Secret(check_secret(value, name))
    register_token(token)
    return attrs.evolve(endpoint, authenticated=False), {name: token}


def _agent_id(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"source_agentid must be a positive integer, got {value!r}")
    return value


class IdConvertService(Service):
    """Convert customer ids between callers, versions, unionids and openids."""

    async def unionid_to_external_userid(
        self,
        unionid: str,
        openid: str,
        *,
        subject_type: SubjectType | int | None = None,
        **options: Unpack[RequestOptions],
    ) -> UnionidConversion:
        """Map a WeChat user's unionid to the caller's external_userid (or a pending_id).

        ``POST /cgi-bin/idconvert/unionid_to_external_userid``

        The current (2022) form, called with the corp token of a third-party or
        provider-built app; it replaced ``externalcontact/unionid_to_external_userid``.
        Frequency-limited by WeCom per corp; the unionid and openid must come from the
        same mini program or official account, whose subject must match the corp's (or
        the provider's, with ``subject_type=1``). Peers disagree on the name of the
        temporary id: the docs and SKIT read ``pending_id``, one Go SDK
        ``pending_userid``; a field under another name is kept in ``extra``.

        Args:
            unionid: the WeChat user's unionid.
            openid: the user's openid in the same mini program or official account.
            subject_type: 0 the subject is the corp's (WeCom's default), 1 the provider's.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            :class:`UnionidConversion`: ``external_userid`` when the user is already a
            customer, else ``pending_id``.

        Raises:
            ValidationError: an empty unionid or openid, or subject_type not 0 or 1.
            APIError: e.g. 40003 / 40096 an id WeCom does not accept.

        Docs: https://developer.work.weixin.qq.com/document/path/95900
        """
        body: dict[str, object] = {
            "unionid": check_id(unionid, "unionid"),
            "openid": check_id(openid, "openid"),
        }
        if subject_type is not None:
            body["subject_type"] = int(check_range(subject_type, "subject_type", low=0, high=1))
        return await self._answer(_UNIONID_TO_EXTERNAL_USERID, body=body, options=options)

    async def unionid_to_external_userid_3rd(
        self,
        unionid: str,
        openid: str,
        *,
        suite_access_token: str | None = None,
        corpid: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> WireList[CorpExternalUserid]:
        """Map a unionid to the external_userid of each authorized corp (third-party app).

        ``POST /cgi-bin/service/externalcontact/unionid_to_external_userid_3rd``

        A provider-level call, authenticated by the suite's ``suite_access_token``, not
        by a corp token: call it on ``ProviderApp.suite_client()``, which fetches the
        suite token and replaces it once when WeCom refuses it (40082 / 42009). A token
        given as ``suite_access_token=`` is sent as given instead, from any client (when
        WeCom says it expired, fetch a new one and call again). Part of the 2022 upgrade
        for third-party apps; provider-built apps and newer integrations use
        :meth:`unionid_to_external_userid` instead.

        Args:
            unionid: the WeChat user's unionid.
            openid: the user's openid in the same mini program or official account.
            suite_access_token: a suite access token of the third-party app you hold;
                None (the default) sends the suite token of the client.
            corpid: only this authorized corp; every corp when omitted.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            One :class:`CorpExternalUserid` (corpid, external_userid) per corp where the
            user is a customer; empty when none.

        Raises:
            ValidationError: an empty id or token, or an empty corpid; no token given
                on a client that does not carry a suite token (nothing is sent).
            TokenError: the client's suite token was refused again after one refresh.
            APIError: e.g. 42009 a given suite token expired, 40082 it is not valid.

        Docs: https://developer.work.weixin.qq.com/document/path/95327
        """
        body: dict[str, object] = {
            "unionid": check_id(unionid, "unionid"),
            "openid": check_id(openid, "openid"),
            **({"corpid": check_id(corpid, "corpid")} if corpid is not None else {}),
        }
        endpoint, params = _given(_UNIONID_TO_EXTERNAL_USERID_3RD, suite_access_token)
        return await self._list_part(
            endpoint,
            CorpExternalUserid,
            params=params,
            body=body,
            options=options,
        )

    async def get_new_external_userid(
        self, external_userid_list: Sequence[str], **options: Unpack[RequestOptions]
    ) -> WireList[NewExternalUserid]:
        """Translate customers' pre-upgrade external_userids into the upgraded ones.

        ``POST /cgi-bin/externalcontact/get_new_external_userid``

        Called with the corp token of a third-party or provider-built app during the
        2022 migration; the customers' followers must be in the app's visible range. The
        official page and SKIT/EasyWeChat use this path; WxJava's third-party service
        sends ``/cgi-bin/service/externalcontact/get_new_external_userid`` instead
        (endpoints.md discrepancy #30). Ids WeCom cannot translate are left out.

        Args:
            external_userid_list: 1 to 1000 old external_userids.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            One :class:`NewExternalUserid` (old id, new id) per translated customer.

        Raises:
            ValidationError: no or more than 1000 ids, or an empty id (nothing is sent).
            APIError: the call was refused (e.g. 48002 the app has no 客户联系 permission).

        Docs: https://developer.work.weixin.qq.com/document/path/95327
        """
        ids = check_ids(external_userid_list, "external_userid_list", max_count=MAX_OLD_IDS)
        return await self._list_part(
            _GET_NEW_EXTERNAL_USERID,
            NewExternalUserid,
            body={"external_userid_list": ids},
            options=options,
        )

    async def get_new_group_chat_external_userid(
        self,
        chat_id: str,
        external_userid_list: Sequence[str],
        **options: Unpack[RequestOptions],
    ) -> WireList[NewExternalUserid]:
        """Translate the old external_userids of one customer group's members.

        ``POST /cgi-bin/externalcontact/groupchat/get_new_external_userid``

        The group-chat counterpart of :meth:`get_new_external_userid`: it covers group
        members who are not customers of the app's members; only the group owner needs
        to be in the app's visible range.

        Args:
            chat_id: the customer group.
            external_userid_list: 1 to 1000 old external_userids of its members.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            One :class:`NewExternalUserid` per translated member (others left out).

        Raises:
            ValidationError: an empty chat_id, or no, too many or empty ids.
            APIError: e.g. 86003 no such group (the errcode is unverified).

        Docs: https://developer.work.weixin.qq.com/document/path/95327
        """
        body = {
            "chat_id": check_id(chat_id, "chat_id"),
            "external_userid_list": check_ids(
                external_userid_list, "external_userid_list", max_count=MAX_OLD_IDS
            ),
        }
        return await self._list_part(
            _GROUPCHAT_GET_NEW_EXTERNAL_USERID, NewExternalUserid, body=body, options=options
        )

    async def to_service_external_userid(
        self, external_userid: str, **options: Unpack[RequestOptions]
    ) -> WireStr:
        """Turn a provider-built app's external_userid into the provider's own id.

        ``POST /cgi-bin/externalcontact/to_service_external_userid``

        Called with the corp token of a provider-built (代开发) app: the answer is the id
        the same provider's third-party apps know the customer by.

        Args:
            external_userid: the customer, as the provider-built app knows it.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The provider's external_userid of the customer.

        Raises:
            ValidationError: ``external_userid`` is empty.
            APIError: e.g. 40096 not a customer the app can see.

        Docs: https://developer.work.weixin.qq.com/document/path/95195
        """
        body = {"external_userid": check_id(external_userid, "external_userid")}
        return await self._str_part(_TO_SERVICE_EXTERNAL_USERID, body=body, options=options)

    async def from_service_external_userid(
        self,
        external_userid: str,
        source_agentid: int,
        **options: Unpack[RequestOptions],
    ) -> WireStr:
        """Turn a provider app's external_userid into the corp's own (self-built app) id.

        ``POST /cgi-bin/externalcontact/from_service_external_userid``

        Called with a self-built app's token; the customer's follower (or the group
        owner) must be visible to both this app and the provider app ``source_agentid``.

        Args:
            external_userid: the customer, as the provider app knows it.
            source_agentid: the agentid of the provider-built or third-party app that got
                the id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The corp's external_userid of the customer.

        Raises:
            ValidationError: an empty id or a source_agentid that is not a positive int.
            APIError: e.g. 40096 the id does not belong to that app.

        Docs: https://developer.work.weixin.qq.com/document/path/95884
        """
        body = {
            "external_userid": check_id(external_userid, "external_userid"),
            "source_agentid": _agent_id(source_agentid),
        }
        return await self._str_part(_FROM_SERVICE_EXTERNAL_USERID, body=body, options=options)

    async def finish_external_userid_migration(
        self,
        corpid: str,
        *,
        provider_access_token: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> None:
        """Tell WeCom the provider finished migrating one corp's external_userids.

        ``POST /cgi-bin/service/externalcontact/finish_external_userid_migration``

        A provider-level call, authenticated by the ``provider_access_token`` (not a
        corp token): call it on ``ProviderApp.provider_client()``, which fetches the
        provider token and replaces it once when WeCom refuses it; a token given as
        ``provider_access_token=`` is sent as given instead, from any client. Afterwards
        WeCom returns only upgraded ids for the corp; the step cannot be undone, but repeating it
        changes nothing, so it is retry-safe. Peers disagree on the path: SKIT and the
        official migration page name this ``/service/`` one, WxJava's third-party service
        and EasyWeChat's Work client ``/cgi-bin/externalcontact/...`` (endpoints.md
        discrepancy #31).

        Args:
            corpid: the authorized corp whose migration is finished.
            provider_access_token: a provider access token you hold; None (the
                default) sends the provider token of the client.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: an empty corpid or token, or no token given on a client
                that does not carry a provider token (nothing is sent).
            TokenError: the client's provider token was refused again after one refresh.
            APIError: e.g. 40013 the corp is not authorized to the provider.

        Docs: https://developer.work.weixin.qq.com/document/path/95327
        """
        body = {"corpid": check_id(corpid, "corpid")}
        endpoint, params = _given(_FINISH_EXTERNAL_USERID_MIGRATION, provider_access_token)
        await self._none(endpoint, params=params, body=body, options=options)

    async def convert_to_openid(
        self, external_userid: str, **options: Unpack[RequestOptions]
    ) -> WireStr:
        """Get the WeChat openid of a customer, for WeChat Pay calls.

        ``POST /cgi-bin/externalcontact/convert_to_openid``

        Only WeChat customers convert: WeCom refuses the ids of WeCom users of other
        corps (``wo...``).

        Args:
            external_userid: the customer (a WeChat user, ``wm...``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The customer's openid for the corp.

        Raises:
            ValidationError: ``external_userid`` is empty.
            APIError: e.g. 40096 an unknown customer or a WeCom user's id.

        Docs: https://developer.work.weixin.qq.com/document/path/92323
        """
        body = {"external_userid": check_id(external_userid, "external_userid")}
        return await self._str_part(_CONVERT_TO_OPENID, body=body, options=options)
