"""Customer moments (endpoints.md #45-#52): add_moment_task, get_moment_task_result,
cancel_moment_task, get_moment_list, get_moment_task, get_moment_customer_list,
get_moment_send_result, get_moment_comments.

Records and the job timeline are in :mod:`._moments_state`.  Errcodes: 40063 a missing
parameter; 40058 a value of the wrong type, text over 2000 characters / 4000 bytes, an
attachment without its media_id / url ("invalid msg"), a time range that is empty or over
30 days; 41089 text and attachments both empty; 41065 an attachment type other than image,
video, link, or mixed types; 41064 more than 9 images / 1 video / 1 link; 45009 over 10
creations a minute; 41210 / 41211 / 41078 (see :class:`MomentsState`); 40088 an unknown or
expired jobid (mapping by name, unverified); 41059 / 41060 a missing / unknown moment_id;
41061 a userid that is not an executor of the moment; 41062 an executor who has not
published yet; 41067 a personal moment where a corp moment is needed; 50100 a cursor the
fake did not issue for the same request.

Page sizes: a ``limit`` outside 1..max falls back to the default, as documented for
get_moment_list (20); the same rule is assumed for the other lists (default 500, max 1000;
send result default 3000, max 5000).
"""

from __future__ import annotations

from typing import Final

from .._cursor import CursorCodec, digest
from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, opt_str_list, req_str
from .._route import JSON, RequestContext, Route, SeedContext
from ._moments_state import (
    JobAttachment,
    MemberTask,
    MomentJob,
    MomentRecord,
    MomentsState,
    interactions,
)

__all__ = ["ROUTES", "SEEDERS"]

MAX_TEXT_CHARS: Final = 2000
MAX_TEXT_BYTES: Final = 4000
MAX_IMAGES: Final = 9
MAX_SENDERS: Final = 100_000
MAX_LINK_TITLE_CHARS: Final = 64
MAX_LIST_SPAN: Final = 30 * 86400
#: (default, maximum) page sizes.
LIST_LIMITS: Final = (20, 20)
TASK_LIMITS: Final = (500, 1000)
SEND_RESULT_LIMITS: Final = (3000, 5000)
_KINDS: Final = ("image", "video", "link")


def _store(ctx: RequestContext) -> MomentsState:
    """The corp's moments, with every job whose time has come finished."""
    store = ctx.state.ext(MomentsState)
    store.settle(ctx.state, ctx.clock.now())
    return store


def _dict(data: JSON, name: str) -> JSON:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WeComFault(INVALID, f"invalid {name}: must be an object")
    return value


def _int_list(data: JSON, name: str) -> list[int]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise WeComFault(INVALID, f"invalid {name}: must be a list of integers")
    return [int(v) for v in value]


def _attachment(item: object) -> JobAttachment:
    kind = item.get("msgtype") if isinstance(item, dict) else None
    if not isinstance(item, dict) or kind not in _KINDS:
        raise WeComFault(41065, "invalid attachments msgtype")
    sub = _dict(item, str(kind))
    media_id = req_str(sub, "media_id", errcode=INVALID)
    if kind != "link":
        return JobAttachment(str(kind), media_id)
    url = req_str(sub, "url", errcode=INVALID)
    title = opt_str(sub, "title", max_chars=MAX_LINK_TITLE_CHARS) or ""
    return JobAttachment("link", media_id, url=url, title=title)


def _parse_job(body: JSON, jobid: str, now: float) -> MomentJob:
    text = opt_str(_dict(body, "text"), "content")
    if text and (len(text) > MAX_TEXT_CHARS or len(text.encode()) > MAX_TEXT_BYTES):
        raise WeComFault(INVALID, "invalid text size")
    raw = body.get("attachments") or []
    if not isinstance(raw, list):
        raise WeComFault(INVALID, "invalid attachments: must be a list")
    if not text and not raw:
        raise WeComFault(41089, "moment text and attachments are both empty")
    attachments = [_attachment(item) for item in raw]
    kinds = {a.msgtype for a in attachments}
    if len(kinds) > 1:
        raise WeComFault(41065, "invalid attachments msgtype: types cannot be mixed")
    if len(attachments) > (MAX_IMAGES if kinds == {"image"} else 1):
        raise WeComFault(41064, "invalid attachments size")
    visible = _dict(body, "visible_range")
    senders = _dict(visible, "sender_list")
    return MomentJob(
        jobid=jobid,
        created_at=now,
        text=text or None,
        attachments=attachments,
        user_list=opt_str_list(senders, "user_list", max_items=MAX_SENDERS) or [],
        department_list=_int_list(senders, "department_list"),
        tag_list=opt_str_list(_dict(visible, "external_contact_list"), "tag_list") or [],
    )


def add_moment_task(ctx: RequestContext) -> JSON:
    """POST externalcontact/add_moment_task -> jobid (a body error is not counted)."""
    store, now = _store(ctx), ctx.clock.now()
    job = _parse_job(ctx.body, ctx.state.new_id("job"), now)
    store.admit(now)
    store.jobs[job.jobid] = job
    return {"jobid": job.jobid}


def get_moment_task_result(ctx: RequestContext) -> JSON:
    """GET externalcontact/get_moment_task_result?jobid= -> status, type, result."""
    now = ctx.clock.now()
    job = _store(ctx).job(req_str(ctx.query, "jobid"), now)
    out: JSON = {"status": job.status(now), "type": "add_moment_task"}
    if job.result is not None:
        out["result"] = job.result
    return out


def _moment(ctx: RequestContext, *, corp_only: bool = False) -> MomentRecord:
    moment = _store(ctx).moment(req_str(ctx.body, "moment_id", errcode=41059))
    if corp_only and moment.create_type != 0:
        raise WeComFault(41067, "not a corp moment")
    return moment


def _member_task(
    ctx: RequestContext, *, published: bool = False
) -> tuple[MomentRecord, MemberTask]:
    moment = _moment(ctx)
    userid = req_str(ctx.body, "userid")
    task = moment.tasks.get(userid)
    if task is None:
        raise WeComFault(41061, f"moment not published by userid {userid}")
    if published and not task.published(ctx.clock.now()):
        raise WeComFault(41062, f"corp moment not yet published by userid {userid}")
    return moment, task


def cancel_moment_task(ctx: RequestContext) -> JSON:
    """POST externalcontact/cancel_moment_task: stop executors who have not published."""
    moment = _moment(ctx, corp_only=True)
    ctx.state.ext(MomentsState).cancel(moment, ctx.clock.now())
    return {}


def _page(
    ctx: RequestContext, kind: str, rows: list[JSON], key: str, limits: tuple[int, int], bind: str
) -> JSON:
    """One page of ``rows`` (an append-only list) from the request's cursor and limit."""
    default, maximum = limits
    limit = opt_int(ctx.body, "limit")
    limit = limit if limit is not None and 1 <= limit <= maximum else default
    start = 0
    cursor = opt_str(ctx.body, "cursor")
    if cursor:
        fields = ctx.cursors.decode(kind, cursor)
        if CursorCodec.str_field(fields, "b") != bind:
            raise WeComFault(50100)
        start = CursorCodec.int_field(fields, "i")
    page = rows[start : start + limit]
    end = start + len(page)
    return {
        key: page,
        "next_cursor": ctx.cursors.encode(kind, b=bind, i=end) if end < len(rows) else "",
    }


def get_moment_list(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_moment_list: moments strictly inside (start, end)."""
    body = ctx.body
    start, end = opt_int(body, "start_time"), opt_int(body, "end_time")
    if start is None or end is None:
        raise WeComFault(MISSING, "start_time and end_time are required")
    if end <= start or end - start > MAX_LIST_SPAN:
        raise WeComFault(INVALID, "invalid time range: end after start, at most 30 days")
    creator = opt_str(body, "creator")
    filter_type = opt_int(body, "filter_type")
    filter_type = 2 if filter_type is None else filter_type
    if filter_type not in (0, 1, 2):
        raise WeComFault(INVALID, f"invalid filter_type: {filter_type}")
    rows = [
        _render(m)
        for m in _store(ctx).moments
        if start < m.create_time < end
        and (creator is None or m.creator == creator)
        and (filter_type == 2 or m.create_type == filter_type)
    ]
    bind = digest(str(start), str(end), creator or "", str(filter_type))
    return _page(ctx, "moment_list", rows, "moment_list", LIST_LIMITS, bind)


def _render(moment: MomentRecord) -> JSON:
    out: JSON = {"moment_id": moment.moment_id}
    if moment.creator is not None:  # not returned for moments created by add_moment_task
        out["creator"] = moment.creator
    out.update(
        create_time=moment.create_time,
        create_type=moment.create_type,
        visible_type=moment.visible_type,
        **moment.content,
    )
    return out


def get_moment_task(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_moment_task: each executor and whether they published."""
    moment, now = _moment(ctx, corp_only=True), ctx.clock.now()
    rows: list[JSON] = [
        {"userid": t.userid, "publish_status": int(t.published(now))} for t in moment.tasks.values()
    ]
    return _page(ctx, "moment_task", rows, "task_list", TASK_LIMITS, moment.moment_id)


def get_moment_customer_list(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_moment_customer_list: the customers chosen for a member."""
    moment, task = _member_task(ctx)
    rows: list[JSON] = [{"userid": task.userid, "external_userid": e} for e in task.customers]
    bind = digest(moment.moment_id, task.userid)
    return _page(ctx, "moment_customers", rows, "customer_list", TASK_LIMITS, bind)


def get_moment_send_result(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_moment_send_result: customers who can see it now."""
    moment, task = _member_task(ctx, published=True)
    rows: list[JSON] = [
        {"external_userid": e}
        for e in task.customers
        if ctx.state.follow(e, task.userid) is not None
    ]
    bind = digest(moment.moment_id, task.userid)
    return _page(ctx, "moment_send_result", rows, "customer_list", SEND_RESULT_LIMITS, bind)


def get_moment_comments(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_moment_comments: comments and likes so far."""
    moment, task = _member_task(ctx, published=True)
    return interactions(moment, task, ctx.clock.now())


_DEMO_TEXTS: Final = ["新品上市，欢迎咨询", "周末活动预告", "感谢各位客户的支持"]


def seed_moments(ctx: SeedContext) -> None:
    """A few personal moments of the first members, posted in the last 7 days."""
    store = ctx.state.ext(MomentsState)
    for userid in ctx.staff[:3]:
        store.add_personal_moment(
            ctx.state,
            userid,
            create_time=int(ctx.now) - ctx.rng.randint(3600, 7 * 86400),
            text=ctx.rng.choice(_DEMO_TEXTS),
            rng=ctx.rng,
        )


ROUTES = [
    Route("POST", "externalcontact/add_moment_task", add_moment_task),
    Route("GET", "externalcontact/get_moment_task_result", get_moment_task_result),
    Route("POST", "externalcontact/cancel_moment_task", cancel_moment_task),
    Route("POST", "externalcontact/get_moment_list", get_moment_list),
    Route("POST", "externalcontact/get_moment_task", get_moment_task),
    Route("POST", "externalcontact/get_moment_customer_list", get_moment_customer_list),
    Route("POST", "externalcontact/get_moment_send_result", get_moment_send_result),
    Route("POST", "externalcontact/get_moment_comments", get_moment_comments),
]
SEEDERS = [seed_moments]
