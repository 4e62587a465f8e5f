"""A distributed export to an fsspec URL, against an object store (``objstore.py``: no
rename, no append, no exclusive create, objects appear whole): parts are uploaded whole
before their commit is asked, an upload that fails costs a retry and no record, a stale
worker's late part is never read, the plan, commit records and manifests round-trip,
a ledger is rebuilt from the URL's folder, and the output is byte for byte the one a
local directory gets."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis
from taskiq import AsyncBroker

from tests.export.helpers import SECRET, expected_pairs, read_pairs
from wecom_async import MemoryRateBudget, MemoryTokenStore, ValidationError
from wecom_async.export import Manifest
from wecom_async.export._manifest import corp_output
from wecom_async.export._since import JobRequest, since_last_each
from wecom_async.export.distributed import (
    Claim,
    ExportFiles,
    ExportStatus,
    LeaseOptions,
    Ledger,
    LedgerError,
    Plan,
    ShardPlan,
    ShardWorker,
    rebuild_export,
    submit_export,
)
from wecom_async.testing import FakeWeCom

from .objstore import ObjectStore, reset
from .serving import until_retired
from .test_damaged import factory
from .test_finish import KIND, world_of

URL = "objtest://bucket/exports"


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ObjectStore]:
    """The object store, emptied; local spools go to ``tmp_path / "spool"``."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    fs = reset()
    yield fs
    assert fs.violations == [], "only what an object store allows"
    assert list(spool.iterdir()) == [], "no local spool left behind"


def corp() -> FakeWeCom:
    fake = FakeWeCom("wwa", SECRET)
    fake.seed(staff=4, customers_per_staff=3, seed=5)
    return fake


async def submit(
    redis: Redis, broker: AsyncBroker, fake: FakeWeCom, directory: Path | str, **kw: object
) -> str:
    kind = str(kw.pop("kind", "customers"))
    return await submit_export(
        Ledger(redis),
        broker,
        kind,
        [("a", factory(fake))],
        directory,
        chunk_size=1 if kind == "customers" else None,
        token_store=MemoryTokenStore(),
        rate_budget=MemoryRateBudget(),
        **kw,  # type: ignore[arg-type]
    )


async def served(
    redis: Redis, fake: FakeWeCom, export_id: str, options: LeaseOptions | None = None
) -> ExportStatus:
    """Serve with one in-process worker until the export is finished (retired)."""
    worker = ShardWorker(
        redis, [("a", factory(fake))], options=options or LeaseOptions(lease=5), poll=0.02
    )
    return await until_retired(redis, worker, export_id)


async def test_an_export_to_an_object_store_uploads_whole_parts_and_equals_a_local_one(
    redis: Redis,
    broker: AsyncBroker,
    store: ObjectStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = corp()
    asked: list[str] = []
    real_commit = Ledger.commit

    async def checked(self: Ledger, claim: Claim, file: str, items: int, failures: object) -> bool:
        if claim.export_id == "U":
            key = f"/bucket/exports/U/{file}"
            assert key in store.store, f"commit of {file} before its upload"
            assert bytes(store.store[key].getvalue()).count(b"\n") == items
            asked.append(file)
        return await real_commit(self, claim, file, items, failures)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "commit", checked)
    assert await submit(redis, broker, fake, URL, export_id="U") == "U"
    status = await served(redis, fake, "U")
    assert await submit(redis, broker, fake, tmp_path / "local", export_id="L") == "L"
    local = await served(redis, fake, "L")

    assert status.complete
    assert status.failed == 0
    assert status.committed == len(status.shards) == 4
    assert sorted(asked) == sorted(s.file for s in status.shards if s.file)
    files = ExportFiles(URL, "U")
    lines = await anyio.to_thread.run_sync(files.assemble, status, "objtest://bucket/all.jsonl")
    ExportFiles(tmp_path / "local", "L").assemble(local, tmp_path / "all.jsonl")
    assembled = store.objects("objtest://bucket")["all.jsonl"]
    assert assembled == (tmp_path / "all.jsonl").read_bytes()
    (tmp_path / "got.jsonl").write_bytes(assembled)
    pairs = read_pairs(tmp_path / "got.jsonl")
    assert lines == len(pairs) == status.items
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(fake)

    # Each part one upload, each document one whole write; nothing else written.
    written = Counter((op, key.split("/")[-2]) for op, key in store.writes)
    assert written.pop(("put", "U")) == 4  # the parts
    assert written.pop(("put", "bucket")) == 1  # all.jsonl
    assert written.pop(("pipe", "commits")) == 4
    assert [key for op, key in store.writes if key.endswith("plan.json")] == [
        "/bucket/exports/U/plan.json"
    ]
    assert set(written) == {("pipe", "U")}  # plan.json, manifest.json (once per finish)
    objects = store.objects(URL + "/U")
    assert sorted(objects) == sorted(
        ["plan.json", "manifest.json"]
        + [f"commits/s{k:05d}.json" for k in range(4)]
        + [s.file for s in status.shards if s.file]
    )
    manifest = json.loads(objects["manifest.json"])
    theirs = json.loads((tmp_path / "local" / "L" / "manifest.json").read_bytes())
    assert manifest["items"] == theirs["items"] == status.items
    assert [s["items"] for s in manifest["shards"]] == [s["items"] for s in theirs["shards"]]


async def test_a_failed_upload_leaves_its_shard_uncommitted_and_it_runs_again(
    redis: Redis, broker: AsyncBroker, store: ObjectStore
) -> None:
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    store.failing_puts[0] = 2
    status = await served(redis, fake, export_id, LeaseOptions(lease=5, retry_pause=0))

    assert status.complete
    assert status.failed == 0
    assert sum(s.errors for s in status.shards) == 2
    assert all(s.commits == 1 for s in status.shards)
    assert "503 Slow Down" in next(s.error for s in status.shards if s.errors)
    parts = [k for k in store.objects(f"{URL}/{export_id}") if k.endswith(".jsonl")]
    assert sorted(parts) == sorted(s.file for s in status.shards if s.file)  # none half-put
    got = b"".join(store.objects(f"{URL}/{export_id}")[p] for p in parts)
    records = [json.loads(line) for line in got.splitlines()]
    pairs = [
        (r["external_contact"]["external_userid"], r["follow_info"]["userid"]) for r in records
    ]
    assert len(pairs) == len(set(pairs)) == status.items
    assert set(pairs) == expected_pairs(fake)


async def test_a_stale_workers_late_part_is_refused_and_never_read(
    redis: Redis, broker: AsyncBroker, store: ObjectStore
) -> None:
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    ledger = Ledger(redis)
    stale = await ledger.claim(export_id, ["a"], "stale-worker", 0.05, 0)
    assert isinstance(stale, Claim)
    files = ExportFiles(URL, export_id)
    part = files.open_part(0, stale.epoch, stale.owner)
    part.write(b'{"stale": true}\n')
    status = await served(redis, fake, export_id)  # takes shard 0 over once the lease ends
    part.finish()  # uploaded late, under its own lease's name
    late = files.part_name(0, stale.epoch, stale.owner)
    assert not await ledger.commit(stale, late, 1, [])
    assert status.shards[0].file != late
    assert status.complete
    assert status.committed == len(status.shards)
    assert late in store.objects(f"{URL}/{export_id}")  # an orphan, never read
    assert all(str(p) != f"{URL}/{export_id}/{late}" for p in files.committed_parts(status))
    out = f"{URL}/assembled.jsonl"
    await anyio.to_thread.run_sync(files.assemble, status, out)
    assert b"stale" not in store.cat_file(out)
    with pytest.raises(FileExistsError):  # a name the store holds is never written again
        files.open_part(0, stale.epoch, stale.owner)


async def test_a_ledger_redis_lost_is_rebuilt_from_the_url_folder(
    redis: Redis, broker: AsyncBroker, store: ObjectStore
) -> None:
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    before = await served(redis, fake, export_id)
    store.rm_file(f"{URL}/{export_id}/commits/s00002.json")  # its commit record never landed
    await redis.flushall()
    ledger = Ledger(redis)
    assert await rebuild_export(ledger, None, URL, export_id)
    rebuilt = await ledger.status(export_id)
    assert rebuilt is not None
    assert [s.state for s in rebuilt.shards] == ["committed", "committed", "pending", "committed"]
    assert rebuilt.directory == URL
    after = await served(redis, fake, export_id)
    assert after.committed == len(after.shards)
    assert after.items == before.items
    out = f"{URL}/again.jsonl"
    await anyio.to_thread.run_sync(ExportFiles(URL, export_id).assemble, after, out)
    records = store.cat_file(out).splitlines()
    assert len(records) == len(set(records)) == before.items


def test_plan_commit_records_and_manifests_round_trip_through_the_store(
    store: ObjectStore,
) -> None:
    files = ExportFiles(URL, "P")
    plan = Plan("P", "tags", {"since": None}, ["a"], [ShardPlan("a", {"list": "corp"}, 2)])
    files.save_plan(plan)
    assert files.load_plan() == plan
    with pytest.raises(FileExistsError):
        files.save_plan(plan)
    files.record_commit(0, files.part_name(0, 3, "w"), 2, [{"errcode": 1}])
    store.pipe_file(f"{URL}/P/{files.part_name(0, 3, 'w')}", b"{}\n{}\n")
    [shard] = files.committed_on_disk(plan)
    assert (shard.committed, shard.items, json.loads(shard.failures or "")) == (
        files.part_name(0, 3, "w"),
        2,
        [{"errcode": 1}],
    )
    store.pipe_file(f"{URL}/P/plan.json", b'{"version": 1, "shards": "x"}')
    with pytest.raises(LedgerError, match=r"not a plan\.json"):
        files.load_plan()
    store.pipe_file(f"{URL}/P/plan.json", b"garbage{")
    with pytest.raises(LedgerError, match=r"not a plan\.json"):
        files.load_plan()

    # Two submitters of one id raced past the check (nothing is exclusive on a URL):
    # the one the ledger accepted keeps its plan; the other never removes it.
    racer = Plan("P", "customers", {}, ["b"], [ShardPlan("b", {"userids": ["u"]})])
    store.rm_file(f"{URL}/P/plan.json")
    files.save_plan(plan)
    store.pipe_file(f"{URL}/P/plan.json", json.dumps(racer.to_json()).encode())
    files.keep_plan(plan)  # the ledger accepted "P" for this plan
    files.drop_plan(racer)  # the ledger refused the racer
    assert files.load_plan() == plan
    files.drop_plan(plan)
    assert "plan.json" not in store.objects(f"{URL}/P")

    mine = Manifest(kind=KIND, corp_id="wwa", covered=None, records=7, finished_at=1)
    mine.save(URL)
    assert "exports.manifest.json" in store.objects("objtest://bucket")
    assert Manifest.load(URL) == mine


async def test_since_last_reads_and_writes_each_corps_manifest_in_the_url(
    redis: Redis, broker: AsyncBroker, store: ObjectStore
) -> None:
    fake = FakeWeCom("wwa", SECRET)
    world = await world_of(fake)
    request = JobRequest(since=world.since, until=world.until)
    export_id = await submit(redis, broker, fake, URL, kind=KIND, request=request)
    status = await served(redis, fake, export_id)
    assert status.complete
    assert status.failed == 0
    mine = Manifest.load(corp_output(URL, "a", KIND))
    assert (mine.kind, mine.corp_id, mine.records) == (KIND, "a", status.items)
    assert mine.covered is not None
    key = f"/bucket/exports/a.{KIND}.manifest.json"
    assert {op for op, k in store.writes if k == key} == {"pipe"}
    # The next --since last to the URL starts one second after it.
    each = since_last_each(KIND, JobRequest(), URL, ["a"])
    assert isinstance(each, dict)
    assert each["a"].since == mine.covered.until + 1
    missing = since_last_each(KIND, JobRequest(), URL, ["zz"])
    assert isinstance(missing, str)
    assert "corp zz" in missing


async def test_bad_labels_and_ids_are_validation_errors_raised_before_planning(
    redis: Redis, broker: AsyncBroker, store: ObjectStore
) -> None:
    fake = corp()
    for kw in ({"export_id": "../up"}, {"directory": "objtest://k:s3cr3t@bucket/x"}):
        directory = str(kw.pop("directory", URL))
        with pytest.raises(ValidationError) as caught:
            await submit(redis, broker, fake, directory, **kw)
        assert isinstance(caught.value, ValueError)  # what callers caught before
        assert "s3cr3t" not in str(caught.value)
    with pytest.raises(ValidationError, match="corp labels"):
        await submit_export(
            Ledger(redis), broker, "tags", [("a/b", factory(fake))], URL, export_id="X"
        )
    assert fake.requests == []
    assert store.writes == []


def test_two_writers_of_one_part_name_on_a_url_never_replace_or_remove_each_other(
    store: ObjectStore,
) -> None:
    """Nothing is exclusive on an object store: the second upload of a name is refused,
    and its discard leaves the first writer's object alone."""
    files = ExportFiles(URL, "E")
    first, second = files.open_part(0, 7, "w"), files.open_part(0, 7, "w")
    first.write(b'{"id": 1}\n')
    second.write(b'{"id": 2}\n')
    first.finish()
    with pytest.raises(FileExistsError):
        second.finish()
    second.discard()
    assert store.objects(f"{URL}/E") == {files.part_name(0, 7, "w"): b'{"id": 1}\n'}
    first.discard()  # the ledger refused it: its own object goes
    assert store.objects(f"{URL}/E") == {}


async def test_a_ledger_naming_a_url_with_credentials_is_damaged_and_never_repeats_it(
    redis: Redis,
) -> None:
    ledger = Ledger(redis)
    assert await ledger.create(
        "D",
        kind="tags",
        directory="s3://AKIA:s3cr3t/with/slash@bucket/x",
        request={},
        corps=["a"],
        shards=[ShardPlan("a", {"list": "corp"})],
    )
    with pytest.raises(LedgerError, match="not a URL an export may use") as caught:
        await ledger.status("D")
    assert "s3cr3t" not in str(caught.value)
