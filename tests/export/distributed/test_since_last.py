"""``--since last`` of distributed exports: every corp goes on from its own previous run.

The export that completes writes, for each corp whose shards all committed, the manifest
``DIR/<corp>.<kind>.manifest.json``; the next submission to ``DIR`` with ``--since last``
starts each corp one second after its own ``until``. A corp with a shard failed for good
keeps its previous manifest (its range is never skipped), and a submission where a corp
has no previous run is refused as a whole, naming the corp.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from redis.asyncio import Redis
from taskiq import AsyncBroker

from tests.export.helpers import SECRET
from tests.export.kinds import World
from tests.redis_server import RedisServer
from wecom_async import MemoryRateBudget, MemoryTokenStore
from wecom_async.export import Manifest
from wecom_async.export._manifest import completed, corp_output, manifest_path
from wecom_async.export._range import TimeRange
from wecom_async.export._since import JobRequest, since_last_each
from wecom_async.export.cli import ExitStatus, main
from wecom_async.export.distributed import (
    Claim,
    ExportStatus,
    LeaseOptions,
    Ledger,
    ShardWorker,
    submit_export,
)
from wecom_async.testing import FakeWeCom

from .serving import until_retired
from .test_damaged import factory
from .test_finish import KIND, single_process, world_of

Corps = list[tuple[FakeWeCom, World]]


async def two_corps() -> Corps:
    corps = []
    for corp_id in ("wwa", "wwb"):
        fake = FakeWeCom(corp_id, SECRET)
        corps.append((fake, await world_of(fake)))
    return corps


async def submit(
    redis: Redis,
    broker: AsyncBroker,
    corps: Corps,
    out: Path,
    request: JobRequest,
    own: dict[str, JobRequest] | None = None,
) -> str:
    return await submit_export(
        Ledger(redis),
        broker,
        KIND,
        [(fake.corp_id, factory(fake)) for fake, _ in corps],
        out,
        request=request,
        corp_requests=own,
        token_store=MemoryTokenStore(),
        rate_budget=MemoryRateBudget(),
    )


async def serve_until_retired(redis: Redis, corps: Corps, export_id: str) -> ExportStatus:
    worker = ShardWorker(
        redis,
        [(fake.corp_id, factory(fake)) for fake, _ in corps],
        options=LeaseOptions(lease=5),
        poll=0.02,
    )
    return await until_retired(redis, worker, export_id, patience=20)


def corp_items(status: ExportStatus, corp: str) -> int:
    return sum(shard.items for shard in status.shards if shard.corp == corp)


async def test_each_corp_gets_its_own_manifest_equal_to_its_single_export(
    redis: Redis, broker: AsyncBroker, tmp_path: Path
) -> None:
    corps = await two_corps()
    out = tmp_path / "out"
    # One range for both corps: the widest of the two worlds.
    request = JobRequest(since=min(w.since for _, w in corps), until=max(w.until for _, w in corps))
    export_id = await submit(redis, broker, corps, out, request)
    status = await serve_until_retired(redis, corps, export_id)
    assert status.failed == 0

    for fake, _ in corps:
        mine = Manifest.load(corp_output(out, fake.corp_id, KIND))
        assert manifest_path(corp_output(out, fake.corp_id, KIND)) == (
            out / f"{fake.corp_id}.{KIND}.manifest.json"
        )
        reference = tmp_path / f"{fake.corp_id}.jsonl"
        records = await single_process(fake, request, reference)
        theirs = Manifest.load(reference)
        assert records == corp_items(status, fake.corp_id) > 0
        assert (mine.kind, mine.corp_id, mine.covered, mine.records) == (
            theirs.kind,
            theirs.corp_id,
            theirs.covered,
            theirs.records,
        )
    # The single-process place beside the directory is not written any more.
    assert not manifest_path(out).exists()


async def test_the_next_run_starts_each_corp_after_its_own_previous_range(
    redis: Redis, broker: AsyncBroker, tmp_path: Path
) -> None:
    corps = await two_corps()
    out = tmp_path / "out"
    start = min(w.since for _, w in corps)
    ends = {"wwa": start + 20 * 86400, "wwb": start + 30 * 86400}
    out.mkdir()
    for corp, until in ends.items():
        completed(KIND, corp, TimeRange(start, until), 1).save(corp_output(out, corp, KIND))
    until = max(w.until for _, w in corps)

    own = since_last_each(KIND, JobRequest(until=until), out, ["wwa", "wwb"])
    assert not isinstance(own, str), own
    assert {corp: r.since for corp, r in own.items()} == {c: e + 1 for c, e in ends.items()}
    export_id = await submit(redis, broker, corps, out, JobRequest(until=until), own)
    plan = json.loads((out / export_id / "plan.json").read_text())
    assert plan["request"]["corp_since"] == {c: e + 1 for c, e in ends.items()}
    for corp, end in ends.items():
        windows = [s["spec"] for s in plan["shards"] if s["corp"] == corp]
        assert min(w["since"] for w in windows) == end + 1
    status = await serve_until_retired(redis, corps, export_id)
    assert status.failed == 0

    for fake, _ in corps:
        corp = fake.corp_id
        # The range exported into out so far: the previous one joined by this one.
        after = Manifest.load(corp_output(out, corp, KIND))
        assert after.covered == TimeRange(start, until)
        reference = tmp_path / f"{corp}.jsonl"
        records = await single_process(fake, own[corp], reference)
        assert after.records == 1 + records == 1 + corp_items(status, corp)
        assert plan["request"]["corp_range"][corp] == [ends[corp] + 1, until]


async def test_a_corp_with_a_failed_shard_keeps_its_previous_manifest(
    redis: Redis, broker: AsyncBroker, tmp_path: Path
) -> None:
    corps = await two_corps()
    out = tmp_path / "out"
    out.mkdir()
    previous = completed(KIND, "wwb", TimeRange(1, 2), 7)
    previous.save(corp_output(out, "wwb", KIND))
    request = JobRequest(since=min(w.since for _, w in corps), until=max(w.until for _, w in corps))
    export_id = await submit(redis, broker, corps, out, request)
    ledger = Ledger(redis)
    status = await ledger.status(export_id)
    assert status is not None
    first = next(s.shard for s in status.shards if s.corp == "wwb")
    claim = await ledger.claim(export_id, ["wwb"], "w0", 60.0, first)
    assert isinstance(claim, Claim)
    assert await ledger.release(claim, "TransportError: down", max_errors=1, pause=0) == "failed"
    status = await serve_until_retired(redis, corps, export_id)
    assert status.failed == 1

    kept = Manifest.load(corp_output(out, "wwb", KIND))
    assert (kept.covered, kept.records) == (previous.covered, 7)  # its range is not skipped
    other = Manifest.load(corp_output(out, "wwa", KIND))
    assert other.covered == TimeRange(request.since or 0, request.until or 0)
    assert other.records == corp_items(status, "wwa")


def test_a_corp_without_a_previous_run_refuses_the_whole_submission(tmp_path: Path) -> None:
    completed(KIND, "wwa", TimeRange(10, 20), 3).save(corp_output(tmp_path, "wwa", KIND))
    completed("moments", "wwc", TimeRange(10, 20), 3).save(corp_output(tmp_path, "wwc", KIND))
    problem = since_last_each(KIND, JobRequest(until=100), tmp_path, ["wwa", "wwb", "wwc"])
    assert isinstance(problem, str)
    lines = problem.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("corp wwb: --since last: no previous export")
    assert lines[1].startswith("corp wwc: --since last: the previous export")
    assert "moments" in lines[1]
    # Nothing new since the previous run: refused, not an empty export.
    empty = since_last_each(KIND, JobRequest(until=20), tmp_path, ["wwa"])
    assert isinstance(empty, str)
    assert "is after --until" in empty


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    for name in ("WECOM_REDIS_URL", "WECOM_CORP_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_command_reads_since_last_where_the_workers_write_it(
    redis_server: RedisServer, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export", KIND, "--workers", "--since", "last", "--corp-id", "wwa"]
    argv += ["--redis-url", redis_server.url, "--base-url", "http://127.0.0.1:9"]
    # No -o: the default directory, for the submission and --since last alike.
    assert main(argv) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert "corp wwa: --since last: no previous export" in err
    assert not (in_tmp / "exports").exists() or not any((in_tmp / "exports").iterdir())

    (in_tmp / "exports").mkdir(exist_ok=True)
    completed(KIND, "wwa", TimeRange(1_700_000_000, 1_700_086_399), 5).save(
        corp_output(in_tmp / "exports", "wwa", KIND)
    )
    assert main(argv) == ExitStatus.OK
    export_id = capsys.readouterr().out.strip()
    plan = json.loads((in_tmp / "exports" / export_id / "plan.json").read_text())
    assert plan["request"]["corp_since"] == {"wwa": 1_700_086_400}
    assert min(s["spec"]["since"] for s in plan["shards"]) == 1_700_086_400
    assert SECRET not in json.dumps(plan)
    assert sorted(os.listdir(in_tmp / "exports")) == sorted(
        [export_id, f"wwa.{KIND}.manifest.json"]
    )


def test_since_last_is_refused_for_a_kind_without_a_range_before_anything_runs(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export", "customers", "--workers", "--since", "last", "--corp-id", "wwa"]
    assert main([*argv, "--redis-url", "redis://127.0.0.1:9"]) == ExitStatus.USAGE
    assert "customers has no time range" in capsys.readouterr().err
