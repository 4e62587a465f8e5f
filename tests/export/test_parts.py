"""The export's parts on their own: rate budget, checkpoint, writer, progress, errors, CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pyarrow import parquet

from tests.export.helpers import BATCH, expected_pairs, read_pairs
from wecom_async import (
    APIError,
    ConfigurationError,
    ConflictError,
    MemoryRateBudget,
    PermissionDeniedError,
    RateLimitError,
    ResponseError,
    RetryPolicy,
    StructureError,
    SystemBusyError,
    TokenError,
    TransportError,
    ValidationError,
    WeComClient,
)
from wecom_async._jsontext import json_text
from wecom_async._transport import ShardedTransport
from wecom_async.export import (
    JOBS,
    Checkpoint,
    CheckpointError,
    CountingTransport,
    CustomersJob,
    EngineOptions,
    Failure,
    TagsJob,
    make_job,
    run_export,
)
from wecom_async.export._checkpoint import merge_failures, write_atomic
from wecom_async.export._job import classify
from wecom_async.export._jobs import auto_chunk_size
from wecom_async.export._progress import (
    NullProgress,
    PlainProgress,
    RichProgress,
    make_progress,
)
from wecom_async.export._ratelimit import Refusals
from wecom_async.export._run import (
    ExportSettings,
    build_budget,
    build_transport,
    retry_policy,
)
from wecom_async.export._writer import (
    CsvEncoder,
    JsonlEncoder,
    OutputFile,
    Table,
    TableOptions,
    cell,
    local_time,
)
from wecom_async.export.cli import ExitStatus, _settings, build_parser, main
from wecom_async.testing import FakeWeCom


class FakeTime:
    """A clock and a sleep that moves it, for the rate budget."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def _export_under_budget(fake: FakeWeCom, per_minute: int, out: Path) -> None:
    """Export with a budget on the fake's clock and no retries: any 45009 would raise."""
    budget = MemoryRateBudget([(per_minute, 60.0)], clock=fake.clock.now, sleep=_advance(fake))
    transport = CountingTransport(fake.transport())
    async with httpx.AsyncClient(transport=transport) as http:
        client = WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=http,
            base_url=fake.base_url,
            retry=RetryPolicy.no_delay(max_attempts=1),
            rate_budget=budget,
        )
        options = EngineOptions(concurrency=1, checkpoint_interval=0)
        await run_export(CustomersJob(chunk_size=1), client, out, options=options)
    assert transport.sent[f"/cgi-bin/{BATCH}"] == fake.calls(BATCH)


def _advance(fake: FakeWeCom) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        fake.clock.advance(seconds)

    return sleep


async def test_a_correctly_sized_budget_never_sees_45009(
    wecom_fake: FakeWeCom, tmp_path: Path
) -> None:
    wecom_fake.seed(staff=4, customers_per_staff=300, seed=2)  # ~14 pages
    wecom_fake.set_rate_limit(BATCH, 5)
    out = tmp_path / "c.jsonl"
    await _export_under_budget(wecom_fake, 5, out)

    assert set(read_pairs(out)) == expected_pairs(wecom_fake)
    assert wecom_fake.calls(BATCH) >= 14
    assert wecom_fake.clock.now() - 1_700_000_000 >= (wecom_fake.calls(BATCH) - 1) * 12


async def test_a_budget_above_the_limit_does_see_45009(
    wecom_fake: FakeWeCom, tmp_path: Path
) -> None:
    wecom_fake.seed(staff=4, customers_per_staff=300, seed=2)
    wecom_fake.set_rate_limit(BATCH, 5)
    with pytest.raises(RateLimitError) as caught:
        await _export_under_budget(wecom_fake, 6, tmp_path / "c.jsonl")
    assert caught.value.errcode == 45009


def test_checkpoint_round_trip_and_atomic_replace(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.checkpoint"
    saved = Checkpoint(
        kind="customers",
        format="jsonl",
        corp_id="ww1",
        units=[{"userids": ["a", "b"]}, {"userids": ["c"]}],
        sizes=[2, 1],
        done={1},
        cursors={0: "CURSOR"},
        starts={0: 12},
        restarted={0},
        failures=[Failure("unlicensed", ("c",), "no license")],
        output_bytes=42,
        items=7,
        pages=3,
    )
    path.write_text("old")
    saved.save(path)

    assert Checkpoint.load(path) == saved
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    assert saved.pending() == [0]
    assert saved.done_size() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read"),
        ('{"version": 99}', "not a version 2 checkpoint"),
        ("[1]", "not a version 2 checkpoint"),
        ('{"version": 2, "kind": "customers"}', "damaged"),
    ],
)
def test_a_bad_checkpoint_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.checkpoint"
    path.write_text(content)
    with pytest.raises(CheckpointError, match=message):
        Checkpoint.load(path)


def test_a_checkpoint_of_the_earlier_format_still_loads(tmp_path: Path) -> None:
    """Before restarts, a checkpoint had no ``starts`` or ``restarted``: none then."""
    document = json.loads(Checkpoint("k", "jsonl", "ww", [{}], [1], cursors={0: "C"}).to_bytes())
    del document["starts"], document["restarted"]
    path = tmp_path / "x.checkpoint"
    write_atomic(path, json.dumps(document).encode())
    loaded = Checkpoint.load(path)
    assert (loaded.cursors, loaded.starts, loaded.restarted) == ({0: "C"}, {}, set())


def test_a_checkpoint_written_again_after_a_split_holds_every_unit() -> None:
    """The units' text is encoded once and reused; a split (units appended, the split
    unit's size zeroed) must still be written whole, exactly as a fresh encoding."""
    ckpt = Checkpoint("k", "jsonl", "ww", [{"userids": ["a", "b"]}], [2])
    first = json.loads(ckpt.to_bytes())
    assert (first["units"], first["sizes"]) == ([{"userids": ["a", "b"]}], [2])
    ckpt.units.extend([{"userids": ["a"]}, {"userids": ["b\u2028"]}])
    ckpt.sizes.extend([1, 1])
    ckpt.sizes[0] = 0
    ckpt.done.add(0)
    again = json.loads(ckpt.to_bytes())
    assert again["units"] == ckpt.units
    assert (again["sizes"], again["done"]) == ([0, 1, 1], [0])
    assert list(again) == list(first)  # the same document, "units" still last
    plain = {k: again[k] for k in again}
    assert ckpt.to_bytes() == json_text(plain).encode()
    ckpt.units = [{"userids": ["c"]}, {"userids": ["d"]}, {"userids": ["e"]}]  # same count
    assert json.loads(ckpt.to_bytes())["units"] == ckpt.units


@pytest.mark.parametrize("field", ["done", "restarted"])
def test_a_checkpoint_with_wrong_unit_indexes_is_refused(tmp_path: Path, field: str) -> None:
    document = json.loads(Checkpoint("k", "jsonl", "ww", [{}], [1]).to_bytes())
    document[field] = [3]
    path = tmp_path / "x.checkpoint"
    write_atomic(path, json.dumps(document).encode())
    with pytest.raises(CheckpointError, match="unit indexes"):
        Checkpoint.load(path)


def test_failures_merge_by_reason() -> None:
    merged = merge_failures(
        [Failure("u", ("a", "b"), "d"), Failure("x", ("a",), "e"), Failure("u", ("b", "c"), "d")]
    )
    assert merged == [Failure("u", ("a", "b", "c"), "d"), Failure("x", ("a",), "e")]


def test_output_file_reopens_at_the_recorded_length(tmp_path: Path) -> None:
    output = OutputFile(tmp_path / "o")
    output.create(b"h\n")
    output.write(b"one\ntwo\n")
    output.close()
    (tmp_path / "o").write_bytes(b"h\none\ntwo\nthr")  # a torn tail after the record

    again = OutputFile(tmp_path / "o")
    again.reopen(10, hashlib.sha256(b"h\none\ntwo\n").hexdigest())
    again.write(b"three\n")
    again.close()
    assert (tmp_path / "o").read_bytes() == b"h\none\ntwo\nthree\n"
    assert again.digest() == hashlib.sha256(b"h\none\ntwo\nthree\n").hexdigest()
    with pytest.raises(CheckpointError, match="first 10 bytes differ"):
        OutputFile(tmp_path / "o").reopen(10, hashlib.sha256(b"h\none\ntwO\n").hexdigest())


def test_encoders() -> None:
    records: list[dict[str, object]] = [{"name": '张三, "老"\n客户', "tags": ["a"], "n": None}]
    line = json.dumps(records[0], ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    assert JsonlEncoder().encode(records).decode() == line + "\n"
    # Keys are sorted at every depth: the order they arrived in does not change the bytes.
    shuffled = [{"n": None, "tags": ["a"], "name": '张三, "老"\n客户'}]
    assert JsonlEncoder().encode(shuffled) == JsonlEncoder().encode(records)
    assert JsonlEncoder().encode([]) == b""
    table = Table(("name", "tags", "n"), lambda r: [[r["name"], r["tags"], r["n"]]])
    encoder = CsvEncoder(table, TableOptions(bom=False))
    text = (encoder.header() + encoder.encode(records)).decode()
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["name", "tags", "n"],
        ['张三, "老"\n客户', '["a"]', ""],
    ]
    assert [cell(True), cell(3), cell({"k": 1, "a": [{"z": 0, "b": 1}]})] == [
        "true",
        "3",
        '{"a":[{"b":1,"z":0}],"k":1}',
    ]
    assert [cell("a\ud800"), cell(["\ud800"])] == ["a\ufffd", '["\\ud800"]']


def test_csv_cells_for_spreadsheets() -> None:
    def table(zone: str) -> Table:
        return Table(
            ("n", "t"), lambda r: [[r.get("n"), r.get("t")]], times=("t",), zone=ZoneInfo(zone)
        )

    records: list[dict[str, object]] = [
        {"n": text, "t": 1_700_000_000} for text in ("=1+1", "+1", "-1", "@A", "\tx", "\rx")
    ]
    records += [{"n": -5, "t": "soon"}, {"n": "a=b", "t": None}]
    safe = CsvEncoder(table("Asia/Shanghai"))
    raw = CsvEncoder(table("UTC"), TableOptions(raw_formulas=True, bom=False))

    rows = list(csv.reader(io.StringIO((safe.header() + safe.encode(records)).decode())))
    assert rows[0] == ["\ufeffn", "t", "t_local"]
    assert [row[0] for row in rows[1:]] == [
        "'=1+1", "'+1", "'-1", "'@A", "'\tx", "'\rx", "-5", "a=b"
    ]  # fmt: skip
    assert rows[1][1:] == ["1700000000", "2023-11-15T06:13:20+08:00"]
    assert rows[7][1:] == ["soon", ""]  # not a Unix time: no local time
    rows = list(csv.reader(io.StringIO((raw.header() + raw.encode(records)).decode())))
    assert rows[0] == ["n", "t", "t_local"]
    assert [row[0] for row in rows[1:7]] == ["=1+1", "+1", "-1", "@A", "\tx", "\rx"]
    assert rows[1][2] == "2023-11-14T22:13:20+00:00"
    assert local_time(10**20, None) is None
    assert local_time(True, None) is None


def test_plain_progress_prints_periodic_lines() -> None:
    stream, time = io.StringIO(), FakeTime()
    progress = PlainProgress(stream, interval=5, clock=time)
    progress.start(title="customers", unit_label="follow-users", total=10, done=2, items=200)
    progress.update(done=3, items=300, pages=3)
    assert stream.getvalue() == ""  # not yet
    time.now = 10.0
    progress.update(done=4, items=1200, pages=12)

    assert stream.getvalue() == (
        "customers: 4/10 follow-users, 12 pages, 1,200 items, 100 items/s, ETA 0:00:30\n"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_progress(_Terminal(), quiet=True), NullProgress)
    assert isinstance(make_progress(io.StringIO(), quiet=False), PlainProgress)
    terminal = _Terminal()
    rich = make_progress(terminal, quiet=False)
    assert isinstance(rich, RichProgress)
    rich.start(title="customers", unit_label="follow-users", total=4, done=0, items=0)
    rich.update(done=2, items=50, pages=1)
    rich.close()
    assert "customers" in terminal.getvalue()
    assert "follow-users" in terminal.getvalue()
    monkeypatch.setitem(sys.modules, "rich.console", None)  # rich not installed
    assert isinstance(make_progress(_Terminal(), quiet=False), PlainProgress)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ConfigurationError(40001, "invalid secret"), "stop"),
        (TokenError(42001, "expired"), "stop"),
        (PermissionDeniedError(48002, "api forbidden"), "stop"),
        (PermissionDeniedError(60011, "not visible"), "unit"),
        (APIError(701008, "no license"), "unit"),
        (APIError(90501, "not a customer group"), "unit"),
        # What the client's retries could not get past stops the export (resumable).
        (RateLimitError(45009, "freq"), "stop"),
        (RateLimitError(45033, "concurrency"), "stop"),
        (SystemBusyError(-1, "busy"), "stop"),
        (ConflictError(45035, "conflict"), "stop"),
        (TransportError("reset"), "stop"),
        (ResponseError("HTTP 502"), "stop"),
        (StructureError("mismatch"), "stop"),
        (ValidationError("bug"), "stop"),
        (RuntimeError("a local bug"), "stop"),
    ],
)
def test_classify(error: Exception, kind: str) -> None:
    assert classify(error) == kind


def test_chunks() -> None:
    assert [auto_chunk_size(n, 16) for n in (1, 32, 33, 100, 3200, 10_000)] == [
        1,
        1,
        2,
        4,
        100,
        100,
    ]
    with pytest.raises(
        ValidationError, match=r"^chunk_size must be an integer in \[1, 100\], got 101$"
    ):
        make_job("customers", chunk_size=101)
    with pytest.raises(ValidationError, match=r"^no export kind 'orders': the kinds are "):
        make_job("orders")


def test_usage_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WECOM_CORP_ID", raising=False)
    monkeypatch.delenv("WECOM_SECRET", raising=False)
    assert main(["export", "customers"]) == ExitStatus.USAGE
    assert "missing credentials" in capsys.readouterr().err
    assert main(["export", "customers", "--sandbox", "--base-url", "http://x"]) == ExitStatus.USAGE
    assert "exclude each other" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--rate-limit-delay", "inf"],  # was a wait that never ends
        ["--rate-limit-delay", "nan"],  # was a bare ValueError at the first 45009
        ["--retry-delay", "1e17"],
        ["--rate-limit", "2000000000"],
        ["--hourly-rate-limit", "0"],
        ["--concurrency", "1001"],  # built 10^5 transports in 5 s, 10^8 forever
        ["--concurrency", "1" + "0" * 30],
    ],
)
def test_odd_pacing_numbers_are_usage_errors(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["export", "customers", "--sandbox", *args])
    assert caught.value.code == 2
    assert f"argument {args[0]}" in capsys.readouterr().err


def test_resume_without_checkpoint_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "c.jsonl"
    status = main(
        ["export", "tags", "--sandbox", "--sandbox-customers", "5", "-o", str(out), "--resume"]
    )
    assert status == ExitStatus.USAGE
    assert "nothing to resume" in capsys.readouterr().err


def test_help_documents_exit_statuses_and_columns(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["export", "--help"])
    assert caught.value.code == 0
    text = capsys.readouterr().out
    for line in ("0    the export is complete", "3    the export finished", "130  interrupted"):
        assert line in text
    columns = ", ".join(CustomersJob().table().columns)
    assert "createtime, createtime_local, " in columns
    assert "customers: " + columns in " ".join(text.split())


def test_the_command_sends_through_a_sharded_transport_behind_both_windows() -> None:
    credentials = ["--corp-id", "ww1", "--secret", "s3cret-value"]
    pacing = ["--concurrency", "3", "--rate-limit", "100", "--hourly-rate-limit", "1000"]
    retries = ["--retry-delay", "0.25", "--rate-limit-delay", "30"]
    args = build_parser().parse_args(["export", "customers", *credentials, *pacing, *retries])
    settings = _settings(args)
    assert isinstance(settings, ExportSettings)
    transport = build_transport(settings)

    assert isinstance(transport.inner, ShardedTransport)
    assert repr(transport.inner) == "ShardedTransport(shards=3)"  # one per request in flight
    assert build_budget(settings).limits == ((100, 60.0), (1000, 3600.0))
    assert retry_policy(settings) == RetryPolicy(base_delay=0.25, rate_limit_delay=30.0)
    sandbox = FakeWeCom().transport()
    assert build_transport(settings, sandbox).inner is sandbox  # in-process, no network


def test_the_default_budget_of_the_command() -> None:
    settings = _settings(build_parser().parse_args(["export", "tags", "--sandbox"]))
    assert isinstance(settings, ExportSettings)
    assert build_budget(settings).limits == ((9_000, 60.0), (135_000, 3600.0))


@pytest.mark.parametrize("format", ["jsonl", "csv"])
def test_the_identities_written_are_read_back_exactly(tmp_path: Path, format: str) -> None:
    """What a restarted unit skips: the keys read back from either format are the keys of
    the records written, cells with commas, quotes and line breaks included."""
    job = CustomersJob()
    records: list[dict[str, object]] = [
        {
            "external_contact": {"external_userid": f'wm,"{i}"\r\nx', "name": "张三\n"},
            "follow_info": {"userid": f"u{i % 3}", "remark": "a,b"},
        }
        for i in range(7)
    ]
    encoder = JsonlEncoder(job.keys) if format == "jsonl" else CsvEncoder(job.table())
    output = OutputFile(tmp_path / "o")
    output.create(encoder.header())
    start = output.size
    output.write(encoder.encode(records[:3]))  # another unit's page, before
    middle = output.size
    output.write(encoder.encode(records[3:]))
    output.close()

    keys = encoder.read_keys(output.path, middle, output.size)
    assert keys == {(f'wm,"{i}"\r\nx', f"u{i % 3}") for i in range(3, 7)}
    assert keys == {key for record in records[3:] for key in encoder.keys(record)}
    everything = encoder.read_keys(output.path, start, output.size)
    assert len(everything) == 7


def test_every_paged_kind_has_an_identity_among_its_columns() -> None:
    for job in JOBS.values():
        assert set(job.identity) <= set(job.columns)
    # tags, behavior-stats and acquisition read each unit in one step: no cursor expires.
    assert {name for name, job in JOBS.items() if job.identity} == {
        "customers",
        "group-chats",
        "contact-ways",
        "group-messages",
        "moments",
        "transfers",
    }


def test_a_write_that_takes_no_byte_raises_instead_of_spinning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = OutputFile(tmp_path / "o")
    output.create(b"")
    calls: list[int] = []

    def stuck(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) > 3:  # lets a spinning writer end, so the test reports it
            raise AssertionError("the writer kept trying")
        return 0

    monkeypatch.setattr(os, "write", stuck)
    with pytest.raises(OSError, match="took none of the bytes"):
        output.write(b"a record\n")
    monkeypatch.undo()
    output.close()
    assert calls == [9]
    assert output.size == 0


async def test_the_command_goes_out_through_the_environment_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind an egress proxy the export reaches WeCom, paced and counted as without one."""
    from tests.core.test_proxy import PROXY_VARS, LoopbackHttp
    from wecom_async.export._run import build_http_client

    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    args = ["export", "tags", "--corp-id", "ww1", "--secret", "s3cret-value-0123456789"]
    settings = _settings(build_parser().parse_args(args))
    assert isinstance(settings, ExportSettings)
    async with LoopbackHttp() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        transport = build_transport(settings)
        async with (
            build_http_client(settings, transport, network=True) as http,
            WeComClient(
                "ww1", "s3cret-value-0123456789", http_client=http, base_url="http://wecom.invalid"
            ) as client,
        ):
            assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert len(proxy.targets) == 2
    assert transport.sent == {
        "/cgi-bin/gettoken": 1,
        "/cgi-bin/externalcontact/get_follow_user_list": 1,
    }


def test_an_hour_waited_in_the_rate_budget_does_not_fail_the_export(tmp_path: Path) -> None:
    """The budget waits inside the call, so the client's default deadline (120 s) must not
    cut a page that is only waiting its turn; on the virtual clock the hour takes no time."""
    import io

    from tests.core.virtual_time import run_virtual
    from tests.export.helpers import expected_pairs, read_pairs
    from wecom_async.export._run import run_command
    from wecom_async.export._sandbox import sandbox_fake

    output = tmp_path / "customers.jsonl"
    args = ["export", "customers", "--sandbox", "--sandbox-customers", "300", "-o", str(output)]
    pacing = ["--chunk-size", "10", "--rate-limit", "1000", "--hourly-rate-limit", "2"]
    settings = _settings(build_parser().parse_args([*args, *pacing, "--quiet"]))
    assert isinstance(settings, ExportSettings)

    async def main() -> tuple[float, object]:
        started = anyio.current_time()
        outcome = await run_command(settings, io.StringIO())
        return anyio.current_time() - started, outcome

    elapsed, outcome = run_virtual(main)
    assert getattr(outcome, "error", None) is None
    calls = getattr(outcome, "requests", {})["/cgi-bin/externalcontact/batch/get_by_user"]
    assert calls > 2
    # Two calls an hour: the export took the hours the budget asked for, and finished.
    assert elapsed >= 3600 * ((calls - 1) // 2)
    pairs = read_pairs(output)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_pairs(sandbox_fake(300))


@given(st.recursive(st.none() | st.text() | st.integers(), lambda inner: st.lists(inner)))
@settings(deadline=None)
def test_json_lines_take_any_text_losslessly_on_one_utf8_line(value: object) -> None:
    record = {"name": value, "k\ud800": "\u2028"}
    line = JsonlEncoder().encode([record])

    text = line.decode("utf-8")  # strict
    assert text.splitlines() == [text[:-1]]
    assert json.loads(text) == record


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resume", "--chunk-size", "5"], "--chunk-size cannot change on --resume"),
        (["-o", "t.jsonl", "--format", "csv"], "--format csv does not match"),
        (["-o", "T.CSV", "--format", "jsonl"], "--format jsonl does not match"),
        (["--summary-json", "{file}/x.json"], "cannot write the summary"),
        (["-o", "."], "names no file"),
        (["-o", "{dir}", "--force"], "is a directory"),
        (["-o", "t.jsonl", "--summary-json", "./t.jsonl"], "name the same file"),
    ],
)
def test_contradictory_options_are_refused_before_anything_starts(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "dir").mkdir()
    args = [
        arg.replace("{file}", str(tmp_path / "file")).replace("{dir}", str(tmp_path / "dir"))
        for arg in args
    ]
    status = main(["export", "tags", "--sandbox", "--sandbox-customers", "5", *args])

    assert status == ExitStatus.USAGE
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"]
    assert list((tmp_path / "dir").iterdir()) == []


@pytest.mark.parametrize("name", ["Tags.CSV", "Tags.XLSX", "tags.Parquet"])
def test_the_output_extension_chooses_the_format_whatever_its_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    status = main(["export", "tags", "--sandbox", "--sandbox-customers", "5", "-q", "-o", name])

    assert status == ExitStatus.OK
    path = tmp_path / name
    if name.endswith("CSV"):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle))
    elif name.endswith("XLSX"):
        header = next(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    else:
        header = parquet.read_schema(path).names
    assert tuple(header) == TagsJob().table().columns


def test_plain_progress_shows_rate_limit_waits() -> None:
    stream, time = io.StringIO(), FakeTime()
    refusals = Refusals()
    progress = PlainProgress(stream, interval=5.0, clock=time, refusals=refusals)
    progress.start(title="customers", unit_label="follow-users", total=10, done=0, items=0)
    refusals.refused(("POST", "/p", b""), 0.0)
    refusals.retried(("POST", "/p", b""), 60.0)
    time.now = 10.0
    progress.update(done=4, items=1200, pages=12)

    assert stream.getvalue().endswith(", 45009: 1 refused, 60 s waited\n")
