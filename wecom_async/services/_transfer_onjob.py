"""``client.transfer``'s on-job customer hand-over (在职继承), endpoints.md #23-#24."""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from ..models._base import WireList
from ..models.transfer import (
    TransferCustomerResponse,
    TransferItemResult,
    TransferResultResponse,
    TransferStatus,
)
from ..pagination import AsyncPaginator
from ._transfer_base import TransferCalls, customer_body, success_msg

__all__ = ["OnJobTransfers"]

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


class OnJobTransfers(TransferCalls):
    """Hand customers of on-job members over to other members."""

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
        body = customer_body(handover_userid, takeover_userid, external_userid)
        body.update(success_msg(transfer_success_msg))
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
