"""client.moments (endpoints.md #45-#52) end to end against the fake WeCom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from wecom_async import (
    APIError,
    RateLimitError,
    SystemBusyError,
    TransportError,
    ValidationError,
    WeComClient,
    from_dict,
    to_dict,
)
from wecom_async.models.attachments import Image, ImageAttachment, Text
from wecom_async.models.moments import (
    AddMomentTaskRequest,
    Moment,
    MomentCreateType,
    MomentFilterType,
    MomentPublishStatus,
    MomentSenderList,
    MomentTaskStatus,
    MomentVisibleRange,
    MomentVisibleType,
)
from wecom_async.testing import FakeWeCom, Follower
from wecom_async.testing.routes._moments_state import MomentsState

ADD = "externalcontact/add_moment_task"
RESULT = "externalcontact/get_moment_task_result"
CANCEL = "externalcontact/cancel_moment_task"
LIST = "externalcontact/get_moment_list"
TASK = "externalcontact/get_moment_task"
CUSTOMERS = "externalcontact/get_moment_customer_list"
SEND_RESULT = "externalcontact/get_moment_send_result"
COMMENTS = "externalcontact/get_moment_comments"
PATHS = (ADD, RESULT, CANCEL, LIST, TASK, CUSTOMERS, SEND_RESULT, COMMENTS)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
DAY = 86400


@dataclass
class Corp:
    fake: FakeWeCom
    important: str
    normal: str
    strategy_tag: str
    #: customers per member, in the order the member follows them
    customers: dict[str, list[str]]


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> Corp:
    """zhangsan, lisi (dept 2), wangwu (dept 3) with customers; nofeature has no feature."""
    for userid, department in (("zhangsan", 2), ("lisi", 2), ("wangwu", 3)):
        wecom_fake.add_staff(userid, department=[department])
    wecom_fake.add_staff("nofeature", department=[3], customer_contact=False)
    now = int(wecom_fake.clock.now())
    tags = wecom_fake.state.tags
    important, normal = tags.add_group("客户等级", ["重要", "普通"], create_time=now).tag_ids
    (strategy_tag,) = tags.add_group("规则组", ["华东"], create_time=now, strategy_id=1).tag_ids
    plan = {
        "zhangsan": [[important], [], [normal]],
        "lisi": [[], [strategy_tag]],
        "wangwu": [[important], [important, normal]],
    }
    customers: dict[str, list[str]] = {}
    for userid, tag_sets in plan.items():
        customers[userid] = [
            wecom_fake.add_customer(followers=[Follower(userid=userid, tag_ids=t)])
            for t in tag_sets
        ]
    return Corp(wecom_fake, important, normal, strategy_tag, customers)


async def upload_image(client: WeComClient) -> str:
    result = await client.media.upload_attachment(PNG, media_type="image", attachment_type=1)
    return result.media_id


async def publish(
    corp: Corp, client: WeComClient, body: AddMomentTaskRequest | dict[str, Any]
) -> str:
    """Create the job, let it finish on the fake clock, return the moment_id."""
    jobid = await client.moments.add_moment_task(body)
    corp.fake.clock.advance(5)
    result = await client.moments.get_moment_task_result(jobid)
    assert result.result is not None
    assert result.result.moment_id is not None
    return result.result.moment_id


def last_request(fake: FakeWeCom, path: str) -> tuple[str, dict[str, Any] | None]:
    request = fake.requests[-1]
    assert request.path == path
    return request.method, request.json


def sent_nothing(fake: FakeWeCom) -> bool:
    return all(fake.calls(path) == 0 for path in PATHS)


# -- the lifecycle: publish, poll, list --------------------------------------------------


async def test_publish_poll_to_completion_and_list(corp: Corp, wecom_client: WeComClient) -> None:
    fake = corp.fake
    media_id = await upload_image(wecom_client)
    body = AddMomentTaskRequest(
        text=Text(content="新品上市"),
        attachments=[ImageAttachment(image=Image(media_id=media_id))],
    )
    created = int(fake.clock.now())
    jobid = await wecom_client.moments.add_moment_task(body)
    assert last_request(fake, ADD) == (
        "POST",
        {
            "text": {"content": "新品上市"},
            "attachments": [{"msgtype": "image", "image": {"media_id": media_id}}],
        },
    )

    started = await wecom_client.moments.get_moment_task_result(jobid)
    assert (started.status, started.type, started.result, started.finished) == (
        MomentTaskStatus.STARTED,
        "add_moment_task",
        None,
        False,
    )
    request = fake.requests[-1]
    assert (request.method, request.path, request.json) == ("GET", RESULT, None)
    assert request.query == {"access_token": "***", "jobid": jobid}

    fake.clock.advance(2)
    assert (await wecom_client.moments.get_moment_task_result(jobid)).status == 2
    fake.clock.advance(3)
    done = await wecom_client.moments.get_moment_task_result(jobid)
    assert done.finished
    assert done.status is MomentTaskStatus.FINISHED
    assert done.result is not None
    assert done.result.errcode == 0
    moment_id = done.result.moment_id
    assert moment_id is not None
    assert moment_id.startswith("mom")

    page = await wecom_client.moments.get_moment_list(created, created + 60)
    assert [m.moment_id for m in page.items] == [moment_id]
    (moment,) = page.items
    assert moment.creator is None  # not returned for moments made by add_moment_task
    assert (moment.create_type, moment.visible_type) == (
        MomentCreateType.CORP,
        MomentVisibleType.PUBLIC,
    )
    assert moment.create_timestamp == created + 5
    assert moment.text == Text(content="新品上市")
    assert moment.image == [Image(media_id=media_id)]
    assert page.next_cursor == ""
    # Every member with the feature executes a moment without a visible_range.
    tasks = [t async for t in wecom_client.moments.get_moment_task(moment_id)]
    assert [t.userid for t in tasks] == ["zhangsan", "lisi", "wangwu"]
    assert {t.publish_status for t in tasks} == {MomentPublishStatus.NOT_PUBLISHED}


async def test_visible_range_reports_ignored_senders_and_tags(
    corp: Corp, wecom_client: WeComClient
) -> None:
    fake = corp.fake
    body = {
        "text": {"content": "只给重要客户"},
        "visible_range": {
            "sender_list": {
                "user_list": ["zhangsan", "ghost", "nofeature"],
                "department_list": [3, 99],
            },
            "external_contact_list": {"tag_list": [corp.important, corp.strategy_tag, "etUnknown"]},
        },
    }
    jobid = await wecom_client.moments.add_moment_task(body)
    assert last_request(fake, ADD) == ("POST", body)
    fake.clock.advance(5)
    result = await wecom_client.moments.get_moment_task_result(jobid)
    assert result.result is not None
    invalid_senders = result.result.invalid_sender_list
    invalid_tags = result.result.invalid_external_contact_list
    assert invalid_senders is not None
    assert invalid_tags is not None
    assert (invalid_senders.user_list, invalid_senders.department_list) == (
        ["ghost", "nofeature"],
        [99],
    )
    assert invalid_tags.tag_list == [corp.strategy_tag, "etUnknown"]
    moment_id = result.result.moment_id
    assert moment_id is not None

    # zhangsan (listed) and wangwu (department 3) execute; only their "重要" customers see it.
    tasks = [t.userid async for t in wecom_client.moments.get_moment_task(moment_id)]
    assert tasks == ["zhangsan", "wangwu"]
    chosen = [
        (c.userid, c.external_userid)
        async for c in wecom_client.moments.get_moment_customer_list(moment_id, "wangwu")
    ]
    assert chosen == [("wangwu", e) for e in corp.customers["wangwu"]]
    zhangsan = await wecom_client.moments.get_moment_customer_list(moment_id, "zhangsan")
    assert [c.external_userid for c in zhangsan.items] == corp.customers["zhangsan"][:1]
    start = int(fake.clock.now()) - 60
    (moment,) = (await wecom_client.moments.get_moment_list(start, start + 120)).items
    assert moment.visible_type == MomentVisibleType.PARTIAL


async def test_a_video_and_a_link_moment(corp: Corp, wecom_client: WeComClient) -> None:
    video = await wecom_client.media.upload_attachment(MP4, media_type="video", attachment_type=1)
    cover = await upload_image(wecom_client)
    await publish(
        corp,
        wecom_client,
        {"attachments": [{"msgtype": "video", "video": {"media_id": video.media_id}}]},
    )
    link = {"title": "活动详情", "url": "https://example.com/a", "media_id": cover}
    await publish(corp, wecom_client, {"attachments": [{"msgtype": "link", "link": link}]})
    now = int(corp.fake.clock.now())
    first, second = (await wecom_client.moments.get_moment_list(now - 60, now + 1)).items
    assert first.video is not None
    assert first.video.media_id == video.media_id
    assert first.video.thumb_media_id
    assert second.link is not None
    assert (second.link.title, second.link.url) == ("活动详情", "https://example.com/a")


# -- add_moment_task: refused locally ----------------------------------------------------

IMG = {"msgtype": "image", "image": {"media_id": "3mImage"}}
VIDEO = {"msgtype": "video", "video": {"media_id": "3mVideo"}}
LINK = {"msgtype": "link", "link": {"title": "t", "url": "https://e.com", "media_id": "3mCover"}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "both are empty"),
        ({"text": {"content": ""}, "attachments": []}, "both are empty"),
        ({"text": {"content": "字" * 2001}}, "2001 characters"),
        ({"text": {"content": "字" * 1334}}, "4002 bytes"),
        ({"attachments": [IMG] * 10}, "at most 9 image"),
        ({"attachments": [VIDEO, VIDEO]}, "at most 1 video"),
        ({"attachments": [LINK, LINK]}, "at most 1 link"),
        ({"attachments": [IMG, VIDEO]}, "cannot mix"),
        ({"attachments": [{"msgtype": "file", "file": {"media_id": "x"}}]}, "image, video or link"),
        (
            {"attachments": [{"msgtype": "miniprogram", "miniprogram": {"title": "m"}}]},
            "image, video or link",
        ),
        ({"attachments": [{"msgtype": "image", "image": {"pic_url": "https://p"}}]}, "media_id"),
        ({"attachments": [{"msgtype": "video", "video": {}}]}, "media_id"),
        ({"attachments": [{"msgtype": "link", "link": {"url": "https://e.com"}}]}, "link.url and"),
        (
            {"attachments": [{"msgtype": "link", "link": {**LINK["link"], "title": "t" * 65}}]},  # type: ignore[dict-item]
            "65 characters",
        ),
        (
            {"attachments": [{"msgtype": "image"}]},
            r"required field missing @ \$.attachments\[0\].image",
        ),
        (
            {
                "text": {"content": "x"},
                "visible_range": {"sender_list": {"user_list": ["u"] * 100_001}},
            },
            "at most 100000",
        ),
        (
            {"text": {"content": "x"}, "visible_range": {"sender_list": {"user_list": [""]}}},
            "non-empty",
        ),
        ({"text": {"content": "x"}, "unknown_field": 1}, "unknown_field"),
    ],
    ids=[
        "empty",
        "empty-text-and-list",
        "2001-chars",
        "4002-bytes",
        "10-images",
        "2-videos",
        "2-links",
        "mixed",
        "file",
        "miniprogram",
        "image-pic-url-only",
        "video-without-media",
        "link-without-cover",
        "link-title-65-chars",
        "missing-sub-object",
        "100001-senders",
        "empty-sender",
        "unknown-key",
    ],
)
async def test_add_moment_task_refused_locally(
    corp: Corp, wecom_client: WeComClient, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await wecom_client.moments.add_moment_task(body)
    assert sent_nothing(corp.fake)


def test_the_request_model_checks_at_construction() -> None:
    with pytest.raises(ValidationError, match="both are empty"):
        AddMomentTaskRequest(text=Text(content=""))
    with pytest.raises(ValidationError, match="at most 100000"):
        MomentSenderList(user_list=["u"] * 100_001)
    limits = AddMomentTaskRequest(
        text=Text(content="字" * 1333 + "a"),  # 1334 characters, 4000 bytes
        attachments=[ImageAttachment(image=Image(media_id="m"))] * 9,
        visible_range=MomentVisibleRange(sender_list=MomentSenderList(user_list=["u"] * 100_000)),
    )
    assert len(to_dict(limits)["attachments"]) == 9  # type: ignore[arg-type]


# -- add_moment_task: server answers and no resend ---------------------------------------


async def test_more_than_ten_creations_a_minute_answer_45009(
    corp: Corp, wecom_client: WeComClient
) -> None:
    fake = corp.fake
    for _ in range(10):
        await wecom_client.moments.add_moment_task({"text": {"content": "hi"}})
    with pytest.raises(RateLimitError) as caught:
        await wecom_client.moments.add_moment_task({"text": {"content": "hi"}})
    assert caught.value.errcode == 45009
    # 45009 is a refusal (nothing created), so the SDK retried it: 4 attempts in all.
    assert fake.calls(ADD) == 10 + 4
    assert len(fake.state.ext(MomentsState).jobs) == 10
    fake.clock.advance(60)
    await wecom_client.moments.add_moment_task({"text": {"content": "again"}})
    assert len(fake.state.ext(MomentsState).jobs) == 11


@pytest.mark.parametrize(
    ("knob", "value", "errcode"),
    [("max_running_jobs", 1, 41078), ("enabled", False, 41211), ("monthly_quota", 1, 41210)],
)
async def test_corp_limits_answer_their_errcodes(
    corp: Corp, wecom_client: WeComClient, knob: str, value: object, errcode: int
) -> None:
    store = corp.fake.state.ext(MomentsState)
    setattr(store, knob, value)
    if knob != "enabled":
        await wecom_client.moments.add_moment_task({"text": {"content": "first"}})
    with pytest.raises(APIError) as caught:
        await wecom_client.moments.add_moment_task({"text": {"content": "second"}})
    assert caught.value.errcode == errcode
    assert corp.fake.calls(ADD) == (1 if knob == "enabled" else 2)


async def test_add_moment_task_is_never_resent_after_an_ambiguous_failure(
    corp: Corp, wecom_client: WeComClient
) -> None:
    fake = corp.fake
    fake.inject(ADD, errcode=-1)
    with pytest.raises(SystemBusyError):
        await wecom_client.moments.add_moment_task({"text": {"content": "once"}})
    assert fake.calls(ADD) == 1
    fake.inject(ADD, drop=True)
    with pytest.raises(TransportError):
        await wecom_client.moments.add_moment_task({"text": {"content": "once"}})
    assert fake.calls(ADD) == 2
    # The dropped request did create a job: a resend would have published twice.
    assert len(fake.state.ext(MomentsState).jobs) == 1


async def test_a_job_with_a_bad_media_id_finishes_with_its_own_errcode(
    corp: Corp, wecom_client: WeComClient
) -> None:
    fake = corp.fake
    stale_id = await upload_image(wecom_client)
    fake.clock.advance(3 * DAY)
    unknown = await wecom_client.moments.add_moment_task({"attachments": [IMG]})
    stale = await wecom_client.moments.add_moment_task(
        {"attachments": [{"msgtype": "image", "image": {"media_id": stale_id}}]}
    )
    fake.clock.advance(5)
    for jobid, errcode in ((unknown, 40007), (stale, 40145)):
        result = await wecom_client.moments.get_moment_task_result(jobid)
        assert result.finished
        assert result.result is not None
        assert (result.result.errcode, result.result.moment_id) == (errcode, None)
    assert fake.state.ext(MomentsState).moments == []


# -- get_moment_task_result / cancel_moment_task -----------------------------------------


async def test_task_result_errors_and_retry(corp: Corp, wecom_client: WeComClient) -> None:
    fake = corp.fake
    with pytest.raises(ValidationError):
        await wecom_client.moments.get_moment_task_result("")
    assert sent_nothing(fake)
    with pytest.raises(APIError) as caught:
        await wecom_client.moments.get_moment_task_result("job-unknown")
    assert caught.value.errcode == 40088
    jobid = await wecom_client.moments.add_moment_task({"text": {"content": "hi"}})
    fake.inject(RESULT, errcode=-1)  # retry-safe: resent after system busy
    assert (await wecom_client.moments.get_moment_task_result(jobid)).status == 1
    assert fake.calls(RESULT) == 1 + 2
    fake.clock.advance(DAY)
    with pytest.raises(APIError) as expired:
        await wecom_client.moments.get_moment_task_result(jobid)
    assert expired.value.errcode == 40088


async def test_cancel_stops_executors_who_have_not_published(
    corp: Corp, wecom_client: WeComClient
) -> None:
    fake = corp.fake
    moment_id = await publish(corp, wecom_client, {"text": {"content": "限时活动"}})
    fake.clock.advance(600)  # the first executor publishes 600 s after creation
    await wecom_client.moments.cancel_moment_task(moment_id)
    assert last_request(fake, CANCEL) == ("POST", {"moment_id": moment_id})
    fake.clock.advance(10 * 600)
    tasks = [
        (t.userid, t.publish_status) async for t in wecom_client.moments.get_moment_task(moment_id)
    ]
    assert tasks == [("zhangsan", 1), ("lisi", 0), ("wangwu", 0)]
    with pytest.raises(APIError) as not_published:
        await wecom_client.moments.get_moment_send_result(moment_id, "lisi")
    assert not_published.value.errcode == 41062


async def test_cancel_errors(corp: Corp, wecom_client: WeComClient) -> None:
    fake = corp.fake
    with pytest.raises(ValidationError):
        await wecom_client.moments.cancel_moment_task(" ")
    assert sent_nothing(fake)
    with pytest.raises(APIError) as unknown:
        await wecom_client.moments.cancel_moment_task("momUnknown")
    assert unknown.value.errcode == 41060
    personal = fake.state.ext(MomentsState).add_personal_moment(
        fake.state, "zhangsan", create_time=int(fake.clock.now())
    )
    with pytest.raises(APIError) as wrong_type:
        await wecom_client.moments.cancel_moment_task(personal.moment_id)
    assert wrong_type.value.errcode == 41067
    fake.inject(CANCEL, errcode=-1)
    with pytest.raises(SystemBusyError):
        await wecom_client.moments.cancel_moment_task(personal.moment_id)
    assert fake.calls(CANCEL) == 3  # not retry-safe: the -1 was not resent


# -- get_moment_list ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_time": 1000, "end_time": 1000 + 30 * DAY + 1}, "at most 30 days"),
        ({"start_time": 1000, "end_time": 1000}, "after start_time"),
        ({"start_time": 2000, "end_time": 1000}, "after start_time"),
        ({"start_time": datetime(2024, 1, 1), "end_time": 2_000_000_000}, "timezone-aware"),
        ({"start_time": -1, "end_time": 1000}, "negative"),
        ({"start_time": "1000", "end_time": 2000}, "Unix seconds"),
        ({"start_time": 1000, "end_time": 2000, "limit": 21}, "limit"),
        ({"start_time": 1000, "end_time": 2000, "limit": 0}, "limit"),
        ({"start_time": 1000, "end_time": 2000, "filter_type": 3}, "filter_type"),
        ({"start_time": 1000, "end_time": 2000, "creator": ""}, "creator"),
    ],
    ids=[
        "span-over-30-days",
        "empty-span",
        "reversed",
        "naive-datetime",
        "negative",
        "string-time",
        "limit-21",
        "limit-0",
        "filter-type-3",
        "empty-creator",
    ],
)
async def test_get_moment_list_refused_locally(
    corp: Corp, wecom_client: WeComClient, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        wecom_client.moments.get_moment_list(**kwargs)
    assert sent_nothing(corp.fake)


async def test_get_moment_list_pages_filters_and_keeps_strictly_inside(
    corp: Corp, wecom_client: WeComClient
) -> None:
    fake, store = corp.fake, corp.fake.state.ext(MomentsState)
    t0 = int(fake.clock.now())
    personal = [
        store.add_personal_moment(fake.state, userid, create_time=t0 + offset).moment_id
        for userid, offset in (("zhangsan", 10), ("lisi", 20), ("zhangsan", 30), ("zhangsan", 40))
    ]
    fake.clock.advance(100)
    corp_moment = await publish(corp, wecom_client, {"text": {"content": "企业"}})

    paginator = wecom_client.moments.get_moment_list(t0 + 10, t0 + 200, limit=2)
    first = await paginator
    assert [m.moment_id for m in first.items] == personal[1:3]  # t0+10 is not inside
    assert first.next_cursor
    assert last_request(fake, LIST) == (
        "POST",
        {"start_time": t0 + 10, "end_time": t0 + 200, "filter_type": 2, "limit": 2},
    )
    assert [m.moment_id async for m in paginator] == [*personal[1:], corp_moment]
    _, body = last_request(fake, LIST)
    assert body is not None
    assert set(body) == {
        "start_time",
        "end_time",
        "filter_type",
        "limit",
        "cursor",
    }

    beijing = timezone(timedelta(hours=8))
    start = datetime.fromtimestamp(t0, beijing)
    mine = wecom_client.moments.get_moment_list(
        start, start + timedelta(days=30), creator="zhangsan", filter_type=MomentFilterType.PERSONAL
    )
    assert [m.moment_id async for m in mine] == [personal[0], personal[2], personal[3]]
    assert last_request(fake, LIST) == (
        "POST",
        {
            "start_time": t0,
            "end_time": t0 + 30 * DAY,
            "filter_type": 1,
            "limit": 20,
            "creator": "zhangsan",
        },
    )
    corp_only = await wecom_client.moments.get_moment_list(t0, t0 + DAY, filter_type=0)
    assert [m.moment_id for m in corp_only.items] == [corp_moment]
    assert {m.creator for m in first.items} == {"lisi", "zhangsan"}
    assert {m.create_type for m in first.items} == {MomentCreateType.PERSONAL}


async def test_a_cursor_belongs_to_its_query(corp: Corp, wecom_client: WeComClient) -> None:
    fake, store = corp.fake, corp.fake.state.ext(MomentsState)
    t0 = int(fake.clock.now())
    for offset in (1, 2):
        store.add_personal_moment(fake.state, "lisi", create_time=t0 + offset)
    first = await wecom_client.moments.get_moment_list(t0, t0 + 10, limit=1)
    assert first.next_cursor
    with pytest.raises(APIError) as caught:
        await wecom_client.moments.get_moment_list(t0, t0 + 11, limit=1, cursor=first.next_cursor)
    assert caught.value.errcode == 50100


def test_create_time_may_be_a_numeric_string() -> None:
    moment = from_dict(Moment, {"moment_id": "mom1", "create_time": "1605000000"})
    assert (moment.create_time, moment.create_timestamp) == ("1605000000", 1605000000)
    assert to_dict(moment) == {"moment_id": "mom1", "create_time": "1605000000"}


# -- per-member reads ----------------------------------------------------------------------


async def test_member_reads_page_and_follow_publishing(
    corp: Corp, wecom_client: WeComClient
) -> None:
    fake = corp.fake
    moment_id = await publish(corp, wecom_client, {"text": {"content": "hello"}})
    moments = wecom_client.moments

    first = await moments.get_moment_task(moment_id, limit=2)
    assert last_request(fake, TASK) == ("POST", {"moment_id": moment_id, "limit": 2})
    assert [t.userid for t in first.items] == ["zhangsan", "lisi"]
    assert [t.userid async for t in moments.get_moment_task(moment_id, limit=1)] == [
        "zhangsan",
        "lisi",
        "wangwu",
    ]

    chosen = await moments.get_moment_customer_list(moment_id, "zhangsan", limit=2)
    assert last_request(fake, CUSTOMERS) == (
        "POST",
        {"moment_id": moment_id, "userid": "zhangsan", "limit": 2},
    )
    assert [c.external_userid for c in chosen.items] == corp.customers["zhangsan"][:2]
    everyone = [c async for c in moments.get_moment_customer_list(moment_id, "zhangsan", limit=2)]
    assert [c.external_userid for c in everyone] == corp.customers["zhangsan"]

    with pytest.raises(APIError) as early:
        await moments.get_moment_send_result(moment_id, "zhangsan")
    assert early.value.errcode == 41062
    with pytest.raises(APIError) as early_comments:
        await moments.get_moment_comments(moment_id, "zhangsan")
    assert early_comments.value.errcode == 41062

    fake.state.ext(MomentsState).publish(moment_id, "zhangsan", fake.clock.now())
    gone = corp.customers["zhangsan"][1]
    fake.remove_follow(gone, "zhangsan")
    seen = [c async for c in moments.get_moment_send_result(moment_id, "zhangsan", limit=1)]
    method, body = last_request(fake, SEND_RESULT)
    assert method == "POST"
    assert body is not None
    assert set(body) == {"moment_id", "userid", "limit", "cursor"}
    assert (body["moment_id"], body["userid"], body["limit"]) == (moment_id, "zhangsan", 1)
    assert [c.external_userid for c in seen] == [e for e in corp.customers["zhangsan"] if e != gone]
    assert {c.userid for c in seen} == {None}
    status = {t.userid: t.publish_status async for t in moments.get_moment_task(moment_id)}
    assert status == {"zhangsan": 1, "lisi": 0, "wangwu": 0}


async def test_member_reads_refuse_bad_arguments_locally(
    corp: Corp, wecom_client: WeComClient
) -> None:
    moments = wecom_client.moments
    calls: list[Callable[[], object]] = [
        lambda: moments.get_moment_task("", limit=10),
        lambda: moments.get_moment_task("mom1", limit=1001),
        lambda: moments.get_moment_task("mom1", limit=0),
        lambda: moments.get_moment_customer_list("mom1", "", limit=10),
        lambda: moments.get_moment_customer_list("mom1", "zhangsan", limit=1001),
        lambda: moments.get_moment_send_result("mom1", "zhangsan", limit=5001),
        lambda: moments.get_moment_send_result("", "zhangsan"),
    ]
    for call in calls:
        with pytest.raises(ValidationError):
            call()
    for moment_id, userid in (("", "zhangsan"), ("mom1", " ")):
        with pytest.raises(ValidationError):
            await moments.get_moment_comments(moment_id, userid)
    assert sent_nothing(corp.fake)
    # The largest pages are accepted.
    with pytest.raises(APIError):
        await moments.get_moment_send_result("momUnknown", "zhangsan", limit=5000)


async def test_member_reads_server_errors(corp: Corp, wecom_client: WeComClient) -> None:
    fake = corp.fake
    moment_id = await publish(
        corp,
        wecom_client,
        {"text": {"content": "x"}, "visible_range": {"sender_list": {"user_list": ["lisi"]}}},
    )
    moments = wecom_client.moments
    for call, errcode in (
        (lambda: moments.get_moment_task("momUnknown"), 41060),
        (lambda: moments.get_moment_customer_list(moment_id, "zhangsan"), 41061),
        (lambda: moments.get_moment_send_result(moment_id, "wangwu"), 41061),
        (lambda: moments.get_moment_comments(moment_id, "zhangsan"), 41061),
    ):
        with pytest.raises(APIError) as caught:
            await call()  # type: ignore[operator]
        assert caught.value.errcode == errcode
    personal = fake.state.ext(MomentsState).add_personal_moment(
        fake.state, "wangwu", create_time=int(fake.clock.now())
    )
    with pytest.raises(APIError) as personal_task:
        await moments.get_moment_task(personal.moment_id)
    assert personal_task.value.errcode == 41067
    # A personal moment is published by its creator at once: its reach can be read.
    reach = [
        c.external_userid
        async for c in moments.get_moment_send_result(personal.moment_id, "wangwu")
    ]
    assert reach == corp.customers["wangwu"]


@pytest.mark.parametrize("path", [LIST, TASK, CUSTOMERS, SEND_RESULT, COMMENTS])
async def test_reads_are_retried_after_system_busy(
    corp: Corp, wecom_client: WeComClient, path: str
) -> None:
    fake = corp.fake
    moment_id = await publish(corp, wecom_client, {"text": {"content": "x"}})
    fake.state.ext(MomentsState).publish(moment_id, "zhangsan", fake.clock.now())
    now = int(fake.clock.now())
    moments = wecom_client.moments
    calls = {
        LIST: lambda: moments.get_moment_list(now - 60, now + 60),
        TASK: lambda: moments.get_moment_task(moment_id),
        CUSTOMERS: lambda: moments.get_moment_customer_list(moment_id, "zhangsan"),
        SEND_RESULT: lambda: moments.get_moment_send_result(moment_id, "zhangsan"),
        COMMENTS: lambda: moments.get_moment_comments(moment_id, "zhangsan"),
    }
    fake.inject(path, errcode=-1, times=2)
    await calls[path]()  # type: ignore[operator]
    assert fake.calls(path) == 3


async def test_comments_and_likes_are_deterministic_and_grow_over_time(
    corp: Corp, wecom_client: WeComClient, wecom_fake: FakeWeCom
) -> None:
    for _ in range(4):
        corp.customers["wangwu"].append(wecom_fake.add_customer(followers=["wangwu"]))
    moment_id = await publish(corp, wecom_client, {"text": {"content": "x"}})
    store = wecom_fake.state.ext(MomentsState)
    store.publish(moment_id, "wangwu", wecom_fake.clock.now())
    published = int(wecom_fake.clock.now())
    early = await wecom_client.moments.get_moment_comments(moment_id, "wangwu")
    assert last_request(wecom_fake, COMMENTS) == (
        "POST",
        {"moment_id": moment_id, "userid": "wangwu"},
    )
    wecom_fake.clock.advance(3600)
    late = await wecom_client.moments.get_moment_comments(moment_id, "wangwu")
    assert late == await wecom_client.moments.get_moment_comments(moment_id, "wangwu")
    # 6 visible customers: 3 likes and 2 comments within the hour after publishing.
    assert (len(late.like_list), len(late.comment_list)) == (3, 2)
    assert len(early.like_list) + len(early.comment_list) == 0
    for item in (*late.like_list, *late.comment_list):
        assert item.external_userid in corp.customers["wangwu"]
        assert item.userid is None
        assert item.create_time is not None
        assert published < item.create_time <= published + 3600
