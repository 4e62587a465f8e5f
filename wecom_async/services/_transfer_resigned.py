"""``client.transfer``'s resigned-member hand-over (离职继承), endpoints.md #26-#28."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from typing_extensions import Unpack

from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from .._validation import check_range
from ..models._base import JsonObject, WireList
from ..models.transfer import (
    TransferCustomerResponse,
    TransferItemResult,
    TransferResultResponse,
    TransferStatus,
    UnassignedCustomer,
    UnassignedListResponse,
)
from ..pagination import AsyncPaginator
from ._base import Body
from ._transfer_base import TransferCalls, customer_body

__all__ = ["LEGACY_PAGE_CAP", "MAX_PAGE_SIZE", "ResignedTransfers"]

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

#: get_unassigned_list page size.
MAX_PAGE_SIZE: Final = 1000
#: Legacy page_id paging of get_unassigned_list: page_id x page_size stays below this.
LEGACY_PAGE_CAP: Final = 50_000


def _check_page_id(page_id: int, page_size: int) -> int:
    if isinstance(page_id, bool) or not isinstance(page_id, int) or page_id < 0:
        raise ValidationError(f"page_id must be a non-negative integer, got {page_id!r}")
    if page_id * page_size >= LEGACY_PAGE_CAP:
        raise ValidationError(
            f"page_id x page_size is {page_id * page_size}; legacy page_id paging of "
            f"get_unassigned_list stops below {LEGACY_PAGE_CAP}: page by cursor instead"
        )
    return page_id


class ResignedTransfers(TransferCalls):
    """Hand customers of resigned members over to other members."""

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
        body = customer_body(handover_userid, takeover_userid, external_userid)
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
