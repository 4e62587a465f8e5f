"""Customers and service staff (endpoints.md #2-#7): get_follow_user_list, list, get,
batch/get_by_user, remark, contact_list.

Errcodes: 60111 for a userid that does not exist or whose member resigned; 84074 for a
member without the customer-contact feature (list); 701008 for a member without an interop
license (list; batch/get_by_user when every member lacks one); 41035 / 40096 for a
missing / unknown external_userid; 84061 when the relation does not exist; 40063 for a
missing required parameter; 40058 for a value over a documented limit; 50100 for a cursor
the fake did not issue for the same request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from .._cursor import CursorCodec, digest, index_after
from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, opt_str_list, req_str
from .._render import render_external_contact, render_follow_info, render_follow_user
from .._route import JSON, RequestContext, Route
from .._state import CorpState, Follow, NonCustomer, Staff

__all__ = ["ROUTES"]

#: batch/get_by_user: at most 100 members per call; limit default 50, clamped to 100.
BATCH_MAX_USERIDS: Final = 100
BATCH_DEFAULT_LIMIT: Final = 50
BATCH_MAX_LIMIT: Final = 100
#: get: followers per page (fixed by WeCom).
GET_PAGE_SIZE: Final = 500
#: contact_list: limit default 1000 (also used as the maximum: none is documented).
CONTACT_LIST_LIMIT: Final = 1000
#: contact_list: a next_cursor (and the tmp_openids of its traversal) lives 4 hours.
CONTACT_CURSOR_TTL: Final = 4 * 3600
#: remark: documented character limits.
REMARK_MAX: Final = 20
DESCRIPTION_MAX: Final = 150
REMARK_COMPANY_MAX: Final = 20


def _member(state: CorpState, userid: str) -> Staff:
    staff = state.staff.get(userid)
    if staff is None or staff.resigned:
        raise WeComFault(60111, f"userid not found: {userid}")
    return staff


def _limit(value: int | None, *, default: int, maximum: int) -> int:
    if value is None or value == 0:
        return default
    if value < 0:
        raise WeComFault(INVALID, "invalid limit")
    return min(value, maximum)


def get_follow_user_list(ctx: RequestContext) -> JSON:
    """GET externalcontact/get_follow_user_list -> follow_user (members with the feature)."""
    staff = ctx.state.staff.values()
    return {"follow_user": [s.userid for s in staff if s.customer_contact and not s.resigned]}


def list_customers(ctx: RequestContext) -> JSON:
    """GET externalcontact/list?userid= -> external_userid of that member's customers."""
    staff = _member(ctx.state, req_str(ctx.query, "userid"))
    if not staff.customer_contact:
        raise WeComFault(84074)
    if not staff.licensed:
        raise WeComFault(701008)
    return {"external_userid": [f.external_userid for f in ctx.state.follows_of(staff.userid)]}


def get_customer(ctx: RequestContext) -> JSON:
    """GET externalcontact/get?external_userid=&cursor= -> detail, 500 followers per page."""
    external_userid = req_str(ctx.query, "external_userid", errcode=41035)
    customer = ctx.state.customers.get(external_userid)
    if customer is None:
        raise WeComFault(40096)
    followers = customer.followers
    if not followers:
        raise WeComFault(84061)
    start = 0
    cursor = ctx.query.get("cursor")
    if cursor:
        fields = ctx.cursors.decode("get", cursor)
        if CursorCodec.str_field(fields, "c") != digest(external_userid):
            raise WeComFault(50100)
        start = index_after(followers, CursorCodec.int_field(fields, "s"))
    page = followers[start : start + GET_PAGE_SIZE]
    tags = ctx.state.tags
    out: JSON = {
        "external_contact": render_external_contact(customer),
        "follow_user": [render_follow_user(f, customer.type, tags) for f in page],
    }
    if start + len(page) < len(followers):
        out["next_cursor"] = ctx.cursors.encode("get", c=digest(external_userid), s=page[-1].seq)
    return out


def batch_get_by_user(ctx: RequestContext) -> JSON:
    """POST externalcontact/batch/get_by_user: one item per (customer, listed member)."""
    body, state = ctx.body, ctx.state
    userids = opt_str_list(body, "userid_list", max_items=BATCH_MAX_USERIDS)
    if userids is None:
        legacy = opt_str(body, "userid")  # what wechatpy, EasyWeChat and go-workwx send
        userids = [legacy] if legacy else None
    if not userids:
        raise WeComFault(MISSING, "userid_list missing")
    members = [_member(state, userid) for userid in dict.fromkeys(userids)]
    licensed = [m.userid for m in members if m.licensed]
    unlicensed = [m.userid for m in members if not m.licensed]
    if not licensed:
        raise WeComFault(701008)
    limit = _limit(opt_int(body, "limit"), default=BATCH_DEFAULT_LIMIT, maximum=BATCH_MAX_LIMIT)
    request_key = digest(*licensed)
    index, last_seq = 0, 0
    cursor = opt_str(body, "cursor")
    if cursor:
        fields = ctx.cursors.decode("batch/get_by_user", cursor)
        index = CursorCodec.int_field(fields, "m")
        last_seq = CursorCodec.int_field(fields, "s")
        if CursorCodec.str_field(fields, "u") != request_key or not 0 <= index < len(licensed):
            raise WeComFault(50100)
    items: list[Follow] = []
    while index < len(licensed) and len(items) < limit:
        follows = state.follows_of(licensed[index])
        start = index_after(follows, last_seq)
        taken = follows[start : start + limit - len(items)]
        items.extend(taken)
        if start + len(taken) < len(follows):
            last_seq = taken[-1].seq
            break
        index, last_seq = index + 1, 0
    more = any(
        index_after(state.follows_of(licensed[i]), last_seq if i == index else 0)
        < len(state.follows_of(licensed[i]))
        for i in range(index, len(licensed))
    )
    out: JSON = {
        "external_contact_list": [_batch_item(state, follow) for follow in items],
        "next_cursor": (
            ctx.cursors.encode("batch/get_by_user", u=request_key, m=index, s=last_seq)
            if more
            else ""
        ),
    }
    if unlicensed:
        out["fail_info"] = {"unlicensed_userid_list": unlicensed}
    return out


def _batch_item(state: CorpState, follow: Follow) -> JSON:
    customer = state.customers[follow.external_userid]
    return {
        "external_contact": render_external_contact(customer),
        "follow_info": render_follow_info(follow, customer.type, state.tags),
    }


def remark(ctx: RequestContext) -> JSON:
    """POST externalcontact/remark: edit a member's remark fields for a customer."""
    body = ctx.body
    userid = req_str(body, "userid")
    external_userid = req_str(body, "external_userid", errcode=41035)
    new_remark = opt_str(body, "remark", max_chars=REMARK_MAX)
    description = opt_str(body, "description", max_chars=DESCRIPTION_MAX)
    company = opt_str(body, "remark_company", max_chars=REMARK_COMPANY_MAX)
    mobiles = opt_str_list(body, "remark_mobiles")
    pic = opt_str(body, "remark_pic_mediaid")
    if all(v is None for v in (new_remark, description, company, mobiles, pic)):
        raise WeComFault(MISSING, "nothing to change: give remark, description, ... ")
    _member(ctx.state, userid)
    customer = ctx.state.customers.get(external_userid)
    if customer is None:
        raise WeComFault(40096)
    follow = ctx.state.follow(external_userid, userid)
    if follow is None:
        raise WeComFault(84061)
    if new_remark is not None:
        follow.remark = new_remark
    if description is not None:
        follow.description = description
    if company is not None and customer.type == 1:  # only effective for WeChat customers
        follow.remark_corp_name = company or None
    if mobiles is not None:
        follow.remark_mobiles = [m for m in mobiles if m]  # [""] clears them all
    if pic is not None:
        follow.remark_pic_mediaid = pic
    return {}


@dataclass
class _Traversals:
    """contact_list state: how many traversals were started (their tmp_openids differ)."""

    started: int = 0


def contact_list(ctx: RequestContext) -> JSON:
    """POST externalcontact/contact_list: every served contact, customers or not."""
    body = ctx.body
    limit = _limit(opt_int(body, "limit"), default=CONTACT_LIST_LIMIT, maximum=CONTACT_LIST_LIMIT)
    now = int(ctx.clock.now())
    cursor = opt_str(body, "cursor")
    if cursor:
        fields = ctx.cursors.decode("contact_list", cursor)
        traversal = CursorCodec.int_field(fields, "t")
        last_seq = CursorCodec.int_field(fields, "s")
        if now - CursorCodec.int_field(fields, "i") > CONTACT_CURSOR_TTL:
            raise WeComFault(50100, "cursor expired")
    else:
        counter = ctx.state.ext(_Traversals)
        counter.started += 1
        traversal, last_seq = counter.started, 0
    entries = ctx.state.contacts()
    start = index_after(entries, last_seq)
    page = entries[start : start + limit]
    salt = f"{ctx.state.corp_id}:{traversal}"
    more = start + len(page) < len(entries)
    return {
        "info_list": [_contact_item(entry, salt) for entry in page],
        "next_cursor": (
            ctx.cursors.encode("contact_list", t=traversal, s=page[-1].seq, i=now) if more else ""
        ),
    }


def _contact_item(entry: Follow | NonCustomer, salt: str) -> JSON:
    tmp_openid = hashlib.blake2b(f"{salt}:{entry.seq}".encode(), digest_size=16).hexdigest()
    if isinstance(entry, Follow):
        return {
            "is_customer": True,
            "tmp_openid": tmp_openid,
            "external_userid": entry.external_userid,
            "follow_userid": entry.userid,
            "add_time": entry.createtime,
        }
    out: JSON = {
        "is_customer": False,
        "tmp_openid": tmp_openid,
        "name": entry.name,
        "follow_userid": entry.follow_userid,
    }
    if entry.chat_id is not None:
        out["chat_id"] = entry.chat_id
    elif entry.chat_name is not None:
        out["chat_name"] = entry.chat_name
    out["add_time"] = entry.add_time
    return out


ROUTES = [
    Route("GET", "externalcontact/get_follow_user_list", get_follow_user_list),
    Route("GET", "externalcontact/list", list_customers),
    Route("GET", "externalcontact/get", get_customer),
    Route("POST", "externalcontact/batch/get_by_user", batch_get_by_user),
    Route("POST", "externalcontact/remark", remark),
    Route("POST", "externalcontact/contact_list", contact_list),
]
