"""Contact ways (「联系我」) and join ways (「加入群聊」), endpoints.md #35-#44.

Errcodes: 41037 / 41038 missing type / scene, 41039 / 41040 invalid type / scene (a
temp-session way that is not type 1 answers 41039), 41041 too many members (over 100 with
departments expanded, or more than one on a single-member or temp-session way), 41042
invalid style, 41043 / 41044 missing / unknown config_id, 41045 the API quota shared by
contact ways and join ways (``ContactWayState.api_quota``), 41054 a member without the
customer-contact feature, 60011 a userid that is not an active member, 41091 more than 5
groups on a join way, 40063 a missing required parameter, 40058 a malformed or over-long
value.

Choices where the docs are silent (unverified): editing an expired temp-session way
answers 41044; join ways reuse 41038 / 41040 for their scene; a join way's unknown group
answers 86003 and an internal group 90501, as groupchat/get does; ``close_temp_chat``
without a live temp session answers 84061. Fields the docs call "only effective"
elsewhere (``style`` outside scene 1, ``party`` outside type 2, temp-session fields
outside temp ways) are ignored, not refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._cursor import CursorCodec, digest, index_after
from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_bool, opt_int, opt_str, opt_str_list, req_str
from .._route import JSON, RequestContext, Route, SeedContext
from .._state import CorpState
from ._contact_way_state import (
    DAY,
    TEMP_CHAT_DEFAULT,
    TEMP_QR_DEFAULT,
    ContactWayRecord,
    ContactWayState,
    JoinWayRecord,
    check_conclusions,
    qr_url,
)
from ._group_chat_state import GroupChatState

__all__ = ["ROUTES", "SEEDERS"]

MAX_USERS: Final = 100
MAX_REMARK: Final = 30
MAX_STATE: Final = 30
MAX_ROOM_BASE_NAME: Final = 40
MAX_JOIN_WAY_CHATS: Final = 5
MAX_TEMP_SECONDS: Final = 14 * DAY
#: mini-program button styles per type (scene 1 only).
STYLES: Final = {1: range(1, 4), 2: range(1, 3)}
#: list_contact_way: default window 90 days back; limit default 100, at most 1000.
LIST_WINDOW: Final = 90 * DAY
LIST_DEFAULT_LIMIT: Final = 100
LIST_MAX_LIMIT: Final = 1000


def _code(body: Mapping[str, object], name: str, *, missing: int, invalid: int) -> int:
    value = body.get(name)
    if value is None:
        raise WeComFault(missing, f"{name} missing")
    if isinstance(value, bool) or not isinstance(value, int) or value not in (1, 2):
        raise WeComFault(invalid, f"invalid {name}")
    return value


def _int_list(body: Mapping[str, object], name: str) -> list[int] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in value
    ):
        raise WeComFault(INVALID, f"invalid {name}: must be a list of integers")
    return list(value)


def _style(type_: int, scene: int, style: int | None) -> int | None:
    """The style to keep: only scene 1 has one, within the type's range (41042)."""
    if style is None or scene != 1:
        return None
    if style not in STYLES[type_]:
        raise WeComFault(41042, "invalid style")
    return style


def _check_members(
    state: CorpState, type_: int, is_temp: bool, user: list[str], party: list[int]
) -> None:
    if type_ == 1 or is_temp:
        if not user:
            raise WeComFault(MISSING, "user missing")
        if len(user) > 1 or party:
            raise WeComFault(41041, "a single-member contact way takes exactly one user")
    for userid in user:
        staff = state.staff.get(userid)
        if staff is None or staff.resigned:
            raise WeComFault(60011, f"userid {userid} is outside the app's visible range")
        if not staff.customer_contact:
            raise WeComFault(41054, f"userid {userid} has no customer-contact feature")
    members = set(user) | {
        s.userid for s in state.staff.values() if not s.resigned and set(s.department) & set(party)
    }
    if len(members) > MAX_USERS:
        raise WeComFault(41041, f"over {MAX_USERS} members")


def _seconds(body: Mapping[str, object], name: str) -> int | None:
    value = opt_int(body, name)
    if value is not None and not 0 < value <= MAX_TEMP_SECONDS:
        raise WeComFault(INVALID, f"invalid {name}: at most 14 days")
    return value


def _temp_fields(body: Mapping[str, object]) -> JSON:
    """The temp-session fields given in ``body`` (checked), by name."""
    fields: JSON = {
        "expires_in": _seconds(body, "expires_in"),
        "chat_expires_in": _seconds(body, "chat_expires_in"),
        "unionid": opt_str(body, "unionid"),
    }
    if body.get("conclusions") is not None:
        fields["conclusions"] = check_conclusions(body["conclusions"])
    return {k: v for k, v in fields.items() if v is not None}


def add_contact_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/add_contact_way -> config_id (+ qr_code for scene 2)."""
    body = ctx.body
    type_ = _code(body, "type", missing=41037, invalid=41039)
    scene = _code(body, "scene", missing=41038, invalid=41040)
    style = _style(type_, scene, opt_int(body, "style"))
    remark = opt_str(body, "remark", max_chars=MAX_REMARK)
    channel = opt_str(body, "state", max_chars=MAX_STATE)
    user = opt_str_list(body, "user") or []
    party = (_int_list(body, "party") or []) if type_ == 2 else []
    is_temp = bool(opt_bool(body, "is_temp"))
    if is_temp and type_ != 1:
        raise WeComFault(41039, "a temp-session contact way must be type 1")
    _check_members(ctx.state, type_, is_temp, user, party)
    temp = _temp_fields(body) if is_temp else {}
    skip_verify, is_exclusive = opt_bool(body, "skip_verify"), opt_bool(body, "is_exclusive")
    mark_source = opt_bool(body, "mark_source")
    registry = ctx.state.ext(ContactWayState)
    now = ctx.clock.now()
    registry.take_quota(temp=is_temp, now=now)
    config_id = registry.new_config_id()
    way = ContactWayRecord(
        seq=ctx.state.next_seq(),
        config_id=config_id,
        type=type_,
        scene=scene,
        created=int(now),
        user=user,
        party=party,
        style=style,
        remark=remark,
        skip_verify=skip_verify is not False,
        state=channel,
        is_temp=is_temp,
        is_exclusive=bool(is_exclusive),
        mark_source=mark_source is not False,
        qr_code=qr_url(config_id, "cw") if scene == 2 else None,
    )
    if is_temp:
        _assign(way, {"expires_in": TEMP_QR_DEFAULT, "chat_expires_in": TEMP_CHAT_DEFAULT})
        _assign(way, temp)
    registry.contact_ways[config_id] = way
    return {"config_id": config_id, **({"qr_code": way.qr_code} if way.qr_code else {})}


def _assign(way: ContactWayRecord, fields: JSON) -> None:
    """Set the record fields named in ``fields``."""
    for name, value in fields.items():
        setattr(way, name, value)


def _render_contact_way(way: ContactWayRecord) -> JSON:
    out: JSON = {"config_id": way.config_id, "type": way.type, "scene": way.scene}
    optional: JSON = {
        "style": way.style,
        "remark": way.remark,
        "skip_verify": way.skip_verify,
        "state": way.state,
        "qr_code": way.qr_code,
        "user": list(way.user),
        "party": list(way.party),
        "is_temp": way.is_temp,
    }
    if way.is_temp:
        optional.update(
            expires_in=way.expires_in,
            chat_expires_in=way.chat_expires_in,
            unionid=way.unionid,
            conclusions=way.conclusions,
        )
    optional["mark_source"] = way.mark_source
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def get_contact_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_contact_way -> contact_way (nested, int and bool types)."""
    config_id = req_str(ctx.body, "config_id", errcode=41043)
    way = ctx.state.ext(ContactWayState).contact_way(config_id)
    return {"contact_way": _render_contact_way(way)}


def list_contact_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/list_contact_way: non-temp ways created in a window, by cursor."""
    body = ctx.body
    raw_start, raw_end = opt_int(body, "start_time"), opt_int(body, "end_time")
    limit = opt_int(body, "limit") or LIST_DEFAULT_LIMIT
    if limit < 0:
        raise WeComFault(INVALID, "invalid limit")
    request_key = digest(str(raw_start), str(raw_end))
    cursor = opt_str(body, "cursor")
    if cursor:
        fields = ctx.cursors.decode("list_contact_way", cursor)
        if CursorCodec.str_field(fields, "r") != request_key:
            raise WeComFault(50100)
        start, end = CursorCodec.int_field(fields, "a"), CursorCodec.int_field(fields, "b")
        last_seq = CursorCodec.int_field(fields, "s")
    else:
        now = int(ctx.clock.now())
        start = raw_start if raw_start is not None else now - LIST_WINDOW
        end = raw_end if raw_end is not None else now
        last_seq = 0
    ways = [
        w
        for w in ctx.state.ext(ContactWayState).contact_ways.values()
        if not w.is_temp and start <= w.created <= end
    ]
    first = index_after(ways, last_seq)
    page = ways[first : first + min(limit, LIST_MAX_LIMIT)]
    more = first + len(page) < len(ways)
    return {
        "contact_way": [{"config_id": w.config_id} for w in page],
        "next_cursor": (
            ctx.cursors.encode("list_contact_way", r=request_key, a=start, b=end, s=page[-1].seq)
            if more
            else ""
        ),
    }


def update_contact_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/update_contact_way: change the fields given (lists overwrite)."""
    body, now = ctx.body, ctx.clock.now()
    config_id = req_str(body, "config_id", errcode=41043)
    way = ctx.state.ext(ContactWayState).contact_way(config_id)
    if way.expired(now):
        raise WeComFault(41044, "the temp-session contact way expired and cannot be edited")
    changes: JSON = {
        "remark": opt_str(body, "remark", max_chars=MAX_REMARK),
        "skip_verify": opt_bool(body, "skip_verify"),
        "style": _style(way.type, way.scene, opt_int(body, "style")),
        "state": opt_str(body, "state", max_chars=MAX_STATE),
        "mark_source": opt_bool(body, "mark_source"),
    }
    user = opt_str_list(body, "user")
    party = _int_list(body, "party") if way.type == 2 else None
    if user is not None or party is not None:
        user = user if user is not None else way.user
        party = party if party is not None else way.party
        _check_members(ctx.state, way.type, way.is_temp, user, party)
        changes.update(user=user, party=party)
    if way.is_temp:
        changes.update(_temp_fields(body))
    _assign(way, {k: v for k, v in changes.items() if v is not None})
    return {}


def del_contact_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/del_contact_way."""
    registry = ctx.state.ext(ContactWayState)
    way = registry.contact_way(req_str(ctx.body, "config_id", errcode=41043))
    del registry.contact_ways[way.config_id]
    return {}


def close_temp_chat(ctx: RequestContext) -> JSON:
    """POST externalcontact/close_temp_chat: end a live temp session (conclusions sent)."""
    userid = req_str(ctx.body, "userid")
    external_userid = req_str(ctx.body, "external_userid", errcode=41035)
    staff = ctx.state.staff.get(userid)
    if staff is None or staff.resigned:
        raise WeComFault(60111, f"userid not found: {userid}")
    if external_userid not in ctx.state.customers:
        raise WeComFault(40096)
    chats = ctx.state.ext(ContactWayState).temp_chats
    chat = chats.pop((userid, external_userid), None)
    if chat is None or ctx.clock.now() > chat.expires_at:
        raise WeComFault(84061, "no live temp session between them")
    return {}


def _check_chats(state: CorpState, chat_id_list: list[str] | None) -> list[str]:
    if not chat_id_list:
        raise WeComFault(MISSING, "chat_id_list missing")
    if len(chat_id_list) > MAX_JOIN_WAY_CHATS:
        raise WeComFault(41091, f"a join way takes at most {MAX_JOIN_WAY_CHATS} groups")
    groups = state.ext(GroupChatState)
    for chat_id in chat_id_list:
        group = groups.get(chat_id)
        if group is None:
            raise WeComFault(86003, f"invalid chat_id: no group {chat_id}")
        if not group.customer_group:
            raise WeComFault(90501, "chat is not external group chat")
    return chat_id_list


def _join_way(ctx: RequestContext, config_id: str) -> JoinWayRecord:
    """The checked settings of an add or (full-overwrite) update of a join way."""
    body = ctx.body
    scene = _code(body, "scene", missing=41038, invalid=41040)
    chat_id_list = _check_chats(ctx.state, opt_str_list(body, "chat_id_list"))
    auto_create_room = opt_int(body, "auto_create_room")
    room_base_id = opt_int(body, "room_base_id")
    if auto_create_room not in (None, 0, 1) or (room_base_id is not None and room_base_id < 0):
        raise WeComFault(INVALID, "invalid auto_create_room or room_base_id")
    remark = opt_str(body, "remark")
    return JoinWayRecord(
        config_id=config_id,
        scene=scene,
        chat_id_list=chat_id_list,
        qr_code=qr_url(config_id, "jw"),
        remark=remark[:MAX_REMARK] if remark is not None else None,  # truncated, not refused
        auto_create_room=1 if auto_create_room is None else auto_create_room,
        room_base_name=opt_str(body, "room_base_name", max_chars=MAX_ROOM_BASE_NAME),
        room_base_id=room_base_id,
        state=opt_str(body, "state", max_chars=MAX_STATE),
        mark_source=opt_bool(body, "mark_source") is not False,
    )


def add_join_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/add_join_way -> config_id."""
    registry = ctx.state.ext(ContactWayState)
    way = _join_way(ctx, registry.new_config_id())
    registry.take_quota(temp=False, now=ctx.clock.now())
    registry.join_ways[way.config_id] = way
    return {"config_id": way.config_id}


def get_join_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/get_join_way -> join_way."""
    config_id = req_str(ctx.body, "config_id", errcode=41043)
    way = ctx.state.ext(ContactWayState).join_way(config_id)
    rendered: JSON = {
        "config_id": way.config_id,
        "scene": way.scene,
        "remark": way.remark,
        "auto_create_room": way.auto_create_room,
        "room_base_name": way.room_base_name,
        "room_base_id": way.room_base_id,
        "chat_id_list": list(way.chat_id_list),
        "qr_code": way.qr_code,
        "state": way.state,
        "mark_source": way.mark_source,
    }
    return {"join_way": {k: v for k, v in rendered.items() if v is not None}}


def update_join_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/update_join_way: replace every setting."""
    registry = ctx.state.ext(ContactWayState)
    old = registry.join_way(req_str(ctx.body, "config_id", errcode=41043))
    registry.join_ways[old.config_id] = _join_way(ctx, old.config_id)
    return {}


def del_join_way(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/del_join_way."""
    registry = ctx.state.ext(ContactWayState)
    way = registry.join_way(req_str(ctx.body, "config_id", errcode=41043))
    del registry.join_ways[way.config_id]
    return {}


def seed_contact_ways(ctx: SeedContext) -> None:
    """Give a demo corp a few 「联系我」 ways, as if its app had created them earlier.

    Each of the first five members gets a single-member QR code whose ``state`` names the
    member; the first three share a multi-member mini-program button.
    """
    registry = ctx.state.ext(ContactWayState)
    members = list(ctx.staff[:5])
    specs: list[tuple[int, int, list[str], str]] = [
        (1, 2, [userid], f"qr-{userid}") for userid in members
    ]
    if len(members) >= 3:
        specs.append((2, 1, members[:3], "mini-program-button"))
    for age, (type_, scene, user, channel) in enumerate(specs):
        config_id = registry.new_config_id()
        registry.contact_ways[config_id] = ContactWayRecord(
            seq=ctx.state.next_seq(),
            config_id=config_id,
            type=type_,
            scene=scene,
            created=int(ctx.now) - age * DAY,
            user=user,
            style=1 if scene == 1 else None,
            remark=f"demo {channel}",
            state=channel,
            qr_code=qr_url(config_id, "cw") if scene == 2 else None,
        )


ROUTES = [
    Route("POST", "externalcontact/add_contact_way", add_contact_way),
    Route("POST", "externalcontact/get_contact_way", get_contact_way),
    Route("POST", "externalcontact/list_contact_way", list_contact_way),
    Route("POST", "externalcontact/update_contact_way", update_contact_way),
    Route("POST", "externalcontact/del_contact_way", del_contact_way),
    Route("POST", "externalcontact/close_temp_chat", close_temp_chat),
    Route("POST", "externalcontact/groupchat/add_join_way", add_join_way),
    Route("POST", "externalcontact/groupchat/get_join_way", get_join_way),
    Route("POST", "externalcontact/groupchat/update_join_way", update_join_way),
    Route("POST", "externalcontact/groupchat/del_join_way", del_join_way),
]
SEEDERS = [seed_contact_ways]
