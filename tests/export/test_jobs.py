"""Group chats, tags and contact ways: each a small job over the shared engine."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest

from tests.export.helpers import read_lines
from wecom_async import WeComClient, to_dict
from wecom_async.export import (
    ContactWaysJob,
    EngineOptions,
    GroupChatsJob,
    TagsJob,
    run_export,
)
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._contact_way_state import ContactWayState
from wecom_async.testing.routes._group_chat_state import GroupChatState

FAST = EngineOptions(concurrency=4, checkpoint_interval=0)
GET_GROUP = "externalcontact/groupchat/get"


def _records(path: Path, key: str) -> dict[str, dict[str, object]]:
    records = [json.loads(line) for line in read_lines(path)]
    by_key = {r[key]: r for r in records}
    assert len(by_key) == len(records)  # each once
    return by_key


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """10 members with customers, group chats (some of resigned owners) and tags."""
    wecom_fake.seed(staff=10, customers_per_staff=12, seed=9)
    return wecom_fake


def _groups_of_active_members(fake: FakeWeCom) -> set[str]:
    active = {s.userid for s in fake.state.staff.values() if s.customer_contact and not s.resigned}
    return {g.chat_id for g in fake.state.ext(GroupChatState).ordered() if g.owner in active}


async def test_group_chats_with_members(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "groups.jsonl"
    result = await run_export(GroupChatsJob(chunk_size=3), wecom_client, out, options=FAST)

    records = _records(out, "chat_id")
    expected = _groups_of_active_members(corp)
    assert expected
    assert set(records) == expected
    for chat_id, record in records.items():
        assert record == to_dict(await wecom_client.group_chat.get(chat_id, need_name=True))
    assert all(m.get("name") for r in records.values() for m in r["member_list"])
    assert corp.calls(GET_GROUP) == 2 * len(expected)  # the export's gets, then ours
    assert (result.units, result.size, result.failures) == (4, 10, [])
    lists = [r.json for r in corp.requests if r.path == "externalcontact/groupchat/list"]
    assert len(lists) == result.pages
    owners = {u for body in lists for u in body["owner_filter"]["userid_list"]}
    assert owners == set(await wecom_client.external_contact.get_follow_user_list())


async def test_a_group_that_cannot_be_read_is_reported_not_skipped(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    corp.inject(GET_GROUP, errcode=90501)
    out = tmp_path / "groups.jsonl"
    result = await run_export(GroupChatsJob(), wecom_client, out, options=FAST)

    (failure,) = result.failures
    assert failure.reason == "errcode 90501"
    assert len(failure.ids) == 1
    records = _records(out, "chat_id")
    assert set(records) | set(failure.ids) == _groups_of_active_members(corp)
    assert failure.ids[0] not in records


async def test_group_chats_csv(corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path) -> None:
    out = tmp_path / "groups.csv"
    await run_export(GroupChatsJob(), wecom_client, out, format="csv", options=FAST)

    with out.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == GroupChatsJob().table().columns
    assert {r["chat_id"] for r in rows} == _groups_of_active_members(corp)
    for row in rows:
        members = json.loads(row["member_list"])
        assert int(row["member_count"]) == len(members) > 0
        assert row["owner"] in {m["userid"] for m in members}


async def test_tags_corp_and_strategy(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "tags.jsonl"
    result = await run_export(TagsJob(), wecom_client, out, options=FAST)

    records = _records(out, "group_id")
    corp_groups = await wecom_client.tags.list()
    strategy_groups = await wecom_client.tags.list_strategy()
    assert strategy_groups
    assert corp_groups
    assert records == {g.group_id: to_dict(g) for g in [*corp_groups, *strategy_groups]}
    assert (result.units, result.pages) == (2, 2)


async def test_tags_csv_has_one_row_per_tag(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "tags.csv"
    await run_export(TagsJob(), wecom_client, out, format="csv", options=FAST)

    with out.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    groups = [*await wecom_client.tags.list(), *await wecom_client.tags.list_strategy()]
    assert tuple(reader.fieldnames or ()) == TagsJob().table().columns
    assert sorted((r["group_id"], r["tag_id"], r["tag_name"]) for r in rows) == sorted(
        (g.group_id, t.id, t.name) for g in groups for t in g.tag
    )
    strategy = {g.group_id for g in groups if g.strategy_id is not None}
    assert all((r["strategy_id"] != "") == (r["group_id"] in strategy) for r in rows)


async def test_contact_ways_window_by_window(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    seeded = set(corp.state.ext(ContactWayState).contact_ways)  # the demo corp's own ways
    assert seeded
    members = await wecom_client.external_contact.get_follow_user_list()
    added = [
        (await wecom_client.contact_way.add({"type": 1, "scene": 2, "user": [m], "state": m[:8]}))
        for m in members[:3]
    ]
    corp.clock.advance(200 * 86_400)  # the next one lands in a later 90-day window
    added.append(await wecom_client.contact_way.add({"type": 2, "scene": 1, "user": members}))
    job = ContactWaysJob(clock=corp.clock.now)
    out = tmp_path / "ways.jsonl"
    result = await run_export(job, wecom_client, out, options=FAST)

    records = _records(out, "config_id")
    assert set(records) == seeded | {a.config_id for a in added}
    for config_id, record in records.items():
        assert record == to_dict(await wecom_client.contact_way.get(config_id))
    bodies = [r.json or {} for r in corp.requests if r.path.endswith("list_contact_way")]
    windows = sorted((int(b["start_time"]), int(b["end_time"])) for b in bodies)
    assert len(windows) == result.units == result.pages
    assert windows[0][0] == 1_625_846_400  # 2021-07-10, the first day WeCom lists
    assert windows[-1][1] == int(corp.clock.now())
    for (start, end), (following, _) in itertools.pairwise(windows):
        assert end - start == 90 * 86_400 - 1  # disjoint inclusive windows, no gap
        assert following == end + 1
