"""Fencing against a Redis that went back in time: restarted from an older snapshot, or
an asynchronous replica promoted, the export's fence counter is rolled back while a
worker still runs a shard it leased after the snapshot.

The rollback is the snapshot's own bytes put back (``DUMP`` before the lease,
``RESTORE REPLACE`` after it): exactly what Redis holds after such a restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from wecom_async.export.distributed import Claim, ExportFiles, Ledger

LONG = 60.0
KEYS = ("wecom:export:{E}:meta", "wecom:export:{E}:shards", "wecom:export:{E}:open:a")


async def snapshot(redis: Redis) -> dict[str, bytes]:
    dumps = {key: await redis.dump(key) for key in KEYS}
    return {key: value for key, value in dumps.items() if isinstance(value, bytes)}


async def roll_back(redis: Redis, dumps: dict[str, bytes]) -> None:
    for key, value in dumps.items():
        await redis.restore(key, 0, value, replace=True)


async def lease(ledger: Ledger, owner: str) -> Claim:
    got = await ledger.claim("E", ["a"], owner, LONG, 0)
    assert isinstance(got, Claim), got
    return got


async def test_a_fence_rolled_back_never_grants_an_epoch_twice_nor_lets_both_commit(
    ledger: Ledger, redis: Redis
) -> None:
    before = await snapshot(redis)
    stale = await lease(ledger, "worker-A")
    await roll_back(redis, before)  # shard 0 pending again, the fence as it was
    fresh = await lease(ledger, "worker-B")
    assert fresh.epoch > stale.epoch
    assert not await ledger.heartbeat(stale, LONG)
    files = ExportFiles(Path("/tmp/x"), "E")
    assert not await ledger.commit(stale, files.part_name(0, stale.epoch, stale.owner), 3, [])
    assert await ledger.commit(fresh, files.part_name(0, fresh.epoch, fresh.owner), 5, [])
    status = await ledger.status("E")
    assert status is not None
    shard = status.shards[0]
    assert (shard.commits, shard.refused, shard.items, status.items) == (1, 1, 5, 5)


async def test_a_second_lease_of_the_same_epoch_is_refused_by_its_owner(
    ledger: Ledger, redis: Redis
) -> None:
    """Even one epoch granted twice (the fence and the clock both set back) never lets
    the other holder heartbeat, release or commit."""
    mine = await lease(ledger, "worker-A")
    other = Claim(mine.export_id, mine.shard, mine.epoch, mine.corp, mine.spec, "worker-B")
    files = ExportFiles(Path("/tmp/x"), "E")
    assert not await ledger.heartbeat(other, LONG)
    assert await ledger.release(other, "x", max_errors=1, pause=0) is None
    assert not await ledger.commit(other, files.part_name(0, other.epoch, other.owner), 9, [])
    assert await ledger.heartbeat(mine, LONG)
    assert await ledger.commit(mine, files.part_name(0, mine.epoch, mine.owner), 2, [])
    status = await ledger.status("E")
    assert status is not None
    assert (status.shards[0].items, status.shards[0].commits, status.items) == (2, 1, 2)


def test_two_leases_of_one_shard_and_epoch_never_share_a_part_file(tmp_path: Path) -> None:
    files = ExportFiles(tmp_path, "E")
    files.folder.mkdir()
    assert files.part_name(0, 7, "worker-A") != files.part_name(0, 7, "worker-B")
    a = files.open_part(0, 7, "worker-A")
    b = files.open_part(0, 7, "worker-B")
    a.write(b'{"id":"a1"}\n{"id":"a2"}\n')
    b.write(b'{"id":"b1"}\n')
    a.finish()
    b.finish()
    assert a.path.read_bytes() == b'{"id":"a1"}\n{"id":"a2"}\n'
    assert b.path.read_bytes() == b'{"id":"b1"}\n'
    with pytest.raises(FileExistsError):
        files.open_part(0, 7, "worker-A").close()  # a leftover is never truncated
    assert files.is_part_name(0, a.path.name)
    assert not files.is_part_name(1, a.path.name)
