"""An export submitted without waiting is finished by the workers: the worker whose
commit completes it writes the manifests and takes it out of the active set. The
corp's ``--since last`` manifest is the single-process export's, at the place the next
distributed run reads it (``DIR/<corp>.<kind>.manifest.json``), with the same covered
range and record count."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from redis.asyncio import Redis
from taskiq import AsyncBroker

from tests.export.helpers import SECRET
from tests.export.kinds import World, build_world
from wecom_async import MemoryRateBudget, MemoryTokenStore, RetryPolicy, WeComClient
from wecom_async.export import EngineOptions, Manifest, run_export
from wecom_async.export._manifest import corp_output, manifest_path
from wecom_async.export._since import JobRequest
from wecom_async.export.distributed import (
    Claim,
    LeaseOptions,
    Ledger,
    ShardWorker,
    submit_export,
)
from wecom_async.testing import FakeWeCom

from .serving import until_retired
from .test_damaged import factory

KIND = "group-messages"


async def world_of(fake: FakeWeCom) -> World:
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=http,
            base_url=fake.base_url,
            retry=RetryPolicy.no_delay(),
        ) as client,
    ):
        return await build_world(fake, client)


async def single_process(fake: FakeWeCom, request: JobRequest, out: Path) -> int:
    job = request.build(KIND, chunk_size=None, concurrency=1)
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=http,
            base_url=fake.base_url,
            retry=RetryPolicy.no_delay(),
        ) as client,
    ):
        result = await run_export(job, client, out, options=EngineOptions(checkpoint_interval=0))
    assert job.covered is not None
    Manifest(
        kind=KIND, corp_id=fake.corp_id, covered=job.covered, records=result.items, finished_at=0
    ).save(out)
    return result.items


async def submitted(
    redis: Redis, broker: AsyncBroker, fake: FakeWeCom, out: Path
) -> tuple[str, JobRequest]:
    world = await world_of(fake)
    request = JobRequest(since=world.since, until=world.until)
    export_id = await submit_export(
        Ledger(redis),
        broker,
        KIND,
        [(fake.corp_id, factory(fake))],
        out,
        request=request,
        token_store=MemoryTokenStore(),
        rate_budget=MemoryRateBudget(),
    )
    return export_id, request


async def served_until_retired(redis: Redis, fake: FakeWeCom, export_id: str) -> None:
    worker = ShardWorker(
        redis, [(fake.corp_id, factory(fake))], options=LeaseOptions(lease=5), poll=0.02
    )
    await until_retired(redis, worker, export_id, patience=20)


async def test_workers_finish_an_export_nobody_waits_for_with_the_since_last_manifest(
    redis: Redis, broker: AsyncBroker, tmp_path: Path
) -> None:
    fake = FakeWeCom("wwa", SECRET)
    out = tmp_path / "out"
    export_id, request = await submitted(redis, broker, fake, out)
    await served_until_retired(redis, fake, export_id)

    status = await Ledger(redis).status(export_id)
    assert status is not None
    assert status.complete
    assert status.failed == 0
    mine = Manifest.load(corp_output(out, fake.corp_id, KIND))
    assert manifest_path(corp_output(out, fake.corp_id, KIND)) == out / f"wwa.{KIND}.manifest.json"
    reference = tmp_path / "single.jsonl"
    records = await single_process(fake, request, reference)
    theirs = Manifest.load(reference)
    assert records == status.items > 0
    assert (mine.kind, mine.corp_id, mine.covered, mine.records) == (
        theirs.kind,
        theirs.corp_id,
        theirs.covered,
        theirs.records,
    )
    assert mine.covered is not None
    assert mine.next_since(KIND, fake.corp_id) == mine.covered.until + 1
    folder = json.loads((out / export_id / "manifest.json").read_text())
    assert (folder["since"], folder["until"]) == (mine.covered.since, mine.covered.until)
    assert folder["committed"] == len(status.shards)


async def test_an_export_with_a_shard_failed_for_good_leaves_no_since_last_manifest(
    redis: Redis, broker: AsyncBroker, tmp_path: Path
) -> None:
    fake = FakeWeCom("wwa", SECRET)
    out = tmp_path / "out"
    export_id, _ = await submitted(redis, broker, fake, out)
    ledger = Ledger(redis)
    claim = await ledger.claim(export_id, [fake.corp_id], "w0", 60.0, 0)
    assert isinstance(claim, Claim)
    assert await ledger.release(claim, "TransportError: down", max_errors=1, pause=0) == "failed"
    await served_until_retired(redis, fake, export_id)

    folder = json.loads((out / export_id / "manifest.json").read_text())
    assert folder["failed"] == 1
    assert folder["shards"][0]["state"] == "failed"
    assert folder["committed"] == len(folder["shards"]) - 1
    # The next --since last skips nothing.
    assert not manifest_path(corp_output(out, fake.corp_id, KIND)).exists()
