"""client.statistics (endpoints.md #72-#74) end to end against the fake WeCom."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from wecom_async import APIError, ValidationError, WeComClient, from_dict, to_dict
from wecom_async.models.statistics import GroupChatStatisticOrder, UserBehavior
from wecom_async.testing import FakeWeCom, Follower

BEHAVIOR = "externalcontact/get_user_behavior_data"
STATISTIC = "externalcontact/groupchat/statistic"
BY_DAY = "externalcontact/groupchat/statistic_group_by_day"
DAY = 86_400
CST = timezone(timedelta(hours=8))
#: The fake clock starts at 1_700_000_000 = 2023-11-15 06:13:20 CST.
TODAY = int(datetime(2023, 11, 15, tzinfo=CST).timestamp())
YESTERDAY = TODAY - DAY
OWNERS = [f"owner{i}" for i in range(1, 8)]


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """zhangsan and lisi in department 2, wangwu in 3, each with customers added lately."""
    assert TODAY <= wecom_fake.clock.now() < TODAY + DAY
    for userid, department in (("zhangsan", 2), ("lisi", 2), ("wangwu", 3)):
        wecom_fake.add_staff(userid, department=[department])
    added = {"zhangsan": [YESTERDAY + 3_600, YESTERDAY + 7_200, YESTERDAY - DAY + 10]}
    added["lisi"] = [YESTERDAY + 100]
    for userid, times in added.items():
        for createtime in times:
            wecom_fake.add_customer(followers=[Follower(userid=userid, createtime=createtime)])
    for n in range(20):  # enough customers for chats to happen on some days
        wecom_fake.add_customer(
            followers=[Follower(userid="zhangsan", createtime=YESTERDAY - 40 * DAY - n)]
        )
    return wecom_fake


def _groups(fake: FakeWeCom, owner: str, count: int, *, created: int, members: int = 2) -> None:
    for _ in range(count):
        customers = [fake.add_customer(followers=[owner]) for _ in range(members)]
        fake.add_group_chat(owner, members=customers, create_time=created)


@pytest.fixture
def owners(wecom_fake: FakeWeCom) -> FakeWeCom:
    """owner1..owner7; owner<i> created i groups of 3 people yesterday."""
    for i, owner in enumerate(OWNERS, start=1):
        wecom_fake.add_staff(owner)
        _groups(wecom_fake, owner, i, created=YESTERDAY + 600)
    return wecom_fake


# -- get_user_behavior_data -------------------------------------------------------------


async def test_behavior_data_counts_the_relations_added_each_day(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    data = await wecom_client.statistics.get_user_behavior_data(
        YESTERDAY - DAY + 5_000, YESTERDAY + 80_000, userid=["zhangsan"]
    )

    assert [d.stat_time for d in data] == [YESTERDAY - DAY, YESTERDAY]
    assert [d.new_contact_cnt for d in data] == [1, 2]
    assert all(d.new_apply_cnt is not None and d.new_apply_cnt >= d.new_contact_cnt for d in data)
    sent = corp.requests[-1]
    assert (sent.method, sent.path) == ("POST", BEHAVIOR)
    assert sent.json == {
        "userid": ["zhangsan"],
        "start_time": YESTERDAY - DAY + 5_000,
        "end_time": YESTERDAY + 80_000,
    }


async def test_behavior_data_is_deterministic_and_reports_replies_only_with_chats(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    first, last = YESTERDAY - 30 * DAY, YESTERDAY
    data = await wecom_client.statistics.get_user_behavior_data(first, last, userid=["zhangsan"])
    again = await wecom_client.statistics.get_user_behavior_data(first, last, userid=["zhangsan"])

    assert data == again
    assert len(data) == 31
    with_chats = [d for d in data if d.chat_cnt]
    assert 0 < len(with_chats) < 31
    for day in data:
        chatted = bool(day.chat_cnt)
        assert (day.reply_percentage is not None, day.avg_reply_time is not None) == (
            chatted,
            chatted,
        )
        assert day.message_cnt is not None
        assert day.message_cnt >= (day.chat_cnt or 0)
    assert all(0 < (d.reply_percentage or 0) <= 100 for d in with_chats)
    raw = await wecom_client.request(
        "POST", BEHAVIOR, json={"userid": ["zhangsan"], "start_time": first, "end_time": last}
    )
    days = raw["behavior_data"]
    assert isinstance(days, list)
    sent_types = {
        type(day["reply_percentage"])
        for day in days
        if isinstance(day, dict) and "reply_percentage" in day
    }
    assert sent_types == {int, float}  # whole percentages arrive as JSON integers
    # ... and are read as sent (an int is a valid float), so an export writes them unchanged.
    assert [(d.reply_percentage, type(d.reply_percentage)) for d in data] == [
        (day.get("reply_percentage"), type(day.get("reply_percentage")))
        for day in days
        if isinstance(day, dict)
    ]


async def test_behavior_data_sums_members_and_expands_departments(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    stats = wecom_client.statistics
    zhangsan = await stats.get_user_behavior_data(YESTERDAY - DAY, YESTERDAY, userid=["zhangsan"])
    lisi = await stats.get_user_behavior_data(YESTERDAY - DAY, YESTERDAY, userid=["lisi"])
    both = await stats.get_user_behavior_data(
        YESTERDAY - DAY, YESTERDAY, userid=["zhangsan", "lisi"]
    )
    party = await stats.get_user_behavior_data(YESTERDAY - DAY, YESTERDAY, partyid=[2])

    assert corp.requests[-1].json == {
        "partyid": [2],
        "start_time": YESTERDAY - DAY,
        "end_time": YESTERDAY,
    }
    assert party == both
    for total, a, b in zip(both, zhangsan, lisi, strict=True):
        assert total.new_contact_cnt == (a.new_contact_cnt or 0) + (b.new_contact_cnt or 0)
        assert total.chat_cnt == (a.chat_cnt or 0) + (b.chat_cnt or 0)
        assert total.message_cnt == (a.message_cnt or 0) + (b.message_cnt or 0)


async def test_behavior_data_of_today_is_empty(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    data = await wecom_client.statistics.get_user_behavior_data(
        YESTERDAY, TODAY, userid=["zhangsan"]
    )
    assert [d.stat_time for d in data] == [YESTERDAY, TODAY]
    assert data[1] == UserBehavior(
        stat_time=TODAY,
        new_apply_cnt=0,
        new_contact_cnt=0,
        chat_cnt=0,
        message_cnt=0,
        negative_feedback_cnt=0,
    )


async def test_aware_datetimes_are_sent_as_unix_seconds(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    start = datetime(2023, 11, 13, 9, 30, tzinfo=CST)
    end = datetime(2023, 11, 14, 1, 0, tzinfo=timezone.utc)  # 09:00 CST on the 14th

    data = await wecom_client.statistics.get_user_behavior_data(start, end, userid=["lisi"])

    sent = corp.requests[-1].json
    assert sent is not None
    assert (sent["start_time"], sent["end_time"]) == (YESTERDAY - DAY + 34_200, YESTERDAY + 32_400)
    assert [d.stat_time for d in data] == [YESTERDAY - DAY, YESTERDAY]


@pytest.mark.parametrize(
    ("start", "end", "kwargs", "match"),
    [
        (datetime(2023, 11, 13), YESTERDAY, {"userid": ["lisi"]}, "timezone-aware"),
        (YESTERDAY, datetime(2023, 11, 14), {"userid": ["lisi"]}, "timezone-aware"),
        (YESTERDAY, YESTERDAY - 1, {"userid": ["lisi"]}, "before start_time"),
        (YESTERDAY - 31 * DAY, YESTERDAY, {"userid": ["lisi"]}, "spans 31 days"),
        (YESTERDAY, YESTERDAY, {}, "must not both be empty"),
        (YESTERDAY, YESTERDAY, {"userid": [], "partyid": []}, "must not both be empty"),
        (YESTERDAY, YESTERDAY, {"userid": [f"u{i}" for i in range(101)]}, "at most 100"),
        (YESTERDAY, YESTERDAY, {"partyid": list(range(1, 102))}, "at most 100"),
        (YESTERDAY, YESTERDAY, {"partyid": [0]}, "partyid"),
        (YESTERDAY, YESTERDAY, {"userid": "lisi"}, "userid"),
        (True, YESTERDAY, {"userid": ["lisi"]}, "start_time"),
        (-1, YESTERDAY, {"userid": ["lisi"]}, "start_time"),
    ],
)
async def test_behavior_data_refuses_bad_arguments_locally(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    start: Any,
    end: Any,
    kwargs: dict[str, Any],
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.statistics.get_user_behavior_data(start, end, **kwargs)
    assert corp.calls(BEHAVIOR) == 0


async def test_behavior_data_accepts_a_span_of_exactly_30_days_of_non_midnight_times(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    data = await wecom_client.statistics.get_user_behavior_data(
        YESTERDAY - 30 * DAY + 1, YESTERDAY + DAY - 1, userid=["lisi"]
    )
    assert len(data) == 31


async def test_behavior_data_maps_an_unknown_member_to_an_api_error(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.statistics.get_user_behavior_data(
            YESTERDAY, YESTERDAY, userid=["nobody"]
        )
    assert type(caught.value) is APIError
    assert caught.value.errcode == 60111


async def test_the_fake_refuses_a_span_over_30_days_with_40058(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.request(
            "POST",
            BEHAVIOR,
            json={"userid": ["lisi"], "start_time": YESTERDAY - 31 * DAY, "end_time": YESTERDAY},
        )
    assert caught.value.errcode == 40058


async def test_behavior_data_is_retried_after_system_busy(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.inject(BEHAVIOR, errcode=-1)
    data = await wecom_client.statistics.get_user_behavior_data(
        YESTERDAY, YESTERDAY, userid=["lisi"]
    )
    assert [d.new_contact_cnt for d in data] == [1]
    assert corp.calls(BEHAVIOR) == 2


def test_reply_percentage_accepts_a_json_integer_or_float() -> None:
    whole = from_dict(UserBehavior, {"stat_time": 1, "reply_percentage": 100})
    part = from_dict(UserBehavior, {"stat_time": 1, "reply_percentage": 60.25})
    assert (whole.reply_percentage, part.reply_percentage) == (100.0, 60.25)
    # Kept as sent: the export writes 100, not 100.0.
    assert type(whole.reply_percentage) is int
    assert to_dict(whole) == {"stat_time": 1, "reply_percentage": 100}


# -- groupchat/statistic ----------------------------------------------------------------


async def test_statistic_pages_by_offset_with_every_owner_once(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    paginator = wecom_client.statistics.group_chat_statistic(
        YESTERDAY, owner_userid_list=OWNERS, limit=3
    )
    assert owners.calls(STATISTIC) == 0  # nothing is sent before awaiting or iterating

    first = await paginator
    assert (len(first.items), first.next_offset, first.total) == (3, 3, 7)

    items = [item async for item in paginator]

    assert sorted(item.owner for item in items) == sorted(OWNERS)
    assert [item.owner for item in items] == OWNERS[::-1]  # most new groups first
    assert [item.data.new_chat_cnt for item in items] == [7, 6, 5, 4, 3, 2, 1]
    assert [r.json["offset"] for r in owners.requests if r.path == STATISTIC and r.json] == [
        0,
        0,
        3,
        6,
    ]


async def test_statistic_sends_the_documented_body(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    await wecom_client.statistics.group_chat_statistic(
        YESTERDAY - DAY,
        day_end_time=YESTERDAY,
        owner_userid_list=["owner1", "owner2"],
        order_by=GroupChatStatisticOrder.MEMBER_TOTAL,
        order_asc=1,
        limit=1000,
    )

    sent = owners.requests[-1]
    assert (sent.method, sent.path) == ("POST", STATISTIC)
    assert sent.json == {
        "day_begin_time": YESTERDAY - DAY,
        "day_end_time": YESTERDAY,
        "owner_filter": {"userid_list": ["owner1", "owner2"]},
        "order_by": 4,
        "order_asc": 1,
        "offset": 0,
        "limit": 1000,
    }
    await wecom_client.statistics.group_chat_statistic(YESTERDAY, owner_userid_list=["owner1"])
    assert owners.requests[-1].json == {
        "day_begin_time": YESTERDAY,
        "owner_filter": {"userid_list": ["owner1"]},
        "order_by": 1,
        "order_asc": 0,
        "offset": 0,
        "limit": 500,
    }


async def test_statistic_counters_follow_the_groups_of_the_fake(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    stats = wecom_client.statistics
    page = await stats.group_chat_statistic(YESTERDAY, owner_userid_list=["owner2"])
    (item,) = page.items
    data = item.data
    assert (data.new_chat_cnt, data.chat_total) == (2, 2)
    assert (data.new_member_cnt, data.member_total) == (6, 6)  # the owner and two customers each
    assert data.chat_has_msg is not None
    assert 0 <= data.chat_has_msg <= 2
    assert data.member_has_msg is not None
    assert 0 <= data.member_has_msg <= 6
    assert data.migrate_trainee_chat_cnt is None

    before = await stats.group_chat_statistic(YESTERDAY - DAY, owner_userid_list=["owner2"])
    assert before.items[0].data.chat_total == before.items[0].data.member_total == 0
    assert await stats.group_chat_statistic(YESTERDAY, owner_userid_list=["owner2"]) == page


async def test_statistic_sorts_ascending_by_the_chosen_counter(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    items = [
        item
        async for item in wecom_client.statistics.group_chat_statistic(
            YESTERDAY,
            owner_userid_list=OWNERS[::-1],
            order_by=GroupChatStatisticOrder.MEMBER_TOTAL,
            order_asc=1,
            limit=2,
        )
    ]
    assert [item.data.member_total for item in items] == [3, 6, 9, 12, 15, 18, 21]


async def test_statistic_resumes_from_an_offset(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    items = [
        item
        async for item in wecom_client.statistics.group_chat_statistic(
            YESTERDAY, owner_userid_list=OWNERS, limit=3, offset=3
        )
    ]
    assert [item.owner for item in items] == ["owner4", "owner3", "owner2", "owner1"]
    assert owners.requests[-2].json is not None
    assert owners.requests[-2].json["offset"] == 3


@pytest.mark.parametrize(
    ("begin", "kwargs", "match"),
    [
        (YESTERDAY, {}, "owner_userid_list is required"),
        (YESTERDAY, {"owner_userid_list": []}, "owner_userid_list"),
        (YESTERDAY, {"owner_userid_list": [f"u{i}" for i in range(101)]}, "at most 100"),
        (YESTERDAY, {"owner_userid_list": "owner1"}, "owner_userid_list"),
        (YESTERDAY, {"owner_userid_list": ["owner1"], "order_by": 5}, "order_by"),
        (YESTERDAY, {"owner_userid_list": ["owner1"], "order_by": 0}, "order_by"),
        (YESTERDAY, {"owner_userid_list": ["owner1"], "order_asc": 2}, "order_asc"),
        (YESTERDAY, {"owner_userid_list": ["owner1"], "limit": 0}, "limit"),
        (YESTERDAY, {"owner_userid_list": ["owner1"], "limit": 1001}, "limit"),
        (YESTERDAY, {"owner_userid_list": ["owner1"], "offset": -1}, "offset"),
        (datetime(2023, 11, 14), {"owner_userid_list": ["owner1"]}, "timezone-aware"),
        (
            YESTERDAY,
            {"owner_userid_list": ["owner1"], "day_end_time": datetime(2023, 11, 14)},
            "timezone-aware",
        ),
        (
            YESTERDAY - 31 * DAY,
            {"owner_userid_list": ["owner1"], "day_end_time": YESTERDAY},
            "spans 31 days",
        ),
        (
            YESTERDAY,
            {"owner_userid_list": ["owner1"], "day_end_time": YESTERDAY - DAY},
            "before day_begin_time",
        ),
    ],
)
async def test_statistic_refuses_bad_arguments_before_paging(
    owners: FakeWeCom,
    wecom_client: WeComClient,
    begin: Any,
    kwargs: dict[str, Any],
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        wecom_client.statistics.group_chat_statistic(begin, **kwargs)
    assert owners.calls(STATISTIC) == 0


async def test_statistic_maps_an_unknown_owner_to_an_api_error(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.statistics.group_chat_statistic(
            YESTERDAY, owner_userid_list=["owner1", "nobody"]
        )
    assert caught.value.errcode == 60111


async def test_statistic_is_retried_after_system_busy(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    owners.inject(STATISTIC, errcode=-1)
    page = await wecom_client.statistics.group_chat_statistic(
        YESTERDAY, owner_userid_list=["owner1"]
    )
    assert [item.owner for item in page.items] == ["owner1"]
    assert owners.calls(STATISTIC) == 2


# -- groupchat/statistic_group_by_day ---------------------------------------------------


async def test_by_day_sums_the_owners_day_by_day(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    for owner in ("zhangsan", "lisi"):
        wecom_fake.add_staff(owner)
    _groups(wecom_fake, "zhangsan", 1, created=YESTERDAY - 2 * DAY + 60)
    _groups(wecom_fake, "lisi", 2, created=YESTERDAY + 60, members=1)

    days = await wecom_client.statistics.group_chat_statistic_by_day(
        YESTERDAY - 2 * DAY, YESTERDAY, ["zhangsan", "lisi"]
    )

    assert [d.stat_time for d in days] == [YESTERDAY - 2 * DAY, YESTERDAY - DAY, YESTERDAY]
    assert [d.data.new_chat_cnt for d in days] == [1, 0, 2]
    assert [d.data.chat_total for d in days] == [1, 1, 3]
    assert [d.data.new_member_cnt for d in days] == [3, 0, 4]
    assert [d.data.member_total for d in days] == [3, 3, 7]
    sent = wecom_fake.requests[-1]
    assert (sent.method, sent.path) == ("POST", BY_DAY)
    assert sent.json == {
        "day_begin_time": YESTERDAY - 2 * DAY,
        "day_end_time": YESTERDAY,
        "owner_filter": {"userid_list": ["zhangsan", "lisi"]},
    }


async def test_by_day_converts_aware_datetimes(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    begin = datetime(2023, 11, 14, tzinfo=CST)
    days = await wecom_client.statistics.group_chat_statistic_by_day(
        begin, begin + timedelta(hours=1), ["owner3"]
    )
    assert [(d.stat_time, d.data.new_chat_cnt) for d in days] == [(YESTERDAY, 3)]
    sent = owners.requests[-1].json
    assert sent is not None
    assert (sent["day_begin_time"], sent["day_end_time"]) == (YESTERDAY, YESTERDAY + 3_600)


@pytest.mark.parametrize(
    ("begin", "end", "owner_list", "match"),
    [
        (YESTERDAY, YESTERDAY, [], "owner_userid_list"),
        (YESTERDAY, YESTERDAY, [f"u{i}" for i in range(101)], "at most 100"),
        (datetime(2023, 11, 14), YESTERDAY, ["owner1"], "timezone-aware"),
        (YESTERDAY - 31 * DAY, YESTERDAY, ["owner1"], "spans 31 days"),
        (YESTERDAY, YESTERDAY - 1, ["owner1"], "before day_begin_time"),
    ],
)
async def test_by_day_refuses_bad_arguments_locally(
    owners: FakeWeCom,
    wecom_client: WeComClient,
    begin: Any,
    end: Any,
    owner_list: Sequence[str],
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.statistics.group_chat_statistic_by_day(begin, end, owner_list)
    assert owners.calls(BY_DAY) == 0


async def test_by_day_maps_an_unknown_owner_to_an_api_error(
    owners: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.statistics.group_chat_statistic_by_day(YESTERDAY, YESTERDAY, ["nobody"])
    assert caught.value.errcode == 60111
