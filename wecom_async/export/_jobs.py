"""The export kinds: customers, group chats, tags and contact ways, each a small :class:`Job`.

Every record written is ``wecom_async.to_dict`` of the model the public service method
returned: WeCom's wire names, fields added by WeCom after this release included. Customers,
the bulk of most exports, are written straight from the wire dicts once their models have
read them (the same values; see :meth:`CustomersJob.fetch`). The CSV columns of each kind
are its ``columns`` (listed in ``wecom-async export --help``); list and object cells hold
compact JSON, keys sorted.

Docs: https://developer.work.weixin.qq.com/document/path/92571 (get_follow_user_list),
https://developer.work.weixin.qq.com/document/path/92994 (batch/get_by_user),
https://developer.work.weixin.qq.com/document/path/92120 (groupchat/list),
https://developer.work.weixin.qq.com/document/path/92122 (groupchat/get),
https://developer.work.weixin.qq.com/document/path/92117 (get_corp_tag_list),
https://developer.work.weixin.qq.com/document/path/94882 (get_strategy_tag_list),
https://developer.work.weixin.qq.com/document/path/92228 (list_contact_way, get_contact_way).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Final, cast

from .._client import WeComClient
from .._converter import to_dict
from .._core import Endpoint
from .._exceptions import ValidationError, WeComError
from .._jsontext import json_text
from .._logging import redact
from .._validation import check_ids, check_range, check_whole
from ..models import CustomerWithFollowInfo
from ..models._base import JsonObject, JsonValue, WireModel
from ..pagination import Page
from ..services import ENDPOINTS
from ..services._base import Body, cursor_body
from ..services._base import _page as read_page
from ..services.external_contact import MAX_BATCH_USERIDS
from ._checkpoint import Failure, lost
from ._job import Batch, Job, Unit, fetch_each
from ._jobs_acquisition import AcquisitionJob
from ._jobs_messages import GroupMessagesJob
from ._jobs_moments import MomentsJob
from ._jobs_stats import BehaviorStatsJob
from ._jobs_transfers import TransfersJob
from ._members import halves, userids
from ._windowed import WindowedJob

__all__ = [
    "JOBS",
    "ContactWaysJob",
    "CustomersJob",
    "GroupChatsJob",
    "TagsJob",
    "auto_chunk_size",
    "make_job",
    "ranged",
]

#: batch/get_by_user page size: WeCom's maximum (endpoints.md #5).
CUSTOMER_PAGE: Final = 100
#: groupchat/list page size: each page's groups are then fetched one by one, so a page
#: stays small enough to redo cheaply after an interruption.
GROUP_PAGE: Final = 100
#: list_contact_way page size, for the same reason.
CONTACT_WAY_PAGE: Final = 100
#: list_contact_way lists only ways created after 2021-07-10 (00:00 Beijing time).
CONTACT_WAY_EPOCH: Final = 1_625_846_400
#: list_contact_way's default window is 90 days; the export walks windows of that span.
CONTACT_WAY_WINDOW: Final = 90 * 86_400
UNLICENSED: Final = "unlicensed"
UNLICENSED_DETAIL: Final = "no valid interop (互通) license: their customers cannot be read"
#: The reason of a ``fail_info`` this release cannot read whole (another kind of failure,
#: another shape): it names the whole chunk, since which members it means is unknown.
ODD_FAIL_INFO: Final = "fail_info"
#: Characters of such a ``fail_info`` quoted in the failure's detail (it is one line of
#: the checkpoint and the summary, whatever WeCom sent).
FAIL_INFO_QUOTED: Final = 500


def auto_chunk_size(members: int, concurrency: int) -> int:
    """Follow-users per unit: up to 100, but small enough to give every worker two units.

    A unit is paged sequentially (each cursor comes from the page before), so a corp with
    few members in 100-member chunks would leave most workers idle.
    """
    return max(1, min(MAX_BATCH_USERIDS, math.ceil(members / (2 * max(1, concurrency)))))


class _MemberChunksJob(Job):
    """A job whose units are chunks of the follow-users (``get_follow_user_list``)."""

    unit_label = "follow-users"

    def __init__(self, *, chunk_size: int | None = None, concurrency: int = 16) -> None:
        if chunk_size is not None:
            check_range(chunk_size, "chunk_size", low=1, high=MAX_BATCH_USERIDS)
        self._chunk_size = chunk_size
        self._concurrency = check_whole(concurrency, "concurrency")

    async def plan(self, client: WeComClient) -> list[Unit]:
        """Chunk the follow-users: ``GET /cgi-bin/externalcontact/get_follow_user_list``."""
        members = await client.external_contact.get_follow_user_list()
        size = self._chunk_size or auto_chunk_size(len(members), self._concurrency)
        chunks = [members[i : i + size] for i in range(0, len(members), size)]
        return [Unit({"userids": list[JsonValue](chunk)}, len(chunk)) for chunk in chunks]

    def ids(self, spec: JsonObject) -> tuple[str, ...]:
        """The chunk's userids."""
        return tuple(userids(spec))

    def split(self, spec: JsonObject, error: WeComError) -> list[Unit]:
        """Halves of a chunk refused for one bad member (60111 unknown, 40003 invalid).

        WeCom refuses ``batch/get_by_user`` (and the owner filter) whole when one userid
        is no longer valid, e.g. a member who left after the plan was made; halving until
        the bad member stands alone exports everyone else.
        """
        return halves(spec, error)


#: batch/get_by_user as its service declares it: path, retry safety, answer model, key.
_GET_BY_USER: Final = ENDPOINTS["externalcontact/batch/get_by_user"]


async def _wire_page(
    client: WeComClient, endpoint: Endpoint, item: type[WireModel], body: Body
) -> tuple[Page[WireModel], list[JsonObject]]:
    """One page read as the service reads it, and its items as WeCom sent them.

    The page is what the paginator of the endpoint's service method returns for the same
    answer (its items are validated models; a mismatch is a StructureError); the list
    is the wire dicts of those items, in the same order.
    """
    data = await client.request(
        endpoint.method, endpoint.path, json=body, retry_safe=endpoint.retry_safe
    )
    page = read_page(data, item, endpoint, _same)
    # read_page checked the key: a list of objects that each read as an ``item``, or left
    # out or null (WeCom's empty list).
    records = cast(list[JsonObject], data.get(endpoint.key or "") or [])
    return page, records


def _same(value: WireModel) -> WireModel:
    return value


def _fail_info_failures(page: Page[WireModel], ids: Sequence[str]) -> list[Failure]:
    """The partial failures a ``batch/get_by_user`` page reports in ``fail_info``.

    The unlicensed members are one failure. Anything else it holds (an unknown key such
    as another kind of failure, an odd item, a list or a string instead of an object) is
    another, for every member of the chunk, quoting what WeCom sent: members whose
    customers may be missing are never passed over in silence. An empty one (null,
    ``{}``, ``[]``) reports nothing.
    """
    info = page.fail_info
    failures = []
    if info is not None and info.unlicensed_userid_list:
        unlicensed = tuple(info.unlicensed_userid_list)
        failures.append(Failure(UNLICENSED, unlicensed, UNLICENSED_DETAIL))
    # What FailInfo could not read stays in its extra; a fail_info of another shape than
    # an object, in the page's.
    odd = dict(info.extra) if info is not None else page.extra.get("fail_info")
    if odd not in (None, [], {}):
        failures.append(Failure(ODD_FAIL_INFO, tuple(ids), _odd_detail(odd)))
    return failures


def _odd_detail(odd: JsonValue) -> str:
    quoted = redact(json_text(odd, sort_keys=True))
    if len(quoted) > FAIL_INFO_QUOTED:
        quoted = quoted[:FAIL_INFO_QUOTED] + "..."
    return (
        "WeCom reported members it could not serve in a form this release does not read; "
        f"their customers may be missing: fail_info {quoted}"
    )


def _columns(record: JsonObject, columns: Sequence[str]) -> list[JsonValue]:
    return [record.get(column) for column in columns]


def _sub(record: JsonObject, key: str) -> JsonObject:
    value = record.get(key)
    return value if isinstance(value, dict) else {}


class CustomersJob(_MemberChunksJob):
    """Every (customer, follow-user) pair: ``batch/get_by_user`` over follow-user chunks."""

    name = "customers"
    #: Customer columns from ``external_contact``, then the follower's from ``follow_info``
    #: (its ``userid`` as ``follow_userid``).
    CUSTOMER_COLUMNS: Final = (
        "external_userid", "name", "type", "gender", "avatar", "unionid", "position",
        "corp_name", "corp_full_name", "external_profile",
    )  # fmt: skip
    FOLLOW_COLUMNS: Final = (
        "remark", "description", "createtime", "tag_id", "remark_corp_name",
        "remark_mobiles", "add_way", "oper_userid", "state", "wechat_channels",
    )  # fmt: skip
    columns = (*CUSTOMER_COLUMNS, "follow_userid", *FOLLOW_COLUMNS)
    #: One record per (customer, follow-user) pair.
    identity = ("external_userid", "follow_userid")
    times = ("createtime",)

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/batch/get_by_user``, one page of the chunk.

        Sent and read as ``client.external_contact.batch_get_by_user`` does (the same
        declared endpoint, body and checks; the whole answer structured into its model,
        so every record is validated), but the records written are the wire dicts WeCom
        sent rather than ``to_dict`` of the models: the same values (the converter gives
        back what it read), without building them a second time.
        """
        ids = check_ids(userids(spec), "userid_list", max_count=MAX_BATCH_USERIDS)
        body = cursor_body({"userid_list": ids, "limit": CUSTOMER_PAGE}, cursor)
        page, records = await _wire_page(client, _GET_BY_USER, CustomerWithFollowInfo, body)
        return Batch(records, page.next_cursor or None, _fail_info_failures(page, ids))

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per pair."""
        follow = _sub(record, "follow_info")
        customer = _columns(_sub(record, "external_contact"), self.CUSTOMER_COLUMNS)
        return [[*customer, follow.get("userid"), *_columns(follow, self.FOLLOW_COLUMNS)]]


class GroupChatsJob(_MemberChunksJob):
    """Every customer group of the follow-users, members included (``groupchat/get``)."""

    name = "group-chats"
    columns = (
        "chat_id", "name", "owner", "create_time", "notice", "member_version",
        "member_count", "admin_list", "member_list",
    )  # fmt: skip
    identity = ("chat_id",)
    times = ("create_time",)

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/groupchat/list`` (owners = the chunk), then
        ``POST /cgi-bin/externalcontact/groupchat/get`` (with member names) per group."""
        page = await client.group_chat.list(
            owner_userid_list=userids(spec), limit=GROUP_PAGE, cursor=cursor
        )
        records, failures = await fetch_each(
            [summary.chat_id for summary in page.items],
            lambda chat_id: client.group_chat.get(chat_id, need_name=True),
            to_dict,
        )
        return Batch(records, page.next_cursor or None, failures)

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per group; members and admins as JSON."""
        members = record.get("member_list")
        count = len(members) if isinstance(members, list) else 0
        return [[*_columns(record, self.columns[:6]), count, record.get("admin_list"), members]]


class TagsJob(Job):
    """Every corp tag group, then every strategy (rule-group) tag group, with their tags."""

    name = "tags"
    unit_label = "tag lists"
    columns = (
        "group_id", "group_name", "group_create_time", "group_order", "strategy_id",
        "tag_id", "tag_name", "tag_create_time", "tag_order",
    )  # fmt: skip
    times = ("group_create_time", "tag_create_time")

    async def plan(self, client: WeComClient) -> list[Unit]:
        """Two units: the corp tags and the strategy tags."""
        return [Unit({"list": "corp"}), Unit({"list": "strategy"})]

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/get_corp_tag_list`` or
        ``POST /cgi-bin/externalcontact/get_strategy_tag_list`` (one page each)."""
        lister = client.tags.list if spec.get("list") == "corp" else client.tags.list_strategy
        return Batch([to_dict(group) for group in await lister()], None)

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per tag, its group's columns repeated."""
        group = [record.get(k) for k in ("group_id", "group_name", "create_time", "order")]
        group.append(record.get("strategy_id"))
        tags = record.get("tag")
        return [
            [*group, *(tag.get(k) for k in ("id", "name", "create_time", "order"))]
            for tag in (tags if isinstance(tags, list) else [])
            if isinstance(tag, dict)
        ]


class ContactWaysJob(Job):
    """Every 「联系我」 contact way, listed window by window, then read one by one."""

    name = "contact-ways"
    unit_label = "90-day windows"
    columns = (
        "config_id", "type", "scene", "style", "remark", "skip_verify", "state", "qr_code",
        "user", "party", "is_temp", "expires_in", "chat_expires_in", "unionid",
        "is_exclusive", "mark_source", "conclusions",
    )  # fmt: skip
    identity = ("config_id",)

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock

    async def plan(self, client: WeComClient) -> list[Unit]:
        """Disjoint 90-day windows from 2021-07-10 (the earliest WeCom lists) to now.

        WeCom's default window is the last 90 days and a longer one is not documented,
        so the export walks windows of that span (tolerant choice; the bounds are
        inclusive, hence the windows end one second before the next starts).
        """
        now = int(self._clock())
        starts = range(CONTACT_WAY_EPOCH, now + 1, CONTACT_WAY_WINDOW)
        return [
            Unit({"start_time": s, "end_time": min(s + CONTACT_WAY_WINDOW - 1, now)})
            for s in starts
        ]

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/list_contact_way`` for the window, then
        ``POST /cgi-bin/externalcontact/get_contact_way`` per config id."""
        start, end = spec.get("start_time"), spec.get("end_time")
        if not isinstance(start, int) or not isinstance(end, int):
            raise lost("window")
        page = await client.contact_way.list(
            start_time=start, end_time=end, limit=CONTACT_WAY_PAGE, cursor=cursor
        )
        records, failures = await fetch_each(page.items, client.contact_way.get, to_dict)
        return Batch(records, page.next_cursor or None, failures)

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per contact way."""
        return [_columns(record, self.columns)]


#: The export kinds by command-line name.
JOBS: Final[dict[str, type[Job]]] = {
    job.name: job
    for job in (
        CustomersJob,
        GroupChatsJob,
        TagsJob,
        ContactWaysJob,
        GroupMessagesJob,
        MomentsJob,
        BehaviorStatsJob,
        TransfersJob,
        AcquisitionJob,
    )
}


def make_job(
    name: str,
    *,
    chunk_size: int | None = None,
    concurrency: int = 16,
    since: int | None = None,
    until: int | None = None,
    pairs: Iterable[tuple[str, str]] = (),
) -> Job:
    """Build the export kind ``name``.

    Args:
        name: a key of :data:`JOBS`.
        chunk_size: follow-users per unit, for the follow-user chunked kinds.
        concurrency: the engine's, which sizes automatic chunks.
        since: first second of the range, for the time-ranged kinds (``ranged``).
        until: last second of the range, included.
        pairs: (handover, takeover) pairs, for ``transfers``.

    Raises:
        ValidationError: no such kind, ``chunk_size`` not a whole number from 1 to 100,
            ``concurrency`` not one of at least 1, a bound not a whole number of seconds
            from 0 to :data:`~._range.LATEST`, ``since`` after ``until``, or a range or
            pairs given to a kind that takes none.
    """
    job = JOBS.get(name) if isinstance(name, str) else None
    if job is None:
        raise ValidationError(f"no export kind {name!r}: the kinds are {', '.join(JOBS)}")
    if (since is not None or until is not None) and not issubclass(job, WindowedJob):
        raise ValidationError(f"{name} has no time range: --since / --until apply to {ranged()}")
    if pairs and job is not TransfersJob:
        raise ValidationError(f"{name} takes no transfer pairs")
    if issubclass(job, _MemberChunksJob):
        return job(chunk_size=chunk_size, concurrency=concurrency)
    if issubclass(job, WindowedJob):
        windowed = job(since=since, until=until)
        windowed.range()  # a reversed range is refused now, before any request
        return windowed
    if job is TransfersJob:
        return TransfersJob(pairs=pairs)
    return job()


def ranged() -> str:
    """The kinds that take ``--since`` / ``--until``, for messages."""
    return ", ".join(name for name, job in JOBS.items() if issubclass(job, WindowedJob))
