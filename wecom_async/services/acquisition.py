"""``client.acquisition``: customer acquisition links (获客助手), endpoints.md #78-#86.

A link opens a chat with one of its members; each customer added through it spends one
unit of the corp's purchased quota (:meth:`AcquisitionService.get_quota`). Tag a link's
URL per channel with :meth:`~wecom_async.models.acquisition.AcquisitionLink.url_with_channel`
(``customer_channel=VALUE``, at most 64 bytes): the value comes back as the new follow
relation's ``state`` in ``client.external_contact.get`` and in :meth:`list_customers`.

Only a self-built app listed in 客户联系's "可调用接口的应用" (or a third-party / 代开发 app
with the 获客助手 permission) may call these; the 客户联系 system app may not. Links are
per app: an app sees and edits only the links it created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from .._time import TimeArg, day_window
from .._validation import check_id, check_range
from ..models._base import EmptyResponse
from ..models.acquisition import (
    AcquisitionChatInfo,
    AcquisitionCustomer,
    AcquisitionLink,
    AcquisitionLinkDetail,
    AcquisitionQuota,
    AcquisitionStatistic,
    CreateAcquisitionLinkRequest,
    CreateAcquisitionLinkResponse,
    ListAcquisitionCustomersResponse,
    ListAcquisitionLinksResponse,
    UpdateAcquisitionLinkRequest,
)
from ..pagination import AsyncPaginator
from ._base import Service, request_body

__all__ = ["AcquisitionService"]

#: customer_acquisition/statistic: the first and the last day at most this many days apart.
MAX_SPAN_DAYS: Final = 30

_PATH: Final = "externalcontact/customer_acquisition"
_LIST_LINK = Endpoint(
    "POST",
    f"{_PATH}/list_link",
    retry_safe=True,
    response=ListAcquisitionLinksResponse,
    key="link_id_list",
)
_GET = Endpoint("POST", f"{_PATH}/get", retry_safe=True, response=AcquisitionLinkDetail)
_CREATE_LINK = Endpoint(
    "POST",
    f"{_PATH}/create_link",
    retry_safe=False,
    response=CreateAcquisitionLinkResponse,
    key="link",
)
_UPDATE_LINK = Endpoint("POST", f"{_PATH}/update_link", retry_safe=True, response=EmptyResponse)
_DELETE_LINK = Endpoint("POST", f"{_PATH}/delete_link", retry_safe=False, response=EmptyResponse)
_CUSTOMER = Endpoint(
    "POST",
    f"{_PATH}/customer",
    retry_safe=True,
    response=ListAcquisitionCustomersResponse,
    key="customer_list",
)
_QUOTA = Endpoint(
    "GET", "externalcontact/customer_acquisition_quota", retry_safe=True, response=AcquisitionQuota
)
_STATISTIC = Endpoint("POST", f"{_PATH}/statistic", retry_safe=True, response=AcquisitionStatistic)
_GET_CHAT_INFO = Endpoint(
    "POST", f"{_PATH}/get_chat_info", retry_safe=True, response=AcquisitionChatInfo
)

#: list_link returns at most this many link ids per page.
MAX_LINK_LIMIT: Final = 100
#: customer returns at most this many customers per page.
MAX_CUSTOMER_LIMIT: Final = 1000


class AcquisitionService(Service):
    """Customer acquisition links: create and edit them, read who came and the quota left."""

    def list_link(
        self,
        *,
        limit: int = MAX_LINK_LIMIT,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[str]:
        """Page through the ids of this app's links that are still valid.

        ``POST /cgi-bin/externalcontact/customer_acquisition/list_link``

        Sends nothing until awaited or iterated. Deleted links and links of other apps are
        not listed.

        Args:
            limit: ids per page, 1 to 100.
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of link ids (``str``).

        Raises:
            ValidationError: ``limit`` outside 1-100 (nothing is sent).
            APIError: 50100 an invalid cursor.

        Docs: https://developer.work.weixin.qq.com/document/path/97297
        """
        body = {"limit": check_range(limit, "limit", low=1, high=MAX_LINK_LIMIT)}
        return self._cursor_paginate(_LIST_LINK, str, body, start=cursor, options=options)

    async def get(self, link_id: str, **options: Unpack[RequestOptions]) -> AcquisitionLinkDetail:
        """Get a link's settings, members and routing option.

        ``POST /cgi-bin/externalcontact/customer_acquisition/get``

        Args:
            link_id: the id :meth:`create_link` returned (a link of this app).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`AcquisitionLinkDetail`: ``link`` (name, url, create_time,
            skip_verify, mark_source; WeCom leaves out ``link_id``), ``range`` and
            ``priority_option``.

        Raises:
            ValidationError: ``link_id`` is empty.
            APIError: an unknown or deleted link.

        Docs: https://developer.work.weixin.qq.com/document/path/97297
        """
        body = {"link_id": check_id(link_id, "link_id")}
        return await self._answer(_GET, body=body, options=options)

    async def create_link(
        self,
        body: CreateAcquisitionLinkRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> AcquisitionLink:
        """Create a link served by the members and departments of its ``range``.

        ``POST /cgi-bin/externalcontact/customer_acquisition/create_link``

        Not retry-safe: after an ambiguous failure (timeout, errcode -1) it is not resent,
        since a second link could be created; check with :meth:`list_link` first.

        Args:
            body: a :class:`CreateAcquisitionLinkRequest` or a mapping of its wire fields
                (``link_name``, ``range``, ``skip_verify``, ``priority_option``,
                ``mark_source``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The new :class:`AcquisitionLink` (``link_id``, ``link_name``, ``url``,
            ``create_time``).

        Raises:
            ValidationError: a documented rule of the request is broken (nothing is sent).
            APIError: 41095 the corp's link count limit, 41200 ``priority_option`` not
                available to the corp's business category, 60111 / 40003 a member that
                does not exist or an invalid userid, 40058 departments covering over 500.

        Docs: https://developer.work.weixin.qq.com/document/path/97297
        """
        request = request_body(CreateAcquisitionLinkRequest, body)
        return await self._model_part(_CREATE_LINK, AcquisitionLink, body=request, options=options)

    async def update_link(
        self,
        body: UpdateAcquisitionLinkRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> None:
        """Change a link; only the fields given change, ``range`` and ``priority_option`` whole.

        ``POST /cgi-bin/externalcontact/customer_acquisition/update_link``

        Retry-safe: sending the same overwrite twice leaves the same link.

        Args:
            body: an :class:`UpdateAcquisitionLinkRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: a documented rule of the request is broken (nothing is sent).
            APIError: an unknown or deleted link, 41200, 60111 / 40003 as for
                :meth:`create_link`.

        Docs: https://developer.work.weixin.qq.com/document/path/97297
        """
        request = request_body(UpdateAcquisitionLinkRequest, body)
        await self._none(_UPDATE_LINK, body=request, options=options)

    async def delete_link(self, link_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a link: its URL stops working.

        ``POST /cgi-bin/externalcontact/customer_acquisition/delete_link``

        Not retry-safe: not resent after an ambiguous failure.

        Args:
            link_id: the link's id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``link_id`` is empty.
            APIError: an unknown or already deleted link.

        Docs: https://developer.work.weixin.qq.com/document/path/97297
        """
        await self._none(
            _DELETE_LINK, body={"link_id": check_id(link_id, "link_id")}, options=options
        )

    def list_customers(
        self,
        link_id: str,
        *,
        limit: int = MAX_CUSTOMER_LIMIT,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[AcquisitionCustomer]:
        """Page through the customers added through a link.

        ``POST /cgi-bin/externalcontact/customer_acquisition/customer``

        Sends nothing until awaited or iterated. A customer who added several of the
        link's members appears once per member.

        Args:
            link_id: the link's id.
            limit: customers per page, 1 to 1000.
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`AcquisitionCustomer` (external_userid,
            the member's userid, ``chat_status`` and the channel ``state``).

        Raises:
            ValidationError: an empty ``link_id`` or ``limit`` outside 1-1000.
            APIError: an unknown or deleted link, 50100 an invalid cursor.

        Docs: https://developer.work.weixin.qq.com/document/path/97298
        """
        body = {
            "link_id": check_id(link_id, "link_id"),
            "limit": check_range(limit, "limit", low=1, high=MAX_CUSTOMER_LIMIT),
        }
        return self._cursor_paginate(
            _CUSTOMER, AcquisitionCustomer, body, start=cursor, options=options
        )

    async def get_quota(self, **options: Unpack[RequestOptions]) -> AcquisitionQuota:
        """Get the quota used so far, the balance left and when parts of it expire.

        ``GET /cgi-bin/externalcontact/customer_acquisition_quota``

        Args:
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`AcquisitionQuota` (``total`` used, ``balance`` left,
            ``quota_list`` of balances by expiry day).

        Raises:
            PermissionDeniedError: the app may not use 获客助手 (48002).

        Docs: https://developer.work.weixin.qq.com/document/path/97375
        """
        return await self._answer(_QUOTA, options=options)

    async def statistic(
        self,
        link_id: str,
        start_time: TimeArg,
        end_time: TimeArg,
        **options: Unpack[RequestOptions],
    ) -> AcquisitionStatistic:
        """Count a link's clicks and new customers over whole days.

        ``POST /cgi-bin/externalcontact/customer_acquisition/statistic``

        WeCom floors both times to their day (China Standard Time) and counts both days
        inclusive; the two days are at most 30 days apart, within the last 180 days
        (WeCom checks how far back).

        Args:
            link_id: the link's id.
            start_time: Unix seconds or an aware datetime on the first day.
            end_time: Unix seconds or an aware datetime on the last day.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`AcquisitionStatistic` (``click_link_customer_cnt``,
            ``new_customer_cnt``).

        Raises:
            ValidationError: an empty ``link_id``, a naive datetime, ``end_time`` before
                ``start_time``, or days more than 30 days apart (nothing is sent).
            APIError: an unknown or deleted link.

        Docs: https://developer.work.weixin.qq.com/document/path/97375
        """
        check_id(link_id, "link_id")
        start, end = day_window(start_time, end_time, max_days=MAX_SPAN_DAYS)
        body = {"link_id": link_id, "start_time": start, "end_time": end}
        return await self._answer(_STATISTIC, body=body, options=options)

    async def get_chat_info(
        self, chat_key: str, **options: Unpack[RequestOptions]
    ) -> AcquisitionChatInfo:
        """Get who sent a member repeated messages, from a callback's ChatKey.

        ``POST /cgi-bin/externalcontact/customer_acquisition/get_chat_info``

        The ChatKey comes with the "member received repeated messages" event and is valid
        for 30 minutes.

        Args:
            chat_key: the event's ``ChatKey``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`AcquisitionChatInfo`: ``userid``, ``external_userid`` and
            ``chat_info`` (``recv_msg_cnt``, the ``link_id`` and ``state`` of the add).

        Raises:
            ValidationError: ``chat_key`` is empty.
            APIError: 41201 an invalid or expired chat_key.

        Docs: https://developer.work.weixin.qq.com/document/path/100130
        """
        body = {"chat_key": check_id(chat_key, "chat_key")}
        return await self._answer(_GET_CHAT_INFO, body=body, options=options)
