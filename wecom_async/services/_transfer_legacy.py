"""``client.transfer``'s deprecated one-customer calls (离职分配), endpoints.md #30-#31."""

from __future__ import annotations

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from ..models._base import EmptyResponse
from ..models.transfer import LegacyTransferResult
from ._base import Service
from ._transfer_base import customer_body, success_msg

__all__ = ["LegacyTransfers"]

_LEGACY_TRANSFER = Endpoint(
    "POST", "externalcontact/transfer", retry_safe=False, response=EmptyResponse
)
_GET_TRANSFER_RESULT = Endpoint(
    "POST", "externalcontact/get_transfer_result", retry_safe=True, response=LegacyTransferResult
)


def _one_customer_body(
    external_userid: str, handover_userid: str, takeover_userid: str
) -> dict[str, object]:
    """The body of the legacy single-customer calls: the three ids, the members distinct."""
    body = customer_body(handover_userid, takeover_userid, [external_userid])
    return {**body, "external_userid": external_userid}


class LegacyTransfers(Service):
    """The deprecated hand-over of one customer, and its status."""

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
        body.update(success_msg(transfer_success_msg))
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
