"""How a finished distributed export updates each corp's ``--since last`` manifest.

``DIR/<corp>.<kind>.manifest.json`` is the range of that corp exported into ``DIR`` so
far: a finished export advances it only when its range joins or overlaps it and ends
later; a range after a gap leaves it (one warning names the gap), one ending at or before
it never moves it back. Updates are serialized by a short Redis lock, so exports that
overlap and finish in any order never skip a second and never go back. A corp whose
plan was empty covered its planned range (0 records); a corp whose manifest cannot be
written keeps its previous one, and the others and the export's retirement go on.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from taskiq import AsyncBroker

from tests.export.distributed import objstore
from tests.export.helpers import SECRET
from tests.redis_server import RedisServer
from wecom_async import MemoryRateBudget, MemoryTokenStore
from wecom_async.export import Manifest
from wecom_async.export._manifest import completed, corp_output, manifest_path
from wecom_async.export._range import BEIJING, TimeRange
from wecom_async.export._since import JobRequest, since_last_each
from wecom_async.export._store import LocalLocation, Location
from wecom_async.export.distributed import (
    Claim,
    ExportFiles,
    ExportStatus,
    Ledger,
    Plan,
    ShardPlan,
    _since_last,
    submit_export,
    wait_export,
)
from wecom_async.export.distributed._finish import finish_export, finish_if_complete
from wecom_async.export.distributed._lock import LockBusy, LockLost, lock_key, short_lock
from wecom_async.testing import FakeWeCom

from .test_damaged import factory
from .test_finish import world_of
from .test_since_last import KIND, serve_until_retired, submit, two_corps

DAY = 86_400
LOGGER = "wecom_async.export"


def covered(out: Path | str, corp: str, kind: str = KIND) -> TimeRange | None:
    return Manifest.load(corp_output(out, corp, kind)).covered


# --- 1. never past a gap, never back (the reviewer's reproductions) ---------------------


async def test_an_export_with_a_later_range_leaves_the_gap_to_the_next_since_last(
    redis: Redis, broker: AsyncBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corps = (await two_corps())[:1]
    fake, world = corps[0]
    out = tmp_path / "out"
    out.mkdir()
    previous = TimeRange(world.since, world.since + DAY - 1)
    completed(KIND, fake.corp_id, previous, 1).save(corp_output(out, fake.corp_id, KIND))
    later = JobRequest(since=world.since + 4 * DAY, until=world.until)
    caplog.set_level(logging.WARNING, LOGGER)
    export_id = await submit(redis, broker, corps, out, later)
    status = await serve_until_retired(redis, corps, export_id)
    assert status.failed == 0
    assert status.items > 0

    kept = Manifest.load(corp_output(out, fake.corp_id, KIND))
    assert (kept.covered, kept.records) == (previous, 1)
    nxt = since_last_each(KIND, JobRequest(until=world.until + 10 * DAY), out, [fake.corp_id])
    assert not isinstance(nxt, str)
    assert nxt[fake.corp_id].since == previous.until + 1  # the gap is exported next
    gaps = [r.getMessage() for r in caplog.records if "no export to this" in r.getMessage()]
    assert len(gaps) == 1
    assert f"corp {fake.corp_id} ({KIND})" in gaps[0]
    for end in (previous.until + 1, later.since - 1):  # the gap's two ends  # type: ignore[operator]
        assert datetime.fromtimestamp(end, BEIJING).isoformat() in gaps[0]


async def test_an_older_export_finishing_late_never_moves_since_last_back(
    redis: Redis, broker: AsyncBroker, tmp_path: Path
) -> None:
    corps = (await two_corps())[:1]
    fake, world = corps[0]
    corp = fake.corp_id
    out = tmp_path / "out"
    out.mkdir()
    start = world.since
    completed(KIND, corp, TimeRange(start, start + DAY - 1), 1).save(corp_output(out, corp, KIND))
    ledger = Ledger(redis)
    night1 = since_last_each(KIND, JobRequest(until=start + 3 * DAY - 1), out, [corp])
    assert not isinstance(night1, str)
    x = await submit(redis, broker, corps, out, JobRequest(), night1)
    status = await ledger.status(x)
    assert status is not None
    held = []
    for shard in status.shards:  # a slow worker holds night 1
        claim = await ledger.claim(x, [corp], "slow-worker", 600.0, shard.shard)
        assert isinstance(claim, Claim)
        held.append(claim)
    night2 = since_last_each(KIND, JobRequest(until=world.until), out, [corp])
    assert not isinstance(night2, str)
    y = await submit(redis, broker, corps, out, JobRequest(), night2)
    y_status = await serve_until_retired(redis, corps, y)
    assert y_status.failed == 0
    assert covered(out, corp) == TimeRange(start, world.until)
    for claim in held:
        assert await ledger.release(claim, "slow", max_errors=10, pause=0) == "pending"
    x_status = await serve_until_retired(redis, corps, x)
    assert x_status.failed == 0
    assert x not in await ledger.active()

    after = Manifest.load(corp_output(out, corp, KIND))
    assert after.covered == TimeRange(start, world.until)  # not back to night 1's end
    assert after.records == 1 + y_status.items  # night 1's records were not added


# --- 3. a corp whose plan is empty ------------------------------------------------------


async def test_a_corp_with_an_empty_plan_gets_its_manifest_and_blocks_no_one(
    redis: Redis, broker: AsyncBroker, tmp_path: Path
) -> None:
    kind = "behavior-stats"
    busy = FakeWeCom("wwa", SECRET)
    world = await world_of(busy)
    empty = FakeWeCom("wwe", SECRET)  # authorised, no follow-user yet
    corps = [(f.corp_id, factory(f)) for f in (busy, empty)]
    out = tmp_path / "out"
    request = JobRequest(since=world.since, until=world.until)
    ledger = Ledger(redis)
    export_id = await submit_export(
        ledger,
        broker,
        kind,
        corps,
        out,
        request=request,
        token_store=MemoryTokenStore(),
        rate_budget=MemoryRateBudget(),
    )
    status = await ledger.status(export_id)
    assert status is not None
    assert not [s for s in status.shards if s.corp == "wwe"]
    await serve_until_retired(redis, [(busy, world), (empty, world)], export_id)

    empty_manifest = Manifest.load(corp_output(out, "wwe", kind))
    assert empty_manifest.records == 0
    assert empty_manifest.covered == covered(out, "wwa", kind)
    nightly = since_last_each(kind, JobRequest(until=world.until + 3 * DAY), out, ["wwa", "wwe"])
    assert not isinstance(nightly, str), nightly
    assert nightly["wwe"].since == nightly["wwa"].since
    # The range planned for each corp at submission is in the plan (and the ledger).
    span = empty_manifest.covered
    assert span is not None
    planned = {"wwa": [span.since, span.until], "wwe": [span.since, span.until]}
    assert status.request["corp_range"] == planned
    saved = json.loads((out / export_id / "plan.json").read_text())
    assert saved["request"]["corp_range"] == planned


# A ledger export made directly: one shard per corp over its range, committed.


async def finished(
    ledger: Ledger,
    directory: Path | str,
    export_id: str,
    ranges: Mapping[str, TimeRange],
    *,
    request: dict[str, object] | None = None,
    items: int = 3,
) -> ExportStatus:
    corps = list(ranges)
    shards = [ShardPlan(c, {"since": r.since, "until": r.until}) for c, r in ranges.items()]
    if request is None:
        request = {"corp_range": {c: [r.since, r.until] for c, r in ranges.items()}}
    files = ExportFiles(directory, export_id)
    files.save_plan(Plan(export_id, KIND, dict(request), corps, shards))  # type: ignore[arg-type]
    assert await ledger.create(
        export_id,
        kind=KIND,
        directory=str(directory),
        request=request,  # type: ignore[arg-type]
        corps=corps,
        shards=shards,
    )
    for k, corp in enumerate(corps):
        claim = await ledger.claim(export_id, [corp], "w", 60.0, k)
        assert isinstance(claim, Claim)
        assert await ledger.commit(
            claim, f"{export_id}-s{k:05d}-e{claim.epoch}-{'0' * 16}.jsonl", items, []
        )
    status = await ledger.status(export_id)
    assert status is not None
    assert status.complete
    return status


async def test_a_plan_without_corp_range_falls_back_to_its_shards(
    redis: Redis, tmp_path: Path
) -> None:
    ledger = Ledger(redis)
    status = await finished(ledger, tmp_path, "E1", {"wwa": TimeRange(100, 199)}, request={})
    await finish_export(ledger, status)
    mine = Manifest.load(corp_output(tmp_path, "wwa", KIND))
    assert (mine.covered, mine.records) == (TimeRange(100, 199), 3)
    # A damaged corp_range is not believed either: the shards' windows count.
    damaged = {"corp_range": {"wwb": [500, "x"]}}
    status = await finished(ledger, tmp_path, "E2", {"wwb": TimeRange(100, 199)}, request=damaged)
    await finish_export(ledger, status)
    assert covered(tmp_path, "wwb") == TimeRange(100, 199)


# --- 4. one corp's manifest that cannot be written ---------------------------------------


async def test_one_unwritable_corp_manifest_stays_with_that_corp(
    redis: Redis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = Ledger(redis)
    manifest_path(corp_output(tmp_path, "wwa", KIND)).mkdir()  # squats wwa's manifest
    ranges = {"wwa": TimeRange(100, 199), "wwb": TimeRange(100, 199), "wwc": TimeRange(5, 9)}
    status = await finished(ledger, tmp_path, "E", ranges)
    warned: list[Exception] = []
    caplog.set_level(logging.ERROR, LOGGER)
    assert await finish_if_complete(ledger, "E", lambda _, error: warned.append(error))
    assert warned == []
    assert "E" not in await ledger.active()  # finished and retired all the same
    assert covered(tmp_path, "wwb") == TimeRange(100, 199)
    assert covered(tmp_path, "wwc") == TimeRange(5, 9)
    assert (tmp_path / "E" / "manifest.json").is_file()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "corp wwa" in errors[0]
    assert "keeps its previous" in errors[0]
    assert status.items == 9


async def test_a_damaged_previous_manifest_is_kept_not_overwritten(
    redis: Redis, tmp_path: Path
) -> None:
    ledger = Ledger(redis)
    where = manifest_path(corp_output(tmp_path, "wwa", KIND))
    where.write_text("{not json")
    status = await finished(ledger, tmp_path, "E", {"wwa": TimeRange(100, 199)})
    await finish_export(ledger, status)
    assert where.read_text() == "{not json"  # its range is unknown: never guessed over
    assert "E" not in await ledger.active()


async def test_on_a_url_one_failing_corp_manifest_stays_with_that_corp(
    redis: Redis,
) -> None:
    store = objstore.reset()
    out = f"{objstore.PROTOCOL}://bucket/exports"

    def refuse(key: str) -> None:
        if key.endswith(f"/exports/wwa.{KIND}.manifest.json"):
            raise OSError("the store refused the upload (503 Slow Down)")

    store.on_put.append(refuse)
    ledger = Ledger(redis)
    ranges = {"wwa": TimeRange(100, 199), "wwb": TimeRange(100, 199)}
    await finish_export(ledger, await finished(ledger, out, "E", ranges))
    objects = store.objects(out)
    assert f"wwa.{KIND}.manifest.json" not in objects
    assert covered(out, "wwb") == TimeRange(100, 199)
    assert "E/manifest.json" in objects
    assert "E" not in await ledger.active()
    assert store.violations == []


# --- 2. two finishers of one directory ---------------------------------------------------


async def test_a_corp_manifest_held_by_another_finisher_is_left_for_the_next_sweep(
    redis: Redis, tmp_path: Path
) -> None:
    ledger = Ledger(redis)
    ranges = {"wwa": TimeRange(100, 199), "wwb": TimeRange(100, 199)}
    status = await finished(ledger, tmp_path, "E", ranges)
    key = lock_key(ledger.prefix, f"manifest\n{tmp_path}\nwwa\n{KIND}")
    async with short_lock(redis, key, wait=0, lease=60):
        with pytest.raises(LockBusy):
            await finish_export(ledger, status, wait=0.1)
        assert "E" in await ledger.active()  # not retired: the next sweep finishes it
        assert not manifest_path(corp_output(tmp_path, "wwa", KIND)).exists()
        assert covered(tmp_path, "wwb") == TimeRange(100, 199)
    await finish_export(ledger, status, wait=0.1)
    assert covered(tmp_path, "wwa") == TimeRange(100, 199)
    again = Manifest.load(corp_output(tmp_path, "wwb", KIND))
    assert again.records == 3  # finishing twice adds nothing twice
    assert "E" not in await ledger.active()


async def test_a_lock_is_freed_only_by_its_holder_and_runs_out_with_its_lease(
    redis: Redis,
) -> None:
    async with short_lock(redis, "k", wait=0, lease=60):
        with pytest.raises(LockBusy):
            async with short_lock(redis, "k", wait=0.05, lease=60):
                pass
        assert await redis.get("k") is not None  # the refused one freed nothing
    assert await redis.get("k") is None  # its holder gave it back
    await redis.set("k", "a killed holder's token", px=100)  # never renewed, never freed
    with anyio.fail_after(5):  # its lease runs out: another has it
        async with short_lock(redis, "k", wait=5, lease=60) as held:
            await redis.set("k", "theirs")  # lost (stalled past its lease), another took it
            with pytest.raises(LockLost):
                await held.confirm()
    assert await redis.get("k") == b"theirs"  # the lost holder's release freed nothing


async def test_a_write_slower_than_the_lease_keeps_the_lock_and_the_manifest_never_goes_back(
    redis: Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reviewer's reproduction: A merges [base, base+100] and its write stalls past
    # the lease; B (base..base+200) must wait for A, not write first and be overwritten.
    monkeypatch.setattr(_since_last, "LOCK_LEASE", 0.3)
    real_save = Manifest.save
    stalled, go_on = threading.Event(), threading.Event()

    def save(manifest: Manifest, output: Path | Location) -> None:
        if manifest.records == 10:  # A's write: stalls until the test lets it go
            stalled.set()
            go_on.wait(10)
        real_save(manifest, output)

    monkeypatch.setattr(Manifest, "save", save)
    ledger, directory, base = Ledger(redis), LocalLocation(tmp_path), 1_700_000_000
    key = lock_key(ledger.prefix, f"manifest\n{tmp_path}\nwwa\n{KIND}")

    async def finish(export_id: str, until: int, records: int) -> None:
        covered_ = {"wwa": (TimeRange(base, until), records)}
        await _since_last.save_corp_manifests(ledger, directory, export_id, KIND, covered_)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(finish, "A", base + 100, 10)
            await anyio.to_thread.run_sync(stalled.wait)
            a_token = await redis.get(key)
            group.start_soon(finish, "B", base + 200, 20)
            await anyio.sleep(1.0)  # three leases of Redis' own clock: A's would have run out
            assert await redis.get(key) == a_token  # renewed while A's write stalls
            assert not manifest_path(corp_output(tmp_path, "wwa", KIND)).exists()  # B waits
            go_on.set()
    final = Manifest.load(corp_output(tmp_path, "wwa", KIND))
    assert (final.covered, final.records) == (TimeRange(base, base + 200), 30)


async def test_a_lost_lock_writes_nothing_and_the_export_is_finished_again_later(
    redis: Redis,
    redis_server: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger = Ledger(redis)
    ranges = {"wwa": TimeRange(100, 199), "wwb": TimeRange(100, 199)}
    status = await finished(ledger, tmp_path, "E", ranges)
    key = lock_key(ledger.prefix, f"manifest\n{tmp_path}\nwwa\n{KIND}")
    real_merged = _since_last._merged

    def stalled_past_the_lease(output: Path | Location, new: Manifest) -> Manifest | None:
        merged = real_merged(output, new)
        if new.corp_id == "wwa":  # meanwhile the lease ran out and another took the lock
            with SyncRedis.from_url(redis_server.url) as other:
                other.set(key, "another finisher's token")
        return merged

    monkeypatch.setattr(_since_last, "_merged", stalled_past_the_lease)
    caplog.set_level(logging.WARNING, LOGGER)
    with pytest.raises(LockBusy):
        await finish_export(ledger, status)
    assert not manifest_path(corp_output(tmp_path, "wwa", KIND)).exists()  # not written
    assert covered(tmp_path, "wwb") == TimeRange(100, 199)  # the other corp goes on
    assert await redis.get(key) == b"another finisher's token"  # its lock is left alone
    assert await ledger.is_active("E")  # not retired: the next sweep finishes it
    lost = [r.getMessage() for r in caplog.records if "is not written" in r.getMessage()]
    assert len(lost) == 1
    assert "corp wwa" in lost[0]
    assert "not this holder's any more" in lost[0]
    monkeypatch.setattr(_since_last, "_merged", real_merged)
    await redis.delete(key)
    await finish_export(ledger, status)
    assert covered(tmp_path, "wwa") == TimeRange(100, 199)
    assert not await ledger.is_active("E")


# A hypothesis test: exports of random ranges of one corp to one directory, finished in a
# random order, some at once. After every step the manifest's range is a union of
# exported ranges, contiguous, starting in the first one finished, and it never shrinks.

ranges = st.tuples(st.integers(0, 60), st.integers(0, 20)).map(
    lambda t: TimeRange(t[0] * 10, t[0] * 10 + t[1] * 10 + 9)
)


def exported_through(span: TimeRange, done: Sequence[TimeRange]) -> bool:
    """Every second of ``span`` is in some exported range."""
    second = span.since
    while second <= span.until:
        after = [r.until for r in done if r.since <= second <= r.until]
        if not after:
            return False
        second = max(after) + 1
    return True


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    exports=st.lists(ranges, min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
    batches=st.lists(st.integers(1, 3), min_size=6, max_size=6),
)
def test_the_manifest_is_always_a_contiguous_union_of_exported_ranges(
    redis_server: RedisServer,
    exports: list[TimeRange],
    order: random.Random,
    batches: list[int],
) -> None:
    finishing = list(exports)
    order.shuffle(finishing)

    async def run() -> None:
        client = Redis.from_url(redis_server.url)
        ledger = Ledger(client, prefix=f"t{secrets.token_hex(8)}:")
        store = objstore.reset()
        # A store slow to take an object: two read-merge-writes at once would interleave.
        store.on_put.append(lambda _: time.sleep(0.002))
        out = f"{objstore.PROTOCOL}://bucket/exports"
        statuses = [
            await finished(ledger, out, f"E{k}", {"wwa": span}) for k, span in enumerate(finishing)
        ]
        steps = list(zip(finishing, statuses, strict=True))
        done: list[TimeRange] = []
        before: TimeRange | None = None
        for size in batches:
            batch, steps = steps[:size], steps[size:]
            if not batch:
                break
            async with anyio.create_task_group() as group:  # finishing at once
                for _, status in batch:
                    group.start_soon(finish_export, ledger, status)
            done += [span for span, _ in batch]
            now = covered(out, "wwa")
            assert now is not None
            assert exported_through(now, done), (now, done)  # never skips
            if before is not None:  # never shrinks, never goes back
                assert now.since <= before.since
                assert now.until >= before.until
            # Exactly the rule, applied in some order of the batch's finishers (two
            # at once never both read the old manifest: no update is lost).
            assert now in {
                functools.reduce(expected, serial, before)
                for serial in itertools.permutations(span for span, _ in batch)
            }
            before = now
        await client.aclose()

    anyio.run(run)


def expected(before: TimeRange | None, span: TimeRange) -> TimeRange:
    """The rule: the manifest after one export of ``span`` finished."""
    if before is None:
        return span
    if span.since <= before.until + 1 and span.until > before.until:
        return TimeRange(min(before.since, span.since), span.until)
    return before


async def test_one_finisher_at_a_time_and_an_export_is_finished_once(
    redis: Redis, tmp_path: Path
) -> None:
    ledger = Ledger(redis)
    status = await finished(ledger, tmp_path, "E", {"wwa": TimeRange(100, 199)})
    mine = manifest_path(corp_output(tmp_path, "wwa", KIND))
    key = lock_key(ledger.prefix, "finish\nE")
    # another finisher (another process) is on it
    await redis.set(key, "another finisher's token", px=60_000)
    assert not await finish_if_complete(ledger, "E", lambda *_: pytest.fail("warned"))
    assert await ledger.is_active("E")
    assert not mine.exists()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(functools.partial(wait_export, ledger, None, tmp_path, "E", poll=0.01))
            await anyio.sleep(0.05)  # wait_export polls while the other holds it
            assert not mine.exists()
            assert await ledger.is_active("E")
            await redis.delete(key)  # the other is gone: wait_export finishes it
    assert covered(tmp_path, "wwa") == TimeRange(100, 199)
    assert not await ledger.is_active("E")
    mine.unlink()  # finished already: a late finisher writes nothing again
    await finish_export(ledger, status)
    assert not mine.exists()
