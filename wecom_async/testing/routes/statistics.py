"""Statistics (endpoints.md #72-#74, D:92132, D:92133): get_user_behavior_data,
groupchat/statistic and groupchat/statistic_group_by_day.

The numbers are generated from the corp's state and the day, deterministically (the same
request on the same state gives the same answer):

* contact statistics: ``new_contact_cnt`` counts the member's follow relations created that
  day; the other counters come from a hash of (corp, member, day), bounded by the member's
  number of customers; ``reply_percentage`` / ``avg_reply_time`` appear only on days with
  chats, and a whole percentage is written as a JSON integer (``100``) as in the doc's
  example.  Several members are summed into one series.
* group statistics: group chats (``GroupChatState``) of each owner give ``new_chat_cnt``,
  ``chat_total``, ``new_member_cnt`` and ``member_total`` from their ``create_time`` and
  members' ``join_time``; whether a chat has had messages, how many of its members spoke
  and its message count come from a hash of its chat_id.  ``*_total`` / ``*_has_msg`` /
  ``msg_total`` are as of the end of the last day; ``new_*`` count the whole range.

Days are whole days of China Standard Time (UTC+8): times are floored to 00:00 CST.  Only
days from 180 days ago up to yesterday (fake clock) hold data; other days count zero.

Errcodes: 40063 missing time or lists; 40058 end before begin, a span over 30 days, over
100 ids, ``order_by`` / ``order_asc`` / ``offset`` / ``limit`` out of range; 60111 unknown
or resigned member; 81017 no owner filter while more than 1,000 members have the feature.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str_list
from .._route import JSON, RequestContext, Route
from .._state import CorpState
from ._group_chat_state import GroupChatState
from ._shared import DAY, day_of

__all__ = ["ROUTES"]

MAX_SPAN_DAYS: Final = 30
HISTORY_DAYS: Final = 180
MAX_IDS: Final = 100
#: Without an owner filter, more members than this answer 81017.
MAX_UNFILTERED_OWNERS: Final = 1_000
DEFAULT_LIMIT: Final = 500
MAX_LIMIT: Final = 1_000
#: groupchat/statistic ``order_by`` -> the counter sorted on.
ORDER_KEYS: Final = {1: "new_chat_cnt", 2: "chat_total", 3: "new_member_cnt", 4: "member_total"}
COUNTERS: Final = (
    "new_chat_cnt",
    "chat_total",
    "chat_has_msg",
    "new_member_cnt",
    "member_total",
    "member_has_msg",
    "msg_total",
)


def _noise(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _time(ctx: RequestContext, name: str, *, default: int | None = None) -> int:
    value = opt_int(ctx.body, name)
    if value is None:
        if default is None:
            raise WeComFault(MISSING, f"{name} missing")
        return default
    if value < 0:
        raise WeComFault(INVALID, f"invalid {name}")
    return value


def _days(ctx: RequestContext, begin_name: str, end_name: str, *, end_default: bool) -> list[int]:
    """The days asked for (00:00 CST each), after the order and 30-day span checks."""
    begin = _time(ctx, begin_name)
    end = _time(ctx, end_name, default=begin if end_default else None)
    first, last = day_of(begin), day_of(end)
    if last < first:
        raise WeComFault(INVALID, f"{end_name} is before {begin_name}")
    if (last - first) // DAY > MAX_SPAN_DAYS:
        raise WeComFault(INVALID, f"the time span exceeds {MAX_SPAN_DAYS} days")
    return list(range(first, last + DAY, DAY))


def _stored(ctx: RequestContext) -> tuple[int, int]:
    """[start, end) of the days that hold data: 180 days ago up to the end of yesterday."""
    today = day_of(int(ctx.clock.now()))
    return today - HISTORY_DAYS * DAY, today


def _member(state: CorpState, userid: str) -> str:
    staff = state.staff.get(userid)
    if staff is None or staff.resigned:
        raise WeComFault(60111, f"userid not found: {userid}")
    return userid


def _int_list(data: JSON, name: str) -> list[int]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise WeComFault(INVALID, f"invalid {name}: must be a list of integers")
    if len(value) > MAX_IDS:
        raise WeComFault(INVALID, f"{name} exceeds {MAX_IDS} items")
    return [int(v) for v in value]


# -- get_user_behavior_data --------------------------------------------------------------


def _percentage(part: int, whole: int) -> int | float:
    value = round(100 * part / whole, 2)
    return int(value) if value.is_integer() else value


def get_user_behavior_data(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_user_behavior_data -> behavior_data[], one per day."""
    body, state = ctx.body, ctx.state
    userids = opt_str_list(body, "userid", max_items=MAX_IDS) or []
    parties = _int_list(body, "partyid")
    if not userids and not parties:
        raise WeComFault(MISSING, "userid and partyid are both empty")
    days = _days(ctx, "start_time", "end_time", end_default=False)
    members = [_member(state, u) for u in dict.fromkeys(userids)]
    members += [
        s.userid
        for s in state.staff.values()
        if not s.resigned and s.userid not in members and set(s.department) & set(parties)
    ]
    lo, hi = _stored(ctx)
    added = {m: Counter(day_of(f.createtime) for f in state.follows_of(m)) for m in members}
    out: list[JSON] = []
    for day in days:
        totals = Counter[str]()
        if lo <= day < hi:
            for member in members:
                totals.update(_behavior(ctx, member, day, added[member][day]))
        entry: JSON = {
            "stat_time": day,
            "new_apply_cnt": totals["new_apply_cnt"],
            "new_contact_cnt": totals["new_contact_cnt"],
            "chat_cnt": totals["chat_cnt"],
            "message_cnt": totals["message_cnt"],
            "negative_feedback_cnt": totals["negative_feedback_cnt"],
        }
        if totals["chat_cnt"]:
            entry["reply_percentage"] = _percentage(totals["replied"], totals["started"])
            entry["avg_reply_time"] = totals["reply_minutes"] // max(totals["replied"], 1)
        out.append(entry)
    return {"behavior_data": out}


def _behavior(ctx: RequestContext, userid: str, day: int, new_contacts: int) -> dict[str, int]:
    customers = len(ctx.state.follows_of(userid))
    n = _noise(ctx.state.corp_id, userid, day)
    chats = min(customers, (n >> 8) % (customers // 5 + 2))
    started = 1 + (n >> 24) % chats if chats else 0
    replied = started - (n >> 32) % (started // 3 + 1) if started else 0
    return {
        "new_apply_cnt": new_contacts + n % 3,
        "new_contact_cnt": new_contacts,
        "chat_cnt": chats,
        "message_cnt": chats * (1 + (n >> 16) % 6),
        "started": started,
        "replied": replied,
        "reply_minutes": replied * (1 + (n >> 40) % 30),
        "negative_feedback_cnt": (n >> 48) % 2 if customers else 0,
    }


# -- groupchat/statistic and statistic_group_by_day ---------------------------------------


@dataclass(frozen=True, slots=True)
class _Chat:
    """What the group counters need of one group chat."""

    create_time: int
    #: Members' join times, sorted.
    joins: list[int]
    noise: int


def _owners(ctx: RequestContext) -> list[str]:
    owner_filter = ctx.body.get("owner_filter")
    userids: list[str] | None = None
    if owner_filter is not None:
        if not isinstance(owner_filter, dict):
            raise WeComFault(INVALID, "invalid owner_filter")
        userids = opt_str_list(owner_filter, "userid_list", max_items=MAX_IDS)
    if userids:
        return [_member(ctx.state, u) for u in dict.fromkeys(userids)]
    owners = [s.userid for s in ctx.state.staff.values() if s.customer_contact and not s.resigned]
    if len(owners) > MAX_UNFILTERED_OWNERS:
        raise WeComFault(81017, "too many owners: set owner_filter")
    return owners


def _chats_of(state: CorpState, owners: Iterable[str]) -> dict[str, list[_Chat]]:
    wanted = set(owners)
    chats: dict[str, list[_Chat]] = {}
    for group in state.ext(GroupChatState).ordered():
        if group.owner in wanted:
            joins = sorted(m.join_time for m in group.members)
            record = _Chat(group.create_time, joins, _noise(state.corp_id, group.chat_id))
            chats.setdefault(group.owner, []).append(record)
    return chats


def _counters(chats: Iterable[_Chat], lo: int, hi: int) -> dict[str, int]:
    """Counters of ``chats``: ``new_*`` within [lo, hi), the others as of ``hi``."""
    c = dict.fromkeys(COUNTERS, 0)
    if lo >= hi:
        return c
    for chat in chats:
        if chat.create_time >= hi:
            continue
        members = bisect.bisect_left(chat.joins, hi)
        c["chat_total"] += 1
        c["member_total"] += members
        c["new_member_cnt"] += members - bisect.bisect_left(chat.joins, lo)
        c["new_chat_cnt"] += int(chat.create_time >= lo)
        if chat.noise % 4:  # three chats in four have had messages
            c["chat_has_msg"] += 1
            c["member_has_msg"] += (chat.noise >> 8) % (members + 1)
            days_alive = (hi - chat.create_time + DAY - 1) // DAY
            c["msg_total"] += days_alive * (1 + (chat.noise >> 16) % 7)
    return c


def _range_arg(value: int | None, name: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if not low <= value <= high:
        raise WeComFault(INVALID, f"invalid {name}")
    return value


def groupchat_statistic(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/statistic -> total, next_offset, items[] per owner."""
    body = ctx.body
    days = _days(ctx, "day_begin_time", "day_end_time", end_default=True)
    order_by = _range_arg(opt_int(body, "order_by"), "order_by", 1, 4, 1)
    order_asc = _range_arg(opt_int(body, "order_asc"), "order_asc", 0, 1, 0)
    offset = _range_arg(opt_int(body, "offset"), "offset", 0, 2**31 - 1, 0)
    limit = _range_arg(opt_int(body, "limit") or None, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
    owners = _owners(ctx)
    stored_lo, stored_hi = _stored(ctx)
    lo, hi = max(days[0], stored_lo), min(days[-1] + DAY, stored_hi)
    chats = _chats_of(ctx.state, owners)
    rows = sorted((o, _counters(chats.get(o, ()), lo, hi)) for o in owners)
    key = ORDER_KEYS[order_by]
    rows.sort(key=lambda row: row[1][key], reverse=not order_asc)
    page = rows[offset : offset + limit]
    return {
        "total": len(rows),
        "next_offset": min(offset + limit, len(rows)),
        "items": [{"owner": owner, "data": data} for owner, data in page],
    }


def groupchat_statistic_by_day(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/statistic_group_by_day -> items[] per day."""
    days = _days(ctx, "day_begin_time", "day_end_time", end_default=True)
    owners = _owners(ctx)
    stored_lo, stored_hi = _stored(ctx)
    chats: Sequence[_Chat] = [c for cs in _chats_of(ctx.state, owners).values() for c in cs]
    items: list[JSON] = []
    for day in days:
        stored = stored_lo <= day < stored_hi
        data = _counters(chats, day, day + DAY) if stored else _counters((), 0, 0)
        items.append({"stat_time": day, "data": data})
    return {"items": items}


ROUTES = [
    Route("POST", "externalcontact/get_user_behavior_data", get_user_behavior_data),
    Route("POST", "externalcontact/groupchat/statistic", groupchat_statistic),
    Route("POST", "externalcontact/groupchat/statistic_group_by_day", groupchat_statistic_by_day),
]
