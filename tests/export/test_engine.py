"""The export engine in-process: exact output, faults mid-export, interruption and resume."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from tests.export.helpers import BATCH, expected_pairs, read_lines, read_pairs
from wecom_async import WeComClient
from wecom_async.export import (
    Checkpoint,
    CheckpointError,
    CustomersJob,
    EngineOptions,
    TagsJob,
    Unit,
    run_export,
)
from wecom_async.testing import JSON, FakeWeCom, RequestContext, Route
from wecom_async.testing._render import render_external_contact, render_follow_info
from wecom_async.testing.routes.customers import batch_get_by_user

FAST = EngineOptions(concurrency=4, checkpoint_interval=0, retry_delay=0, rate_limit_delay=0)


class Hook:
    """A progress display that runs ``action`` once, when ``pages`` pages are written."""

    def __init__(self, pages: int, action: Callable[[], None]) -> None:
        self.pages, self.action, self.fired = pages, action, False

    def start(self, *, title: str, unit_label: str, total: int, done: int, items: int) -> None:
        pass

    def update(self, *, done: int, items: int, pages: int) -> None:
        if not self.fired and pages >= self.pages:
            self.fired = True
            self.action()

    def close(self) -> None:
        pass


class Sleeps:
    """Records the engine's pauses; optionally moves the fake clock by them."""

    def __init__(self, fake: FakeWeCom | None = None) -> None:
        self.delays: list[float] = []
        self._fake = fake

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self._fake is not None:
            self._fake.clock.advance(delay)


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """8 members, ~1,050 (customer, member) pairs: 16 pages in chunks of one member."""
    wecom_fake.seed(staff=8, customers_per_staff=120, seed=5)
    return wecom_fake


async def test_every_pair_once_exactly_as_sent(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.jsonl"
    result = await run_export(CustomersJob(chunk_size=3), wecom_client, out, options=FAST)

    expected = {}
    for pair in expected_pairs(corp):
        customer = corp.customer(pair[0])
        follow = corp.follow(*pair)
        assert follow is not None
        expected[pair] = {
            "external_contact": render_external_contact(customer),
            "follow_info": render_follow_info(follow, customer.type, corp.state.tags),
        }
    records = [json.loads(line) for line in read_lines(out)]
    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert dict(zip(pairs, records, strict=True)) == expected  # the wire dicts, unchanged
    assert result.items == len(expected)
    assert result.pages == corp.calls(BATCH)
    assert (result.units, result.size, result.failures) == (3, 8, [])
    assert not Checkpoint.path_for(out).exists()


async def test_fields_unknown_to_this_release_are_kept(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    def newer_wecom(ctx: RequestContext) -> JSON:
        data = batch_get_by_user(ctx)
        for item in data["external_contact_list"]:
            item["external_contact"]["vip_level"] = 3
            item["follow_info"]["added_in_2030"] = {"nested": [1, 2]}
        return data

    corp.add_route(Route("POST", BATCH, newer_wecom))
    out = tmp_path / "c.jsonl"
    await run_export(CustomersJob(), wecom_client, out, options=FAST)

    records = [json.loads(line) for line in read_lines(out)]
    assert len(records) == len(expected_pairs(corp))
    assert all(r["external_contact"]["vip_level"] == 3 for r in records)
    assert all(r["follow_info"]["added_in_2030"] == {"nested": [1, 2]} for r in records)


# With 4 calls in flight, each absorbing up to 3 failures in its client retries, 20 > 4 x 3
# failures in a row make at least one call give up to the engine.
@pytest.mark.parametrize(("concurrency", "times"), [(1, 10), (4, 20)])
async def test_45009_storm_midway_waits_the_window_and_completes(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path, concurrency: int, times: int
) -> None:
    sleeps = Sleeps()
    storm = Hook(2, lambda: corp.inject(BATCH, errcode=45009, times=times))
    options = EngineOptions(concurrency=concurrency, sleep=sleeps, checkpoint_interval=0)
    out = tmp_path / "c.jsonl"
    result = await run_export(
        CustomersJob(chunk_size=1), wecom_client, out, progress=storm, options=options
    )

    pairs = read_pairs(out)
    assert storm.fired
    assert len(pairs) == len(set(pairs)) == len(expected_pairs(corp))
    assert set(pairs) == expected_pairs(corp)
    assert corp.calls(BATCH) == result.pages + times  # each failed call was sent again
    assert sleeps.delays
    assert set(sleeps.delays) == {60.0}
    if concurrency == 1:  # 4 attempts per client call: 4 + 4 + 2 failures
        assert sleeps.delays == [60.0, 60.0]


async def test_a_tiny_fake_budget_is_waited_out(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    corp.set_rate_limit(BATCH, 3)
    sleeps = Sleeps(corp)  # each pause moves the fake clock
    options = EngineOptions(concurrency=2, sleep=sleeps, checkpoint_interval=0)
    out = tmp_path / "c.jsonl"
    result = await run_export(CustomersJob(chunk_size=1), wecom_client, out, options=options)

    assert set(read_pairs(out)) == expected_pairs(corp)
    assert result.items == len(expected_pairs(corp))
    assert corp.calls(BATCH) > result.pages  # 45009s were answered
    assert sleeps.delays
    assert set(sleeps.delays) == {60.0}


async def test_token_expiry_midway_is_refreshed_once(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    expiry = Hook(2, corp.expire_tokens)
    out = tmp_path / "c.jsonl"
    await run_export(CustomersJob(chunk_size=1), wecom_client, out, progress=expiry, options=FAST)

    assert expiry.fired
    assert set(read_pairs(out)) == expected_pairs(corp)
    assert len(read_pairs(out)) == len(expected_pairs(corp))
    assert corp.calls("gettoken") == 2


async def test_unlicensed_members_become_failures(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    staff = wecom_fake.seed(staff=10, customers_per_staff=5, seed=4, unlicensed_staff=3).staff
    out = tmp_path / "c.jsonl"
    result = await run_export(CustomersJob(chunk_size=2), wecom_client, out, options=FAST)

    assert set(read_pairs(out)) == expected_pairs(wecom_fake)
    by_reason = {f.reason: f for f in result.failures}
    assert set(by_reason) == {"unlicensed", "errcode 701008"}
    assert by_reason["unlicensed"].ids == (staff[7],)  # fail_info beside licensed members
    assert by_reason["errcode 701008"].ids == (staff[8], staff[9])  # the whole chunk
    assert by_reason["errcode 701008"].detail == "errcode 701008: no valid interop license"


async def _interrupted(
    client: WeComClient, out: Path, pages: int, *, interval: float = 0
) -> Checkpoint:
    """Run an export and cancel it (as Ctrl-C does) once ``pages`` pages are written."""
    with anyio.CancelScope() as scope:
        options = EngineOptions(concurrency=2, checkpoint_interval=interval)
        await run_export(
            CustomersJob(chunk_size=1),
            client,
            out,
            progress=Hook(pages, scope.cancel),
            options=options,
        )
    assert scope.cancelled_caught
    return Checkpoint.load(Checkpoint.path_for(out))


@pytest.mark.parametrize("interval", [0, 3600])
async def test_cancelled_export_resumes_exactly(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path, interval: float
) -> None:
    out = tmp_path / "c.jsonl"
    saved = await _interrupted(wecom_client, out, 3, interval=interval)

    assert saved.output_bytes == out.stat().st_size  # the shielded final commit
    assert saved.items == len(read_lines(out)) > 0
    assert saved.pages >= 3
    assert saved.pending()
    assert saved.cursors or len(saved.done) < len(saved.units)
    calls_before = corp.calls(BATCH)
    result = await run_export(CustomersJob(), wecom_client, out, resume=True, options=FAST)

    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(corp)
    assert result.resumed
    assert result.items == len(pairs)
    assert corp.calls("externalcontact/get_follow_user_list") == 1  # the plan was kept
    # The resume fetches exactly the pages the checkpoint did not record, from their cursors.
    assert corp.calls(BATCH) - calls_before == result.pages - saved.pages


async def test_resume_cuts_a_torn_tail(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.jsonl"
    await _interrupted(wecom_client, out, 2)
    with out.open("ab") as handle:
        handle.write(b'{"external_contact":{"external_userid":"wm-torn')  # a crash mid-line

    await run_export(CustomersJob(), wecom_client, out, resume=True, options=FAST)

    assert set(read_pairs(out)) == expected_pairs(corp)
    assert len(read_pairs(out)) == len(expected_pairs(corp))


async def test_resume_refuses_what_it_cannot_continue(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.jsonl"
    with pytest.raises(CheckpointError, match="nothing to resume"):
        await run_export(CustomersJob(), wecom_client, out, resume=True)

    saved = await _interrupted(wecom_client, out, 2)
    with pytest.raises(CheckpointError, match="another export"):
        await run_export(TagsJob(), wecom_client, out, resume=True)
    with pytest.raises(CheckpointError, match="another export"):
        await run_export(CustomersJob(), wecom_client, out, format="csv", resume=True)
    out.write_bytes(out.read_bytes()[: saved.output_bytes - 1])  # someone cut the file
    with pytest.raises(CheckpointError, match="was changed since"):
        await run_export(CustomersJob(), wecom_client, out, resume=True)
    out.unlink()
    with pytest.raises(CheckpointError, match="is gone"):
        await run_export(CustomersJob(), wecom_client, out, resume=True)
    assert Checkpoint.path_for(out).exists()  # still there for a later attempt


async def test_a_fresh_export_overwrites_an_older_file(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.jsonl"
    out.write_text("stale\n" * 1000)
    await run_export(CustomersJob(), wecom_client, out, options=FAST)

    assert set(read_pairs(out)) == expected_pairs(corp)
    assert len(read_pairs(out)) == len(expected_pairs(corp))


async def test_a_member_who_left_costs_only_themself(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    """WeCom refuses a whole batch chunk for one invalid userid (60111): the engine halves
    the chunk until the bad member stands alone, and exports everyone else exactly once."""

    class WithGhost(CustomersJob):
        async def plan(self, client: WeComClient) -> list[Unit]:
            units = await super().plan(client)
            ghost = {"userids": ["ghost-who-left", *units[0].spec["userids"]]}  # type: ignore[misc]
            return [Unit(ghost, units[0].size + 1), *units[1:]]

    out = tmp_path / "c.jsonl"
    result = await run_export(WithGhost(chunk_size=4), wecom_client, out, options=FAST)
    pairs = read_pairs(out)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_pairs(corp)
    assert [f.ids for f in result.failures] == [("ghost-who-left",)]
    assert not Checkpoint.path_for(out).exists()
