"""client.acquisition (endpoints.md #78-#86, 获客助手) end to end against the fake WeCom."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from wecom_async import APIError, SystemBusyError, ValidationError, WeComClient, to_dict
from wecom_async.models.acquisition import (
    AcquisitionChatStatus,
    AcquisitionLink,
    AcquisitionPriorityOption,
    AcquisitionPriorityType,
    AcquisitionRange,
    CreateAcquisitionLinkRequest,
    UpdateAcquisitionLinkRequest,
    acquisition_channel_url,
)
from wecom_async.models.external_contact import AddWay
from wecom_async.services.acquisition import AcquisitionService
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._acquisition_state import (
    AcquisitionState,
)

BASE = "externalcontact/customer_acquisition"
LIST = f"{BASE}/list_link"
GET = f"{BASE}/get"
CREATE = f"{BASE}/create_link"
UPDATE = f"{BASE}/update_link"
DELETE = f"{BASE}/delete_link"
CUSTOMER = f"{BASE}/customer"
QUOTA = "externalcontact/customer_acquisition_quota"
STATISTIC = f"{BASE}/statistic"
CHAT_INFO = f"{BASE}/get_chat_info"
DAY = 86400
CST = timezone(timedelta(hours=8))
BODY: dict[str, Any] = {"link_name": "官网", "range": {"user_list": ["zhangsan", "lisi"]}}

Call = Callable[[AcquisitionService], Awaitable[object]]


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """Two members in department 2, one in department 3, one resigned."""
    wecom_fake.add_staff("zhangsan", department=[2])
    wecom_fake.add_staff("lisi", department=[2])
    wecom_fake.add_staff("wangwu", department=[3])
    wecom_fake.add_staff("gone", resigned=True)
    return wecom_fake


@pytest.fixture
def acq(wecom_client: WeComClient) -> AcquisitionService:
    """``client.acquisition`` (built on the client's core until the client wires it)."""
    service = getattr(wecom_client, "acquisition", None)
    return service if service is not None else AcquisitionService(wecom_client._core)


def sent(fake: FakeWeCom, path: str) -> tuple[str, dict[str, Any] | None]:
    request = fake.requests[-1]
    assert request.path == path
    return request.method, request.json


async def new_link(acq: AcquisitionService, **changes: Any) -> str:
    link_id = (await acq.create_link({**BODY, **changes})).link_id
    assert link_id is not None
    return link_id


# -- the lifecycle ----------------------------------------------------------------------------


async def test_link_lifecycle_with_a_channel_tagged_customer(
    corp: FakeWeCom, wecom_client: WeComClient, acq: AcquisitionService
) -> None:
    body = CreateAcquisitionLinkRequest(
        link_name="获客链接1号",
        range=AcquisitionRange(user_list=["zhangsan"], department_list=[3]),
        skip_verify=False,
        priority_option=AcquisitionPriorityOption(
            priority_type=AcquisitionPriorityType.LISTED_MEMBERS, priority_userid_list=["lisi"]
        ),
        mark_source=True,
    )
    link = await acq.create_link(body)
    assert sent(corp, CREATE) == ("POST", to_dict(body))
    assert link.link_id is not None
    assert link.link_id.startswith("ca")
    assert link.url is not None
    assert link.url.startswith("https://work.weixin.qq.com/ca/cawcde")
    assert (link.link_name, link.create_time) == ("获客链接1号", int(corp.clock.now()))

    detail = await acq.get(link.link_id)
    assert sent(corp, GET) == ("POST", {"link_id": link.link_id})
    assert (detail.link.link_name, detail.link.url, detail.link.skip_verify) == (
        "获客链接1号",
        link.url,
        False,
    )
    assert detail.range == AcquisitionRange(user_list=["zhangsan"], department_list=[3])
    assert detail.priority_option == AcquisitionPriorityOption(
        priority_type=AcquisitionPriorityType.LISTED_MEMBERS, priority_userid_list=["lisi"]
    )

    quota_before = await acq.get_quota()
    external_userid = corp.add_via_acquisition_link(link.link_id, channel="spring_sale")
    customer = await wecom_client.external_contact.get(external_userid)
    [follow] = customer.follow_user
    assert (follow.userid, follow.add_way, follow.state) == (
        "zhangsan",
        AddWay.ACQUISITION_LINK,
        "spring_sale",
    )
    [record] = [c async for c in acq.list_customers(link.link_id)]
    assert (record.external_userid, record.userid, record.state, record.chat_status) == (
        external_userid,
        "zhangsan",
        "spring_sale",
        AcquisitionChatStatus.NOT_MESSAGED,
    )
    now = int(corp.clock.now())
    stats = await acq.statistic(link.link_id, now - DAY, now)
    assert (stats.click_link_customer_cnt, stats.new_customer_cnt) == (1, 1)
    quota_after = await acq.get_quota()
    assert quota_after.balance == (quota_before.balance or 0) - 1
    assert quota_after.total == (quota_before.total or 0) + 1

    changes = {"link_id": link.link_id, "link_name": "改名", "range": {"user_list": ["lisi"]}}
    await acq.update_link(changes)
    assert sent(corp, UPDATE) == ("POST", changes)
    detail = await acq.get(link.link_id)
    assert (detail.link.link_name, detail.range) == (
        "改名",
        AcquisitionRange(user_list=["lisi"], department_list=[]),
    )
    assert detail.link.skip_verify is False  # not given: kept

    await acq.delete_link(link.link_id)
    assert sent(corp, DELETE) == ("POST", {"link_id": link.link_id})
    with pytest.raises(APIError) as caught:
        await acq.get(link.link_id)
    assert caught.value.errcode == 40058
    assert (await acq.list_link()).items == []


async def test_list_link_pages_through_every_valid_link(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    ids = [await new_link(acq, link_name=f"link {i}") for i in range(5)]
    await acq.delete_link(ids[1])
    paginator = acq.list_link(limit=2)
    assert corp.calls(LIST) == 0  # lazy
    assert [link_id async for link_id in paginator] == [ids[0], *ids[2:]]
    assert corp.calls(LIST) == 2
    first = await acq.list_link(limit=3)
    assert sent(corp, LIST) == ("POST", {"limit": 3})
    assert first.next_cursor
    rest = await acq.list_link(limit=3, cursor=first.next_cursor)
    assert sent(corp, LIST) == ("POST", {"limit": 3, "cursor": first.next_cursor})
    assert (first.items, rest.items, rest.next_cursor) == (
        [ids[0], ids[2], ids[3]],
        [ids[4]],
        "",
    )


async def test_customers_page_and_take_turns_among_the_links_members(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    link_id = await new_link(acq, range={"user_list": ["zhangsan"], "department_list": [2, 3]})
    arrivals = [corp.add_via_acquisition_link(link_id) for _ in range(4)]
    first = await acq.list_customers(link_id, limit=3)
    assert sent(corp, CUSTOMER) == ("POST", {"link_id": link_id, "limit": 3})
    assert first.next_cursor
    everyone = [c async for c in acq.list_customers(link_id, limit=3)]
    assert [c.external_userid for c in everyone] == arrivals
    assert [c.userid for c in everyone] == ["zhangsan", "lisi", "wangwu", "zhangsan"]
    assert all(c.state is None for c in everyone)  # no customer_channel on the URL
    assert corp.calls(CUSTOMER) == 3


async def test_quota_is_a_get_and_decreases_from_the_earliest_expiry(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    corp.set_acquisition_quota(2)
    link_id = await new_link(acq)
    corp.add_via_acquisition_link(link_id)
    quota = await acq.get_quota()
    request = corp.requests[-1]
    assert (request.method, request.path, dict(request.query), request.json) == (
        "GET",
        QUOTA,
        {"access_token": "***"},
        None,
    )
    assert (quota.total, quota.balance, [q.balance for q in quota.quota_list]) == (1, 1, [1])
    corp.add_via_acquisition_link(link_id)
    assert (await acq.get_quota()).balance == 0
    with pytest.raises(ValueError, match="quota is spent"):
        corp.add_via_acquisition_link(link_id)
    now = int(corp.clock.now())
    assert (await acq.statistic(link_id, now, now)).new_customer_cnt == 2


async def test_quota_expires_at_the_end_of_its_expiry_day(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    now = int(corp.clock.now())
    corp.set_acquisition_quota(5, expire_date=now)
    [item] = (await acq.get_quota()).quota_list
    assert item.expire_date == 1_699_977_600  # 2023-11-15 00:00 China time
    assert item.expire_date <= now < item.expire_date + DAY
    corp.clock.advance(item.expire_date + DAY - now)
    quota = await acq.get_quota()
    assert (quota.balance, quota.quota_list) == (0, [])


async def test_statistic_counts_whole_china_time_days_inclusive(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    link_id = await new_link(acq)
    day_one = datetime.fromtimestamp(corp.clock.now(), CST)
    corp.add_via_acquisition_link(link_id)
    corp.click_acquisition_link(link_id)
    corp.clock.advance(2 * DAY)
    corp.add_via_acquisition_link(link_id)
    day_three = datetime.fromtimestamp(corp.clock.now(), CST)
    midnight = day_one.replace(hour=0, minute=0, second=0)

    only_day_one = await acq.statistic(link_id, midnight, midnight)  # floored to the day
    assert (only_day_one.click_link_customer_cnt, only_day_one.new_customer_cnt) == (2, 1)
    at = int(midnight.timestamp())
    assert sent(corp, STATISTIC) == ("POST", {"link_id": link_id, "start_time": at, "end_time": at})
    both = await acq.statistic(link_id, day_one, day_three)
    assert (both.click_link_customer_cnt, both.new_customer_cnt) == (3, 2)
    middle = await acq.statistic(link_id, day_one + timedelta(days=1), day_one + timedelta(days=1))
    assert (middle.click_link_customer_cnt, middle.new_customer_cnt) == (0, 0)
    # 30 days apart is allowed (the floor of both ends counts, not the seconds between).
    last = midnight + timedelta(days=30, hours=23)
    await acq.statistic(link_id, midnight, last)


async def test_chat_info_for_a_chat_key_lives_thirty_minutes(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    link_id = await new_link(acq)
    external_userid = corp.add_via_acquisition_link(link_id, channel="ad")
    chat_key = corp.issue_acquisition_chat_key(link_id, external_userid, recv_msg_cnt=3)
    info = await acq.get_chat_info(chat_key)
    assert sent(corp, CHAT_INFO) == ("POST", {"chat_key": chat_key})
    assert (info.userid, info.external_userid) == ("zhangsan", external_userid)
    assert info.chat_info is not None
    assert (info.chat_info.recv_msg_cnt, info.chat_info.link_id, info.chat_info.state) == (
        3,
        link_id,
        "ad",
    )
    [record] = (await acq.list_customers(link_id)).items
    assert record.chat_status == AcquisitionChatStatus.MESSAGED
    corp.clock.advance(30 * 60)
    await acq.get_chat_info(chat_key)
    corp.clock.advance(1)
    with pytest.raises(APIError) as caught:
        await acq.get_chat_info(chat_key)
    assert caught.value.errcode == 41201
    with pytest.raises(APIError) as caught:
        await acq.get_chat_info("never-issued")
    assert caught.value.errcode == 41201


# -- the channel URL ------------------------------------------------------------------------


def test_channel_url_encodes_and_replaces_the_channel() -> None:
    link = AcquisitionLink(url="https://work.weixin.qq.com/ca/caXXXXX")
    tagged = link.url_with_channel("春季 & co")
    assert tagged == (
        "https://work.weixin.qq.com/ca/caXXXXX?customer_channel=%E6%98%A5%E5%AD%A3+%26+co"
    )
    assert parse_qs(urlsplit(tagged).query) == {"customer_channel": ["春季 & co"]}
    again = acquisition_channel_url(tagged + "&x=1#top", "WORK")
    assert again == "https://work.weixin.qq.com/ca/caXXXXX?x=1&customer_channel=WORK#top"
    assert acquisition_channel_url("https://a/ca/1", "字" * 21 + "a")  # 64 bytes: allowed


@pytest.mark.parametrize(
    ("url", "channel"),
    [("https://a/ca/1", "字" * 21 + "ab"), ("https://a/ca/1", ""), ("", "WORK")],
    ids=["65 bytes", "empty channel", "empty url"],
)
def test_channel_url_refuses(url: str, channel: str) -> None:
    with pytest.raises(ValidationError):
        acquisition_channel_url(url, channel)


def test_a_link_without_url_has_no_channel_url() -> None:
    with pytest.raises(ValidationError, match="no url"):
        AcquisitionLink(link_id="ca1").url_with_channel("WORK")


async def test_the_fake_truncates_a_long_channel_as_wecom_does(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    link_id = await new_link(acq)
    external_userid = corp.add_via_acquisition_link(link_id, channel="字" * 30)
    follow = corp.follow(external_userid, "zhangsan")
    assert follow is not None
    assert follow.state == "字" * 21  # 63 bytes: the 22nd character would pass 64


# -- local validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"range": {"user_list": ["zhangsan"]}}, id="no link_name"),
        pytest.param({**BODY, "link_name": ""}, id="empty link_name"),
        pytest.param({**BODY, "link_name": "名" * 31}, id="link_name 31 chars"),
        pytest.param({"link_name": "x"}, id="no range"),
        pytest.param({**BODY, "range": {}}, id="empty range"),
        pytest.param({**BODY, "range": {"user_list": [], "department_list": []}}, id="both empty"),
        pytest.param({**BODY, "range": {"user_list": [f"u{i}" for i in range(501)]}}, id="501"),
        pytest.param({**BODY, "range": {"user_list": [""]}}, id="empty userid"),
        pytest.param({**BODY, "range": {"department_list": [0]}}, id="department 0"),
        pytest.param({**BODY, "priority_option": {"priority_type": 3}}, id="priority_type 3"),
        pytest.param({**BODY, "priority_option": {"priority_type": 2}}, id="type 2, nobody"),
        pytest.param(
            {**BODY, "priority_option": {"priority_userid_list": ["u"] * 1001}}, id="1001 priority"
        ),
        pytest.param({**BODY, "unknown": 1}, id="unknown key"),
    ],
)
async def test_create_link_refuses_locally(
    corp: FakeWeCom, acq: AcquisitionService, body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await acq.create_link(body)
    assert corp.calls(CREATE) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"link_name": "x"}, id="no link_id"),
        pytest.param({"link_id": ""}, id="empty link_id"),
        pytest.param({"link_id": "ca1", "link_name": " "}, id="blank link_name"),
        pytest.param({"link_id": "ca1", "link_name": "名" * 31}, id="link_name 31 chars"),
        pytest.param({"link_id": "ca1", "range": {}}, id="empty range"),
        pytest.param(
            {"link_id": "ca1", "priority_option": {"priority_type": 2, "priority_userid_list": []}},
            id="type 2, nobody",
        ),
    ],
)
async def test_update_link_refuses_locally(
    corp: FakeWeCom, acq: AcquisitionService, body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await acq.update_link(body)
    assert corp.calls(UPDATE) == 0


def test_request_models_refuse_at_construction() -> None:
    with pytest.raises(ValidationError, match="both are empty"):
        CreateAcquisitionLinkRequest(link_name="x", range=AcquisitionRange())
    with pytest.raises(ValidationError, match="at most 30"):
        UpdateAcquisitionLinkRequest(link_id="ca1", link_name="x" * 31)


NOW = 1_700_000_000


@pytest.mark.parametrize(
    ("path", "call"),
    [
        (LIST, lambda a: a.list_link(limit=0)),
        (LIST, lambda a: a.list_link(limit=101)),
        (CUSTOMER, lambda a: a.list_customers("ca1", limit=0)),
        (CUSTOMER, lambda a: a.list_customers("ca1", limit=1001)),
        (CUSTOMER, lambda a: a.list_customers("")),
        (GET, lambda a: a.get("")),
        (DELETE, lambda a: a.delete_link(" ")),
        (CHAT_INFO, lambda a: a.get_chat_info("")),
        (STATISTIC, lambda a: a.statistic("", NOW, NOW)),
        (STATISTIC, lambda a: a.statistic("ca1", NOW, NOW - DAY)),
        (STATISTIC, lambda a: a.statistic("ca1", NOW - 31 * DAY, NOW)),
        (STATISTIC, lambda a: a.statistic("ca1", datetime(2024, 1, 1), NOW)),
    ],
    ids=[
        "list limit 0",
        "list limit 101",
        "customers limit 0",
        "customers limit 1001",
        "customers empty link_id",
        "get empty link_id",
        "delete blank link_id",
        "empty chat_key",
        "statistic empty link_id",
        "end before start",
        "31 days",
        "naive datetime",
    ],
)
async def test_arguments_refused_locally(
    corp: FakeWeCom, acq: AcquisitionService, path: str, call: Callable[[AcquisitionService], Any]
) -> None:
    with pytest.raises(ValidationError):
        await call(acq)  # a paginator refuses when built, a coroutine when awaited
    assert corp.calls(path) == 0


# -- server-side errcodes ---------------------------------------------------------------------


async def test_link_count_limit_answers_41095(corp: FakeWeCom, acq: AcquisitionService) -> None:
    corp.state.ext(AcquisitionState).link_limit = 2
    await new_link(acq)
    await new_link(acq)
    with pytest.raises(APIError) as caught:
        await new_link(acq)
    assert (type(caught.value), caught.value.errcode) == (APIError, 41095)
    assert len((await acq.list_link()).items) == 2
    await acq.delete_link((await acq.list_link()).items[0])
    await new_link(acq)  # room again


@pytest.mark.parametrize(
    ("range_", "errcode"),
    [
        ({"user_list": ["nobody"]}, 60111),
        ({"user_list": ["gone"]}, 60111),
        ({"user_list": ["bad id!"]}, 40003),
    ],
    ids=["unknown member", "resigned member", "malformed userid"],
)
async def test_range_members_must_be_staff(
    corp: FakeWeCom, acq: AcquisitionService, range_: dict[str, Any], errcode: int
) -> None:
    with pytest.raises(APIError) as caught:
        await acq.create_link({**BODY, "range": range_})
    assert caught.value.errcode == errcode
    link_id = await new_link(acq)
    priority = {"priority_type": 2, "priority_userid_list": range_["user_list"]}
    with pytest.raises(APIError) as caught:
        await acq.update_link({"link_id": link_id, "priority_option": priority})
    assert caught.value.errcode == errcode
    assert (await acq.get(link_id)).priority_option is None  # nothing written


async def test_priority_option_outside_the_business_category_answers_41200(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    corp.state.ext(AcquisitionState).priority_supported = False
    with pytest.raises(APIError) as caught:
        await acq.create_link({**BODY, "priority_option": {"priority_type": 1}})
    assert caught.value.errcode == 41200
    assert (await acq.list_link()).items == []


async def test_reads_of_an_unknown_link_are_refused(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    for call in (
        acq.get("caUnknown"),
        acq.list_customers("caUnknown"),
        acq.statistic("caUnknown", NOW, NOW),
        acq.update_link({"link_id": "caUnknown", "link_name": "x"}),
        acq.delete_link("caUnknown"),
    ):
        with pytest.raises(APIError) as caught:
            await call
        assert caught.value.errcode == 40058


# -- retry safety -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "call"),
    [(CREATE, lambda a: a.create_link(BODY)), (DELETE, lambda a: a.delete_link("caAny"))],
    ids=["create_link", "delete_link"],
)
async def test_create_and_delete_are_never_resent(
    corp: FakeWeCom, acq: AcquisitionService, path: str, call: Call
) -> None:
    corp.inject(path, errcode=-1)
    with pytest.raises(SystemBusyError):
        await call(acq)
    assert corp.calls(path) == 1
    assert corp.state.ext(AcquisitionState).links == {}


async def test_reads_and_updates_are_resent_after_system_busy(
    corp: FakeWeCom, acq: AcquisitionService
) -> None:
    link_id = await new_link(acq)
    external_userid = corp.add_via_acquisition_link(link_id)
    chat_key = corp.issue_acquisition_chat_key(link_id, external_userid)
    calls: dict[str, Call] = {
        UPDATE: lambda a: a.update_link({"link_id": link_id, "link_name": "again"}),
        GET: lambda a: a.get(link_id),
        LIST: lambda a: a.list_link(),
        CUSTOMER: lambda a: a.list_customers(link_id),
        QUOTA: lambda a: a.get_quota(),
        STATISTIC: lambda a: a.statistic(link_id, NOW, NOW),
        CHAT_INFO: lambda a: a.get_chat_info(chat_key),
    }
    for path, call in calls.items():
        corp.inject(path, errcode=-1)
        await call(acq)
        assert corp.calls(path) == 2, path
    assert (await acq.get(link_id)).link.link_name == "again"


# -- seeding ----------------------------------------------------------------------------------


async def test_seed_adds_one_link_served_by_the_first_members(
    wecom_fake: FakeWeCom, acq: AcquisitionService
) -> None:
    wecom_fake.seed(staff=3, customers_per_staff=1, seed=7)
    active = [userid for userid, staff in wecom_fake.state.staff.items() if not staff.resigned]
    [link_id] = (await acq.list_link()).items
    detail = await acq.get(link_id)
    assert detail.range is not None
    assert detail.range.user_list == active[:2]
    assert detail.link.create_time is not None
    assert detail.link.create_time < wecom_fake.clock.now()
