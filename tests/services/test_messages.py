"""client.messages mass messages (endpoints.md #59-#65) end to end against the fake WeCom."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from wecom_async import APIError, ValidationError, WeComClient, from_dict, to_dict
from wecom_async.models.attachments import Image, ImageAttachment, Link, LinkAttachment, Text
from wecom_async.models.messages import (
    AddMsgTemplateRequest,
    GroupMsg,
    GroupMsgCheckStatus,
    GroupMsgCreateType,
    GroupMsgSendStatus,
    GroupMsgTask,
    GroupMsgTaskStatus,
    TagFilter,
    TagFilterGroup,
)
from wecom_async.testing import FakeWeCom, Follower, RequestContext, Route

ADD = "externalcontact/add_msg_template"
LIST = "externalcontact/get_groupmsg_list_v2"
TASK = "externalcontact/get_groupmsg_task"
RESULT = "externalcontact/get_groupmsg_send_result"
REMIND = "externalcontact/remind_groupmsg_send"
CANCEL = "externalcontact/cancel_groupmsg_send"
LEGACY = "externalcontact/get_group_msg_result"
HI: dict[str, Any] = {"text": {"content": "hi"}}
IMAGE: dict[str, Any] = {"msgtype": "image", "image": {"media_id": "MEDIA"}}
DAY = 86400


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """zhangsan follows wmA and wmB (wmB tagged VIP), lisi follows wmC; two customer groups."""
    wecom_fake.add_staff("zhangsan")
    wecom_fake.add_staff("lisi")
    group = wecom_fake.state.tags.add_group("等级", ["VIP", "普通"], create_time=0)
    wecom_fake.state.tags.add_group("地区", ["北京"], create_time=0)
    wecom_fake.add_customer(external_userid="wmA", followers=["zhangsan"])
    vip = Follower(userid="zhangsan", tag_ids=[group.tag_ids[0]])
    wecom_fake.add_customer(external_userid="wmB", followers=[vip])
    wecom_fake.add_customer(external_userid="wmC", followers=["lisi"])
    wecom_fake.add_group_chat("zhangsan", chat_id="wrMine")
    wecom_fake.add_group_chat("lisi", chat_id="wrTheirs")
    return wecom_fake


def sent(fake: FakeWeCom, path: str) -> tuple[str, dict[str, Any] | None]:
    request = fake.requests[-1]
    assert request.path == path
    return request.method, request.json


async def add(client: WeComClient, **body: Any) -> str:
    return (await client.messages.add_msg_template({"sender": "zhangsan", **HI, **body})).msgid


# -- add_msg_template ------------------------------------------------------------------------


async def test_add_sends_the_current_shape_and_reports_unreachable_ids(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    body = AddMsgTemplateRequest(
        sender="zhangsan",
        external_userid=["wmA", "wmC", "wmNobody"],
        allow_select=True,
        text=Text(content="双十一"),
        attachments=[
            ImageAttachment(image=Image(media_id="MEDIA")),
            LinkAttachment(link=Link(title="活动", url="https://example.org")),
        ],
    )
    result = await wecom_client.messages.add_msg_template(body)
    assert result.msgid.startswith("msg")
    assert result.fail_list == ["wmC", "wmNobody"]  # wmC is not zhangsan's customer
    assert sent(corp, ADD) == (
        "POST",
        {
            "external_userid": ["wmA", "wmC", "wmNobody"],
            "sender": "zhangsan",
            "allow_select": True,
            "text": {"content": "双十一"},
            "attachments": [
                IMAGE,
                {"msgtype": "link", "link": {"title": "活动", "url": "https://example.org"}},
            ],
        },
    )
    assert [
        d.external_userid for d in corp.groupmsg(result.msgid).tasks["zhangsan"].deliveries
    ] == ["wmA"]


@pytest.mark.parametrize(
    "body",
    [
        {"external_userid": ["wmA"], "text": {"content": "hi"}, "image": {"media_id": "MEDIA"}},
        AddMsgTemplateRequest(sender="zhangsan", link=Link(title="t", url="https://example.org")),
    ],
    ids=["mapping", "model"],
)
async def test_add_sends_the_legacy_top_level_shape_exactly_as_given(
    corp: FakeWeCom, wecom_client: WeComClient, body: Any
) -> None:
    result = await wecom_client.messages.add_msg_template(body)
    method, json = sent(corp, ADD)
    assert method == "POST"
    assert json is not None
    assert "attachments" not in json
    expected = (
        body
        if isinstance(body, dict)
        else {"sender": "zhangsan", "link": {"title": "t", "url": "https://example.org"}}
    )
    assert json == expected
    now = int(corp.clock.now())
    listed = (await wecom_client.messages.get_groupmsg_list("single", now, now)).items
    assert [m.msgid for m in listed] == [result.msgid]
    assert listed[0].attachments is not None
    assert len(listed[0].attachments) == 1


async def test_add_to_customer_groups(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    result = await wecom_client.messages.add_msg_template(
        {"chat_type": "group", "sender": "zhangsan", "chat_id_list": ["wrMine", "wrTheirs"], **HI}
    )
    assert result.fail_list == ["wrTheirs"]
    assert sent(corp, ADD)[1] == {
        "chat_type": "group",
        "sender": "zhangsan",
        "chat_id_list": ["wrMine", "wrTheirs"],
        "text": {"content": "hi"},
    }
    corp.confirm_groupmsg(result.msgid, "zhangsan")
    page = await wecom_client.messages.get_groupmsg_send_result(result.msgid, "zhangsan")
    assert [(r.chat_id, r.external_userid, r.status) for r in page.items] == [
        ("wrMine", None, GroupMsgSendStatus.SENT)
    ]


async def test_group_message_without_chat_ids_lists_only_the_groups_sent_to(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.add_group_chat("zhangsan", chat_id="wrSecond")
    msgid = await add(wecom_client, chat_type="group")
    assert (await wecom_client.messages.get_groupmsg_send_result(msgid, "zhangsan")).items == []
    corp.confirm_groupmsg(msgid, "zhangsan", recipients=["wrSecond"])
    page = await wecom_client.messages.get_groupmsg_send_result(msgid, "zhangsan")
    assert [(r.chat_id, r.status) for r in page.items] == [("wrSecond", GroupMsgSendStatus.SENT)]


async def test_tag_filter_is_and_across_groups_and_or_inside(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    vip, normal = corp.state.tags.groups[next(iter(corp.state.tags.groups))].tag_ids
    corp.add_customer(external_userid="wmD", followers=[Follower(userid="lisi", tag_ids=[normal])])
    either = TagFilter(group_list=[TagFilterGroup(tag_list=[vip, normal])])
    msgid = (
        await wecom_client.messages.add_msg_template(
            AddMsgTemplateRequest(tag_filter=either, text=Text(content="x"))
        )
    ).msgid
    assert sent(corp, ADD)[1] == {
        "tag_filter": {"group_list": [{"tag_list": [vip, normal]}]},
        "text": {"content": "x"},
    }
    tasks = corp.groupmsg(msgid).tasks
    assert {u: [d.external_userid for d in t.deliveries] for u, t in tasks.items()} == {
        "zhangsan": ["wmB"],
        "lisi": ["wmD"],
    }
    both = {"group_list": [{"tag_list": [vip]}, {"tag_list": [normal]}]}
    with pytest.raises(APIError) as caught:
        await wecom_client.messages.add_msg_template({"tag_filter": both, **HI})
    assert caught.value.errcode == 41048


LONG_LINK = {"msgtype": "link", "link": {"title": "标" * 43, "url": "https://example.org"}}


@pytest.mark.parametrize(
    "body",
    [
        {"sender": "zhangsan", "attachments": [IMAGE] * 10},
        {"sender": "zhangsan", "attachments": [{"msgtype": "image"}]},
        {"sender": "zhangsan", "attachments": [{"msgtype": "voice", "voice": {"media_id": "M"}}]},
        {"sender": "zhangsan", "attachments": [{"msgtype": "image", "image": {}}]},
        {"sender": "zhangsan", "attachments": [{"msgtype": "link", "link": {"title": "t"}}]},
        {"sender": "zhangsan", "attachments": [LONG_LINK]},
        {"sender": "zhangsan", "miniprogram": {"title": "t", "appid": "wx1", "page": "/p"}},
        {
            "sender": "zhangsan",
            "miniprogram": {"title": "程" * 22, "pic_media_id": "M", "appid": "wx1", "page": "/p"},
        },
        {"sender": "zhangsan", "attachments": [{"msgtype": "video", "video": {}}]},
        {"sender": "zhangsan", "text": {"content": "字" * 1334}},
        {"sender": "zhangsan", "text": {"content": ""}},
        {"sender": "zhangsan", "image": {"media_id": "M"}, "attachments": [IMAGE]},
        {"external_userid": ["wm"] * 10_001, **HI},
        {"external_userid": ["wmA", ""], **HI},
        {"tag_filter": {"group_list": [{"tag_list": ["et"] * 101}]}, **HI},
        {"tag_filter": {"group_list": []}, **HI},
        HI,
        {"chat_type": "broadcast", "sender": "zhangsan", **HI},
        {"chat_type": "group", **HI},
        {"chat_type": "group", "sender": "zhangsan", "external_userid": ["wmA"], **HI},
        {"chat_type": "group", "sender": "zhangsan", "allow_select": True, **HI},
        {
            "chat_type": "group",
            "sender": "zhangsan",
            "tag_filter": {"group_list": [{"tag_list": ["et1"]}]},
            **HI,
        },
        {"chat_type": "group", "sender": "zhangsan", "chat_id_list": ["wr"] * 2001, **HI},
        {"sender": "zhangsan", "chat_id_list": ["wrMine"], **HI},
        {"sender": "zhangsan", "content": "not a field", **HI},
    ],
)
async def test_add_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.messages.add_msg_template(body)
    assert corp.calls(ADD) == 0


def test_request_models_validate_like_mappings() -> None:
    with pytest.raises(ValidationError, match="both be empty"):
        AddMsgTemplateRequest(sender="zhangsan")
    with pytest.raises(ValidationError, match="sender is required"):
        AddMsgTemplateRequest(chat_type="group", text=Text(content="x"))
    with pytest.raises(ValidationError, match="at most 9"):
        AddMsgTemplateRequest(
            sender="s", attachments=[ImageAttachment(image=Image(media_id="M"))] * 10
        )
    assert AddMsgTemplateRequest(sender="s", text=Text(content="字" * 1333)).text is not None


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"external_userid": ["wmNobody"], **HI}, 41048),
        ({"sender": "ghost", **HI}, 60111),
        ({"tag_filter": {"group_list": [{"tag_list": ["etUnknown"]}]}, **HI}, 40068),
        ({"chat_type": "group", "sender": "zhangsan", "chat_id_list": ["wrTheirs"], **HI}, 41048),
    ],
)
async def test_add_server_errcodes(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any], errcode: int
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.messages.add_msg_template(body)
    assert caught.value.errcode == errcode
    assert corp.calls(ADD) == 1


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"sender": "zhangsan", "attachments": [IMAGE] * 10}, 41064),
        ({"sender": "zhangsan", "attachments": [{"msgtype": "voice", "voice": {}}]}, 41065),
        ({"sender": "zhangsan", "text": {"content": "字" * 1334}}, 40058),
        ({"sender": "zhangsan"}, 40063),
    ],
)
async def test_the_fake_answers_what_the_sdk_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any], errcode: int
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.request("POST", ADD, json=body)
    assert caught.value.errcode == errcode


# -- the life of a mass message ----------------------------------------------------------------


async def test_lifecycle_tasks_results_quota_and_the_legacy_view(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.set_groupmsg_quota(1)
    first = await add(wecom_client, external_userid=["wmA"])
    corp.confirm_groupmsg(first, "zhangsan")
    corp.add_follow("wmC", "zhangsan")
    msgid = await add(wecom_client)  # all of zhangsan's customers: wmA, wmB, wmC
    tasks = (await wecom_client.messages.get_groupmsg_task(msgid)).items
    assert [(t.userid, t.status, t.send_time) for t in tasks] == [
        ("zhangsan", GroupMsgTaskStatus.NOT_SENT, None)
    ]
    assert sent(corp, TASK) == ("POST", {"msgid": msgid, "limit": 1000})
    before = [r async for r in wecom_client.messages.get_groupmsg_send_result(msgid, "zhangsan")]
    assert {r.status for r in before} == {GroupMsgSendStatus.NOT_SENT}
    assert sent(corp, RESULT) == ("POST", {"msgid": msgid, "userid": "zhangsan", "limit": 1000})
    corp.clock.advance(60)
    corp.remove_follow("wmC", "zhangsan")
    corp.confirm_groupmsg(msgid, "zhangsan")
    now = int(corp.clock.now())
    task = (await wecom_client.messages.get_groupmsg_task(msgid)).items[0]
    assert (task.status, task.send_time) == (GroupMsgTaskStatus.SENT, now)
    after = {
        r.external_userid: (r.status, r.send_time)
        async for r in wecom_client.messages.get_groupmsg_send_result(msgid, "zhangsan")
    }
    assert after == {
        "wmA": (GroupMsgSendStatus.QUOTA_EXCEEDED, None),  # got `first` this month
        "wmB": (GroupMsgSendStatus.SENT, now),
        "wmC": (GroupMsgSendStatus.NOT_FRIEND, None),
    }
    legacy = await wecom_client.messages.get_group_msg_result(msgid)
    assert sent(corp, LEGACY) == ("POST", {"msgid": msgid})
    assert legacy.check_status == GroupMsgCheckStatus.APPROVED
    assert {d.external_userid: (d.status, d.send_time) for d in legacy.detail_list} == after


async def test_the_default_quota_is_the_number_of_days_in_the_month(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    # The fake clock starts on 2023-11-14 (China time): November has 30 days.
    statuses = []
    for _ in range(31):
        msgid = await add(wecom_client, external_userid=["wmA"])
        statuses.append(corp.confirm_groupmsg(msgid, "zhangsan")[0].status)
    assert statuses == [GroupMsgSendStatus.SENT] * 30 + [GroupMsgSendStatus.QUOTA_EXCEEDED]
    corp.clock.advance(17 * DAY)  # December: a fresh quota
    msgid = await add(wecom_client, external_userid=["wmA"])
    assert corp.confirm_groupmsg(msgid, "zhangsan")[0].status == GroupMsgSendStatus.SENT


async def test_results_right_after_creation_are_still_dispatching(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.set_groupmsg_dispatch_delay(5)
    msgid = await add(wecom_client)
    for read in (
        lambda: wecom_client.messages.get_groupmsg_task(msgid),
        lambda: wecom_client.messages.get_groupmsg_send_result(msgid, "zhangsan"),
        lambda: wecom_client.messages.get_group_msg_result(msgid),
    ):
        with pytest.raises(APIError) as caught:
            await read()
        assert caught.value.errcode == 41063
    corp.clock.advance(5)
    assert len((await wecom_client.messages.get_groupmsg_task(msgid)).items) == 1


# -- reading ----------------------------------------------------------------------------------


async def test_list_pages_through_the_window(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    start = int(corp.clock.now())
    ids = []
    for _ in range(3):
        ids.append(await add(wecom_client))
        corp.clock.advance(10)
    await wecom_client.messages.add_msg_template({"chat_type": "group", "sender": "zhangsan", **HI})
    since = datetime.fromtimestamp(start, timezone(timedelta(hours=8)))
    pages = [
        p
        async for p in wecom_client.messages.get_groupmsg_list(
            "single", since, start + 25, limit=2
        ).pages()
    ]
    assert [[m.msgid for m in p.items] for p in pages] == [ids[:2], ids[2:]]
    assert pages[0].items[0].create_type == GroupMsgCreateType.CORP
    assert pages[0].items[0].creator is None
    assert pages[0].items[0].create_time == start
    assert sent(corp, LIST) == (
        "POST",
        {
            "chat_type": "single",
            "start_time": start,
            "end_time": start + 25,
            "filter_type": 2,
            "limit": 2,
            "cursor": pages[0].next_cursor,
        },
    )
    personal = await wecom_client.messages.get_groupmsg_list(
        "single", start, start + 25, creator="zhangsan", filter_type=1
    )
    assert personal.items == []
    assert sent(corp, LIST)[1] == {
        "chat_type": "single",
        "start_time": start,
        "end_time": start + 25,
        "creator": "zhangsan",
        "filter_type": 1,
        "limit": 100,
    }


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("single", datetime(2023, 11, 1), 1_700_000_000), {}),  # naive datetime
        (("single", 1_700_000_000, 1_700_000_000 + 31 * DAY + 1), {}),
        (("single", 1_700_000_000, 1_699_999_999), {}),
        (("broadcast", 1_700_000_000, 1_700_000_000), {}),
        (("single", 1_700_000_000, 1_700_000_000), {"limit": 101}),
        (("single", 1_700_000_000, 1_700_000_000), {"limit": 0}),
        (("single", 1_700_000_000, 1_700_000_000), {"filter_type": 3}),
        (("single", 1_700_000_000, 1_700_000_000), {"creator": ""}),
    ],
)
async def test_list_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.messages.get_groupmsg_list(*args, **kwargs)
    assert corp.calls(LIST) == 0


async def test_list_window_over_a_month_is_refused_by_the_fake(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    body = {"chat_type": "single", "start_time": 0, "end_time": 31 * DAY + 1}
    with pytest.raises(APIError) as caught:
        await wecom_client.request("POST", LIST, json=body)
    assert caught.value.errcode == 40058


async def test_task_and_result_paging_and_errors(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    msgid = await add(wecom_client, sender=None, external_userid=["wmA", "wmB", "wmC"])
    tasks = [t.userid async for t in wecom_client.messages.get_groupmsg_task(msgid, limit=1)]
    assert tasks == ["zhangsan", "lisi"]
    assert corp.calls(TASK) == 2
    results = [
        r.external_userid
        async for r in wecom_client.messages.get_groupmsg_send_result(msgid, "zhangsan", limit=1)
    ]
    assert results == ["wmA", "wmB"]
    assert corp.calls(RESULT) == 2
    for read in (
        wecom_client.messages.get_groupmsg_task("msgNope"),
        wecom_client.messages.get_groupmsg_send_result("msgNope", "zhangsan"),
    ):
        with pytest.raises(APIError) as caught:
            await read
        assert caught.value.errcode == 41047


@pytest.mark.parametrize(
    "read",
    [
        lambda c: c.messages.get_groupmsg_task(""),
        lambda c: c.messages.get_groupmsg_task("msg1", limit=1001),
        lambda c: c.messages.get_groupmsg_send_result("msg1", " "),
        lambda c: c.messages.get_groupmsg_send_result("", "zhangsan"),
        lambda c: c.messages.get_groupmsg_send_result("msg1", "zhangsan", limit=0),
        lambda c: c.messages.get_group_msg_result(""),
    ],
)
async def test_reads_refuse_empty_ids_and_bad_limits(
    corp: FakeWeCom, wecom_client: WeComClient, read: Callable[[WeComClient], Awaitable[object]]
) -> None:
    with pytest.raises(ValidationError):
        await read(wecom_client)
    assert len(corp.requests) == 0


async def test_legacy_result_follows_a_next_cursor_and_merges_pages(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    def paged(ctx: RequestContext) -> dict[str, object]:
        if ctx.body.get("cursor") == "P2":
            return {
                "check_status": 1,
                "detail_list": [{"external_userid": "wmB", "userid": "u", "status": 2}],
            }
        return {
            "check_status": 1,
            "detail_list": [{"external_userid": "wmA", "userid": "u", "status": 1, "send_time": 5}],
            "next_cursor": "P2",
        }

    corp.add_route(Route("POST", LEGACY, paged))
    result = await wecom_client.messages.get_group_msg_result("msg1")
    assert [(d.external_userid, d.status) for d in result.detail_list] == [("wmA", 1), ("wmB", 2)]
    assert [r.json for r in corp.requests if r.path == LEGACY] == [
        {"msgid": "msg1"},
        {"msgid": "msg1", "cursor": "P2"},
    ]


# -- remind and cancel -------------------------------------------------------------------------


async def test_remind_at_most_three_times_a_day(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    msgid = await add(wecom_client)
    for _ in range(3):
        await wecom_client.messages.remind_groupmsg_send(msgid)
    assert sent(corp, REMIND) == ("POST", {"msgid": msgid})
    with pytest.raises(APIError) as caught:
        await wecom_client.messages.remind_groupmsg_send(msgid)
    assert caught.value.errcode == 41094
    corp.clock.advance(DAY)
    await wecom_client.messages.remind_groupmsg_send(msgid)  # the oldest three left the window
    assert len(corp.groupmsg(msgid).reminders) == 1


async def test_cancel_stops_members_and_only_once(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    msgid = await add(wecom_client)
    await wecom_client.messages.cancel_groupmsg_send(msgid)
    assert sent(corp, CANCEL) == ("POST", {"msgid": msgid})
    with pytest.raises(ValueError, match="cancelled"):
        corp.confirm_groupmsg(msgid, "zhangsan")
    for again in (
        wecom_client.messages.cancel_groupmsg_send,
        wecom_client.messages.remind_groupmsg_send,
    ):
        with pytest.raises(APIError) as caught:
            await again(msgid)
        assert caught.value.errcode == 41093
    with pytest.raises(APIError) as unknown:
        await wecom_client.messages.cancel_groupmsg_send("msgNope")
    assert unknown.value.errcode == 41047


@pytest.mark.parametrize("msgid", ["", "   "])
async def test_remind_and_cancel_refuse_an_empty_msgid(
    corp: FakeWeCom, wecom_client: WeComClient, msgid: str
) -> None:
    for call in (
        wecom_client.messages.remind_groupmsg_send,
        wecom_client.messages.cancel_groupmsg_send,
    ):
        with pytest.raises(ValidationError):
            await call(msgid)
    assert corp.calls(REMIND) == corp.calls(CANCEL) == 0


def test_codes_added_later_and_string_times_are_kept() -> None:
    task = from_dict(GroupMsgTask, {"userid": "u", "status": 1, "send_time": 1})
    assert task.status == GroupMsgTaskStatus.CONFIRMED  # older docs' "confirmed"
    assert from_dict(GroupMsgTask, {"userid": "u", "status": 7}).status == 7
    record = from_dict(GroupMsg, {"msgid": "m", "create_time": "1605172726", "create_type": 9})
    assert (record.create_time, record.create_type) == ("1605172726", 9)
    assert to_dict(record) == {"msgid": "m", "create_time": "1605172726", "create_type": 9}


async def test_allow_select_lets_the_member_send_to_a_subset(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    msgid = await add(wecom_client, external_userid=["wmA", "wmB"], allow_select=True)
    corp.confirm_groupmsg(msgid, "zhangsan", recipients=["wmB"])
    results = wecom_client.messages.get_groupmsg_send_result(msgid, "zhangsan")
    assert {r.external_userid: r.status async for r in results} == {
        "wmA": GroupMsgSendStatus.NOT_SENT,
        "wmB": GroupMsgSendStatus.SENT,
    }
    other = await add(wecom_client, external_userid=["wmA"])
    with pytest.raises(ValueError, match="choose"):
        corp.confirm_groupmsg(other, "zhangsan", recipients=["wmA"])


# -- get_groupmsg_list v1 (legacy, #66) --------------------------------------------------

LIST_V1 = "externalcontact/get_groupmsg_list"
LINK: dict[str, Any] = {"title": "t", "url": "https://example.org"}


async def test_list_v1_reports_one_top_level_attachment_per_message(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with_attachments = await add(
        wecom_client, attachments=[IMAGE, {"msgtype": "link", "link": LINK}]
    )
    legacy_shape = await add(wecom_client, link=LINK)
    now = int(corp.clock.now())
    page = await wecom_client.messages.get_groupmsg_list_v1(
        "single", now - DAY, now, creator=None, limit=10
    )
    assert sent(corp, LIST_V1) == (
        "POST",
        {
            "chat_type": "single",
            "start_time": now - DAY,
            "end_time": now,
            "filter_type": 2,
            "limit": 10,
        },
    )
    by_id = {m.msgid: m for m in page.items}
    assert set(by_id) == {with_attachments, legacy_shape}
    first = by_id[with_attachments]
    assert first.text == Text(content="hi")
    assert first.image == Image(media_id="MEDIA")
    assert first.link is None  # v1 shows the first attachment only
    assert "attachments" not in first.extra
    assert by_id[legacy_shape].link == Link(**LINK)
    assert by_id[legacy_shape].image is None
    v2 = (await wecom_client.messages.get_groupmsg_list("single", now - DAY, now)).items
    assert {m.msgid for m in v2} == set(by_id)


async def test_list_v1_pages_by_cursor(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    ids = [await add(wecom_client) for _ in range(3)]
    now = int(corp.clock.now())
    listed = [
        m.msgid
        async for m in wecom_client.messages.get_groupmsg_list_v1("single", now, now, limit=2)
    ]
    assert sorted(listed) == sorted(ids)
    assert corp.calls(LIST_V1) == 2


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 101}, {"filter_type": 3}, {"creator": ""}, {"end_time": 1_700_000_000 + 32 * DAY}],
)
async def test_list_v1_refuses_what_v2_refuses(
    corp: FakeWeCom, wecom_client: WeComClient, kwargs: dict[str, Any]
) -> None:
    call: dict[str, Any] = {"end_time": 1_700_000_000, **kwargs}
    with pytest.raises(ValidationError):
        await wecom_client.messages.get_groupmsg_list_v1("single", 1_700_000_000, **call)
    with pytest.raises(ValidationError):
        await wecom_client.messages.get_groupmsg_list("single", 1_700_000_000, **call)
    assert corp.calls(LIST_V1) == corp.calls(LIST) == 0


async def test_list_v1_is_resent_after_system_busy(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    await add(wecom_client)
    now = int(corp.clock.now())
    corp.inject(LIST_V1, errcode=-1, times=2)
    page = await wecom_client.messages.get_groupmsg_list_v1("single", now, now)
    assert len(page.items) == 1
    assert corp.calls(LIST_V1) == 3
