"""Customer acquisition links (获客助手), endpoints.md #78-#86 (D:97297, 97298, 97375, 100130).

Links live in ``ctx.state.ext(AcquisitionState)`` (see :mod:`._acquisition_state` for the
helpers that play customers opening a link, adding a member and messaging them).

Errcodes:

* 40063: a missing ``link_name`` / ``link_id`` / ``chat_key`` / time, or a ``range`` with
  neither ``user_list`` nor ``department_list``, or ``priority_type`` 2 without members.
* 40058: ``link_name`` over 30 characters; over 500 ``user_list`` ids or over 500 people
  covered with the departments; over 1,000 ``priority_userid_list`` ids; a
  ``priority_type`` other than 1 or 2; ``limit`` outside 1-100 (links) / 1-1000
  (customers); ``end_time``'s day before ``start_time``'s or more than 30 days after it;
  a value of the wrong type.  Also an unknown or deleted ``link_id``: WeCom does not
  document that code (unverified choice).
* 40003: a userid that is not a well-formed userid (1-64 letters, digits, ``_ . - @``);
  60111: a well-formed userid of no active member (unknown or resigned), in ``range`` or
  ``priority_userid_list``.
* 41095: the corp's link count limit (``AcquisitionState.link_limit``).
* 41200: ``priority_option`` while ``AcquisitionState.priority_supported`` is False.
* 41201: an unknown chat_key, or one issued more than 30 minutes (fake time) ago.
* 50100: a cursor not issued for this request.

Choices where the docs are silent (unverified): ``get`` leaves out ``link_id`` and
``priority_option`` when none was set; a customer's ``state`` is left out when the link URL
had no ``customer_channel``; statistics count whole China-time days, today included, and
days more than 180 days ago count zero; clicks are counted per opening.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from .._cursor import CursorCodec, digest, index_after
from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_bool, opt_int, opt_str, opt_str_list, req_str
from .._route import JSON, RequestContext, Route, SeedContext
from .._state import CorpState
from ._acquisition_state import CHAT_KEY_TTL, AcquisitionLinkRecord, AcquisitionState
from ._shared import DAY, day_of

__all__ = ["ROUTES", "SEEDERS"]

MAX_LINK_NAME: Final = 30
MAX_RANGE_PEOPLE: Final = 500
MAX_PRIORITY_USERS: Final = 1000
LINK_LIMITS: Final = (100, 100)
CUSTOMER_LIMITS: Final = (1000, 1000)
MAX_SPAN_DAYS: Final = 30
HISTORY_DAYS: Final = 180
_USERID: Final = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def _registry(ctx: RequestContext) -> AcquisitionState:
    return ctx.state.ext(AcquisitionState)


def _link(ctx: RequestContext) -> AcquisitionLinkRecord:
    return _registry(ctx).link(req_str(ctx.body, "link_id"))


def _member(state: CorpState, userid: str) -> str:
    if not _USERID.fullmatch(userid):
        raise WeComFault(40003, f"invalid userid: {userid}")
    staff = state.staff.get(userid)
    if staff is None or staff.resigned:
        raise WeComFault(60111, f"userid not found: {userid}")
    return userid


def _link_name(body: Mapping[str, object], *, required: bool) -> str | None:
    name = opt_str(body, "link_name", max_chars=MAX_LINK_NAME)
    if required and not name:
        raise WeComFault(MISSING, "link_name missing")
    if name is not None and not name.strip():
        raise WeComFault(INVALID, "invalid link_name")
    return name


def _range(state: CorpState, body: Mapping[str, object]) -> tuple[list[str], list[int]] | None:
    """The checked (user_list, department_list) of ``body["range"]``, None when absent."""
    value = body.get("range")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise WeComFault(INVALID, "invalid range")
    users = [_member(state, u) for u in opt_str_list(value, "user_list") or []]
    departments = value.get("department_list") or []
    if not isinstance(departments, list) or any(
        isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in departments
    ):
        raise WeComFault(INVALID, "invalid range.department_list")
    if not users and not departments:
        raise WeComFault(MISSING, "range.user_list and range.department_list are both empty")
    covered = set(users) | {
        s.userid
        for s in state.staff.values()
        if not s.resigned and set(s.department) & set(departments)
    }
    if len(users) > MAX_RANGE_PEOPLE or len(covered) > MAX_RANGE_PEOPLE:
        raise WeComFault(INVALID, f"range covers over {MAX_RANGE_PEOPLE} people")
    return users, [int(d) for d in departments]


def _priority(ctx: RequestContext) -> tuple[int, list[str]] | None:
    """The checked (priority_type, priority_userid_list), None when absent."""
    value = ctx.body.get("priority_option")
    if value is None:
        return None
    if not _registry(ctx).priority_supported:
        raise WeComFault(41200, "priority_option is not supported by the corp's category")
    if not isinstance(value, dict):
        raise WeComFault(INVALID, "invalid priority_option")
    kind = opt_int(value, "priority_type")
    if kind not in (1, 2):
        raise WeComFault(INVALID, "invalid priority_type")
    users = opt_str_list(value, "priority_userid_list", max_items=MAX_PRIORITY_USERS) or []
    if kind == 2 and not users:
        raise WeComFault(MISSING, "priority_userid_list missing")
    return kind, [_member(ctx.state, u) for u in users]


def _changes(ctx: RequestContext, *, creating: bool) -> JSON:
    """Check every field of a create / update body; return the ones given, by record name."""
    body = ctx.body
    changes: JSON = {
        "link_name": _link_name(body, required=creating),
        "skip_verify": opt_bool(body, "skip_verify"),
        "mark_source": opt_bool(body, "mark_source"),
    }
    members = _range(ctx.state, body)
    if members is not None:
        changes.update(user_list=members[0], department_list=members[1])
    elif creating:
        raise WeComFault(MISSING, "range missing")
    priority = _priority(ctx)
    if priority is not None:
        changes.update(priority_type=priority[0], priority_userid_list=priority[1])
    return {k: v for k, v in changes.items() if v is not None}


def _assign(link: AcquisitionLinkRecord, changes: JSON) -> None:
    for name, value in changes.items():
        setattr(link, name, value)


def _limit(body: Mapping[str, object], limits: tuple[int, int]) -> int:
    default, maximum = limits
    limit = opt_int(body, "limit")
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise WeComFault(INVALID, f"invalid limit: 1 to {maximum}")
    return limit


def _start(ctx: RequestContext, kind: str, bind: str) -> int:
    """The position a page starts from: 0, or the one carried by the request's cursor."""
    cursor = opt_str(ctx.body, "cursor")
    if not cursor:
        return 0
    fields = ctx.cursors.decode(kind, cursor)
    if CursorCodec.str_field(fields, "b") != bind:
        raise WeComFault(50100)
    return CursorCodec.int_field(fields, "i")


def list_link(ctx: RequestContext) -> JSON:
    """POST customer_acquisition/list_link: valid links of the app, in creation order."""
    limit = _limit(ctx.body, LINK_LIMITS)
    links = list(_registry(ctx).links.values())
    first = index_after(links, _start(ctx, "acq_list_link", ""))
    page = links[first : first + limit]
    more = first + len(page) < len(links)
    following = ctx.cursors.encode("acq_list_link", b="", i=page[-1].seq) if more else ""
    return {"link_id_list": [link.link_id for link in page], "next_cursor": following}


def get(ctx: RequestContext) -> JSON:
    """POST customer_acquisition/get: link (without link_id), range, priority_option."""
    link = _link(ctx)
    out: JSON = {
        "link": {
            "link_name": link.link_name,
            "url": link.url,
            "create_time": link.create_time,
            "skip_verify": link.skip_verify,
            "mark_source": link.mark_source,
        },
        "range": {"user_list": list(link.user_list), "department_list": list(link.department_list)},
    }
    if link.priority_type is not None:
        out["priority_option"] = {
            "priority_type": link.priority_type,
            "priority_userid_list": list(link.priority_userid_list),
        }
    return out


def create_link(ctx: RequestContext) -> JSON:
    """POST customer_acquisition/create_link -> link{link_id, link_name, url, create_time}."""
    registry = _registry(ctx)
    changes = _changes(ctx, creating=True)
    if len(registry.links) >= registry.link_limit:
        raise WeComFault(41095, "acquisition link count limit reached")
    now = int(ctx.clock.now())
    link = registry.add_link(
        ctx.state, link_name="", user_list=[], department_list=[], create_time=now
    )
    _assign(link, changes)
    return {"link": {k: getattr(link, k) for k in ("link_id", "link_name", "url", "create_time")}}


def update_link(ctx: RequestContext) -> JSON:
    """POST customer_acquisition/update_link: the fields given; range / priority overwrite."""
    link = _link(ctx)
    _assign(link, _changes(ctx, creating=False))
    return {}


def delete_link(ctx: RequestContext) -> JSON:
    """POST customer_acquisition/delete_link: the link stops working and is no longer listed."""
    link = _link(ctx)
    del _registry(ctx).links[link.link_id]
    return {}


def customer(ctx: RequestContext) -> JSON:
    """POST customer_acquisition/customer: customers the link brought, in arrival order."""
    link = _link(ctx)
    limit = _limit(ctx.body, CUSTOMER_LIMITS)
    bind = digest(link.link_id)
    first = _start(ctx, "acq_customer", bind)
    page = link.customers[first : first + limit]
    end = first + len(page)
    rows: list[JSON] = []
    for record in page:
        row: JSON = {
            "external_userid": record.external_userid,
            "userid": record.userid,
            "chat_status": record.chat_status,
        }
        if record.state is not None:
            row["state"] = record.state
        rows.append(row)
    following = (
        ctx.cursors.encode("acq_customer", b=bind, i=end) if end < len(link.customers) else ""
    )
    return {"customer_list": rows, "next_cursor": following}


def quota(ctx: RequestContext) -> JSON:
    """GET customer_acquisition_quota: total used, balance, balances by expiry day."""
    registry = _registry(ctx)
    batches = sorted(registry.batches(ctx.clock.now()), key=lambda b: b.expire_date)
    return {
        "total": registry.used,
        "balance": sum(b.balance for b in batches),
        "quota_list": [{"expire_date": b.expire_date, "balance": b.balance} for b in batches],
    }


def _time(body: Mapping[str, object], name: str) -> int:
    value = opt_int(body, name)
    if value is None:
        raise WeComFault(MISSING, f"{name} missing")
    if value < 0:
        raise WeComFault(INVALID, f"invalid {name}")
    return value


def statistic(ctx: RequestContext) -> JSON:
    """POST customer_acquisition/statistic: clicks and new customers over whole days."""
    link = _link(ctx)
    first = day_of(_time(ctx.body, "start_time"))
    last = day_of(_time(ctx.body, "end_time"))
    if last < first:
        raise WeComFault(INVALID, "end_time is before start_time")
    if (last - first) // DAY > MAX_SPAN_DAYS:
        raise WeComFault(INVALID, f"the time span exceeds {MAX_SPAN_DAYS} days")
    first = max(first, day_of(int(ctx.clock.now())) - HISTORY_DAYS * DAY)

    def counted(when: int) -> bool:
        return first <= day_of(when) <= last

    return {
        "click_link_customer_cnt": sum(counted(t) for t in link.clicks),
        "new_customer_cnt": sum(counted(c.time) for c in link.customers),
    }


def get_chat_info(ctx: RequestContext) -> JSON:
    """POST customer_acquisition/get_chat_info: who messaged whom, for a live ChatKey."""
    key = _registry(ctx).chat_keys.get(req_str(ctx.body, "chat_key"))
    if key is None or ctx.clock.now() > key.issued_at + CHAT_KEY_TTL:
        raise WeComFault(41201, "invalid chat_key")
    info: JSON = {"recv_msg_cnt": key.recv_msg_cnt, "link_id": key.link_id}
    if key.state is not None:
        info["state"] = key.state
    return {"userid": key.userid, "external_userid": key.external_userid, "chat_info": info}


def seed_acquisition(ctx: SeedContext) -> None:
    """One link served by the first two members, created in the last 30 days."""
    users = list(ctx.staff[:2])
    ctx.state.ext(AcquisitionState).add_link(
        ctx.state,
        link_name="官网获客链接",
        user_list=users,
        department_list=[] if users else [1],
        create_time=int(ctx.now) - ctx.rng.randint(DAY, 30 * DAY),
        rng=ctx.rng,
    )


_PATH: Final = "externalcontact/customer_acquisition"

ROUTES = [
    Route("POST", f"{_PATH}/list_link", list_link),
    Route("POST", f"{_PATH}/get", get),
    Route("POST", f"{_PATH}/create_link", create_link),
    Route("POST", f"{_PATH}/update_link", update_link),
    Route("POST", f"{_PATH}/delete_link", delete_link),
    Route("POST", f"{_PATH}/customer", customer),
    Route("GET", "externalcontact/customer_acquisition_quota", quota),
    Route("POST", f"{_PATH}/statistic", statistic),
    Route("POST", f"{_PATH}/get_chat_info", get_chat_info),
]
SEEDERS = [seed_acquisition]
