"""A store that fails (``objstore.FailingStore``): whatever its client raises (botocore's
``ClientError`` is no ``OSError``), at whatever step, costs a retry and never the worker;
a store denying uploads and deletes fails the shard after ``max_errors``; a worker that
cannot reach an export's store never claims its shards; a submission the ledger accepted
is reported, never said to have failed; two submitters of one id keep the accepted plan;
the credentials configured for fsspec never reach Redis or a log line."""

from __future__ import annotations

import asyncio
import errno
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import fsspec
import pytest
from redis.asyncio import Redis
from taskiq import AsyncBroker

from tests.export.helpers import CORP_ID, SECRET, expected_pairs, new_fake, secret_env, serve
from tests.redis_server import RedisServer
from wecom_async import MemoryRateBudget, MemoryTokenStore, ValidationError
from wecom_async._logging import redact
from wecom_async.export import Manifest
from wecom_async.export._manifest import completed, corp_output
from wecom_async.export._range import TimeRange
from wecom_async.export._since import JobRequest, since_last_each
from wecom_async.export._store import LocalLocation, StorageError, parse_location
from wecom_async.export.cli import ExitStatus, main
from wecom_async.export.distributed import (
    ExportFiles,
    ExportStatus,
    LeaseOptions,
    Ledger,
    LedgerError,
    ShardWorker,
    shard_broker,
    submit_export,
    wait_export,
)
from wecom_async.export.distributed.cli import manage as main_manage
from wecom_async.testing import FakeWeCom

from .objstore import BackendError, FailingStore, reset_failing
from .serving import until_retired
from .test_damaged import factory
from .test_url_output import corp, submit

URL = "objfail://bucket/exports"


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FailingStore]:
    """The failing store, emptied; local spools go to ``tmp_path / "spool"``."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    yield reset_failing()
    assert FailingStore.violations == [], "only what an object store allows"


def worker(redis: Redis, fake: FakeWeCom, **options: Any) -> ShardWorker:
    lease = LeaseOptions(**{"lease": 2.0, "retry_pause": 0.0, **options})
    return ShardWorker(redis, [("a", factory(fake))], options=lease, poll=0.02)


async def served(redis: Redis, fake: FakeWeCom, export_id: str, **options: Any) -> ExportStatus:
    """Run one in-process worker until the export is retired (a worker that dies fails
    the test with its error)."""
    return await until_retired(redis, worker(redis, fake, **options), export_id)


def assert_whole(store: FailingStore, status: ExportStatus, fake: FakeWeCom) -> None:
    """Every record of the corp, exactly once, in the assembled output."""
    ExportFiles(URL, status.export_id).assemble(status, "objfail://bucket/all.jsonl")
    records = [json.loads(line) for line in store.cat_file("bucket/all.jsonl").splitlines()]
    pairs = [
        (r["external_contact"]["external_userid"], r["follow_info"]["userid"]) for r in records
    ]
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(fake)


@pytest.mark.parametrize(
    ("step", "errors"),
    [
        ("isfile", {"isfile": 1}),  # the part's name checked on open
        ("put_before", {"put_before": 1}),  # the upload refused
        ("put_after", {"put_after": 1}),  # uploaded, but the client saw an error
        ("pipe_after", {"pipe_after": 1}),  # the commit record, after the ledger accepted
        ("rm after a failed upload", {"put_after": 1, "rm": 1}),
    ],
)
async def test_a_backend_error_at_any_step_costs_a_retry_never_the_worker(
    redis: Redis, broker: AsyncBroker, store: FailingStore, step: str, errors: dict[str, int]
) -> None:
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    for call, times in errors.items():
        FailingStore.plan[call] = [BackendError(f"ClientError at {step} (SlowDown)"), times]
    status = await served(redis, fake, export_id)
    assert all(times == 0 for _, times in FailingStore.plan.values()), "every error was met"
    assert status.complete
    assert status.failed == 0
    assert_whole(store, status, fake)
    if step != "pipe_after":  # a shard that stopped was given back, counted
        assert sum(shard.errors for shard in status.shards) == 1
        assert any("StorageError" in (shard.error or "") for shard in status.shards)


class Unprintable(BackendError):
    """A backend's error whose ``str()`` itself raises."""

    def __str__(self) -> str:
        raise RuntimeError("str() of the backend's error failed")


class OddBaseError(BaseException):
    """A backend's error that is no ``Exception`` (neither an interrupt nor an exit)."""


@pytest.mark.parametrize("call", ["isfile", "put_before", "pipe_after"])
@pytest.mark.parametrize(
    "error",
    [asyncio.CancelledError("aiobotocore call cancelled on fsspec's loop"), Unprintable()],
    ids=["cancelled", "unprintable"],
)
async def test_an_odd_backend_error_in_a_thread_costs_a_retry_never_the_worker(
    redis: Redis, broker: AsyncBroker, store: FailingStore, call: str, error: BaseException
) -> None:
    # fsspec's sync() re-raises what its IO loop's coroutine raised: a CancelledError
    # raised there is the backend's failure, not a cancellation of the worker.
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    FailingStore.plan[call] = [error, 1]
    status = await served(redis, fake, export_id)
    assert FailingStore.plan[call][1] == 0, "the error was met"
    assert (status.complete, status.failed, status.committed) == (True, 0, 4)
    assert_whole(store, status, fake)


@pytest.mark.parametrize(
    "error",
    [asyncio.CancelledError(), OddBaseError("odd"), Unprintable()],
    ids=["cancelled", "base-exception", "unprintable"],
)
def test_every_failure_of_a_store_call_but_an_interrupt_is_a_storage_error(
    store: FailingStore, error: BaseException
) -> None:
    location = parse_location(f"{URL}/x.json")
    FailingStore.plan["pipe_before"] = [error, 1]
    with pytest.raises(StorageError, match=r"^write objfail://bucket/exports/x.json failed: ") as e:
        location.write_bytes(b"{}")
    assert e.value.__cause__ is error
    assert str(e.value).endswith(f"failed: {type(error).__name__}") or not isinstance(
        error, Unprintable
    )
    assert type(error).__name__ in str(e.value)
    for interrupt in (KeyboardInterrupt(), SystemExit(3)):
        FailingStore.plan["isfile"] = [interrupt, 1]
        with pytest.raises(type(interrupt)):
            location.is_file()


async def test_a_backend_error_writing_the_manifest_is_retried_by_the_next_sweep(
    redis: Redis, broker: AsyncBroker, store: FailingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    real = FailingStore.pipe_file
    refused: list[str] = []

    def pipe(self: FailingStore, path: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        if path.endswith("/manifest.json") and not refused:
            refused.append(path)
            raise BackendError("ClientError on PutObject of the manifest")
        real(self, path, value, *args, **kwargs)

    monkeypatch.setattr(FailingStore, "pipe_file", pipe)
    status = await served(redis, fake, export_id)
    assert refused == [f"{URL}/{export_id}/manifest.json"]
    manifest = json.loads(store.cat_file(f"bucket/exports/{export_id}/manifest.json"))
    assert manifest["committed"] == status.committed == 4


async def test_a_store_denying_uploads_and_deletes_fails_the_shards_after_max_errors(
    redis: Redis, broker: AsyncBroker, store: FailingStore
) -> None:
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    FailingStore.plan["put_before"] = [PermissionError("AccessDenied: s3:PutObject"), 10**9]
    FailingStore.plan["rm"] = [PermissionError("AccessDenied: s3:DeleteObject"), 10**9]
    status = await served(redis, fake, export_id, max_errors=2)
    assert status.failed == len(status.shards) == 4
    for shard in status.shards:
        assert (shard.state, shard.errors) == ("failed", 2)
        assert "AccessDenied: s3:PutObject" in (shard.error or "")
    uploads = [call for call in FailingStore.calls if call.startswith("put_before")]
    assert len(uploads) == 8, "two tries per shard, no more"


async def test_a_worker_without_fsspec_never_claims_a_url_exports_shards(
    redis: Redis,
    redis_server: RedisServer,
    broker: AsyncBroker,
    store: FailingStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    ledger = Ledger(redis)
    with monkeypatch.context() as without:
        without.setitem(sys.modules, "fsspec", None)
        without.setitem(sys.modules, "fsspec.core", None)
        caplog.set_level(logging.WARNING, "wecom_async.export")
        blind = worker(redis, fake, lease=0.3, max_errors=2)
        notes: list[str] = []
        note_waiting = blind.ledger.note_waiting

        async def counted(export_id: str, note: str) -> None:
            notes.append(note)
            await note_waiting(export_id, note)

        without.setattr(blind.ledger, "note_waiting", counted)
        async with blind.running():
            assert await blind.run_task(export_id, 0) is False  # a taskiq delivery
            for _ in range(40):  # many polls: the export is looked at every one
                await anyio.sleep(0.02)
        status = await ledger.status(export_id)
        assert status is not None
        assert [(s.state, s.epoch, s.errors) for s in status.shards] == [("pending", 0, 0)] * 4
        said = [r.getMessage() for r in caplog.records if export_id in r.getMessage()]
        assert len(said) == 1, said
        assert "'fsspec' extra" in said[0]
        assert len(notes) == 1, "one note per worker and export, not one per poll"
    # `export status` says why the shards wait, and which worker said so.
    assert status.waiting is not None
    assert status.waiting.startswith(f"worker {blind.owner} cannot use the export's files: ")
    assert 'pip install "wecom-async[fsspec]"' in status.waiting
    assert status.waiting_at is not None
    assert abs(status.waiting_at - time.time()) < 3600  # Redis' clock, in seconds
    args = ["status", export_id, "--redis-url", redis_server.url]
    code = await anyio.to_thread.run_sync(main_manage, args, io.StringIO())
    assert code == ExitStatus.OK
    shown = capsys.readouterr().out.splitlines()
    assert shown[0].endswith("0/4 shards committed, 0 running, 0 failed, 0 records")
    assert shown[1].startswith("  shards wait (at ")
    assert shown[1].endswith(f"): {status.waiting}")
    status = await served(redis, fake, export_id)  # a worker with fsspec runs them
    assert status.committed == 4


async def test_a_submission_the_ledger_accepted_is_reported_even_if_its_plan_cannot_be_confirmed(
    redis: Redis,
    broker: AsyncBroker,
    store: FailingStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    plan_writes: list[str] = []

    def second_plan_write_fails(key: str) -> None:
        if key.endswith("plan.json"):
            plan_writes.append(key)
            if len(plan_writes) == 2:
                raise OSError("503 Service Unavailable")

    FailingStore.on_put.append(second_plan_write_fails)
    FailingStore.plan["cat"] = [OSError("503 Service Unavailable"), 1]  # the read-back
    caplog.set_level(logging.WARNING, "wecom_async.export")
    fake = corp()
    export_id = await submit(redis, broker, fake, URL, export_id="N1")
    assert export_id == "N1"
    assert FailingStore.plan["cat"][1] == 0, "the read-back failed"
    assert len(plan_writes) == 2, "the rewrite failed"
    warned = [r.getMessage() for r in caplog.records if "could not be confirmed" in r.getMessage()]
    assert len(warned) == 1
    assert "N1 is submitted and runs" in warned[0]
    status = await served(redis, fake, "N1")
    assert status.committed == 4


async def test_two_submitters_of_one_id_keep_the_accepted_plan(
    redis: Redis, broker: AsyncBroker, store: FailingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both check "no plan", A writes, A is accepted and reads its plan back, B writes
    over it, B is refused: the accepted export's plan.json must be there, A's."""
    import threading

    checks, a_kept = threading.Semaphore(0), threading.Event()
    real_isfile, real_pipe, real_cat = (
        FailingStore.isfile,
        FailingStore.pipe_file,
        FailingStore.cat_file,
    )

    def isfile(self: FailingStore, path: str) -> bool:
        found = real_isfile(self, path)
        if path.endswith("plan.json"):
            checks.release()
        return found

    def pipe(self: FailingStore, path: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        if path.endswith("plan.json") and not a_kept.is_set():
            if b'"a"' in value:  # A writes once both checked
                assert checks.acquire(timeout=10)
                assert checks.acquire(timeout=10)
            else:  # B writes once A was accepted and kept its plan
                assert a_kept.wait(10)
        real_pipe(self, path, value, *args, **kwargs)

    def cat(self: FailingStore, path: str, *args: Any, **kwargs: Any) -> Any:
        data = real_cat(self, path, *args, **kwargs)
        if path.endswith("plan.json"):
            a_kept.set()
        return data

    monkeypatch.setattr(FailingStore, "isfile", isfile)
    monkeypatch.setattr(FailingStore, "pipe_file", pipe)
    monkeypatch.setattr(FailingStore, "cat_file", cat)
    fake = corp()
    results: dict[str, object] = {}

    async def one(label: str) -> None:
        try:
            results[label] = await submit_export(
                Ledger(redis),
                broker,
                "customers",
                [(label, factory(fake))],
                URL,
                export_id="SAME",
                chunk_size=1,
                token_store=MemoryTokenStore(),
                rate_budget=MemoryRateBudget(),
            )
        except LedgerError as error:
            results[label] = error

    async with anyio.create_task_group() as group:
        group.start_soon(one, "a")
        group.start_soon(one, "b")
    assert results["a"] == "SAME"
    assert isinstance(results["b"], LedgerError)
    plan = ExportFiles(URL, "SAME").load_plan()
    status = await Ledger(redis).status("SAME")
    assert status is not None
    assert plan.corps == status.corps == ["a"]
    assert [(s.corp, s.spec) for s in plan.shards] == [(s.corp, s.spec) for s in status.shards]


class Echoing(FailingStore):
    """Fails its first upload with an error quoting its options (as botocore's
    ``EndpointConnectionError`` quotes the endpoint)."""

    failed: list[bool] = []  # noqa: RUF012

    def put_file(self, lpath: str, rpath: str, callback: Any = None, **kwargs: Any) -> None:
        if not self.failed:
            self.failed.append(True)
            raise OSError(f"could not upload with {self.storage_options}")
        super().put_file(lpath, rpath, callback, **kwargs)


async def test_credentials_configured_for_fsspec_never_reach_redis_or_the_logs(
    redis: Redis,
    broker: AsyncBroker,
    store: FailingStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import fsspec
    import fsspec.config

    key = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("FSSPEC_OBJFAIL_ACCOUNT_KEY", key)
    monkeypatch.setenv("FSSPEC_OBJFAIL_SAS_TOKEN", "sv=2024-01-01&sig=" + key[::-1])
    monkeypatch.setattr(fsspec.config, "conf", {})
    fsspec.config.set_conf_env(fsspec.config.conf)  # what importing fsspec does
    fsspec.register_implementation("objfail", Echoing, clobber=True)
    Echoing.failed.clear()
    caplog.set_level(logging.WARNING, "wecom_async")
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    status = await served(redis, fake, export_id)
    assert Echoing.failed == [True]
    errors = [s.error or "" for s in status.shards if s.errors]
    assert len(errors) == 1
    assert "could not upload with" in errors[0]
    shown = [*errors, *(r.getMessage() for r in caplog.records)]
    assert not [text for text in shown if key in text or key[::-1] in text]


def exported(redis_url: str) -> str:
    """A complete export of ``corp()`` to the failing store (which fails nothing yet)."""

    async def run() -> str:
        redis = Redis.from_url(redis_url)
        broker = shard_broker(redis_url)
        await broker.startup()
        try:
            fake = corp()
            export_id = await submit(redis, broker, fake, URL)
            await served(redis, fake, export_id)
            return export_id
        finally:
            await broker.shutdown()
            await redis.aclose()

    return anyio.run(run)


def one_line_failure(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the command; it must fail (exit 1) with one line, no traceback."""
    assert main(argv) == ExitStatus.FAILED
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("wecom-async: error: the export's files cannot be used (StorageError: ")
    return err


def test_assemble_and_resume_report_a_backend_error_in_one_line(
    redis_server: RedisServer, store: FailingStore, capsys: pytest.CaptureFixture[str]
) -> None:
    export_id = exported(redis_server.url)
    capsys.readouterr()
    FailingStore.plan["put_before"] = [BackendError("ClientError: SlowDown"), 1]
    assemble = ["export", "assemble", export_id, "--redis-url", redis_server.url]
    err = one_line_failure([*assemble, "-o", "objfail://bucket/all.jsonl"], capsys)
    assert "upload objfail://bucket/all.jsonl failed: BackendError: ClientError: SlowDown" in err
    assert "all.jsonl" not in store.objects("objfail://bucket")
    anyio.run(flush, redis_server.url)  # Redis lost the ledger: resume reads the plan
    FailingStore.plan["cat"] = [BackendError("ClientError: AccessDenied"), 1]
    resume = ["export", "resume", export_id, "--redis-url", redis_server.url, "--dir", URL]
    err = one_line_failure(resume, capsys)
    assert f"read {URL}/{export_id}/plan.json failed: BackendError" in err


async def flush(url: str) -> None:
    redis = Redis.from_url(url)
    await redis.flushall()
    await redis.aclose()


def test_since_last_reports_a_backend_error_reading_the_manifest_in_one_line(
    redis_server: RedisServer,
    store: FailingStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    FailingStore.plan["cat"] = [BackendError("ClientError: AccessDenied"), 1]
    fake = new_fake()
    with serve(fake) as base:
        argv = ["export", "group-messages", "--corp-id", CORP_ID, "--base-url", base]
        argv += ["--redis-url", redis_server.url, "--since", "last", "-o", URL, "--workers"]
        err = one_line_failure(argv, capsys)
    assert f"{CORP_ID}.group-messages.manifest.json failed: BackendError" in err
    assert fake.requests == [], "nothing was sent"


def test_a_torn_manifest_on_a_store_is_refused_by_since_last(store: FailingStore) -> None:
    where = f"{URL}/{CORP_ID}.group-messages.manifest.json"
    store.pipe_file(where, b'{"version": 1, "kind": "group-m')
    problem = since_last_each("group-messages", JobRequest(), URL, [CORP_ID])
    assert isinstance(problem, str)
    assert "is not whole JSON (a write cut short?)" in problem
    assert "give --since DATE" in problem


def test_a_file_url_is_a_local_path_written_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in (
        f"file://{tmp_path}/out",
        f"file://localhost{tmp_path}/out",
        f"FILE://{tmp_path}/out",
    ):
        assert parse_location(url) == LocalLocation(tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    assert parse_location("file://rel/out/").shared() == str(tmp_path / "rel" / "out")
    out = tmp_path / "out"
    out.mkdir()
    old = completed("group-messages", CORP_ID, TimeRange(1, 2), 5)
    old.save(corp_output(f"file://{out}", CORP_ID, "group-messages"))
    real = os.replace

    def cut(src: Any, dst: Any) -> None:  # the disk filled up (EFBIG) before the rename
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(os, "replace", cut)
    new = completed("group-messages", CORP_ID, TimeRange(1, 9), 7)
    with pytest.raises(OSError, match="File too large"):
        new.save(corp_output(f"file://{out}", CORP_ID, "group-messages"))
    monkeypatch.setattr(os, "replace", real)
    manifest = Manifest.load(corp_output(f"file://{out}", CORP_ID, "group-messages"))
    assert (manifest.covered, manifest.records) == (TimeRange(1, 2), 5), "the previous one"
    assert sorted(p.name for p in out.iterdir()) == [f"{CORP_ID}.group-messages.manifest.json"]


def test_a_store_scheme_is_case_insensitive_and_its_backends_reason_is_kept(
    store: FailingStore,
) -> None:
    assert parse_location("OBJFAIL://bucket/x") == parse_location("objfail://bucket/x")
    assert parse_location("Objfail://bucket/x").shared() == "objfail://bucket/x"

    class Unconfigured(FailingStore):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise ValueError("Must provide either a connection_string or account_name")

    fsspec.register_implementation("unconf", Unconfigured, clobber=True)
    with pytest.raises(ValidationError) as caught:
        parse_location("unconf://container/x")
    assert str(caught.value) == (
        "unconf:// URLs cannot be used here (configure the store for fsspec): "
        "ValueError: Must provide either a connection_string or account_name"
    )


def test_an_account_before_at_is_refused_with_how_to_configure_it() -> None:
    with pytest.raises(ValidationError, match="FSSPEC_ABFS_ACCOUNT_NAME"):
        parse_location("abfs://container@myaccount/exports")


def test_storage_account_credentials_are_redacted() -> None:
    key = "abcdefghijklmnopqrstuvwxyz0123456789+/=="
    texts = [
        f"DefaultEndpointsProtocol=https;AccountName=acc;AccountKey={key};EndpointSuffix=x",
        f"{{'account_key': '{key}', 'anon': False}}",
        f"https://acc.blob.core.windows.net/c?sv=2024-01-01&sig={key}&se=1",
        f"sas_token={key}",
    ]
    for text in texts:
        assert key not in redact(text), text
    assert redact("design: sig 1") == "design: sig 1"


@pytest.mark.parametrize("call", ["isfile", "pipe_after"])
def test_a_worker_process_outlives_a_backend_error_and_completes_the_export(
    redis_server: RedisServer,
    store: FailingStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    call: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    fake = new_fake()
    fake.seed(staff=2, customers_per_staff=2, seed=1)
    with serve(fake) as base:
        common = ["--redis-url", redis_server.url, "--base-url", base, "--corp-id", CORP_ID]
        submit = ["export", "customers", *common, "--chunk-size", "1", "-o", URL, "--workers"]
        assert main(submit) == ExitStatus.OK
        export_id = capsys.readouterr().out.strip()
        args = [sys.executable, "-m", "tests.export.distributed.failing_worker", call, "worker"]
        proc = subprocess.Popen(
            [*args, *common, "--lease", "2", "--poll", "0.1"],
            cwd=tmp_path,
            env=secret_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            status = anyio.run(retired, redis_server.url, export_id, proc)
            alive = proc.poll() is None
        finally:
            proc.kill()
            log = proc.communicate(timeout=10)[0]
    assert alive, log
    assert status.committed == len(status.shards) == 2
    assert "Traceback" not in log
    assert log.count(f"BackendError: ClientError (SlowDown) at {call}") == 1, log


async def retired(url: str, export_id: str, proc: subprocess.Popen[str]) -> ExportStatus:
    """Wait until ``export_id`` is finished (out of the active set) while the worker
    ``proc`` lives; its status."""
    redis = Redis.from_url(url)
    ledger = Ledger(redis)
    try:
        with anyio.fail_after(60):
            while True:
                if export_id not in await ledger.active():
                    break
                assert proc.poll() is None, "the worker died"
                await anyio.sleep(0.05)
        status = await ledger.status(export_id)
        assert status is not None
        return status
    finally:
        await redis.aclose()


async def test_waiting_for_an_export_whose_plan_the_store_cannot_give_fails_not_waits(
    redis: Redis, broker: AsyncBroker, store: FailingStore
) -> None:
    fake = corp()
    export_id = await submit(redis, broker, fake, URL)
    await redis.flushall()  # Redis lost the ledger: the wait rebuilds it from plan.json
    FailingStore.plan["cat"] = [BackendError("ClientError: AccessDenied"), 1]
    with anyio.fail_after(10), pytest.raises(StorageError, match="AccessDenied"):
        await wait_export(Ledger(redis), None, URL, export_id, poll=0.01)
