"""Customer groups (endpoints.md #32-#34): groupchat/list, groupchat/get, opengid_to_chatid.

Records live in :class:`~._group_chat_state.GroupChatState`.  Errcodes: 40063 for a missing
required parameter; 40058 for a value of the wrong type or outside its documented range
(status_filter 0-3, limit 1-1000, owner_filter.userid_list at most 100, need_name 0/1,
legacy offset + limit at most 50000); 81017 for groupchat/list without ``owner_filter``
when more than 1000 owners are visible; 86003 for a chat_id that names no group (the
errcode is unverified); 90501 for a group that is not a customer group; 90511 for an
opengid that is missing, unknown or not a customer group's; 50100 for a cursor the fake
did not issue for the same request.

groupchat/list lists the groups of active owners when no ``owner_filter`` is given; groups
of resigned owners only when ``owner_filter`` names their owner.  The deprecated
``offset`` paging is accepted (the answer then carries no ``next_cursor``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final

from .._cursor import CursorCodec, digest, index_after
from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, opt_str_list, req_str
from .._route import JSON, RequestContext, Route, SeedContext
from .._state import CorpState
from ._group_chat_state import (
    MEMBER_EXTERNAL,
    STATUS_INHERITING,
    GroupChat,
    GroupChatState,
    GroupMember,
    new_group_chat,
)
from ._shared import seed_resigned_staff

__all__ = ["ROUTES", "SEEDERS"]

LIST_MAX_LIMIT: Final = 1000
LIST_MAX_OWNERS: Final = 100
#: More visible owners than this without owner_filter answers 81017.
LIST_MAX_VISIBLE_OWNERS: Final = 1000
#: Legacy offset paging: offset + limit at most this.
LEGACY_OFFSET_CAP: Final = 50_000
TOO_MANY: Final = 81017
UNKNOWN_CHAT: Final = 86003
NOT_CUSTOMER_GROUP: Final = 90501
INVALID_OPENGID: Final = 90511


def _in_range(value: int | None, name: str, low: int, high: int) -> int | None:
    if value is not None and not low <= value <= high:
        raise WeComFault(INVALID, f"invalid {name}: must be in [{low}, {high}]")
    return value


def _owners(ctx: RequestContext) -> list[str] | None:
    owner_filter = ctx.body.get("owner_filter")
    if owner_filter is None:
        return None
    if not isinstance(owner_filter, dict):
        raise WeComFault(INVALID, "invalid owner_filter: must be an object")
    return opt_str_list(owner_filter, "userid_list", max_items=LIST_MAX_OWNERS)


def _listed(ctx: RequestContext, owners: list[str] | None, status_filter: int) -> list[GroupChat]:
    state = ctx.state
    groups = state.ext(GroupChatState)
    if owners is None:
        active = [s for s in state.staff.values() if not s.resigned]
        if len(active) > LIST_MAX_VISIBLE_OWNERS:
            raise WeComFault(TOO_MANY, "too many owners visible: set owner_filter")
        wanted = {s.userid for s in active}
    else:
        wanted = set(owners)
    return [
        g
        for g in groups.ordered()
        if g.owner in wanted and status_filter in (0, groups.status_of(state, g))
    ]


def list_group_chats(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/list: group ids and statuses, cursor or legacy offset."""
    body = ctx.body
    status_filter = _in_range(opt_int(body, "status_filter"), "status_filter", 0, 3) or 0
    limit = _in_range(opt_int(body, "limit"), "limit", 1, LIST_MAX_LIMIT)
    if limit is None:
        raise WeComFault(MISSING, "limit missing")
    owners = _owners(ctx)
    cursor = opt_str(body, "cursor")
    offset = opt_int(body, "offset")
    if offset is not None and not cursor:
        if offset < 0 or offset + limit > LEGACY_OFFSET_CAP:
            raise WeComFault(
                INVALID, f"invalid offset: offset + limit must be <= {LEGACY_OFFSET_CAP}"
            )
        page = _listed(ctx, owners, status_filter)[offset : offset + limit]
        return {"group_chat_list": [_summary(ctx.state, g) for g in page]}
    request_key = digest(str(status_filter), *(owners if owners is not None else ["*"]))
    last_seq = 0
    if cursor:
        fields = ctx.cursors.decode("groupchat/list", cursor)
        if CursorCodec.str_field(fields, "r") != request_key:
            raise WeComFault(50100)
        last_seq = CursorCodec.int_field(fields, "s")
    listed = _listed(ctx, owners, status_filter)
    start = index_after(listed, last_seq)
    page = listed[start : start + limit]
    more = start + len(page) < len(listed)
    return {
        "group_chat_list": [_summary(ctx.state, g) for g in page],
        "next_cursor": (
            ctx.cursors.encode("groupchat/list", r=request_key, s=page[-1].seq) if more else ""
        ),
    }


def _summary(state: CorpState, group: GroupChat) -> JSON:
    return {"chat_id": group.chat_id, "status": state.ext(GroupChatState).status_of(state, group)}


def get_group_chat(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/get: one group with members and admins."""
    chat_id = req_str(ctx.body, "chat_id")
    need_name = _in_range(opt_int(ctx.body, "need_name"), "need_name", 0, 1) or 0
    group = ctx.state.ext(GroupChatState).get(chat_id)
    if group is None:
        raise WeComFault(UNKNOWN_CHAT, f"invalid chat_id: no group {chat_id}")
    if not group.customer_group:
        raise WeComFault(NOT_CUSTOMER_GROUP, "chat is not external group chat")
    return {"group_chat": render_group(group, need_name=bool(need_name))}


def render_group(group: GroupChat, *, need_name: bool) -> JSON:
    """Return the ``group_chat`` object of groupchat/get (endpoints.md #33)."""
    return {
        "chat_id": group.chat_id,
        "name": group.name,
        "owner": group.owner,
        "create_time": group.create_time,
        "notice": group.notice,
        "member_list": [_render_member(m, need_name) for m in group.members],
        "admin_list": [{"userid": a} for a in group.admins],
        "member_version": group.member_version,
    }


def _render_member(member: GroupMember, need_name: bool) -> JSON:
    out: JSON = {"userid": member.userid, "type": member.type}
    if member.unionid is not None:
        out["unionid"] = member.unionid
    out["join_time"] = member.join_time
    out["join_scene"] = member.join_scene
    if member.invitor is not None:
        out["invitor"] = {"userid": member.invitor}
    out["group_nickname"] = member.group_nickname
    if need_name:
        out["name"] = member.name
    if member.state:
        out["state"] = member.state
    return out


def opengid_to_chatid(ctx: RequestContext) -> JSON:
    """POST externalcontact/opengid_to_chatid: the chat_id of a mini-program opengid."""
    opengid = req_str(ctx.body, "opengid", errcode=INVALID_OPENGID)
    groups = ctx.state.ext(GroupChatState)
    chat_id = groups.opengids.get(opengid)
    if chat_id is None or groups.customer_group(chat_id) is None:
        raise WeComFault(INVALID_OPENGID, "invalid opengid")
    return {"chat_id": chat_id}


_GROUP_NAMES: Final = ["VIP客户群", "售后服务群", "新品体验群", "产品交流群", "福利群"]
_NICKNAMES: Final = ["", "", "老王", "小李", "Amy", "客服小张", "阿强"]


def seed_group_chats(ctx: SeedContext) -> None:
    """Seed 1-2 groups for half of the staff, groups of resigned owners, an internal one."""
    state, rng, now = ctx.state, ctx.rng, int(ctx.now)
    staff = list(ctx.staff)
    for owner in staff[: (len(staff) + 1) // 2]:
        for _ in range(rng.randint(1, 2)):
            _seed_group(state, rng, owner, now, staff)
    for n, owner in enumerate(seed_resigned_staff(state, rng, now)):
        _seed_group(state, rng, owner, now, staff)
        if n == 0:
            _seed_group(state, rng, owner, now, staff).status = STATUS_INHERITING
    if staff:
        new_group_chat(state, staff[0], now=now, name="内部群", customer_group=False)


def _seed_group(
    state: CorpState, rng: random.Random, owner: str, now: int, staff: Sequence[str]
) -> GroupChat:
    created = now - rng.randrange(1, 365) * 86400
    customers = [f.external_userid for f in state.follows_of(owner)]
    others = [s for s in staff if s != owner]
    members: list[GroupMember] = []
    for userid in rng.sample(others, k=min(2, len(others))):
        members.append(_seeded_member(state, rng, userid, owner, created, now))
    for ext in rng.sample(customers, k=min(rng.randint(2, 8), len(customers))):
        members.append(_seeded_member(state, rng, ext, owner, created, now))
    return new_group_chat(
        state,
        owner,
        now=now,
        members=members,
        name=rng.choice(_GROUP_NAMES),
        notice=rng.choice(["", "文明沟通，拒绝广告"]),
        admins=[m.userid for m in members if m.type == 1][:1],
        create_time=created,
        opengid=f"oJ8fd{rng.getrandbits(80):020x}" if rng.random() < 0.5 else None,
    )


def _seeded_member(
    state: CorpState, rng: random.Random, userid: str, owner: str, created: int, now: int
) -> GroupMember:
    staff = state.staff.get(userid)
    customer = state.customers.get(userid)
    scene = rng.choice([1, 1, 2, 3])
    return GroupMember(
        userid=userid,
        type=1 if staff is not None else MEMBER_EXTERNAL,
        join_time=created + rng.randrange(max(1, now - created)),
        join_scene=scene,
        invitor=owner if scene in (1, 2) else None,
        group_nickname=rng.choice(_NICKNAMES),
        name=staff.name if staff is not None else (customer.name if customer else userid),
        unionid=customer.unionid if customer is not None else None,
        state=f"join_{rng.randrange(1, 4)}" if scene == 3 and rng.random() < 0.5 else None,
    )


ROUTES = [
    Route("POST", "externalcontact/groupchat/list", list_group_chats),
    Route("POST", "externalcontact/groupchat/get", get_group_chat),
    Route("POST", "externalcontact/opengid_to_chatid", opengid_to_chatid),
]
SEEDERS = [seed_group_chats]
