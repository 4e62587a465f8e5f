"""Mass messages (endpoints.md #59-#65): create, list, tasks, results, remind, cancel.

Records and the test helpers (a member confirming a message, the monthly quota, the
dispatch delay) are in :mod:`._messages_state`; the content checks shared with welcome
messages are in :mod:`._shared`.  Errcodes: 41046 / 41047 missing / unknown msgid, 41048
no sendable recipient, 41063 still dispatching (when a dispatch delay is set), 41064 /
41065 attachments, 41093 cancelled, 41094 a fourth reminder within 24 h, 60111 unknown
sender, 40068 unknown tag, 40063 a missing required parameter, 40058 a value over a
documented limit, 50100 a cursor the fake did not issue for the same request.

Both request shapes of add_msg_template are accepted: the current ``attachments[]`` and
the legacy top-level ``image`` / ``link`` / ``miniprogram``; the list API reports a legacy
message as one attachment (priority image > link > miniprogram).  Messages created
through the API have ``create_type`` 0 and no ``creator``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from .._cursor import CursorCodec, digest
from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, opt_str_list, req_str
from .._route import JSON, RequestContext, Route
from .._state import CorpState, Follow
from ._group_chat_state import GroupChatState
from ._messages_state import SEND_NOT_SENT, Delivery, GroupMessage, MemberTask, MessagesState
from ._shared import message_content

__all__ = ["ROUTES"]

MAX_EXTERNAL_USERIDS: Final = 10_000
MAX_CHAT_IDS: Final = 2_000
MAX_TAGS_PER_GROUP: Final = 100
MAX_LIST_SPAN: Final = 31 * 86400
MAX_REMINDERS: Final = 3
REMIND_WINDOW: Final = 86400.0
#: (default, maximum) of ``limit``: list falls back to the default above the maximum.
LIST_LIMITS: Final = (50, 100)
TASK_LIMITS: Final = (500, 1000)
LEGACY_LIMITS: Final = (10_000, 10_000)


# -- add_msg_template -----------------------------------------------------------------


def _sender(state: CorpState, body: JSON) -> str | None:
    sender = opt_str(body, "sender")
    if sender:
        staff = state.staff.get(sender)
        if staff is None or staff.resigned:
            raise WeComFault(60111, f"userid not found: {sender}")
    return sender or None


def _latest(follows: Sequence[Follow]) -> Follow | None:
    return max(follows, key=lambda f: (f.createtime, f.seq), default=None)


def _tag_groups(state: CorpState, body: JSON) -> list[set[str]]:
    tag_filter = body.get("tag_filter")
    if tag_filter is None:
        return []
    groups = tag_filter.get("group_list") if isinstance(tag_filter, dict) else None
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise WeComFault(INVALID, "invalid tag_filter")
    out: list[set[str]] = []
    for group in groups:
        tags = opt_str_list(group, "tag_list", max_items=MAX_TAGS_PER_GROUP) or []
        unknown = [t for t in tags if state.tags.lookup(t) is None]
        if unknown:
            raise WeComFault(40068, f"invalid tagid: {unknown[0]}")
        if tags:
            out.append(set(tags))
    return out


def _single_targets(
    state: CorpState, body: JSON, sender: str | None
) -> tuple[list[Follow], list[str]]:
    external_ids = opt_str_list(body, "external_userid", max_items=MAX_EXTERNAL_USERIDS)
    tag_groups = _tag_groups(state, body)
    fail_list: list[str] = []
    chosen: dict[str, Follow] = {}
    if external_ids:
        for eid in dict.fromkeys(external_ids):
            customer = state.customers.get(eid)
            follows = [] if customer is None else customer.followers
            found = _latest([f for f in follows if sender is None or f.userid == sender])
            if found is None:
                fail_list.append(eid)
            else:
                chosen[eid] = found
        return list(chosen.values()), fail_list
    if not sender and not tag_groups:
        raise WeComFault(MISSING, "sender, external_userid and tag_filter are all empty")
    candidates = (
        state.follows_of(sender)
        if sender
        else [f for c in state.customers.values() for f in c.followers]
    )
    for follow in candidates:
        if all(group & set(follow.tag_ids) for group in tag_groups):
            previous = chosen.get(follow.external_userid)
            if previous is None or _latest([previous, follow]) is follow:
                chosen[follow.external_userid] = follow
    return list(chosen.values()), fail_list


def _group_targets(ctx: RequestContext, sender: str | None) -> tuple[list[Delivery], list[str]]:
    if sender is None:
        raise WeComFault(MISSING, "sender missing")
    chat_ids = opt_str_list(ctx.body, "chat_id_list", max_items=MAX_CHAT_IDS) or []
    groups = ctx.state.ext(GroupChatState)
    deliveries, fail_list = [], []
    for chat_id in dict.fromkeys(chat_ids):
        group = groups.customer_group(chat_id)
        if group is not None and group.owner == sender:
            deliveries.append(Delivery(userid=sender, chat_id=chat_id))
        else:
            fail_list.append(chat_id)
    if not chat_ids and not any(g.owner == sender for g in groups.ordered()):
        raise WeComFault(41048, "the sender owns no customer group")
    return deliveries, fail_list


def add_msg_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/add_msg_template: a mass message awaiting members' confirmation."""
    body, state = ctx.body, ctx.state
    chat_type = opt_str(body, "chat_type") or "single"
    if chat_type not in ("single", "group"):
        raise WeComFault(INVALID, "invalid chat_type")
    content = message_content(body)
    sender = _sender(state, body)
    if chat_type == "group":
        deliveries, fail_list = _group_targets(ctx, sender)
        # Without chat_id_list the sender picks the groups when confirming.
        selectable = picking = not deliveries and not fail_list
    else:
        follows, fail_list = _single_targets(state, body, sender)
        deliveries = [Delivery(userid=f.userid, external_userid=f.external_userid) for f in follows]
        selectable, picking = body.get("allow_select") is True, False
    if not deliveries and not picking:
        raise WeComFault(41048, "no customer or group can receive this message")
    message = GroupMessage(
        seq=state.next_seq(),
        msgid=state.new_id("msg"),
        chat_type=chat_type,
        create_time=int(ctx.clock.now()),
        content=content,
        selectable=selectable,
    )
    if chat_type == "group" and sender is not None:
        message.tasks[sender] = MemberTask(userid=sender)
    for delivery in deliveries:
        task = message.tasks.setdefault(delivery.userid, MemberTask(userid=delivery.userid))
        task.deliveries.append(delivery)
    ctx.state.ext(MessagesState).messages[message.msgid] = message
    return {"fail_list": fail_list, "msgid": message.msgid}


# -- reading mass messages ------------------------------------------------------------


def _limit(body: JSON, limits: tuple[int, int], *, clamp: bool) -> int:
    default, maximum = limits
    value = opt_int(body, "limit")
    if value is None or value <= 0:
        return default
    if value > maximum:
        return maximum if clamp else default
    return value


def _page(
    ctx: RequestContext, kind: str, key: str, items: Sequence[JSON], limit: int
) -> tuple[Sequence[JSON], str]:
    """A page of ``items`` by position; the cursor is bound to ``kind`` and ``key``."""
    start = 0
    cursor = opt_str(ctx.body, "cursor")
    if cursor:
        fields = ctx.cursors.decode(kind, cursor)
        start = CursorCodec.int_field(fields, "i")
        if CursorCodec.str_field(fields, "c") != key or not 0 <= start <= len(items):
            raise WeComFault(50100)
    end = start + limit
    following = ctx.cursors.encode(kind, c=key, i=end) if end < len(items) else ""
    return items[start:end], following


def _message(ctx: RequestContext, *, check_dispatch: bool = True) -> GroupMessage:
    msgid = req_str(ctx.body, "msgid", errcode=41046)
    messages = ctx.state.ext(MessagesState)
    message = messages.messages.get(msgid)
    if message is None:
        raise WeComFault(41047, f"invalid msgid: {msgid}")
    if check_dispatch and messages.dispatching(message, ctx.clock.now()):
        raise WeComFault(41063, "the message is still being dispatched")
    return message


def _req_int(body: JSON, name: str) -> int:
    value = opt_int(body, name)
    if value is None:
        raise WeComFault(MISSING, f"{name} missing")
    return value


def _render_msg(message: GroupMessage) -> JSON:
    out: JSON = {"msgid": message.msgid}
    if message.creator is not None:
        out["creator"] = message.creator
    return {
        **out,
        "create_time": message.create_time,
        "create_type": message.create_type,
        **message.content,
    }


def _listed_messages(
    ctx: RequestContext, kind: str, render: Callable[[GroupMessage], JSON]
) -> JSON:
    """One page of the mass messages created in the request's window (v1 and v2)."""
    body = ctx.body
    chat_type = req_str(body, "chat_type")
    if chat_type not in ("single", "group"):
        raise WeComFault(INVALID, "invalid chat_type")
    start, end = _req_int(body, "start_time"), _req_int(body, "end_time")
    if not 0 <= end - start <= MAX_LIST_SPAN:
        raise WeComFault(INVALID, "the time range must be within one month")
    creator = opt_str(body, "creator")
    filter_type = opt_int(body, "filter_type")
    filter_type = 2 if filter_type is None else filter_type
    if filter_type not in (0, 1, 2):
        raise WeComFault(INVALID, "invalid filter_type")
    found = [
        m
        for m in ctx.state.ext(MessagesState).messages.values()
        if m.chat_type == chat_type
        and start <= m.create_time <= end
        and (not creator or m.creator == creator)
        and (filter_type == 2 or m.create_type == filter_type)
    ]
    key = digest(chat_type, str(start), str(end), creator or "", str(filter_type))
    page, following = _page(
        ctx, kind, key, [render(m) for m in found], _limit(body, LIST_LIMITS, clamp=False)
    )
    return {"group_msg_list": list(page), "next_cursor": following}


def get_groupmsg_list_v2(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_groupmsg_list_v2: mass messages created in a window."""
    return _listed_messages(ctx, "groupmsg_list", _render_msg)


def _render_v1(message: GroupMessage) -> JSON:
    """A message in the v1 shape: ``text`` and at most one top-level attachment.

    A message sent with ``attachments`` shows its first one (pre-3.1.6 clients showed one).
    """
    out = _render_msg(message)
    attachments = out.pop("attachments", None)
    if isinstance(attachments, list) and attachments and isinstance(attachments[0], dict):
        first = attachments[0]
        msgtype = first.get("msgtype")
        if isinstance(msgtype, str) and msgtype in first:
            out[msgtype] = first[msgtype]
    return out


def get_groupmsg_list(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_groupmsg_list (legacy v1): the same list, v1 content."""
    return _listed_messages(ctx, "groupmsg_list_v1", _render_v1)


def _render_task(task: MemberTask) -> JSON:
    out: JSON = {"userid": task.userid, "status": task.status}
    return out if task.send_time is None else {**out, "send_time": task.send_time}


def _render_delivery(delivery: Delivery) -> JSON:
    out: JSON = (
        {"external_userid": delivery.external_userid}
        if delivery.external_userid is not None
        else {"chat_id": delivery.chat_id}
    )
    out.update(userid=delivery.userid, status=delivery.status)
    return out if delivery.send_time is None else {**out, "send_time": delivery.send_time}


def _listed(message: GroupMessage, deliveries: Sequence[Delivery]) -> list[JSON]:
    """Deliveries as reported: a group message lists only the groups it was sent to."""
    group = message.chat_type == "group"
    return [_render_delivery(d) for d in deliveries if not (group and d.status == SEND_NOT_SENT)]


def get_groupmsg_task(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_groupmsg_task: each member's task and whether they sent it."""
    message = _message(ctx)
    tasks = [_render_task(t) for t in message.tasks.values()]
    limit = _limit(ctx.body, TASK_LIMITS, clamp=True)
    page, following = _page(ctx, "groupmsg_task", digest(message.msgid), tasks, limit)
    return {"task_list": list(page), "next_cursor": following}


def get_groupmsg_send_result(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_groupmsg_send_result: one member's recipients."""
    message = _message(ctx)
    userid = req_str(ctx.body, "userid")
    task = message.tasks.get(userid)
    items = _listed(message, task.deliveries if task is not None else [])
    limit = _limit(ctx.body, TASK_LIMITS, clamp=True)
    page, following = _page(ctx, "groupmsg_send", digest(message.msgid, userid), items, limit)
    return {"send_list": list(page), "next_cursor": following}


def get_group_msg_result(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_group_msg_result (legacy): every recipient, one view."""
    message = _message(ctx)
    every = [d for t in message.tasks.values() for d in t.deliveries]
    limit = _limit(ctx.body, LEGACY_LIMITS, clamp=True)
    page, following = _page(
        ctx, "group_msg_result", digest(message.msgid), _listed(message, every), limit
    )
    out: JSON = {"check_status": 1, "detail_list": list(page)}
    return {**out, "next_cursor": following} if following else out


def remind_groupmsg_send(ctx: RequestContext) -> JSON:
    """POST externalcontact/remind_groupmsg_send: at most 3 reminders per 24 hours."""
    message = _message(ctx, check_dispatch=False)
    if message.cancelled:
        raise WeComFault(41093, "the mass message task was cancelled")
    now = ctx.clock.now()
    message.reminders = [t for t in message.reminders if now - t < REMIND_WINDOW]
    if len(message.reminders) >= MAX_REMINDERS:
        raise WeComFault(41094, "remind at most 3 times in 24 hours")
    message.reminders.append(now)
    return {}


def cancel_groupmsg_send(ctx: RequestContext) -> JSON:
    """POST externalcontact/cancel_groupmsg_send: members can no longer send it."""
    message = _message(ctx, check_dispatch=False)
    if message.cancelled:
        raise WeComFault(41093, "the mass message task was already cancelled")
    message.cancelled = True
    return {}


ROUTES = [
    Route("POST", "externalcontact/add_msg_template", add_msg_template),
    Route("POST", "externalcontact/get_groupmsg_list_v2", get_groupmsg_list_v2),
    Route("POST", "externalcontact/get_groupmsg_list", get_groupmsg_list),
    Route("POST", "externalcontact/get_groupmsg_task", get_groupmsg_task),
    Route("POST", "externalcontact/get_groupmsg_send_result", get_groupmsg_send_result),
    Route("POST", "externalcontact/remind_groupmsg_send", remind_groupmsg_send),
    Route("POST", "externalcontact/cancel_groupmsg_send", cancel_groupmsg_send),
    Route("POST", "externalcontact/get_group_msg_result", get_group_msg_result),
]
