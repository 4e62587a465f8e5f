"""``client.external_contact``: staff and customers (客户管理), endpoints.md #2-#7."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence

import attrs
from typing_extensions import Unpack

from .._core import Endpoint, Params
from .._options import RequestOptions
from .._validation import check_id, check_ids, check_range
from ..models._base import EmptyResponse, WireList
from ..models.external_contact import (
    BatchGetByUserResponse,
    ContactListItem,
    ContactListResponse,
    CustomerDetail,
    CustomerWithFollowInfo,
    FollowUserListResponse,
    GetCustomerResponse,
    ListCustomersResponse,
    RemarkRequest,
)
from ..pagination import AsyncPaginator, PageToken
from ._base import Service, request_body

__all__ = ["ExternalContactService"]

_GET_FOLLOW_USER_LIST = Endpoint(
    "GET",
    "externalcontact/get_follow_user_list",
    retry_safe=True,
    response=FollowUserListResponse,
    key="follow_user",
)
_LIST = Endpoint(
    "GET",
    "externalcontact/list",
    retry_safe=True,
    response=ListCustomersResponse,
    key="external_userid",
)
_GET = Endpoint("GET", "externalcontact/get", retry_safe=True, response=GetCustomerResponse)
_BATCH_GET_BY_USER = Endpoint(
    "POST",
    "externalcontact/batch/get_by_user",
    retry_safe=True,
    response=BatchGetByUserResponse,
    key="external_contact_list",
)
_REMARK = Endpoint("POST", "externalcontact/remark", retry_safe=True, response=EmptyResponse)
_CONTACT_LIST = Endpoint(
    "POST",
    "externalcontact/contact_list",
    retry_safe=True,
    response=ContactListResponse,
    key="info_list",
)

#: batch/get_by_user takes at most this many member userids per call.
MAX_BATCH_USERIDS = 100


class ExternalContactService(Service):
    """Staff with the customer-contact feature, and their customers."""

    async def get_follow_user_list(self, **options: Unpack[RequestOptions]) -> WireList[str]:
        """List the members who have the customer-contact feature.

        ``GET /cgi-bin/externalcontact/get_follow_user_list``

        Args:
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            Their userids (only members within the app's visible range); the list's
            ``response`` is the whole :class:`FollowUserListResponse`.

        Raises:
            PermissionDeniedError: the app may not call 客户联系 APIs (48002).

        Docs: https://developer.work.weixin.qq.com/document/path/92571
        """
        return await self._list_part(_GET_FOLLOW_USER_LIST, str, options=options)

    async def list(self, userid: str, **options: Unpack[RequestOptions]) -> WireList[str]:
        """List the external_userids of one member's customers.

        ``GET /cgi-bin/externalcontact/list``

        Args:
            userid: the member's userid.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The customers' external_userids; the list's ``response`` is the whole
            :class:`ListCustomersResponse`.

        Raises:
            ValidationError: ``userid`` is empty.
            APIError: e.g. 60111 unknown member, 84074 member without the feature.

        Docs: https://developer.work.weixin.qq.com/document/path/92113
        """
        check_id(userid, "userid")
        return await self._list_part(_LIST, str, params={"userid": userid}, options=options)

    async def get(self, external_userid: str, **options: Unpack[RequestOptions]) -> CustomerDetail:
        """Get a customer and every member who follows them.

        ``GET /cgi-bin/externalcontact/get``

        WeCom returns followers 500 at a time; this follows ``next_cursor`` and merges
        every page into one :class:`CustomerDetail`.

        Args:
            external_userid: the customer's external_userid (not a member userid).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The customer with all followers (``follow_user[].tags`` filled).

        Raises:
            ValidationError: ``external_userid`` is empty.
            APIError: 40096 invalid external_userid, 84061 no relationship.
            ResponseError: WeCom handed back a cursor already followed (a loop).

        Docs: https://developer.work.weixin.qq.com/document/path/92114
        """
        check_id(external_userid, "external_userid")

        def request(token: PageToken) -> tuple[Params, None]:
            return {
                "external_userid": external_userid,
                **({"cursor": token} if token else {}),
            }, None

        def merge(pages: builtins.list[CustomerDetail]) -> CustomerDetail:
            followers = [follower for page in pages for follower in page.follow_user]
            return attrs.evolve(pages[0], follow_user=followers)

        return await self._merged(_GET, CustomerDetail, request, merge, options=options)

    def batch_get_by_user(
        self,
        userid_list: Sequence[str],
        *,
        limit: int = 100,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[CustomerWithFollowInfo]:
        """Page through the customers of up to 100 members, one item per (customer, member).

        ``POST /cgi-bin/externalcontact/batch/get_by_user``

        Sends nothing until awaited or iterated. Members without an interop license are
        reported on each page in ``page.fail_info.unlicensed_userid_list`` (a partial
        failure: the other members are still served).

        Args:
            userid_list: 1 to 100 member userids.
            limit: items per page, 1 to 100 (WeCom's default is 50).
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`CustomerWithFollowInfo` (``follow_info``
            carries ``tag_id`` rather than ``tags``).

        Raises:
            ValidationError: no userids, more than 100, an empty one, or ``limit`` outside 1-100.
            APIError: 701008 when no listed member has an interop license.

        Docs: https://developer.work.weixin.qq.com/document/path/92994
        """
        ids = check_ids(userid_list, "userid_list", max_count=MAX_BATCH_USERIDS)
        check_range(limit, "limit", low=1, high=100)

        body = {"userid_list": ids, "limit": limit}
        return self._cursor_paginate(
            _BATCH_GET_BY_USER, CustomerWithFollowInfo, body, start=cursor, options=options
        )

    async def remark(
        self, body: RemarkRequest | Mapping[str, object], **options: Unpack[RequestOptions]
    ) -> None:
        """Set a member's remark, description, company, phones or picture for a customer.

        ``POST /cgi-bin/externalcontact/remark``

        Args:
            body: a :class:`RemarkRequest` or a mapping of its wire fields. At least one
                field besides the two ids; remark and remark_company at most 20 characters,
                description at most 150; ``remark_mobiles=[""]`` clears the phones.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: a limit above is broken (nothing is sent).
            APIError: 84061 no relationship, 40096 invalid external_userid.

        Docs: https://developer.work.weixin.qq.com/document/path/92115
        """
        await self._none(_REMARK, body=request_body(RemarkRequest, body), options=options)

    def contact_list(
        self,
        *,
        limit: int = 1000,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[ContactListItem]:
        """Page through every external contact the corp's members serve, customers or not.

        ``POST /cgi-bin/externalcontact/contact_list``

        Self-built apps only. ``tmp_openid`` and cursors are valid for 4 hours; starting
        from the first page again regenerates them.

        Args:
            limit: items per page, 1 to 1000.
            cursor: resume from this ``next_cursor``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`ContactListItem`.

        Raises:
            ValidationError: ``limit`` outside 1-1000.

        Docs: https://developer.work.weixin.qq.com/document/path/99434
        """
        check_range(limit, "limit", low=1, high=1000)

        body = {"limit": limit}
        return self._cursor_paginate(
            _CONTACT_LIST, ContactListItem, body, start=cursor, options=options
        )
