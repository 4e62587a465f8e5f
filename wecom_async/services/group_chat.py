"""``client.group_chat``: customer groups (客户群), endpoints.md #32-#34."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, TypeVar

from typing_extensions import Unpack

from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from .._validation import check_id, check_ids, check_range
from ..models._base import JsonObject, WireStr
from ..models.group_chat import (
    GroupChat,
    GroupChatListResponse,
    GroupChatResponse,
    GroupChatStatusFilter,
    GroupChatSummary,
    OpengidToChatidResponse,
)
from ..pagination import AsyncPaginator
from ._base import Body, Service

__all__ = ["GroupChatService"]

T = TypeVar("T")

_LIST = Endpoint(
    "POST",
    "externalcontact/groupchat/list",
    retry_safe=True,
    response=GroupChatListResponse,
    key="group_chat_list",
)
_GET = Endpoint(
    "POST",
    "externalcontact/groupchat/get",
    retry_safe=True,
    response=GroupChatResponse,
    key="group_chat",
)
_OPENGID_TO_CHATID = Endpoint(
    "POST",
    "externalcontact/opengid_to_chatid",
    retry_safe=True,
    response=OpengidToChatidResponse,
    key="chat_id",
)

#: groupchat/list: at most this many owners in ``owner_filter.userid_list``.
MAX_OWNERS: Final = 100
#: groupchat/list: ``limit`` range.
MAX_LIMIT: Final = 1000
#: Legacy offset paging of groupchat/list: ``offset + limit`` may not exceed this.
LEGACY_OFFSET_CAP: Final = 50_000


def _check_legacy_offset(offset: int, limit: int) -> int:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValidationError(f"offset must be a non-negative integer, got {offset!r}")
    if offset + limit > LEGACY_OFFSET_CAP:
        raise ValidationError(
            f"offset + limit is {offset + limit}; legacy offset paging of groupchat/list "
            f"stops at {LEGACY_OFFSET_CAP}: page by cursor instead"
        )
    return offset


class GroupChatService(Service):
    """Customer groups (客户群) owned by the corp's members."""

    def list(
        self,
        *,
        status_filter: GroupChatStatusFilter | int = GroupChatStatusFilter.ALL,
        owner_userid_list: Sequence[str] | None = None,
        limit: int = MAX_LIMIT,
        cursor: str | None = None,
        offset: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[GroupChatSummary]:
        """Page through the customer groups, optionally of some owners only.

        ``POST /cgi-bin/externalcontact/groupchat/list``

        Sends nothing until awaited or iterated. Cursor paging is the current shape. The
        deprecated ``offset`` paging is still accepted for callers who have offsets: give
        ``offset`` and the request carries ``offset`` instead of ``cursor``; pages end at
        the first short page, and ``offset + limit`` may not pass 50000. Whether WeCom
        still honours ``offset`` is unverified.

        Args:
            status_filter: 0 all (default), 1 owner resigned awaiting inheritance,
                2 inheriting, 3 inherited.
            owner_userid_list: only groups of these owners (1 to 100 userids; sent as
                ``owner_filter.userid_list``). Without it, every owner in the app's visible
                range; groups of resigned owners are listed only when named here.
            limit: groups per page, 1 to 1000.
            cursor: resume from this ``next_cursor`` of an earlier page.
            offset: legacy offset paging from this offset (not with ``cursor``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`GroupChatSummary` (chat_id and status).

        Raises:
            ValidationError: ``status_filter`` outside 0-3, ``limit`` outside 1-1000, an
                empty or over-long (>100) or blank-id ``owner_userid_list``, both ``cursor``
                and ``offset``, or a legacy offset past the cap.
            APIError: 81017 without ``owner_userid_list`` when more than 1000 owners are
                visible: name the owners.

        Docs: https://developer.work.weixin.qq.com/document/path/92120
        """
        check_range(status_filter, "status_filter", low=0, high=3)
        check_range(limit, "limit", low=1, high=MAX_LIMIT)
        base: dict[str, object] = {"status_filter": int(status_filter), "limit": limit}
        if owner_userid_list is not None:
            owners = check_ids(owner_userid_list, "owner_userid_list", max_count=MAX_OWNERS)
            base["owner_filter"] = {"userid_list": owners}
        if offset is None:
            return self._cursor_paginate(
                _LIST, GroupChatSummary, base, start=cursor, options=options
            )
        if cursor is not None:
            raise ValidationError("give cursor or the legacy offset, not both")

        def legacy(number: int) -> tuple[None, Body]:
            return None, {**base, "offset": _check_legacy_offset(number, limit)}

        def following(number: int, _: JsonObject, count: int) -> int | None:
            return number + count if count >= limit else None

        return self._paginate_numbered(
            _LIST,
            GroupChatSummary,
            legacy,
            following,
            start=_check_legacy_offset(offset, limit),
            options=options,
        )

    async def get(
        self, chat_id: str, *, need_name: bool = False, **options: Unpack[RequestOptions]
    ) -> GroupChat:
        """Get a customer group: name, owner, notice, members and admins.

        ``POST /cgi-bin/externalcontact/groupchat/get``

        WeCom updates a group asynchronously after a change event; re-read it a couple of
        seconds after one.

        Args:
            chat_id: the group's chat_id.
            need_name: also return each member's ``name`` (sent as ``need_name`` 0/1).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`GroupChat`.

        Raises:
            ValidationError: ``chat_id`` is empty.
            APIError: the group is unknown, dismissed, or not a customer group (90501).

        Docs: https://developer.work.weixin.qq.com/document/path/92122
        """
        check_id(chat_id, "chat_id")
        body = {"chat_id": chat_id, "need_name": 1 if need_name else 0}
        return await self._model_part(_GET, GroupChat, body=body, options=options)

    async def opengid_to_chatid(self, opengid: str, **options: Unpack[RequestOptions]) -> WireStr:
        """Convert a mini-program group ``opengid`` into the corp's ``chat_id``.

        ``POST /cgi-bin/externalcontact/opengid_to_chatid``

        Only groups created by the corp's service staff convert.

        Args:
            opengid: from the mini program's ``wx.getGroupEnterInfo``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The group's chat_id.

        Raises:
            ValidationError: ``opengid`` is empty.
            APIError: 90511 the opengid is invalid or not the corp's group.

        Docs: https://developer.work.weixin.qq.com/document/path/94822
        """
        check_id(opengid, "opengid")
        return await self._str_part(_OPENGID_TO_CHATID, body={"opengid": opengid}, options=options)
