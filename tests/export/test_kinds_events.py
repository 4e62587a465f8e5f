"""group-messages and moments: every record of the range once, read whole, as the fake holds it."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from tests.export.kinds import DAY, FAST, World, build_world, records
from wecom_async import WeComClient, to_dict
from wecom_async.export import GroupMessagesJob, MomentsJob, run_export
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._messages_state import SEND_NOT_SENT
from wecom_async.testing.routes._moments_state import MomentsState

LIST_MSGS = "externalcontact/get_groupmsg_list_v2"
LIST_MOMENTS = "externalcontact/get_moment_list"


@pytest.fixture
async def world(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> World:
    return await build_world(wecom_fake, wecom_client)


def _expected_sends(fake: FakeWeCom, msgid: str) -> Counter[tuple[object, ...]]:
    message = fake.groupmsg(msgid)
    group = message.chat_type == "group"
    return Counter(
        (d.userid, d.external_userid, d.chat_id, d.status)
        for task in message.tasks.values()
        for d in task.deliveries
        if not (group and d.status == SEND_NOT_SENT)  # WeCom lists only groups sent to
    )


async def test_group_messages_hold_every_message_with_its_tasks_and_results(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "msgs.jsonl"
    job = GroupMessagesJob(since=world.since, until=world.until)
    result = await run_export(job, wecom_client, out, options=FAST)

    found = records(out)
    assert Counter((r["chat_type"], r["group_msg"]["msgid"]) for r in found) == Counter(
        (chat_type, msgid) for msgid, chat_type in world.messages.items()
    )
    fake = world.fake
    for record in found:
        msgid = record["group_msg"]["msgid"]
        message = fake.groupmsg(msgid)
        assert record["group_msg"]["create_time"] == message.create_time
        tasks = {(t["userid"], t["status"]) for t in record["task_list"]}
        assert tasks == {(t.userid, t.status) for t in message.tasks.values()}
        sends = Counter(
            (s.get("userid"), s.get("external_userid"), s.get("chat_id"), s["status"])
            for s in record["send_list"]
        )
        assert sends == _expected_sends(fake, msgid)
    assert sum(len(r["send_list"]) for r in found) > 20  # real recipients, not empty lists
    assert any(s["status"] == 1 for r in found for s in r["send_list"])  # confirmed ones
    # 66 days in 30-day windows: 3 windows, each listed for single and group messages.
    assert (result.units, result.failures) == (6, [])
    for body in (r.json for r in fake.requests if r.path == LIST_MSGS):
        assert 0 < body["end_time"] - body["start_time"] <= 30 * DAY


async def test_a_message_on_a_window_edge_is_written_once(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    # The first message was created at the world's start + 7 days: make it the last
    # second of one window and the eve of the next one's first second.
    first = min(world.fake.groupmsg(m).create_time for m in world.messages)
    window = GroupMessagesJob.max_span - 2
    since = first - window + 1  # the first window ends on the message's second
    out = tmp_path / "edge.jsonl"
    job = GroupMessagesJob(since=since, until=first + 1)
    result = await run_export(job, wecom_client, out, options=FAST)

    found = [r["group_msg"]["msgid"] for r in records(out)]
    assert len(found) == 1
    assert world.fake.groupmsg(found[0]).create_time == first
    assert result.units == 4  # two windows (the second is 1 s long), two chat types


async def test_a_message_still_being_dispatched_is_reported_not_dropped(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    world.fake.set_groupmsg_dispatch_delay(10 * DAY)  # the newest messages answer 41063
    out = tmp_path / "msgs.jsonl"
    result = await run_export(
        GroupMessagesJob(since=world.since, until=world.until), wecom_client, out, options=FAST
    )

    (failure,) = result.failures
    assert failure.reason == "errcode 41063"
    written = {r["group_msg"]["msgid"] for r in records(out)}
    assert written | set(failure.ids) == set(world.messages)
    assert written
    assert failure.ids
    assert not written & set(failure.ids)


async def test_moments_hold_every_member_customer_and_comment(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "moments.jsonl"
    result = await run_export(
        MomentsJob(since=world.since, until=world.until), wecom_client, out, options=FAST
    )

    store = world.fake.state.ext(MomentsState)
    now = world.fake.clock.now()
    expected = {m.moment_id: m for m in store.moments if world.since <= m.create_time}
    found = {r["moment"]["moment_id"]: r for r in records(out)}
    assert len(found) == len(records(out))  # each once
    assert set(found) == set(expected)
    assert set(world.corp_moments) < set(found)  # the seeded personal ones too
    for moment_id, record in found.items():
        moment = expected[moment_id]
        members = {m["userid"]: m for m in record["members"]}
        assert set(members) == set(moment.tasks)
        for userid, task in moment.tasks.items():
            member = members[userid]
            assert member["published"] == task.published(now)
            assert {c["external_userid"] for c in member["customer_list"]} == set(task.customers)
            if task.published(now):
                comments = await wecom_client.moments.get_moment_comments(moment_id, userid)
                assert member["comment_list"] == to_dict(comments)["comment_list"]
                assert member["like_list"] == to_dict(comments)["like_list"]
                assert member["send_result"]
            else:
                assert member["send_result"] == member["comment_list"] == []
        corp = moment.create_type == 0
        assert len(record["task_list"]) == (len(moment.tasks) if corp else 0)
    published = [m["published"] for r in found.values() for m in r["members"]]
    assert True in published
    assert False in published
    assert result.failures == []
    for body in (r.json for r in world.fake.requests if r.path == LIST_MOMENTS):
        assert 0 < body["end_time"] - body["start_time"] <= 30 * DAY


async def test_moments_csv_counts_each_moment(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "moments.csv"
    job = MomentsJob(since=world.since, until=world.until)
    await run_export(job, wecom_client, out, format="csv", options=FAST)

    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    store = world.fake.state.ext(MomentsState)
    now = world.fake.clock.now()
    for row in rows:
        moment = store.by_id[row["moment_id"]]
        assert int(row["members"]) == len(moment.tasks)
        assert int(row["published"]) == sum(t.published(now) for t in moment.tasks.values())
        assert int(row["customers"]) == sum(len(t.customers) for t in moment.tasks.values())
    assert len(rows) == len({r["moment_id"] for r in rows}) > 2
