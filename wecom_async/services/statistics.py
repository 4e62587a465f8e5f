"""``client.statistics``: member contact statistics and customer-group statistics, #72-#74.

WeCom reports whole days: it floors every time to 00:00 of its day in China Standard Time
(UTC+8), includes both ends, and allows at most 30 days between the first and the last day.
This module checks that span locally on the same floored days, so a call WeCom would refuse
for its span never leaves; how far back data exists (180 days) is WeCom's to enforce.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from typing_extensions import Unpack

from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from .._time import TimeArg, day_window, to_unix
from .._validation import check_ids, check_range
from ..models._base import WireList
from ..models.statistics import (
    GroupChatDayStatistic,
    GroupChatDayStatisticResponse,
    GroupChatStatistic,
    GroupChatStatisticOrder,
    GroupChatStatisticResponse,
    UserBehavior,
    UserBehaviorResponse,
)
from ..pagination import AsyncPaginator, PageToken
from ._base import Service

__all__ = ["MAX_SPAN_DAYS", "StatisticsService"]

_GET_USER_BEHAVIOR_DATA = Endpoint(
    "POST",
    "externalcontact/get_user_behavior_data",
    retry_safe=True,
    response=UserBehaviorResponse,
    key="behavior_data",
)
_GROUPCHAT_STATISTIC = Endpoint(
    "POST",
    "externalcontact/groupchat/statistic",
    retry_safe=True,
    response=GroupChatStatisticResponse,
    key="items",
)
_GROUPCHAT_STATISTIC_BY_DAY = Endpoint(
    "POST",
    "externalcontact/groupchat/statistic_group_by_day",
    retry_safe=True,
    response=GroupChatDayStatisticResponse,
    key="items",
)

#: At most this many days between the first and the last day asked for.
MAX_SPAN_DAYS: Final = 30
_DAY_NAMES: Final = ("day_begin_time", "day_end_time")
#: userid / partyid / owner lists hold at most this many ids.
MAX_IDS: Final = 100


def _owner_filter(owner_userid_list: Sequence[str] | None) -> dict[str, object]:
    if owner_userid_list is None:
        raise ValidationError("owner_userid_list is required (1 to 100 group owner userids)")
    return {"userid_list": check_ids(owner_userid_list, "owner_userid_list", max_count=MAX_IDS)}


def _party_ids(partyid: Sequence[int]) -> list[int]:
    if len(partyid) > MAX_IDS:
        raise ValidationError(f"partyid has {len(partyid)} ids; WeCom allows at most {MAX_IDS}")
    return [check_range(p, "an item of partyid", low=1, high=2**32 - 1) for p in partyid]


class StatisticsService(Service):
    """Member contact statistics (联系客户统计) and customer-group statistics (群聊数据统计)."""

    async def get_user_behavior_data(
        self,
        start_time: TimeArg,
        end_time: TimeArg,
        *,
        userid: Sequence[str] | None = None,
        partyid: Sequence[int] | None = None,
        **options: Unpack[RequestOptions],
    ) -> WireList[UserBehavior]:
        """Get day-by-day contact statistics of members, summed over the members given.

        ``POST /cgi-bin/externalcontact/get_user_behavior_data``

        Args:
            start_time: first day (Unix seconds or an aware datetime; floored to 00:00 CST).
            end_time: last day, included; at most 30 days after ``start_time``'s day.
            userid: up to 100 member userids.
            partyid: up to 100 department ids (their members are included).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            One :class:`UserBehavior` per day (only the last 180 days hold data).

        Raises:
            ValidationError: a naive datetime, ``end_time`` before ``start_time``, a span
                over 30 days, both lists empty, or a list over 100 ids.
            APIError: 40003 / 60111 unknown or resigned member; PermissionDeniedError (60011)
                outside the app's visible range.

        Docs: https://developer.work.weixin.qq.com/document/path/92132
        """
        start, end = day_window(start_time, end_time, max_days=MAX_SPAN_DAYS)
        users = check_ids(userid, "userid", max_count=MAX_IDS, min_count=0) if userid else []
        parties = _party_ids(partyid) if partyid else []
        if not users and not parties:
            raise ValidationError("userid and partyid must not both be empty")
        body: dict[str, object] = {
            **({"userid": users} if users else {}),
            **({"partyid": parties} if parties else {}),
            "start_time": start,
            "end_time": end,
        }
        return await self._list_part(
            _GET_USER_BEHAVIOR_DATA, UserBehavior, body=body, options=options
        )

    def group_chat_statistic(
        self,
        day_begin_time: TimeArg,
        *,
        day_end_time: TimeArg | None = None,
        owner_userid_list: Sequence[str] | None = None,
        order_by: GroupChatStatisticOrder | int = GroupChatStatisticOrder.NEW_CHAT_CNT,
        order_asc: int = 0,
        limit: int = 500,
        offset: int = 0,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[GroupChatStatistic]:
        """Page through customer-group counters per group owner, over one or more days.

        ``POST /cgi-bin/externalcontact/groupchat/statistic``

        Offset-paged (``page.next_offset`` / ``page.total``); sends nothing until awaited
        or iterated. ``owner_userid_list`` is required here although WeCom lets it be
        omitted ("every owner in the visible range", refused with 81017 above 1,000
        people): the docs mark it required, and an explicit list never hits that limit.

        Args:
            day_begin_time: first day (Unix seconds or an aware datetime; floored to 00:00
                CST; between 180 days ago and yesterday).
            day_end_time: last day, included (default: ``day_begin_time``'s day only); at
                most 30 days after the first.
            owner_userid_list: 1 to 100 group owner userids (sent as
                ``owner_filter.userid_list``).
            order_by: sort key, a :class:`GroupChatStatisticOrder` (1 new groups, 2 groups,
                3 new members, 4 members).
            order_asc: 1 ascending, 0 descending.
            limit: owners per page, 1 to 1000.
            offset: resume from this ``next_offset``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`GroupChatStatistic`, one per owner.

        Raises:
            ValidationError: a naive datetime, a bad span, no owners or more than 100, or
                ``order_by`` / ``order_asc`` / ``limit`` / ``offset`` out of range.
            APIError: 40003 / 60111 unknown or resigned owner.

        Docs: https://developer.work.weixin.qq.com/document/path/92133
        """
        begin = to_unix(day_begin_time, name="day_begin_time")
        end = None
        if day_end_time is not None:
            begin, end = day_window(
                day_begin_time,
                day_end_time,
                max_days=MAX_SPAN_DAYS,
                names=("day_begin_time", "day_end_time"),
            )
        owner_filter = _owner_filter(owner_userid_list)
        fixed: dict[str, object] = {
            "day_begin_time": begin,
            **({"day_end_time": end} if end is not None else {}),
            "owner_filter": owner_filter,
            "order_by": int(check_range(order_by, "order_by", low=1, high=4)),
            "order_asc": check_range(order_asc, "order_asc", low=0, high=1),
            "limit": check_range(limit, "limit", low=1, high=1000),
        }
        check_range(offset, "offset", low=0, high=2**31 - 1)

        def request(token: PageToken) -> tuple[None, dict[str, object]]:
            return None, {**fixed, "offset": token if token is not None else offset}

        return self._paginate(
            _GROUPCHAT_STATISTIC,
            GroupChatStatistic,
            request,
            start=offset,
            options=options,
        )

    async def group_chat_statistic_by_day(
        self,
        day_begin_time: TimeArg,
        day_end_time: TimeArg,
        owner_userid_list: Sequence[str],
        **options: Unpack[RequestOptions],
    ) -> WireList[GroupChatDayStatistic]:
        """Get customer-group counters day by day, summed over the owners given.

        ``POST /cgi-bin/externalcontact/groupchat/statistic_group_by_day``

        Args:
            day_begin_time: first day (Unix seconds or an aware datetime; floored to 00:00
                CST; between 180 days ago and yesterday).
            day_end_time: last day, included; at most 30 days after the first.
            owner_userid_list: 1 to 100 group owner userids (sent as
                ``owner_filter.userid_list``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            One :class:`GroupChatDayStatistic` per day.

        Raises:
            ValidationError: a naive datetime, a bad span, or no owners / more than 100.
            APIError: 40003 / 60111 unknown or resigned owner.

        Docs: https://developer.work.weixin.qq.com/document/path/92133
        """
        begin, end = day_window(
            day_begin_time,
            day_end_time,
            max_days=MAX_SPAN_DAYS,
            names=("day_begin_time", "day_end_time"),
        )
        body = {
            "day_begin_time": begin,
            "day_end_time": end,
            "owner_filter": _owner_filter(owner_userid_list),
        }
        return await self._list_part(
            _GROUPCHAT_STATISTIC_BY_DAY, GroupChatDayStatistic, body=body, options=options
        )
