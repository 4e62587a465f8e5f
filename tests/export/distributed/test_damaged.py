"""A ledger damaged in Redis (a field that the scripts never write: garbage, a path, a
member of an open set that is no shard) costs only what it damages: the worker that
meets it goes on serving every other export, the shard that cannot be read is marked
failed, and ``status`` / ``assemble`` raise :class:`LedgerError` rather than a
``ValueError`` / ``KeyError`` traceback, and never read a file outside the folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import anyio
import httpx
import pytest
from redis.asyncio import Redis

from tests.export.helpers import SECRET
from wecom_async import RetryPolicy, WeComClient, WeComError
from wecom_async.export.distributed import (
    Claim,
    ExportFiles,
    ExportStatus,
    LeaseOptions,
    Ledger,
    LedgerError,
    ShardPlan,
    ShardWorker,
    rebuild_export,
)
from wecom_async.export.distributed._parts import Plan
from wecom_async.testing import FakeWeCom

TAGS = [ShardPlan("a", {"list": "corp"}), ShardPlan("a", {"list": "strategy"})]


async def create(ledger: Ledger, export_id: str, folder: Path) -> ExportFiles:
    files = ExportFiles(folder, export_id)
    files.save_plan(Plan(export_id, "tags", {}, ["a"], TAGS))
    assert await ledger.create(
        export_id, kind="tags", directory=str(folder), request={}, corps=["a"], shards=TAGS
    )
    return files


def factory(fake: FakeWeCom):  # type: ignore[no-untyped-def]
    def build(*, token_store: object, rate_budget: object) -> WeComClient:
        return WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=httpx.AsyncClient(transport=fake.transport()),
            base_url=fake.base_url,
            retry=RetryPolicy.no_delay(),
        )

    return build


async def settled(ledger: Ledger, export_id: str) -> ExportStatus:
    with anyio.fail_after(20):
        while True:
            status = await ledger.status(export_id)
            assert status is not None
            if status.complete:
                return status
            await anyio.sleep(0.02)


async def test_a_garbage_spec_fails_its_shard_and_the_worker_serves_the_other_exports(
    redis: Redis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = Ledger(redis)
    await create(ledger, "E1", tmp_path)
    good = await create(ledger, "E2", tmp_path)
    await redis.hset("wecom:export:{E1}:shards", "0:spec", "garbage{")
    fake = FakeWeCom("wwa", SECRET)
    fake.seed(staff=3, customers_per_staff=2, seed=4)
    worker = ShardWorker(redis, [("a", factory(fake))], options=LeaseOptions(lease=5), poll=0.02)
    async with worker.running():
        served = await settled(ledger, "E2")
        with anyio.fail_after(20):
            while True:
                if await redis.hget("wecom:export:{E1}:meta", "committed") == b"1":
                    break
                await anyio.sleep(0.02)
    fields = await redis.hgetall("wecom:export:{E1}:shards")
    assert (fields[b"0:state"], fields[b"1:state"]) == (b"failed", b"committed")
    assert fields[b"0:error"].startswith(b"LedgerError: ")
    meta = await redis.hmget("wecom:export:{E1}:meta", ["failed", "committed"])
    assert meta == [b"1", b"1"]
    with pytest.raises(LedgerError, match="E1 is damaged"):  # status says so, clearly
        await ledger.status("E1")
    assert [s.state for s in served.shards] == ["committed", "committed"]
    assert served.failed == 0
    assert len(good.committed_parts(served)) == 2
    assert "E1" in caplog.text
    assert "cannot be read from the ledger" in caplog.text


async def test_claim_raises_one_error_type_and_fails_the_shard_it_cannot_read(
    redis: Redis, tmp_path: Path
) -> None:
    ledger = Ledger(redis)
    await create(ledger, "E", tmp_path)
    await redis.hset("wecom:export:{E}:shards", mapping={"0:spec": "[1]", "1:corp": "zz"})
    for shard in (0, 1):  # one by its id, one as any claimable shard of corp a
        with pytest.raises(LedgerError) as caught:
            await ledger.claim("E", ["a"], "w1", 60.0, 0 if shard == 0 else None)
        assert isinstance(caught.value, WeComError)
        assert f"shard {shard} of export E" in str(caught.value)
    fields = await redis.hmget("wecom:export:{E}:shards", ["0:state", "1:state"])
    assert fields == [b"failed", b"failed"]
    assert await redis.hget("wecom:export:{E}:meta", "failed") == b"2"
    assert await ledger.claim("E", ["a"], "w1", 60.0, None) == math.inf


async def test_an_open_set_member_that_is_no_claimable_shard_is_dropped_never_leased(
    ledger: Ledger, redis: Redis
) -> None:
    got = await ledger.claim("E", ["a"], "w1", 60.0, 0)
    assert isinstance(got, Claim)
    name = ExportFiles(Path("/tmp/x"), "E").part_name(0, got.epoch, got.owner)
    assert await ledger.commit(got, name, 4, [])
    # Garbage members, and the committed shard put back: none of them is leased.
    await redis.zadd("wecom:export:{E}:open:a", {"x": 0, "-1": 0, "1.5": 0, "99": 0, "0": 0})
    again = await ledger.claim("E", ["a"], "w2", 60.0, None)
    assert isinstance(again, Claim)
    assert again.shard == 1
    assert await ledger.claim("E", ["a"], "w2", 60.0, 0) == math.inf
    wait = await ledger.claim("E", ["a"], "w3", 60.0, None)  # the rest dropped on the way
    assert isinstance(wait, float)
    assert 0 < wait <= 60.0
    members = await redis.zrange("wecom:export:{E}:open:a", 0, -1)
    assert members == [b"1"]
    status = await ledger.status("E")
    assert status is not None
    assert (status.committed, status.items, status.shards[0].commits) == (1, 4, 1)


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("shards", "0:epoch", "x"),
        ("shards", "0:items", "-3"),
        ("shards", "0:state", "done"),
        ("shards", "0:failures", "{}"),
        ("shards", "0:file", "../../etc/passwd"),
        ("meta", "request", "[]"),
        ("meta", "corps", '["../x"]'),
        ("meta", "directory", "relative/dir"),
        ("meta", "directory", "/tmp/x/../../etc"),
        ("meta", "committed", "many"),
        ("meta", "kind", "a/b"),
    ],
)
async def test_status_and_info_of_a_damaged_ledger_raise_ledger_error(
    ledger: Ledger, redis: Redis, key: str, field: str, value: str
) -> None:
    await redis.hset(f"wecom:export:{{E}}:{key}", field, value)
    with pytest.raises(LedgerError, match="the ledger of export E is damaged"):
        await ledger.status("E")
    if key == "meta" and field != "committed":
        with pytest.raises(LedgerError):
            await ledger.info("E")
    await redis.hdel("wecom:export:{E}:meta", "shards")
    if key == "meta":
        return
    with pytest.raises(LedgerError, match="no field 'shards'"):
        await ledger.status("E")


async def test_export_ids_in_the_active_set_that_are_paths_are_never_served(
    ledger: Ledger, redis: Redis
) -> None:
    await redis.sadd("wecom:export:active", "../x", "a/b", "..", "ok-2")
    assert await ledger.active() == ["E", "ok-2"]


async def test_a_commit_record_or_ledger_file_outside_the_folder_is_never_read(
    redis: Redis, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"stolen": true}\n')
    ledger = Ledger(redis)
    out = tmp_path / "out"
    files = ExportFiles(out, "E1")
    files.save_plan(Plan("E1", "tags", {}, ["a"], TAGS[:1]))
    record = {"file": str(secret), "items": 1, "failures": []}
    (files.folder / "commits" / "s00000.json").write_text(json.dumps(record))
    assert await rebuild_export(ledger, None, out, "E1")
    status = await ledger.status("E1")
    assert status is not None
    assert status.shards[0].state == "pending"  # run again, not believed
    assert status.shards[0].file is None
    # A committed ledger entry naming another shard's part, or a path: refused.
    await redis.hset(
        "wecom:export:{E1}:shards",
        mapping={"0:state": "committed", "0:file": files.part_name(1, 5, "w")},
    )
    status = await ledger.status("E1")
    assert status is not None
    with pytest.raises(LedgerError, match="not a part of that shard"):
        files.assemble(status, tmp_path / "all.jsonl")
    assert not (tmp_path / "all.jsonl").exists()
