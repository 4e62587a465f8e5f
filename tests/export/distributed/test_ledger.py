"""Each script of the shard ledger against a real redis-server: claim, heartbeat, commit,
release, expiry, fencing, and a ledger rebuilt after Redis lost it.

Leases here are tens of milliseconds: expiry is Redis' own clock (``TIME``), which a test
cannot move, so the few waits are a little longer than the lease they outlast.
"""

from __future__ import annotations

import math
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis

from wecom_async._logging import register_secret
from wecom_async.export.distributed import Claim, ExportFiles, Ledger, ShardPlan

FILES = ExportFiles(Path("/tmp/x"), "E")
SHORT = 0.05  # a lease that is over after OUTLAST
OUTLAST = 0.15
LONG = 60.0


async def claim(
    ledger: Ledger,
    shard: int | None,
    *,
    lease: float = LONG,
    corps: tuple[str, ...] = ("a", "b"),
    owner: str = "w1",
) -> Claim:
    got = await ledger.claim("E", list(corps), owner, lease, shard)
    assert isinstance(got, Claim), got
    return got


async def test_a_claim_grants_the_next_epoch_and_a_live_lease_is_not_granted_twice(
    ledger: Ledger,
) -> None:
    first = await claim(ledger, 0)
    assert (first.shard, first.corp, first.spec) == (0, "a", {"userids": ["u1"]})
    again = await ledger.claim("E", ["a", "b"], "w2", LONG, 0)
    assert isinstance(again, float)
    assert 0 < again <= LONG
    other = await claim(ledger, None, owner="w2")
    assert other.shard == 1
    assert other.epoch > first.epoch
    status = await ledger.status("E")
    assert status is not None
    assert [s.state for s in status.shards] == ["leased", "leased", "pending"]


async def test_a_worker_claims_only_the_shards_of_the_corps_it_serves(ledger: Ledger) -> None:
    assert await ledger.claim("E", ["a"], "w1", LONG, 2) == math.inf
    got = await claim(ledger, None, corps=("b",))
    assert (got.shard, got.corp) == (2, "b")
    assert await ledger.claim("E", ["b"], "w1", LONG, None) == pytest.approx(LONG, rel=0.01)
    assert await ledger.claim("NOPE", ["a"], "w1", LONG, None) is None


def name(got: Claim) -> str:
    return FILES.part_name(got.shard, got.epoch, got.owner)


async def test_a_stale_lease_is_fenced_out_of_heartbeat_and_commit(ledger: Ledger) -> None:
    stale = await claim(ledger, 0, lease=SHORT)
    await anyio.sleep(OUTLAST)
    fresh = await claim(ledger, 0, owner="w2")
    assert fresh.epoch > stale.epoch
    assert not await ledger.heartbeat(stale, LONG)
    stale_name, fresh_name = name(stale), name(fresh)
    assert not await ledger.commit(stale, stale_name, 5, [])
    assert await ledger.commit(fresh, fresh_name, 7, [])
    assert not await ledger.commit(stale, stale_name, 5, [])  # committed: never again
    status = await ledger.status("E")
    assert status is not None
    shard = status.shards[0]
    assert (shard.state, shard.file, shard.items, shard.epoch) == (
        "committed",
        fresh_name,
        7,
        fresh.epoch,
    )
    assert (shard.commits, shard.refused) == (1, 2)
    assert (status.committed, status.items) == (1, 7)
    # A committed shard is never leased again.
    assert await ledger.claim("E", ["a"], "w3", LONG, 0) == math.inf


async def test_an_expired_lease_nobody_took_over_still_commits(ledger: Ledger) -> None:
    late = await claim(ledger, 0, lease=SHORT)
    await anyio.sleep(OUTLAST)
    assert await ledger.heartbeat(late, LONG)  # the epoch holds: renewed
    assert await ledger.commit(late, name(late), 1, [])


async def test_a_heartbeat_keeps_the_shard_from_being_taken_over(ledger: Ledger) -> None:
    held = await claim(ledger, 0, lease=SHORT)
    assert await ledger.heartbeat(held, LONG)
    await anyio.sleep(OUTLAST)
    assert isinstance(await ledger.claim("E", ["a"], "w2", LONG, 0), float)
    assert isinstance(await ledger.claim("E", ["a"], "w2", SHORT, None), Claim)  # shard 1


async def test_a_commit_asked_again_after_a_lost_answer_is_not_counted_twice(
    ledger: Ledger,
) -> None:
    mine = await claim(ledger, 0)
    failure = {"reason": "x", "ids": [], "detail": "d"}
    assert await ledger.commit(mine, name(mine), 3, [failure])
    assert await ledger.commit(mine, name(mine), 3, [])
    assert not await ledger.commit(mine, FILES.part_name(0, mine.epoch, "w9"), 3, [])
    status = await ledger.status("E")
    assert status is not None
    assert (status.shards[0].commits, status.committed, status.items) == (1, 1, 3)
    assert status.shards[0].failures == [{"reason": "x", "ids": [], "detail": "d"}]


async def test_a_released_shard_is_offered_again_after_its_pause_then_fails_for_good(
    ledger: Ledger,
) -> None:
    first = await claim(ledger, 0)
    assert await ledger.release(first, "TransportError: down", max_errors=2, pause=SHORT) == (
        "pending"
    )
    assert isinstance(await ledger.claim("E", ["a"], "w2", LONG, 0), float)  # pausing
    await anyio.sleep(OUTLAST)
    second = await claim(ledger, 0)
    assert await ledger.release(first, "stale", max_errors=2, pause=0) is None
    assert await ledger.release(second, "TransportError: down", max_errors=2, pause=0) == ("failed")
    status = await ledger.status("E")
    assert status is not None
    shard = status.shards[0]
    assert (shard.state, shard.errors, shard.error) == ("failed", 2, "TransportError: down")
    assert status.failed == 1
    assert not status.complete
    assert await ledger.claim("E", ["a"], "w2", LONG, 0) == math.inf


async def test_a_ledger_rebuilt_after_redis_lost_it_fences_every_earlier_epoch(
    ledger: Ledger, redis: Redis
) -> None:
    before = await claim(ledger, 0)
    await redis.flushall()  # what a restart without persistence leaves
    assert not await ledger.heartbeat(before, LONG)
    assert await ledger.claim("E", ["a"], "w1", LONG, 0) is None
    plan = [
        ShardPlan("a", {"userids": ["u1"]}),
        ShardPlan("a", {"userids": ["u2"]}, committed=FILES.part_name(1, 7, "w0"), items=4),
    ]
    assert await ledger.create(
        "E", kind="customers", directory="/tmp/x", request={}, corps=["a"], shards=plan
    )
    assert not await ledger.create(
        "E", kind="customers", directory="/tmp/x", request={}, corps=["a"], shards=plan
    )
    assert not await ledger.commit(before, "old.jsonl", 1, [])
    after = await claim(ledger, None, corps=("a",))
    assert after.shard == 0
    assert after.epoch > before.epoch
    status = await ledger.status("E")
    assert status is not None
    assert [s.state for s in status.shards] == ["leased", "committed"]
    assert (status.committed, status.items) == (1, 4)
    assert await ledger.active() == ["E"]


async def test_a_waiting_note_is_kept_redacted_and_never_breaks_status(
    ledger: Ledger, redis: Redis
) -> None:
    register_secret("note-secret-value-123")
    assert (await ledger.status("E")).waiting is None  # type: ignore[union-attr]
    await ledger.note_waiting("E", "worker w1 cannot use the files: " + "x" * 600)
    await ledger.note_waiting("E", "worker w2 cannot use the files: note-secret-value-123")
    status = await ledger.status("E")
    assert status is not None
    assert status.waiting is not None
    assert status.waiting.startswith("worker w2 cannot use the files: ")  # the newest
    assert "note-secret-value-123" not in status.waiting
    assert isinstance(status.waiting_at, int)
    await ledger.note_waiting("nope", "no such export")  # creates nothing
    assert await ledger.status("nope") is None
    await ledger.note_waiting("E", "y" * 600)
    assert len((await ledger.status("E")).waiting or "") == 500  # type: ignore[union-attr]
    await redis.hset("wecom:export:{E}:meta", "waiting_at", "garbage")
    status = await ledger.status("E")
    assert status is not None
    assert (status.waiting_at, status.committed) == (None, 0)
