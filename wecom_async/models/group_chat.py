"""Customer groups (客户群), endpoints.md §3.5 (#32-#34).

Docs: https://developer.work.weixin.qq.com/document/path/92120 (groupchat/list),
https://developer.work.weixin.qq.com/document/path/92122 (groupchat/get),
https://developer.work.weixin.qq.com/document/path/94822 (opengid_to_chatid).
"""

from __future__ import annotations

import attrs

from ._base import WireEnum, WireModel

__all__ = [
    "GroupAdmin",
    "GroupChat",
    "GroupChatListResponse",
    "GroupChatResponse",
    "GroupChatStatus",
    "GroupChatStatusFilter",
    "GroupChatSummary",
    "GroupInvitor",
    "GroupMember",
    "GroupMemberType",
    "JoinScene",
    "OpengidToChatidResponse",
]


class GroupChatStatus(WireEnum):
    """``group_chat_list[].status``: where a group stands in inheritance (离职继承)."""

    NORMAL = 0
    OWNER_RESIGNED = 1
    INHERITING = 2
    INHERITED = 3


class GroupChatStatusFilter(WireEnum):
    """``status_filter`` of groupchat/list: which groups to list."""

    ALL = 0
    OWNER_RESIGNED = 1
    INHERITING = 2
    INHERITED = 3


class GroupMemberType(WireEnum):
    """``member_list[].type``."""

    CORP_MEMBER = 1
    EXTERNAL_CONTACT = 2


class JoinScene(WireEnum):
    """``member_list[].join_scene``: how the member joined."""

    DIRECT_INVITE = 1
    INVITE_LINK = 2
    GROUP_QR_CODE = 3


@attrs.frozen(kw_only=True)
class GroupChatSummary(WireModel):
    """One ``groupchat/list`` item: a group id and its inheritance status."""

    chat_id: str
    status: GroupChatStatus | int | None = None


@attrs.frozen(kw_only=True)
class GroupInvitor(WireModel):
    """``member_list[].invitor``: present only when an internal member invited the member."""

    userid: str | None = None


@attrs.frozen(kw_only=True)
class GroupMember(WireModel):
    """A member of a customer group (``group_chat.member_list[]``).

    ``userid`` is a member userid (type 1) or an external_userid (type 2). ``name`` comes
    only with ``need_name``; ``unionid`` only for WeChat users of a corp bound to a WeChat
    developer account; ``state`` only when the member joined through a join way with a
    ``state``; ``invitor`` only when an internal member invited them.
    """

    userid: str
    type: GroupMemberType | int | None = None
    unionid: str | None = None
    join_time: int | None = None
    join_scene: JoinScene | int | None = None
    invitor: GroupInvitor | None = None
    group_nickname: str | None = None
    name: str | None = None
    state: str | None = None


@attrs.frozen(kw_only=True)
class GroupAdmin(WireModel):
    """``group_chat.admin_list[]``: a group administrator."""

    userid: str


@attrs.frozen(kw_only=True)
class GroupChat(WireModel):
    """``groupchat/get``: a customer group with its members and admins.

    ``member_version`` pairs with ``LastMemVer`` / ``CurMemVer`` of member change events,
    to tell whether an event was missed. ``create_time`` and ``join_time`` are Unix seconds.
    """

    chat_id: str
    name: str | None = None
    owner: str | None = None
    create_time: int | None = None
    notice: str | None = None
    member_list: list[GroupMember] = attrs.field(factory=list)
    admin_list: list[GroupAdmin] | None = None
    member_version: str | None = None


@attrs.frozen(kw_only=True)
class GroupChatListResponse(WireModel):
    """One page of ``groupchat/list`` (no ``next_cursor`` when paged by the legacy offset)."""

    group_chat_list: list[GroupChatSummary] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class GroupChatResponse(WireModel):
    """Answer of ``groupchat/get``."""

    group_chat: GroupChat


@attrs.frozen(kw_only=True)
class OpengidToChatidResponse(WireModel):
    """Answer of ``opengid_to_chatid``."""

    chat_id: str
