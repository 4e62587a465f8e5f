"""The ``behavior-stats`` export kind: day-by-day statistics of members and their groups.

Units: one per chunk of up to 100 follow-users (``get_follow_user_list``) and window of
at most 30 whole Beijing days of ``--since`` .. ``--until`` (WeCom's span for these
calls; the days are whole, so a bound inside a day takes in the whole day). Default: the
180 days before today, up to yesterday (WeCom keeps 180 days and has no data for today).
Each unit is one step (no cursor); a unit refused whole for one member who left since the
plan (60111, 40003) is halved until that member stands alone.

Records (JSON Lines), three kinds told apart by ``stat``::

    {"stat": "user_behavior", "userid": "...", "data": {...}}
        # get_user_behavior_data of that one member (WeCom sums several members into
        # one series, so each member is asked alone): one per member and day
    {"stat": "group_chat_by_owner", "stat_time": DAY, "data": {"owner": ..., "data": {...}}}
        # groupchat/statistic of one day over the chunk's owners: one per owner and day
    {"stat": "group_chat_by_day", "owners": [...], "data": {"stat_time": ..., "data": {...}}}
        # groupchat/statistic_group_by_day over the chunk's owners: one per chunk and day;
        # summing one day's records over the export's chunks gives every exported owner's

``data`` is the item as WeCom sent it. CSV columns (one row per record): ``stat``,
``userid`` (the member, or the owner), ``owners`` (JSON), ``stat_time``, then every
counter of either answer, empty where the record has none: ``new_apply_cnt``,
``new_contact_cnt``, ``chat_cnt``, ``message_cnt``, ``reply_percentage``,
``avg_reply_time``, ``negative_feedback_cnt`` (members); ``new_chat_cnt``,
``chat_total``, ``chat_has_msg``, ``new_member_cnt``, ``member_total``,
``member_has_msg``, ``msg_total``, ``migrate_trainee_chat_cnt`` (groups).

Docs: https://developer.work.weixin.qq.com/document/path/92132 (get_user_behavior_data),
https://developer.work.weixin.qq.com/document/path/92133 (groupchat/statistic,
statistic_group_by_day).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .._client import WeComClient
from .._converter import to_dict
from .._exceptions import WeComError
from .._time import china_day
from ..models._base import JsonObject, JsonValue
from ..services.statistics import MAX_IDS, MAX_SPAN_DAYS
from ._job import Batch, Unit, fetch_each
from ._members import halves, userids
from ._range import DAY, TimeRange, covered, day_windows, window_of
from ._windowed import WindowedJob, wire_list

__all__ = ["HISTORY_DAYS", "BehaviorStatsJob"]

#: Days of statistics WeCom keeps (the default range).
HISTORY_DAYS: Final = 180
#: Days per window: WeCom allows a span of 30 days; 30 whole days keep within it however
#: the span is counted.
STATS_WINDOW_DAYS: Final = MAX_SPAN_DAYS
MEMBER_COUNTERS: Final = (
    "new_apply_cnt", "new_contact_cnt", "chat_cnt", "message_cnt", "reply_percentage",
    "avg_reply_time", "negative_feedback_cnt",
)  # fmt: skip
GROUP_COUNTERS: Final = (
    "new_chat_cnt", "chat_total", "chat_has_msg", "new_member_cnt", "member_total",
    "member_has_msg", "msg_total", "migrate_trainee_chat_cnt",
)  # fmt: skip


def _dict(value: JsonValue) -> JsonObject:
    return value if isinstance(value, dict) else {}


class BehaviorStatsJob(WindowedJob):
    """Members' contact statistics and their groups' statistics, per day.

    Args:
        since: first second of the range (default: 180 days before today, 00:00 Beijing).
        until: last second, included (default: the end of yesterday, Beijing time).
        clock: the time now, in Unix seconds (tests inject one).
    """

    name = "behavior-stats"
    unit_label = "follow-users x windows"
    max_span = STATS_WINDOW_DAYS * DAY
    columns = ("stat", "userid", "owners", "stat_time", *MEMBER_COUNTERS, *GROUP_COUNTERS)
    times = ("stat_time",)

    def range(self) -> TimeRange:
        """The range a fresh export covers (its defaults resolved now).

        Raises:
            ValidationError: ``since`` is after ``until``.
        """
        today = china_day(int(self._clock()))
        until = self._until if self._until is not None else today - 1
        since = self._since if self._since is not None else today - HISTORY_DAYS * DAY
        return TimeRange(since, until)

    def planned(self) -> TimeRange:
        """The range the plan covers: whole Beijing days."""
        span = self.range()
        return TimeRange(china_day(span.since), china_day(span.until) + DAY - 1)

    async def plan(self, client: WeComClient) -> list[Unit]:
        """Chunks of the follow-users (``GET /cgi-bin/externalcontact/get_follow_user_list``)
        times windows of 30 days."""
        span = self.range()
        members = await client.external_contact.get_follow_user_list()
        chunks = [members[i : i + MAX_IDS] for i in range(0, len(members), MAX_IDS)]
        units = [
            Unit({"userids": list[JsonValue](chunk), "since": first, "until": last}, len(chunk))
            for first, last in day_windows(span.since, span.until, STATS_WINDOW_DAYS)
            for chunk in chunks
        ]
        self.covered = covered(u.spec for u in units)
        return units

    def ids(self, spec: JsonObject) -> tuple[str, ...]:
        """The chunk's userids."""
        return tuple(userids(spec))

    def split(self, spec: JsonObject, error: WeComError) -> list[Unit]:
        """Halves of a chunk refused whole for one bad member (60111, 40003)."""
        return halves(spec, error)

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/groupchat/statistic`` per day and
        ``POST /cgi-bin/externalcontact/groupchat/statistic_group_by_day`` over the chunk,
        then ``POST /cgi-bin/externalcontact/get_user_behavior_data`` per member."""
        members, (first, last) = userids(spec), window_of(spec)
        stats = client.statistics
        records: list[JsonObject] = []
        # The group calls first: one bad owner refuses them whole, and the unit is then
        # split before any per-member call is spent.
        for day in range(first, last + 1, DAY):
            for item in await wire_list(
                stats.group_chat_statistic(day, owner_userid_list=members, limit=1000)
            ):
                records.append({"stat": "group_chat_by_owner", "stat_time": day, "data": item})
        for by_day in await stats.group_chat_statistic_by_day(first, last, members):
            owners = list[JsonValue](members)
            records.append({"stat": "group_chat_by_day", "owners": owners, "data": to_dict(by_day)})

        async def behavior(userid: str) -> JsonObject:
            days = await stats.get_user_behavior_data(first, last, userid=[userid])
            return {"userid": userid, "days": [to_dict(d) for d in days]}

        found, failures = await fetch_each(members, behavior, lambda found: found)
        for member in found:
            days = member["days"]
            for day_data in days if isinstance(days, list) else []:
                records.append(
                    {"stat": "user_behavior", "userid": member["userid"], "data": day_data}
                )
        return Batch(records, None, failures)

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per record; counters of the other statistic are empty."""
        data = _dict(record.get("data"))
        stat = record.get("stat")
        if stat == "user_behavior":
            who, when, counters = record.get("userid"), data.get("stat_time"), data
        elif stat == "group_chat_by_owner":
            who, when = data.get("owner"), record.get("stat_time")
            counters = _dict(data.get("data"))
        else:
            who, when, counters = None, data.get("stat_time"), _dict(data.get("data"))
        member = stat == "user_behavior"
        return [
            [
                stat,
                who,
                record.get("owners"),
                when,
                *(counters.get(k) if member else None for k in MEMBER_COUNTERS),
                *(None if member else counters.get(k) for k in GROUP_COUNTERS),
            ]
        ]
