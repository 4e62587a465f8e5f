"""``client.transfer``'s group-chat hand-overs (on-job and resigned owners), endpoints.md #25
and #29."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from .._validation import check_id, check_ids
from ..models._base import WireList
from ..models.transfer import FailedChat, GroupChatTransferResponse
from ._base import Service

__all__ = ["MAX_CHATS", "GroupChatTransfers"]

_ONJOB_TRANSFER = Endpoint(
    "POST",
    "externalcontact/groupchat/onjob_transfer",
    retry_safe=False,
    response=GroupChatTransferResponse,
    key="failed_chat_list",
)
_GROUPCHAT_TRANSFER = Endpoint(
    "POST",
    "externalcontact/groupchat/transfer",
    retry_safe=False,
    response=GroupChatTransferResponse,
    key="failed_chat_list",
)

#: Groups per group-transfer call (both kinds).
MAX_CHATS: Final = 100


def _group_body(chat_id_list: Sequence[str], new_owner: str) -> dict[str, object]:
    ids = check_ids(chat_id_list, "chat_id_list", max_count=MAX_CHATS)
    return {"chat_id_list": ids, "new_owner": check_id(new_owner, "new_owner")}


class GroupChatTransfers(Service):
    """Hand customer groups over to a new owner."""

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

    async def _transfer_groups(
        self,
        endpoint: Endpoint,
        chat_id_list: Sequence[str],
        new_owner: str,
        options: RequestOptions,
    ) -> WireList[FailedChat]:
        body = _group_body(chat_id_list, new_owner)
        return await self._list_part(endpoint, FailedChat, body=body, options=options)
