"""Statistics (统计管理): member contact behaviour and customer-group counters, endpoints.md §3.9.

Every statistic has daily granularity: WeCom floors each time to 00:00 of its day (China
Standard Time) and reports each day by the Unix time of that midnight (``stat_time``).

Docs: https://developer.work.weixin.qq.com/document/path/92132 (get_user_behavior_data),
https://developer.work.weixin.qq.com/document/path/92133 (groupchat/statistic and
statistic_group_by_day).
"""

from __future__ import annotations

import attrs

from ._base import WireEnum, WireModel

__all__ = [
    "GroupChatDayStatistic",
    "GroupChatDayStatisticResponse",
    "GroupChatStatistic",
    "GroupChatStatisticData",
    "GroupChatStatisticOrder",
    "GroupChatStatisticResponse",
    "UserBehavior",
    "UserBehaviorResponse",
]


class GroupChatStatisticOrder(WireEnum):
    """``order_by`` of ``groupchat/statistic``: the counter the owners are sorted by."""

    NEW_CHAT_CNT = 1
    CHAT_TOTAL = 2
    NEW_MEMBER_CNT = 3
    MEMBER_TOTAL = 4


@attrs.frozen(kw_only=True)
class UserBehavior(WireModel):
    """One day of ``get_user_behavior_data`` (several members are summed into one series).

    Attributes:
        stat_time: 00:00 of the day, Unix seconds.
        new_apply_cnt: friend requests the members sent.
        new_contact_cnt: customers the members added.
        chat_cnt: one-to-one chats in which the members sent a message.
        message_cnt: messages the members sent in one-to-one chats.
        reply_percentage: percentage of customer-started chats the members answered the
            same day; only present when there were such chats. A float per the docs, yet
            the official example writes whole values as JSON integers (``100``): both are
            accepted and kept as sent (an int is a valid ``float``), so that
            :func:`wecom_async.to_dict` writes them back unchanged.
        avg_reply_time: average first-reply delay in minutes; only when there were chats.
        negative_feedback_cnt: customers who deleted or blocked a member.
    """

    stat_time: int
    new_apply_cnt: int | None = None
    new_contact_cnt: int | None = None
    chat_cnt: int | None = None
    message_cnt: int | None = None
    reply_percentage: float | None = None
    avg_reply_time: int | None = None
    negative_feedback_cnt: int | None = None


@attrs.frozen(kw_only=True)
class GroupChatStatisticData(WireModel):
    """Customer-group counters of one owner or one day (``items[].data``).

    ``*_total`` and ``*_has_msg`` counters are "as of that day"; ``new_*`` counters count
    the day (or are summed over the days asked for). ``migrate_trainee_chat_cnt`` is only
    sent to education/training corps.
    """

    new_chat_cnt: int | None = None
    chat_total: int | None = None
    chat_has_msg: int | None = None
    new_member_cnt: int | None = None
    member_total: int | None = None
    member_has_msg: int | None = None
    msg_total: int | None = None
    migrate_trainee_chat_cnt: int | None = None


@attrs.frozen(kw_only=True)
class GroupChatStatistic(WireModel):
    """One owner's customer-group counters (``groupchat/statistic`` item)."""

    owner: str
    data: GroupChatStatisticData = attrs.field(factory=GroupChatStatisticData)


@attrs.frozen(kw_only=True)
class GroupChatDayStatistic(WireModel):
    """One day's customer-group counters (``groupchat/statistic_group_by_day`` item)."""

    stat_time: int
    data: GroupChatStatisticData = attrs.field(factory=GroupChatStatisticData)


@attrs.frozen(kw_only=True)
class UserBehaviorResponse(WireModel):
    """Answer of ``get_user_behavior_data``."""

    behavior_data: list[UserBehavior] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class GroupChatStatisticResponse(WireModel):
    """One page of ``groupchat/statistic`` (finished when ``next_offset == total``)."""

    total: int | None = None
    next_offset: int | None = None
    items: list[GroupChatStatistic] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class GroupChatDayStatisticResponse(WireModel):
    """Answer of ``groupchat/statistic_group_by_day``."""

    items: list[GroupChatDayStatistic] = attrs.field(factory=list)
