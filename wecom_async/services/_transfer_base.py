"""What the transfer calls of ``client.transfer`` share: the limits and body checks of
a customer hand-over, and the two call shapes (start a hand-over, page its results).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from .._validation import check_id, check_ids
from ..models._base import WireList
from ..models.transfer import TransferItemResult, TransferStatus
from ..pagination import AsyncPaginator
from ._base import Body, Service

__all__ = [
    "MAX_CUSTOMERS",
    "MAX_SUCCESS_MSG_CHARS",
    "TransferCalls",
    "customer_body",
    "success_msg",
]

#: Customers per transfer call (both kinds).
MAX_CUSTOMERS: Final = 100
#: transfer_success_msg length in characters.
MAX_SUCCESS_MSG_CHARS: Final = 200


def customer_body(
    handover_userid: str, takeover_userid: str, external_userid: Sequence[str]
) -> dict[str, object]:
    """The two members (distinct) and 1 to 100 customers of a hand-over, checked."""
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


def success_msg(transfer_success_msg: str | None) -> dict[str, str]:
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


class TransferCalls(Service):
    """The two shapes the on-job and resigned customer hand-overs share."""

    async def _transfer(
        self, endpoint: Endpoint, body: Body, options: RequestOptions
    ) -> WireList[TransferItemResult]:
        return await self._list_part(endpoint, TransferItemResult, body=body, options=options)

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
