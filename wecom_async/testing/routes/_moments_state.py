"""Records of the moments fake (endpoints.md §3.7): publishing jobs, moments, per-member tasks.

A job created by add_moment_task moves on the fake clock: status 1 (started) when created,
2 (creating) after :data:`JOB_CREATING_AFTER` seconds, 3 (finished) after
:data:`JOB_FINISHED_AFTER`; at that moment the corp moment is created (or the job fails with
its own errcode, e.g. 40007 for a media id that is unknown or older than 3 days).  Jobs can
be queried for 24 hours.

Executors publish on their phones: executor number *k* (0-based) of a moment publishes
``publish_delay * (k + 1)`` seconds after the moment was created (``publish_delay=None``
turns that off), or when a test calls :meth:`MomentsState.publish`.  Cancelling stops every
executor who has not published yet.  Comments and likes come from the executor's visible
customers, chosen by a generator seeded with (moment_id, userid), and appear over the hour
after publishing, so they are the same on every run for the same clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

from .._errors import WeComFault
from .._limits import RateLimiter
from .._route import JSON
from .._state import CorpState
from .._tagstore import CORP_TAG
from ._media_state import MediaState
from ._shared import beijing_period

__all__ = [
    "JobAttachment",
    "MemberTask",
    "MomentJob",
    "MomentRecord",
    "MomentsState",
    "interactions",
]

#: Job timeline (seconds after creation) and lifetime.
JOB_CREATING_AFTER: Final = 2
JOB_FINISHED_AFTER: Final = 5
JOB_TTL: Final = 86400
#: add_moment_task: at most 10 creations a minute and 100,000 a month per corp.
CREATES_PER_MINUTE: Final = 10
MONTHLY_QUOTA: Final = 100_000
#: Seconds between a moment's creation and each executor's automatic publishing.
PUBLISH_DELAY: Final = 600
#: Comments and likes appear within this many seconds of publishing.
INTERACTION_WINDOW: Final = 3600
#: Which kinds of uploaded media each attachment's media_id may name.
_MEDIA_KINDS: Final = {"image": ("image",), "video": ("video",), "link": ("image",)}


@dataclass(slots=True, eq=False)
class MemberTask:
    """One executor of a moment: the customers it is meant for and when they publish."""

    userid: str
    customers: list[str]
    #: When the member publishes (None: never, e.g. after a cancel).
    publish_at: int | None = None

    def published(self, now: float) -> bool:
        """Whether the member has published the moment by ``now``."""
        return self.publish_at is not None and self.publish_at <= now


@dataclass(slots=True, eq=False)
class MomentRecord:
    """A moment: corp (create_type 0, via a job) or personal (1, with a ``creator``)."""

    moment_id: str
    create_time: int
    create_type: int
    visible_type: int
    #: The rendered content: text / image / video / link (and location) as WeCom sends them.
    content: JSON
    creator: str | None = None
    tasks: dict[str, MemberTask] = field(default_factory=dict)
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class JobAttachment:
    """One checked attachment of a job: its msgtype, media id and (links) url and title."""

    msgtype: str
    media_id: str
    url: str = ""
    title: str = ""


@dataclass(slots=True, eq=False)
class MomentJob:
    """An add_moment_task job: the checked request, and its result once finished."""

    jobid: str
    created_at: float
    text: str | None
    attachments: list[JobAttachment]
    user_list: list[str]
    department_list: list[int]
    tag_list: list[str]
    result: JSON | None = None

    def status(self, now: float) -> int:
        """1 started, 2 creating, 3 finished."""
        if self.result is not None:
            return 3
        return 2 if now >= self.created_at + JOB_CREATING_AFTER else 1


class MomentsState:
    """The moments of one corp: ``ctx.state.ext(MomentsState)``.

    Tests may change the knobs: ``enabled`` (False answers 41211), ``monthly_quota``
    (41210), ``max_running_jobs`` (41078 when that many jobs are unfinished; the real cap
    is undocumented, so None, no cap, is the default) and ``publish_delay``.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self.jobs: dict[str, MomentJob] = {}
        #: Moments in creation order (append-only, so index cursors stay valid).
        self.moments: list[MomentRecord] = []
        self.by_id: dict[str, MomentRecord] = {}
        self.enabled = True
        self.monthly_quota = MONTHLY_QUOTA
        self.max_running_jobs: int | None = None
        self.publish_delay: int | None = PUBLISH_DELAY
        self.creates = RateLimiter(CREATES_PER_MINUTE)
        self._monthly: dict[str, int] = {}

    # -- jobs ---------------------------------------------------------------------------

    def admit(self, now: float) -> None:
        """Check the corp may create a job now and count it (41211, 45009, 41210, 41078)."""
        if not self.enabled:
            raise WeComFault(41211, "customer moments are not enabled for this corp")
        if not self.creates.allow("add_moment_task", now):
            raise WeComFault(45009, "api freq out of limit: 10 moments a minute")
        month = beijing_period(now, "%Y-%m")
        if self._monthly.get(month, 0) >= self.monthly_quota:
            raise WeComFault(41210, "monthly quota of API-created moments reached")
        running = sum(1 for job in self.jobs.values() if job.result is None)
        if self.max_running_jobs is not None and running >= self.max_running_jobs:
            raise WeComFault(41078, "too many moment tasks in progress")
        self._monthly[month] = self._monthly.get(month, 0) + 1

    def job(self, jobid: str, now: float) -> MomentJob:
        """Return a job created in the last 24 hours (40088 otherwise; mapping unverified)."""
        job = self.jobs.get(jobid)
        if job is None or now >= job.created_at + JOB_TTL:
            raise WeComFault(40088, f"jobid not exist: {jobid}")
        return job

    def settle(self, state: CorpState, now: float) -> None:
        """Finish every job whose time has come, creating its moment."""
        for job in self.jobs.values():
            if job.result is None and now >= job.created_at + JOB_FINISHED_AFTER:
                job.result = self._finish(state, job, int(job.created_at + JOB_FINISHED_AFTER))

    def _finish(self, state: CorpState, job: MomentJob, when: int) -> JSON:
        media = state.ext(MediaState)
        try:
            for item in job.attachments:
                media.lookup(item.media_id, when, kinds=_MEDIA_KINDS[item.msgtype])
        except WeComFault as fault:
            return {"errcode": fault.errcode, "errmsg": fault.message}
        executors, bad_users, bad_departments = _executors(state, job)
        tags = [t for t in job.tag_list if _is_corp_tag(state, t)]
        moment = self.add_moment(
            state,
            create_time=when,
            create_type=0,
            visible_type=0 if job.tag_list else 1,
            content=_content(state, job),
        )
        for userid in executors:
            customers = [
                f.external_userid
                for f in state.follows_of(userid)
                if not job.tag_list or set(tags).intersection(f.tag_ids)
            ]
            if customers or not job.tag_list:
                self._add_task(moment, userid, customers)
        return {
            "errcode": 0,
            "errmsg": "ok",
            "moment_id": moment.moment_id,
            "invalid_sender_list": {"user_list": bad_users, "department_list": bad_departments},
            "invalid_external_contact_list": {
                "tag_list": [t for t in job.tag_list if t not in tags]
            },
        }

    # -- moments ------------------------------------------------------------------------

    def add_moment(
        self,
        state: CorpState,
        *,
        create_time: int,
        create_type: int,
        visible_type: int,
        content: JSON,
        creator: str | None = None,
        rng: random.Random | None = None,
    ) -> MomentRecord:
        """Create a moment without executors (tests: see :meth:`add_personal_moment`)."""
        moment = MomentRecord(
            moment_id=state.new_id("mom", rng),
            create_time=create_time,
            create_type=create_type,
            visible_type=visible_type,
            content=content,
            creator=creator,
        )
        self.moments.append(moment)
        self.by_id[moment.moment_id] = moment
        return moment

    def add_personal_moment(
        self,
        state: CorpState,
        creator: str,
        *,
        create_time: int,
        text: str = "今天天气不错",
        rng: random.Random | None = None,
    ) -> MomentRecord:
        """Add a moment a member posted from their phone, seen by all their customers."""
        moment = self.add_moment(
            state,
            create_time=create_time,
            create_type=1,
            visible_type=1,
            content={"text": {"content": text}},
            creator=creator,
            rng=rng,
        )
        customers = [f.external_userid for f in state.follows_of(creator)]
        moment.tasks[creator] = MemberTask(creator, customers, publish_at=create_time)
        return moment

    def _add_task(self, moment: MomentRecord, userid: str, customers: list[str]) -> None:
        delay = self.publish_delay
        rank = len(moment.tasks) + 1
        at = moment.create_time + delay * rank if delay is not None else None
        moment.tasks[userid] = MemberTask(userid, customers, publish_at=at)

    def moment(self, moment_id: str) -> MomentRecord:
        """Return a moment (41060 invalid moment_id otherwise)."""
        moment = self.by_id.get(moment_id)
        if moment is None:
            raise WeComFault(41060, f"invalid moment_id: {moment_id}")
        return moment

    def publish(self, moment_id: str, userid: str, now: float) -> None:
        """Make an executor publish a corp moment now (a test helper; ValueError if it
        cannot: unknown moment or executor, or a cancelled moment)."""
        task = self.by_id[moment_id].tasks[userid]
        if task.published(now):
            return
        if self.by_id[moment_id].cancelled:
            raise ValueError("the moment was cancelled")
        task.publish_at = int(now)

    def cancel(self, moment: MomentRecord, now: float) -> None:
        """Stop every executor who has not published yet."""
        moment.cancelled = True
        for task in moment.tasks.values():
            if not task.published(now):
                task.publish_at = None


def _is_corp_tag(state: CorpState, tag_id: str) -> bool:
    found = state.tags.lookup(tag_id)
    return found is not None and found[0].type == CORP_TAG


def _executors(state: CorpState, job: MomentJob) -> tuple[list[str], list[str], list[int]]:
    """(executors, unknown userids, unknown departments) of a job's sender list."""

    def active(userid: str) -> bool:
        staff = state.staff.get(userid)
        return staff is not None and staff.customer_contact and not staff.resigned

    if not job.user_list and not job.department_list:
        return [u for u in state.staff if active(u)], [], []
    chosen = [u for u in dict.fromkeys(job.user_list) if active(u)]
    bad_users = [u for u in job.user_list if not active(u)]
    known = {d for s in state.staff.values() for d in s.department}
    bad_departments = [d for d in job.department_list if d not in known]
    for staff in state.staff.values():
        if set(job.department_list).intersection(staff.department) and active(staff.userid):
            chosen.append(staff.userid)
    return list(dict.fromkeys(chosen)), bad_users, bad_departments


def _content(state: CorpState, job: MomentJob) -> JSON:
    """The moment_list rendering of a job's text and attachments."""
    out: JSON = {}
    if job.text:
        out["text"] = {"content": job.text}
    images = [{"media_id": a.media_id} for a in job.attachments if a.msgtype == "image"]
    if images:
        out["image"] = list(images)
    for item in job.attachments:
        if item.msgtype == "video":
            out["video"] = {"media_id": item.media_id, "thumb_media_id": state.new_id("3t")}
        elif item.msgtype == "link":
            out["link"] = {"title": item.title, "url": item.url}
    return out


def interactions(moment: MomentRecord, task: MemberTask, now: float) -> JSON:
    """Comments and likes on one executor's moment, up to ``now`` (deterministic)."""
    rng = random.Random(f"{moment.moment_id}:{task.userid}")
    start = task.publish_at or moment.create_time
    pool = sorted(task.customers)

    def pick(count: int) -> list[JSON]:
        chosen = rng.sample(pool, count)
        times = [start + rng.randint(1, INTERACTION_WINDOW) for _ in chosen]
        items = sorted(zip(times, chosen, strict=True))
        return [{"external_userid": c, "create_time": t} for t, c in items if t <= now]

    likes = pick(len(pool) // 2)
    comments = pick(len(pool) // 3)
    return {"comment_list": comments, "like_list": likes}
