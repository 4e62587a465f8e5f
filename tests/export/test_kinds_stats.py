"""behavior-stats: one record per member (or owner) and day, as the fake's corp counts them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.export.kinds import DAY, FAST, records
from wecom_async import WeComClient
from wecom_async._time import china_day
from wecom_async.export import BehaviorStatsJob, Unit, run_export
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._group_chat_state import GroupChatState

BEHAVIOR = "externalcontact/get_user_behavior_data"


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    wecom_fake.seed(staff=7, customers_per_staff=40, seed=4)
    return wecom_fake


def _members(fake: FakeWeCom) -> list[str]:
    return [s.userid for s in fake.state.staff.values() if s.customer_contact and not s.resigned]


def _added(fake: FakeWeCom, userid: str) -> Counter[int]:
    return Counter(china_day(f.createtime) for f in fake.state.follows_of(userid))


def _chats_created(fake: FakeWeCom) -> Counter[tuple[str, int]]:
    groups = fake.state.ext(GroupChatState).ordered()
    return Counter((g.owner, china_day(g.create_time)) for g in groups)


async def test_default_range_is_the_180_days_wecom_keeps_each_day_once(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "stats.jsonl"
    result = await run_export(
        BehaviorStatsJob(clock=corp.clock.now), wecom_client, out, options=FAST
    )

    today = china_day(int(corp.clock.now()))
    days = list(range(today - 180 * DAY, today, DAY))
    members = _members(corp)
    found = records(out)
    by_stat = Counter(r["stat"] for r in found)
    assert by_stat == {
        "user_behavior": len(members) * len(days),
        "group_chat_by_owner": len(members) * len(days),
        "group_chat_by_day": len(days),  # one chunk: the 7 members
    }
    behavior = {
        (r["userid"], r["data"]["stat_time"]): r["data"]
        for r in found
        if r["stat"] == "user_behavior"
    }
    assert set(behavior) == {(m, d) for m in members for d in days}
    added = {m: _added(corp, m) for m in members}
    for (member, day), data in behavior.items():
        assert data["new_contact_cnt"] == added[member][day]
    assert sum(d["new_contact_cnt"] for d in behavior.values()) > 0  # the check bites
    created = _chats_created(corp)
    owners = {
        (r["data"]["owner"], r["stat_time"]): r["data"]["data"]
        for r in found
        if r["stat"] == "group_chat_by_owner"
    }
    assert set(owners) == {(m, d) for m in members for d in days}
    for (owner, day), data in owners.items():
        assert data["new_chat_cnt"] == created[(owner, day)]
    by_day = {r["data"]["stat_time"]: r for r in found if r["stat"] == "group_chat_by_day"}
    for day, record in by_day.items():
        assert sorted(record["owners"]) == sorted(members)
        assert record["data"]["data"]["new_chat_cnt"] == sum(created[(m, day)] for m in members)
    assert sum(created[(m, d)] for m in members for d in days) > 0
    # 180 days in windows of 30: six units, each asking 30 days per member.
    assert (result.units, result.failures) == (6, [])
    spans = {
        (r.json["start_time"], r.json["end_time"]) for r in corp.requests if r.path == BEHAVIOR
    }
    assert len(spans) == 6
    assert all(china_day(end) - start == 29 * DAY for start, end in spans)


async def test_a_member_who_left_after_the_plan_costs_only_themself(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    leaver = _members(corp)[2]

    class LeaverAfterPlan(BehaviorStatsJob):
        async def plan(self, client: WeComClient) -> list[Unit]:
            units = await super().plan(client)
            corp.resign_member(leaver)
            return units

    out = tmp_path / "stats.jsonl"
    today = china_day(int(corp.clock.now()))
    job = LeaverAfterPlan(since=today - 10 * DAY, until=today - 1, clock=corp.clock.now)
    result = await run_export(job, wecom_client, out, options=FAST)

    (failure,) = result.failures
    assert (failure.reason, failure.ids) == ("errcode 60111", (leaver,))
    found = records(out)
    others = set(_members(corp))
    assert {r["userid"] for r in found if r["stat"] == "user_behavior"} == others
    assert {r["data"]["owner"] for r in found if r["stat"] == "group_chat_by_owner"} == others
    assert Counter(r["stat"] for r in found)["user_behavior"] == len(others) * 10
