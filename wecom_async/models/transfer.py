"""On-job and resigned inheritance (在职继承 / 离职继承), endpoints.md §3.4 (#23-#29).

Docs: https://developer.work.weixin.qq.com/document/path/92125 (transfer_customer),
https://developer.work.weixin.qq.com/document/path/94088 (transfer_result),
https://developer.work.weixin.qq.com/document/path/95703 (groupchat/onjob_transfer),
https://developer.work.weixin.qq.com/document/path/92124 (get_unassigned_list),
https://developer.work.weixin.qq.com/document/path/94081 (resigned/transfer_customer),
https://developer.work.weixin.qq.com/document/path/94082 (resigned/transfer_result),
https://developer.work.weixin.qq.com/document/path/92127 (groupchat/transfer),
https://developer.work.weixin.qq.com/document/path/92125 (the legacy transfer and
get_transfer_result, #30-#31, replaced by the calls above).
"""

from __future__ import annotations

import attrs

from ._base import WireEnum, WireModel

__all__ = [
    "FailedChat",
    "GroupChatTransferResponse",
    "LegacyTransferResult",
    "TransferCustomerResponse",
    "TransferItemResult",
    "TransferResultResponse",
    "TransferStatus",
    "TransferStatusCode",
    "UnassignedCustomer",
    "UnassignedListResponse",
]


class TransferStatusCode(WireEnum):
    """``customer[].status`` of the transfer results.

    ``NO_RECORD`` (5) is listed only by the older on-job doc and by other SDKs; the current
    pages list 1-4. Any other value WeCom adds later comes back as a plain int.
    """

    DONE = 1
    WAITING = 2
    CUSTOMER_REFUSED = 3
    CUSTOMER_LIMIT_EXCEEDED = 4
    NO_RECORD = 5


@attrs.frozen(kw_only=True)
class TransferItemResult(WireModel):
    """Per-customer answer of a transfer call.

    ``errcode`` 0 means the hand-over *started*: the takeover member gets the customer
    after 24 hours unless the customer refuses; read the outcome with the result
    endpoints. Other values are per-customer failures (e.g. 40096 not the handover
    member's customer, 40128 transferred twice in 90 days, 40129 already being
    transferred); the other customers of the call are not affected.
    """

    external_userid: str
    errcode: int

    @property
    def started(self) -> bool:
        """Whether the hand-over of this customer started (``errcode == 0``)."""
        return self.errcode == 0


@attrs.frozen(kw_only=True)
class TransferStatus(WireModel):
    """One ``customer[]`` item of transfer_result / resigned/transfer_result.

    ``takeover_time`` is the (future) automatic takeover time while ``status`` is
    WAITING, the takeover time once DONE, and may be 0 for a refused transfer.
    """

    external_userid: str
    status: TransferStatusCode | int
    takeover_time: int | None = None


@attrs.frozen(kw_only=True)
class FailedChat(WireModel):
    """A group a group-transfer call could not hand over (only failures are listed).

    Documented errcodes: 90500 owner not resigned (groupchat/transfer), 90501 not a
    customer group, 90502 owner already resigned (groupchat/onjob_transfer), 90503 group
    full, 90504 owner unchanged, 90507 inheritance in progress, 90508 already inherited.
    """

    chat_id: str
    errcode: int
    errmsg: str | None = None


@attrs.frozen(kw_only=True)
class UnassignedCustomer(WireModel):
    """A customer of a resigned member still waiting to be assigned (get_unassigned_list)."""

    handover_userid: str
    external_userid: str
    dimission_time: int | None = None


@attrs.frozen(kw_only=True)
class TransferCustomerResponse(WireModel):
    """Answer of ``transfer_customer`` and ``resigned/transfer_customer``."""

    customer: list[TransferItemResult] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class TransferResultResponse(WireModel):
    """One page of ``transfer_result`` and ``resigned/transfer_result``."""

    customer: list[TransferStatus] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class GroupChatTransferResponse(WireModel):
    """Answer of ``groupchat/onjob_transfer`` and ``groupchat/transfer``."""

    failed_chat_list: list[FailedChat] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class UnassignedListResponse(WireModel):
    """One page of ``get_unassigned_list`` (``next_cursor`` absent with the legacy page_id)."""

    info: list[UnassignedCustomer] = attrs.field(factory=list)
    is_last: bool | None = None
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class LegacyTransferResult(WireModel):
    """Answer of the legacy ``get_transfer_result``: one customer's hand-over status.

    The shape comes from peer SDKs only (the official page is gone): ``status`` as in
    :class:`TransferStatus` (5 = no transfer on record), ``takeover_time`` in Unix seconds.
    """

    status: TransferStatusCode | int | None = None
    takeover_time: int | None = None
