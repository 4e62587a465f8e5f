"""Corp mass messages (企业群发), endpoints.md #59-#65, shapes §2.6 and the legacy §4.

Welcome messages and group welcome templates are in :mod:`wecom_async.models.welcome`;
both share the content checks defined there.

Docs: https://developer.work.weixin.qq.com/document/path/92135 (add_msg_template),
https://developer.work.weixin.qq.com/document/path/93338 (list, task, send result),
https://developer.work.weixin.qq.com/document/path/97610 (remind),
https://developer.work.weixin.qq.com/document/path/97611 (cancel).
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

from .._exceptions import ValidationError
from .._validation import max_items
from ._base import WireEnum, WireModel
from ._content import check_count, check_message_content
from .attachments import Attachment, Image, Link, Miniprogram, Text, Video

__all__ = [
    "CHAT_TYPES",
    "MAX_CHAT_IDS",
    "MAX_EXTERNAL_USERIDS",
    "MAX_TAGS_PER_GROUP",
    "AddMsgTemplateRequest",
    "AddMsgTemplateResult",
    "ChatType",
    "GetGroupMsgResultResponse",
    "GroupMsg",
    "GroupMsgCheckStatus",
    "GroupMsgCreateType",
    "GroupMsgDetail",
    "GroupMsgFilterType",
    "GroupMsgListResponse",
    "GroupMsgResult",
    "GroupMsgSendResult",
    "GroupMsgSendResultResponse",
    "GroupMsgSendStatus",
    "GroupMsgTask",
    "GroupMsgTaskResponse",
    "GroupMsgTaskStatus",
    "LegacyGroupMsg",
    "LegacyGroupMsgListResponse",
    "TagFilter",
    "TagFilterGroup",
]

#: ``chat_type``: to customers ("single", WeCom's default) or to customer groups ("group").
ChatType = Literal["single", "group"]
CHAT_TYPES: Final = ("single", "group")
#: add_msg_template recipients (endpoints.md §5.4).
MAX_EXTERNAL_USERIDS: Final = 10_000
MAX_CHAT_IDS: Final = 2_000
MAX_TAGS_PER_GROUP: Final = 100


class GroupMsgCreateType(WireEnum):
    """``group_msg_list[].create_type``: who created the mass message."""

    CORP = 0
    PERSONAL = 1


class GroupMsgFilterType(WireEnum):
    """``filter_type`` of get_groupmsg_list_v2: which creators to list."""

    CORP = 0
    PERSONAL = 1
    ALL = 2


class GroupMsgTaskStatus(WireEnum):
    """``task_list[].status``: whether the member sent it.

    The current doc lists 0 and 2; older docs (and go-wecom's samples) also use 1.
    """

    NOT_SENT = 0
    CONFIRMED = 1
    SENT = 2


class GroupMsgSendStatus(WireEnum):
    """``send_list[].status`` / ``detail_list[].status``: what happened for one recipient."""

    NOT_SENT = 0
    SENT = 1
    NOT_FRIEND = 2
    #: The recipient already got another mass message / its quota is used up.
    QUOTA_EXCEEDED = 3


class GroupMsgCheckStatus(WireEnum):
    """``check_status`` of the legacy get_group_msg_result."""

    UNDER_REVIEW = 0
    APPROVED = 1
    REJECTED = 2


@attrs.frozen(kw_only=True)
class TagFilterGroup(WireModel):
    """One ``tag_filter.group_list[]`` item: customers with ANY of these tags (at most 100)."""

    tag_list: list[str] = attrs.field(factory=list, validator=max_items(MAX_TAGS_PER_GROUP))


@attrs.frozen(kw_only=True)
class TagFilter(WireModel):
    """``tag_filter``: customers matching EVERY ``group_list[]`` item (single chats only)."""

    group_list: list[TagFilterGroup] = attrs.field(factory=list)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _check_ids(name: str, ids: list[str] | None, limit: int) -> None:
    check_count(name, ids, limit)
    if ids and any(not isinstance(i, str) or not i.strip() for i in ids):
        raise ValidationError(f"every item of {name} must be a non-empty id")


@attrs.frozen(kw_only=True)
class AddMsgTemplateRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/add_msg_template`` (endpoints.md #59).

    ``attachments[]`` is the current shape. The older top-level ``image`` / ``link`` /
    ``miniprogram`` objects (with ``text``) that some SDKs still send are accepted too and
    sent exactly as given, never converted; whether WeCom still honours them is
    unverified, so prefer ``attachments``. The two shapes are not mixed.

    Rules checked before sending: ``chat_type`` "single" (default) or "group"; "group"
    needs ``sender`` and takes ``chat_id_list`` (at most 2,000) but not
    ``external_userid`` / ``tag_filter`` / ``allow_select``; "single" takes
    ``external_userid`` (at most 10,000), ``tag_filter`` (at most 100 tags per group,
    ignored by WeCom when external_userid is given) and ``allow_select``, and needs at
    least one of sender, external_userid, tag_filter; text (at most 4000 bytes) and
    attachments (at most 9) are not both empty.
    """

    chat_type: ChatType | None = None
    external_userid: list[str] | None = None
    chat_id_list: list[str] | None = None
    tag_filter: TagFilter | None = None
    sender: str | None = None
    allow_select: bool | None = None
    text: Text | None = None
    attachments: list[Attachment] | None = None
    image: Image | None = None
    link: Link | None = None
    miniprogram: Miniprogram | None = None

    def __attrs_post_init__(self) -> None:
        if self.chat_type is not None and self.chat_type not in CHAT_TYPES:
            raise ValidationError(f"chat_type must be 'single' or 'group', got {self.chat_type!r}")
        _check_ids("external_userid", self.external_userid, MAX_EXTERNAL_USERIDS)
        _check_ids("chat_id_list", self.chat_id_list, MAX_CHAT_IDS)
        has_tags = self.tag_filter is not None and any(
            g.tag_list for g in self.tag_filter.group_list
        )
        if self.chat_type == "group":
            if _blank(self.sender):
                raise ValidationError("sender is required when chat_type is 'group'")
            wrong = [
                name
                for name, given in (
                    ("external_userid", bool(self.external_userid)),
                    ("tag_filter", has_tags),
                    ("allow_select", bool(self.allow_select)),
                )
                if given
            ]
            if wrong:
                raise ValidationError(f"{', '.join(wrong)}: only for chat_type 'single'")
        else:
            if self.chat_id_list:
                raise ValidationError("chat_id_list is only for chat_type 'group'")
            if _blank(self.sender) and not self.external_userid and not has_tags:
                raise ValidationError(
                    "a single-chat message needs sender, external_userid or tag_filter"
                )
        check_message_content(
            text=self.text,
            attachments=self.attachments,
            image=self.image,
            link=self.link,
            miniprogram=self.miniprogram,
        )


@attrs.frozen(kw_only=True)
class AddMsgTemplateResult(WireModel):
    """Answer of ``add_msg_template``.

    Attributes:
        msgid: the new mass message's id (for the task, result, remind and cancel calls).
        fail_list: external_userids or chat_ids that are invalid or cannot be reached.
    """

    msgid: str
    fail_list: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class GroupMsg(WireModel):
    """One ``group_msg_list[]`` record of get_groupmsg_list_v2.

    ``creator`` is absent for messages created through the API. ``create_time`` is shown
    as a string placeholder in the official example (its type is unverified): it is kept
    as sent, an int or a numeric string.
    """

    msgid: str
    creator: str | None = None
    create_time: int | str | None = None
    create_type: GroupMsgCreateType | int | None = None
    text: Text | None = None
    attachments: list[Attachment] | None = None


@attrs.frozen(kw_only=True)
class LegacyGroupMsg(WireModel):
    """One ``group_msg_list[]`` record of the legacy get_groupmsg_list (v1).

    Like :class:`GroupMsg`, but the content is the pre-``attachments`` shape: ``text`` and
    at most one of ``image`` / ``link`` / ``miniprogram`` / ``video`` at the top level.
    """

    msgid: str
    creator: str | None = None
    create_time: int | str | None = None
    create_type: GroupMsgCreateType | int | None = None
    text: Text | None = None
    image: Image | None = None
    link: Link | None = None
    miniprogram: Miniprogram | None = None
    video: Video | None = None


@attrs.frozen(kw_only=True)
class GroupMsgTask(WireModel):
    """One ``task_list[]`` item: a member's send task; ``send_time`` only once sent."""

    userid: str
    status: GroupMsgTaskStatus | int | None = None
    send_time: int | None = None


@attrs.frozen(kw_only=True)
class GroupMsgSendResult(WireModel):
    """One ``send_list[]`` item: a recipient of one member.

    ``external_userid`` for single chats, ``chat_id`` for groups; ``send_time`` only when
    status is SENT.
    """

    userid: str | None = None
    external_userid: str | None = None
    chat_id: str | None = None
    status: GroupMsgSendStatus | int | None = None
    send_time: int | None = None


@attrs.frozen(kw_only=True)
class GroupMsgDetail(GroupMsgSendResult):
    """One ``detail_list[]`` item of the legacy get_group_msg_result (same fields as #62)."""


@attrs.frozen(kw_only=True)
class GroupMsgResult(WireModel):
    """The legacy ``get_group_msg_result`` answer: review status and every recipient."""

    check_status: GroupMsgCheckStatus | int | None = None
    detail_list: list[GroupMsgDetail] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class GetGroupMsgResultResponse(GroupMsgResult):
    """One page of get_group_msg_result (``next_cursor`` is reported only by WxJava)."""

    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class GroupMsgListResponse(WireModel):
    """One page of ``get_groupmsg_list_v2``."""

    group_msg_list: list[GroupMsg] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class LegacyGroupMsgListResponse(WireModel):
    """One page of the legacy ``get_groupmsg_list`` (v1)."""

    group_msg_list: list[LegacyGroupMsg] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class GroupMsgTaskResponse(WireModel):
    """One page of ``get_groupmsg_task``."""

    task_list: list[GroupMsgTask] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class GroupMsgSendResultResponse(WireModel):
    """One page of ``get_groupmsg_send_result``."""

    send_list: list[GroupMsgSendResult] = attrs.field(factory=list)
    next_cursor: str | None = None
