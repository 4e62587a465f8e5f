"""On-job and resigned inheritance (endpoints.md #23-#29): customer transfers, their results,
the unassigned customers of resigned members, and group hand-overs.

Records live in :class:`~._transfer_state.TransferState` (customers) and
:class:`~._group_chat_state.GroupChatState` (groups).  A ticker settles the transfers whose
24-hour takeover time has passed on the fake clock before any endpoint answers.

Whole-call errcodes: 40063 missing parameter; 40058 over a documented limit (100 customers
or chats, transfer_success_msg 200 characters, page_size 1-1000, legacy page_id x page_size
below 50000); 40003 unknown or resigned takeover member / new owner, or an unknown handover
member; 40097 resigned/transfer_customer whose handover member has not resigned; 50100 a
cursor the fake did not issue for the same request.

Per-customer ``customer[].errcode``: 40130 handover = takeover; 40096 not a customer of the
handover member; 40129 already being transferred; 40128 (on-job only) transferred twice in
the last 90 days.  Per-group ``failed_chat_list``: 90501 not a customer group (or unknown);
90502 owner resigned (onjob_transfer); 90500 owner not resigned, 90507 inheriting, 90508
inherited (groupchat/transfer); 90504 owner unchanged.  Group hand-overs are immediate.
"""

from __future__ import annotations

from typing import Final

from .._cursor import CursorCodec, digest, index_after
from .._errors import WeComFault
from .._params import INVALID, opt_int, opt_str, req_str, req_str_list
from .._route import JSON, RequestContext, Route, SeedContext
from .._state import CorpState, Follow, Staff
from ._group_chat_state import STATUS_INHERITED, STATUS_INHERITING, GroupChat, GroupChatState
from ._shared import seed_resigned_staff
from ._transfer_state import ONJOB, RESIGNED, Transfer, TransferState

__all__ = ["ROUTES", "SEEDERS", "TICKERS"]

MAX_CUSTOMERS: Final = 100
MAX_CHATS: Final = 100
MAX_SUCCESS_MSG: Final = 200
MAX_PAGE_SIZE: Final = 1000
LEGACY_PAGE_CAP: Final = 50_000
INVALID_USERID: Final = 40003
NOT_RESIGNED: Final = 40097
#: get_transfer_result (legacy): no transfer on record (older docs and peer SDKs).
NO_RECORD: Final = 5
#: Texts of the per-group failures (90500 and 90501 as in the official examples).
GROUP_ERRMSG: Final[dict[int, str]] = {
    90500: "the owner of this chat is not resigned",
    90501: "chat is not external group chat",
    90502: "the owner of this chat is resigned",
    90504: "the new owner is the same as the owner",
    90507: "this chat is being inherited",
    90508: "this chat has been inherited",
}


def _settle_due(state: CorpState, now: float) -> None:
    """Ticker: complete the transfers whose takeover time has come, before any handler."""
    state.ext(TransferState).settle(state, int(now))


def _settled(ctx: RequestContext) -> TransferState:
    return ctx.state.ext(TransferState)


def _member(state: CorpState, userid: str, *, active: bool = True) -> Staff:
    staff = state.staff.get(userid)
    if staff is None or (active and staff.resigned):
        raise WeComFault(INVALID_USERID, f"invalid userid: {userid}")
    return staff


# -- customers ---------------------------------------------------------------------------


def _start_all(ctx: RequestContext, kind: str) -> JSON:
    body, state = ctx.body, ctx.state
    transfers = _settled(ctx)
    handover = req_str(body, "handover_userid")
    takeover = req_str(body, "takeover_userid")
    ids = req_str_list(body, "external_userid", max_items=MAX_CUSTOMERS)
    staff = _member(state, handover, active=kind == ONJOB)
    _member(state, takeover)
    if kind == RESIGNED and not staff.resigned:
        raise WeComFault(NOT_RESIGNED, f"handover_userid {handover} has not resigned")
    now = int(ctx.clock.now())
    results: list[object] = []
    for ext in ids:
        code = _refusal(state, transfers, kind, handover, takeover, ext, now)
        if code == 0:
            transfers.start(state, kind, handover, takeover, ext, now)
        results.append({"external_userid": ext, "errcode": code})
    return {"customer": results}


def _refusal(
    state: CorpState,
    transfers: TransferState,
    kind: str,
    handover: str,
    takeover: str,
    ext: str,
    now: int,
) -> int:
    if handover == takeover:
        return 40130
    if state.follow(ext, handover) is None:
        return 40096
    if transfers.waiting(ext) is not None:
        return 40129
    if kind == ONJOB and transfers.recent_onjob(ext, now) >= 2:
        return 40128
    return 0


def transfer_customer(ctx: RequestContext) -> JSON:
    """POST externalcontact/transfer_customer: start on-job hand-overs."""
    opt_str(ctx.body, "transfer_success_msg", max_chars=MAX_SUCCESS_MSG)
    return _start_all(ctx, ONJOB)


def resigned_transfer_customer(ctx: RequestContext) -> JSON:
    """POST externalcontact/resigned/transfer_customer: start resigned hand-overs."""
    return _start_all(ctx, RESIGNED)


def legacy_transfer(ctx: RequestContext) -> JSON:
    """POST externalcontact/transfer (legacy): one customer, on-job or resigned member.

    The kind follows the handover member (resigned or not); refusals are the errcodes
    transfer_customer reports per customer, raised for the whole call.
    """
    body, state = ctx.body, ctx.state
    ext = req_str(body, "external_userid")
    handover = req_str(body, "handover_userid")
    takeover = req_str(body, "takeover_userid")
    opt_str(body, "transfer_success_msg", max_chars=MAX_SUCCESS_MSG)
    kind = RESIGNED if _member(state, handover, active=False).resigned else ONJOB
    _member(state, takeover)
    now = int(ctx.clock.now())
    code = _refusal(state, _settled(ctx), kind, handover, takeover, ext, now)
    if code:
        raise WeComFault(code, f"cannot transfer {ext}")
    _settled(ctx).start(state, kind, handover, takeover, ext, now)
    return {}


def get_transfer_result(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_transfer_result (legacy): one customer's latest status.

    5 (no record) when no transfer of the customer between the two members exists; the
    shape is from peer SDKs only (unverified against an official page).
    """
    ext = req_str(ctx.body, "external_userid")
    handover = req_str(ctx.body, "handover_userid")
    takeover = req_str(ctx.body, "takeover_userid")
    found = [
        t
        for kind in (ONJOB, RESIGNED)
        for t in _settled(ctx).latest_between(kind, handover, takeover)
        if t.external_userid == ext
    ]
    if not found:
        return {"status": NO_RECORD, "takeover_time": 0}
    latest = max(found, key=lambda t: t.seq)
    return {"status": latest.status, "takeover_time": latest.takeover_time}


def _results(ctx: RequestContext, kind: str) -> JSON:
    transfers = _settled(ctx)
    handover = req_str(ctx.body, "handover_userid")
    takeover = req_str(ctx.body, "takeover_userid")
    records = transfers.latest_between(kind, handover, takeover)
    key = digest(kind, handover, takeover)
    last_seq = 0
    cursor = opt_str(ctx.body, "cursor")
    if cursor:
        fields = ctx.cursors.decode(f"{kind}/transfer_result", cursor)
        if CursorCodec.str_field(fields, "r") != key:
            raise WeComFault(50100)
        last_seq = CursorCodec.int_field(fields, "s")
    start = index_after(records, last_seq)
    page = records[start : start + transfers.result_page_size]
    more = start + len(page) < len(records)
    return {
        "customer": [_status(t) for t in page],
        "next_cursor": (
            ctx.cursors.encode(f"{kind}/transfer_result", r=key, s=page[-1].seq) if more else ""
        ),
    }


def _status(transfer: Transfer) -> JSON:
    return {
        "external_userid": transfer.external_userid,
        "status": transfer.status,
        "takeover_time": transfer.takeover_time,
    }


def transfer_result(ctx: RequestContext) -> JSON:
    """POST externalcontact/transfer_result: statuses of on-job transfers."""
    return _results(ctx, ONJOB)


def resigned_transfer_result(ctx: RequestContext) -> JSON:
    """POST externalcontact/resigned/transfer_result: statuses of resigned transfers."""
    return _results(ctx, RESIGNED)


def get_unassigned_list(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_unassigned_list: resigned members' customers, by cursor or
    the legacy page_id; members ordered by resignation time, latest first."""
    body, state = ctx.body, ctx.state
    transfers = _settled(ctx)
    page_size = opt_int(body, "page_size") or MAX_PAGE_SIZE
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise WeComFault(INVALID, f"invalid page_size: must be in [1, {MAX_PAGE_SIZE}]")
    now = int(ctx.clock.now())
    members = sorted(
        (s for s in state.staff.values() if s.resigned),
        key=lambda s: (-transfers.dimission_time(s.userid, now), s.userid),
    )
    order = {m.userid: i for i, m in enumerate(members)}
    entries = [
        (m, f)
        for m in members
        for f in state.follows_of(m.userid)
        if not _assigned(transfers, f.external_userid, m.userid)
    ]
    cursor = opt_str(body, "cursor")
    page_id = opt_int(body, "page_id")
    if page_id is not None and not cursor:
        if page_id < 0 or page_id * page_size >= LEGACY_PAGE_CAP:
            raise WeComFault(INVALID, f"invalid page_id: page_id x page_size >= {LEGACY_PAGE_CAP}")
        page = entries[page_id * page_size : (page_id + 1) * page_size]
        last = (page_id + 1) * page_size >= len(entries)
        return {"info": [_unassigned(transfers, m, f, now) for m, f in page], "is_last": last}
    start = 0
    if cursor:
        fields = ctx.cursors.decode("get_unassigned_list", cursor)
        after = order.get(CursorCodec.str_field(fields, "u"))
        if after is None:
            raise WeComFault(50100)
        position = (after, CursorCodec.int_field(fields, "s"))
        start = next(
            (i for i, (m, f) in enumerate(entries) if (order[m.userid], f.seq) > position),
            len(entries),
        )
    page = entries[start : start + page_size]
    more = start + len(page) < len(entries)
    return {
        "info": [_unassigned(transfers, m, f, now) for m, f in page],
        "is_last": not more,
        "next_cursor": (
            ctx.cursors.encode("get_unassigned_list", u=page[-1][0].userid, s=page[-1][1].seq)
            if more
            else ""
        ),
    }


def _assigned(transfers: TransferState, ext: str, handover: str) -> bool:
    waiting = transfers.waiting(ext)
    return waiting is not None and waiting.handover_userid == handover


def _unassigned(transfers: TransferState, staff: Staff, follow: Follow, now: int) -> JSON:
    return {
        "handover_userid": staff.userid,
        "external_userid": follow.external_userid,
        "dimission_time": transfers.dimission_time(staff.userid, now),
    }


# -- groups ------------------------------------------------------------------------------


def _hand_over_groups(ctx: RequestContext, resigned: bool) -> JSON:
    state = ctx.state
    ids = req_str_list(ctx.body, "chat_id_list", max_items=MAX_CHATS)
    new_owner = req_str(ctx.body, "new_owner")
    _member(state, new_owner)
    groups = state.ext(GroupChatState)
    failed: list[object] = []
    for chat_id in ids:
        group = groups.customer_group(chat_id)
        code = _group_refusal(state, groups, group, new_owner, resigned)
        if code or group is None:
            failed.append({"chat_id": chat_id, "errcode": code, "errmsg": GROUP_ERRMSG[code]})
            continue
        group.transfers.append(int(ctx.clock.now()))
        groups.set_owner(group, new_owner, status=STATUS_INHERITED if resigned else group.status)
    return {"failed_chat_list": failed}


def _group_refusal(
    state: CorpState,
    groups: GroupChatState,
    group: GroupChat | None,
    new_owner: str,
    resigned: bool,
) -> int:
    if group is None:
        return 90501
    owner = state.staff.get(group.owner)
    owner_resigned = owner is not None and owner.resigned
    if resigned:
        status = groups.status_of(state, group)
        if status == STATUS_INHERITED:
            return 90508
        if status == STATUS_INHERITING:
            return 90507
        if not owner_resigned:
            return 90500
    elif owner_resigned:
        return 90502
    return 90504 if group.owner == new_owner else 0


def group_chat_onjob_transfer(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/onjob_transfer: groups of on-job owners."""
    return _hand_over_groups(ctx, resigned=False)


def group_chat_transfer(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/transfer: groups of resigned owners."""
    return _hand_over_groups(ctx, resigned=True)


def seed_resigned(ctx: SeedContext) -> None:
    """Seed the resigned members and their unassigned customers."""
    seed_resigned_staff(ctx.state, ctx.rng, int(ctx.now))


ROUTES = [
    Route("POST", "externalcontact/transfer_customer", transfer_customer),
    Route("POST", "externalcontact/transfer_result", transfer_result),
    Route("POST", "externalcontact/groupchat/onjob_transfer", group_chat_onjob_transfer),
    Route("POST", "externalcontact/get_unassigned_list", get_unassigned_list),
    Route("POST", "externalcontact/resigned/transfer_customer", resigned_transfer_customer),
    Route("POST", "externalcontact/resigned/transfer_result", resigned_transfer_result),
    Route("POST", "externalcontact/groupchat/transfer", group_chat_transfer),
    Route("POST", "externalcontact/transfer", legacy_transfer),
    Route("POST", "externalcontact/get_transfer_result", get_transfer_result),
]
SEEDERS = [seed_resigned]

TICKERS = [_settle_due]
