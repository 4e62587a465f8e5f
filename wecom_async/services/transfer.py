"""``client.transfer``: on-job and resigned inheritance (在职继承 / 离职继承), endpoints.md #23-#29.

The four calls that move customers or groups are not retry-safe: after an ambiguous
failure (read timeout, reset after sending, errcode -1) they are never resent, since the
hand-over may already have started and a second one would count against the customer's
"two transfers in 90 days" budget or fail with 40129. Read the result endpoints instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from typing_extensions import Unpack

from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from .._validation import check_id, check_ids, check_range
from ..models._base import EmptyResponse, JsonObject, WireList
from ..models.transfer import (
    FailedChat,
    GroupChatTransferResponse,
    LegacyTransferResult,
    TransferCustomerResponse,
    TransferItemResult,
    TransferResultResponse,
    TransferStatus,
    UnassignedCustomer,
    UnassignedListResponse,
)
from ..pagination import AsyncPaginator
from ._base import Body, Service

__all__ = ["TransferService"]

_TRANSFER_CUSTOMER = Endpoint(
    "POST",
    "externalcontact/transfer_customer",
    retry_safe=False,
    response=TransferCustomerResponse,
    key="customer",
)
_TRANSFER_RESULT = Endpoint(
    "POST",
    "externalcontact/transfer_result",
    retry_safe=True,
    response=TransferResultResponse,
    key="customer",
)
_ONJOB_TRANSFER = Endpoint(
    "POST",
    "externalcontact/groupchat/onjob_transfer",
    retry_safe=False,
    response=GroupChatTransferResponse,
    key="failed_chat_list",
)
_GET_UNASSIGNED_LIST = Endpoint(
    "POST",
    "externalcontact/get_unassigned_list",
    retry_safe=True,
    response=UnassignedListResponse,
    key="info",
)
_RESIGNED_TRANSFER_CUSTOMER = Endpoint(
    "POST",
    "externalcontact/resigned/transfer_customer",
    retry_safe=False,
    response=TransferCustomerResponse,
    key="customer",
)
_RESIGNED_TRANSFER_RESULT = Endpoint(
    "POST",
    "externalcontact/resigned/transfer_result",
    retry_safe=True,
    response=TransferResultResponse,
    key="customer",
)
_GROUPCHAT_TRANSFER = Endpoint(
    "POST",
    "externalcontact/groupchat/transfer",
    retry_safe=False,
    response=GroupChatTransferResponse,
    key="failed_chat_list",
)
_LEGACY_TRANSFER = Endpoint(
    "POST", "externalcontact/transfer", retry_safe=False, response=EmptyResponse
)
_GET_TRANSFER_RESULT = Endpoint(
    "POST", "externalcontact/get_transfer_result", retry_safe=True, response=LegacyTransferResult
)

#: Customers per transfer call (both kinds).
MAX_CUSTOMERS: Final = 100
#: Groups per group-transfer call (both kinds).
MAX_CHATS: Final = 100
#: transfer_success_msg length in characters.
MAX_SUCCESS_MSG_CHARS: Final = 200
#: get_unassigned_list page size.
MAX_PAGE_SIZE: Final = 1000
#: Legacy page_id paging of get_unassigned_list: page_id x page_size stays below this.
LEGACY_PAGE_CAP: Final = 50_000


def _customer_body(
    handover_userid: str, takeover_userid: str, external_userid: Sequence[str]
) -> dict[str, object]:
    check_id(handover_userid, "handover_userid")
    check_id(takeover_userid, "takeover_userid")
    if handover_userid == takeover_userid:
        raise ValidationError(
            f"handover_userid and takeover_userid are the same member {handover_userid!r}"
        )
    ids = check_ids(external_userid, "external_userid", max_count=MAX_CUSTOMERS)
    return {
        "handover_userid": handover_userid,
        "takeover_userid": takeover_userid,
        "external_userid": ids,
    }


def _success_msg(transfer_success_msg: str | None) -> dict[str, str]:
    """``transfer_success_msg`` for the body, checked; nothing when not given."""
    if transfer_success_msg is None:
        return {}
    if not isinstance(transfer_success_msg, str):
        raise ValidationError("transfer_success_msg must be a string")
    if len(transfer_success_msg) > MAX_SUCCESS_MSG_CHARS:
        raise ValidationError(
            f"transfer_success_msg is {len(transfer_success_msg)} characters long; "
            f"WeCom allows at most {MAX_SUCCESS_MSG_CHARS}"
        )
    return {"transfer_success_msg": transfer_success_msg}


def _one_customer_body(
    external_userid: str, handover_userid: str, takeover_userid: str
) -> dict[str, object]:
    """The body of the legacy single-customer calls: the three ids, the members distinct."""
    body = _customer_body(handover_userid, takeover_userid, [external_userid])
    return {**body, "external_userid": external_userid}


def _group_body(chat_id_list: Sequence[str], new_owner: str) -> dict[str, object]:
    ids = check_ids(chat_id_list, "chat_id_list", max_count=MAX_CHATS)
    return {"chat_id_list": ids, "new_owner": check_id(new_owner, "new_owner")}


def _check_page_id(page_id: int, page_size: int) -> int:
    if isinstance(page_id, bool) or not isinstance(page_id, int) or page_id < 0:
        raise ValidationError(f"page_id must be a non-negative integer, got {page_id!r}")
    if page_id * page_size >= LEGACY_PAGE_CAP:
        raise ValidationError(
            f"page_id x page_size is {page_id * page_size}; legacy page_id paging of "
            f"get_unassigned_list stops below {LEGACY_PAGE_CAP}: page by cursor instead"
        )
    return page_id


class TransferService(Service):
    """Hand customers and groups of on-job or resigned members over to other members."""

    async def transfer_customer(
        self,
        handover_userid: str,
        takeover_userid: str,
        external_userid: Sequence[str],
        *,
        transfer_success_msg: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> WireList[TransferItemResult]:
        """Start handing customers of an on-job member over to another member (在职继承).

        ``POST /cgi-bin/externalcontact/transfer_customer``

        Not retry-safe: sent again only when it provably never left (connect error) or the
        token was refused. The takeover happens after 24 hours; follow it with
        :meth:`transfer_result`.

        Args:
            handover_userid: the member who hands the customers over.
            takeover_userid: the member who takes them over (not the handover member).
            external_userid: 1 to 100 customers of ``handover_userid``.
            transfer_success_msg: message shown to each customer (at most 200
                characters); WeCom's default text when omitted.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            One :class:`TransferItemResult` per customer: ``errcode`` 0 = started; e.g.
            40096 not the handover member's customer, 40128 transferred twice in 90 days,
            40129 already being transferred.

        Raises:
            ValidationError: an empty id, the same member twice, no or more than 100
                customers, or a message over 200 characters (nothing is sent).
            APIError: the whole call was refused (e.g. 40003 unknown member).

        Docs: https://developer.work.weixin.qq.com/document/path/92125
        """
        body = _customer_body(handover_userid, takeover_userid, external_userid)
        body.update(_success_msg(transfer_success_msg))
        return await self._transfer(_TRANSFER_CUSTOMER, body, options=options)

    def transfer_result(
        self,
        handover_userid: str,
        takeover_userid: str,
        *,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[TransferStatus]:
        """Page through the status of on-job transfers between two members.

        ``POST /cgi-bin/externalcontact/transfer_result``

        Sends nothing until awaited or iterated; at most 1000 records per page.

        Args:
            handover_userid: the member who handed the customers over.
            takeover_userid: the member who takes them over.
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`TransferStatus` (status 1 done,
            2 waiting until ``takeover_time``, 3 refused by the customer, 4 takeover member
            at the customer limit; an unknown status is kept as a plain int).

        Raises:
            ValidationError: an empty id.

        Docs: https://developer.work.weixin.qq.com/document/path/94088
        """
        return self._results(
            _TRANSFER_RESULT, handover_userid, takeover_userid, cursor, options=options
        )

    async def group_chat_onjob_transfer(
        self,
        chat_id_list: Sequence[str],
        new_owner: str,
        **options: Unpack[RequestOptions],
    ) -> WireList[FailedChat]:
        """Hand customer groups of on-job owners over to a new owner at once.

        ``POST /cgi-bin/externalcontact/groupchat/onjob_transfer``

        Not retry-safe. Groups of resigned owners need :meth:`group_chat_transfer`.

        Args:
            chat_id_list: 1 to 100 chat_ids.
            new_owner: the new owner's userid.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The groups that could not be handed over (empty when all moved): e.g. 90501
            not a customer group, 90502 owner already resigned, 90504 owner unchanged.

        Raises:
            ValidationError: no or more than 100 chat_ids, or an empty id.
            APIError: the whole call was refused (e.g. 40003 invalid new owner).

        Docs: https://developer.work.weixin.qq.com/document/path/95703
        """
        return await self._transfer_groups(
            _ONJOB_TRANSFER, chat_id_list, new_owner, options=options
        )

    def get_unassigned_list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        cursor: str | None = None,
        page_id: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[UnassignedCustomer]:
        """Page through the customers of resigned members that still await a new member.

        ``POST /cgi-bin/externalcontact/get_unassigned_list``

        Sends nothing until awaited or iterated. Cursor paging is the current shape (each
        page also carries ``is_last`` in ``page.extra``). The legacy 0-based ``page_id``
        paging is still accepted for callers who have page numbers: give ``page_id`` and
        the request carries it instead of ``cursor``; pages end at ``is_last`` (or a short
        page), and ``page_id x page_size`` must stay below 50000. Whether WeCom still
        honours ``page_id`` is unverified.

        Args:
            page_size: customers per page, 1 to 1000.
            cursor: resume from this ``next_cursor`` of an earlier page.
            page_id: legacy page-number paging from this page (not with ``cursor``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`UnassignedCustomer`.

        Raises:
            ValidationError: ``page_size`` outside 1-1000, both ``cursor`` and ``page_id``,
                or a legacy page past the cap.

        Docs: https://developer.work.weixin.qq.com/document/path/92124
        """
        check_range(page_size, "page_size", low=1, high=MAX_PAGE_SIZE)
        if page_id is None:
            body = {"page_size": page_size}
            return self._cursor_paginate(
                _GET_UNASSIGNED_LIST,
                UnassignedCustomer,
                body,
                start=cursor,
                options=options,
            )
        if cursor is not None:
            raise ValidationError("give cursor or the legacy page_id, not both")

        def legacy(number: int) -> tuple[None, Body]:
            return None, {"page_id": _check_page_id(number, page_size), "page_size": page_size}

        def following(number: int, data: JsonObject, count: int) -> int | None:
            is_last = data.get("is_last")
            last = is_last if isinstance(is_last, bool) else count < page_size
            return None if last or count == 0 else number + 1

        return self._paginate_numbered(
            _GET_UNASSIGNED_LIST,
            UnassignedCustomer,
            legacy,
            following,
            start=_check_page_id(page_id, page_size),
            options=options,
        )

    async def resigned_transfer_customer(
        self,
        handover_userid: str,
        takeover_userid: str,
        external_userid: Sequence[str],
        **options: Unpack[RequestOptions],
    ) -> WireList[TransferItemResult]:
        """Start handing customers of a resigned member over to another member (离职继承).

        ``POST /cgi-bin/externalcontact/resigned/transfer_customer``

        Not retry-safe. The takeover happens after 24 hours; follow it with
        :meth:`resigned_transfer_result`.

        Args:
            handover_userid: the resigned member (else 40097).
            takeover_userid: the member who takes the customers over.
            external_userid: 1 to 100 customers of ``handover_userid``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            One :class:`TransferItemResult` per customer (``errcode`` 0 = started).

        Raises:
            ValidationError: an empty id, the same member twice, or no or more than 100
                customers (nothing is sent).
            APIError: 40097 the handover member has not resigned.

        Docs: https://developer.work.weixin.qq.com/document/path/94081
        """
        body = _customer_body(handover_userid, takeover_userid, external_userid)
        return await self._transfer(_RESIGNED_TRANSFER_CUSTOMER, body, options=options)

    def resigned_transfer_result(
        self,
        handover_userid: str,
        takeover_userid: str,
        *,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[TransferStatus]:
        """Page through the status of resigned-member transfers between two members.

        ``POST /cgi-bin/externalcontact/resigned/transfer_result``

        Same shape as :meth:`transfer_result`.

        Args:
            handover_userid: the resigned member.
            takeover_userid: the member who takes the customers over.
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`TransferStatus`.

        Raises:
            ValidationError: an empty id.

        Docs: https://developer.work.weixin.qq.com/document/path/94082
        """
        return self._results(
            _RESIGNED_TRANSFER_RESULT, handover_userid, takeover_userid, cursor, options=options
        )

    async def group_chat_transfer(
        self,
        chat_id_list: Sequence[str],
        new_owner: str,
        **options: Unpack[RequestOptions],
    ) -> WireList[FailedChat]:
        """Hand customer groups of resigned owners over to a new owner (离职继承).

        ``POST /cgi-bin/externalcontact/groupchat/transfer``

        Not retry-safe. Groups of on-job owners need :meth:`group_chat_onjob_transfer`.

        Args:
            chat_id_list: 1 to 100 chat_ids.
            new_owner: the new owner's userid.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The groups that could not be handed over (empty when all moved): e.g. 90500
            owner not resigned, 90501 not a customer group, 90508 already inherited.

        Raises:
            ValidationError: no or more than 100 chat_ids, or an empty id.
            APIError: the whole call was refused (e.g. 40003 invalid new owner).

        Docs: https://developer.work.weixin.qq.com/document/path/92127
        """
        return await self._transfer_groups(
            _GROUPCHAT_TRANSFER, chat_id_list, new_owner, options=options
        )

    async def _transfer(
        self, endpoint: Endpoint, body: Body, options: RequestOptions
    ) -> WireList[TransferItemResult]:
        return await self._list_part(endpoint, TransferItemResult, body=body, options=options)

    async def _transfer_groups(
        self,
        endpoint: Endpoint,
        chat_id_list: Sequence[str],
        new_owner: str,
        options: RequestOptions,
    ) -> WireList[FailedChat]:
        body = _group_body(chat_id_list, new_owner)
        return await self._list_part(endpoint, FailedChat, body=body, options=options)

    def _results(
        self,
        endpoint: Endpoint,
        handover_userid: str,
        takeover_userid: str,
        cursor: str | None,
        options: RequestOptions,
    ) -> AsyncPaginator[TransferStatus]:
        ids = {
            "handover_userid": check_id(handover_userid, "handover_userid"),
            "takeover_userid": check_id(takeover_userid, "takeover_userid"),
        }
        return self._cursor_paginate(endpoint, TransferStatus, ids, start=cursor, options=options)

    async def transfer(
        self,
        external_userid: str,
        handover_userid: str,
        takeover_userid: str,
        *,
        transfer_success_msg: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> None:
        """Hand one customer over to another member (deprecated 离职分配).

        ``POST /cgi-bin/externalcontact/transfer``

        Deprecated: WeCom no longer maintains this call. Use :meth:`transfer_customer`
        (on-job members) or :meth:`resigned_transfer_customer` (resigned members), which
        take up to 100 customers and report each one. Not retry-safe, like them.

        Args:
            external_userid: the customer (one id, not a list).
            handover_userid: the member who hands the customer over.
            takeover_userid: the member who takes the customer over.
            transfer_success_msg: message shown to the customer (at most 200
                characters; older pages say WeCom applies it to on-job hand-overs only).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: an empty id, the same member twice, or a message over 200
                characters (nothing is sent).
            APIError: e.g. 40096 not the handover member's customer, 40129 already being
                transferred.

        Docs: https://developer.work.weixin.qq.com/document/path/92125
        """
        body = _one_customer_body(external_userid, handover_userid, takeover_userid)
        body.update(_success_msg(transfer_success_msg))
        await self._none(_LEGACY_TRANSFER, body=body, options=options)

    async def get_transfer_result(
        self,
        external_userid: str,
        handover_userid: str,
        takeover_userid: str,
        **options: Unpack[RequestOptions],
    ) -> LegacyTransferResult:
        """Read the status of one customer's hand-over (deprecated).

        ``POST /cgi-bin/externalcontact/get_transfer_result``

        Deprecated: use :meth:`transfer_result` or :meth:`resigned_transfer_result`,
        which page through every customer between two members. The shape of this call
        comes from peer SDKs (go-workwx, EasyWeChat); its official page is gone.

        Args:
            external_userid: the customer.
            handover_userid: the member who handed the customer over.
            takeover_userid: the member who takes the customer over.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            :class:`LegacyTransferResult` (status 1 done, 2 waiting, 3 refused, 4 takeover
            member at the limit, 5 no transfer on record).

        Raises:
            ValidationError: an empty id or the same member twice (nothing is sent).
            APIError: the call was refused (e.g. 40003 unknown member).

        Docs: https://developer.work.weixin.qq.com/document/path/92125
        """
        body = _one_customer_body(external_userid, handover_userid, takeover_userid)
        return await self._answer(_GET_TRANSFER_RESULT, body=body, options=options)
