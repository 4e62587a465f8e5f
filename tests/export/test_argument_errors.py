"""Only WeComError subclasses leave the export's public names: bad arguments are
ValidationError (a ValueError too), damaged files and plans the export's own WeComErrors.

Each entry point is called as a user (or the command) calls it; the class and the exact
message are asserted, so a message the command prints cannot drift unnoticed.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wecom_async import ValidationError, WeComClient, WeComError
from wecom_async.export import (
    BehaviorStatsJob,
    Checkpoint,
    CheckpointError,
    CorpsFileError,
    CustomersJob,
    EngineOptions,
    GroupMessagesJob,
    ManifestError,
    OutputBusyError,
    OutputError,
    OutputExistsError,
    OutputWriteError,
    TableOptions,
    TagsJob,
    TimeRange,
    make_job,
    run_export,
)
from wecom_async.export._checkpoint import write_atomic
from wecom_async.export._jobs_acquisition import AcquisitionJob
from wecom_async.export._jobs_transfers import read_pairs
from wecom_async.export._range import LATEST, parse_bound, window_of, windows
from wecom_async.export._run import ExportSettings
from wecom_async.export._status import failure_status
from wecom_async.export._writer import OutputFile
from wecom_async.export.cli import ExitStatus, main
from wecom_async.testing import FakeWeCom

NO_OFFSET = (
    "has no UTC offset, so its zone would be a guess: add one (+08:00 for Beijing time, Z "
    "for UTC) or give a date"
)
NEITHER = (
    "is neither a date (YYYY-MM-DD, Beijing time) nor an ISO 8601 datetime with an offset "
    "(2024-03-01T08:30:00+08:00)"
)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_bound("2024-02-30", end=False), "'2024-02-30' is not a valid date"),
        (lambda: parse_bound(" yesterday ", end=True), f"'yesterday' {NEITHER}"),
        (lambda: parse_bound("2024-03-01T08:00", end=False), f"'2024-03-01T08:00' {NO_OFFSET}"),
        (
            lambda: parse_bound("1969-12-31T23:59:59Z", end=True),
            "'1969-12-31T23:59:59Z' is before 1970",
        ),
        (lambda: TimeRange(5, 4), "not a time range: 5..4"),
        (lambda: TimeRange(-1, 4), "since must be a whole number of at least 0, got -1"),
        (
            lambda: TimeRange(0, LATEST + 1),
            "until 253402272000 is past 9999-12-31T23:59:59+08:00: not a time",
        ),
        (lambda: windows(0, 10, 0), "a window holds at least one second"),
        (
            lambda: make_job("orders"),
            "no export kind 'orders': the kinds are customers, "
            "group-chats, tags, contact-ways, group-messages, moments, behavior-stats, "
            "transfers, acquisition",
        ),
        (
            lambda: make_job("tags", since=0),
            "tags has no time range: --since / --until apply "
            "to group-messages, moments, behavior-stats",
        ),
        (lambda: make_job("tags", pairs=[("a", "b")]), "tags takes no transfer pairs"),
        (lambda: make_job("moments", since=10, until=5), "not a time range: 10..5"),
        (lambda: CustomersJob(chunk_size=0), "chunk_size must be an integer in [1, 100], got 0"),
        (
            lambda: CustomersJob(chunk_size=101),
            "chunk_size must be an integer in [1, 100], got 101",
        ),
        (lambda: GroupMessagesJob(since=10, until=5).range(), "not a time range: 10..5"),
        (
            lambda: BehaviorStatsJob(since=86_400 * 3, until=0).range(),
            "not a time range: 259200..0",
        ),
        (
            lambda: EngineOptions(concurrency=0),
            "concurrency must be a whole number of at least 1, got 0",
        ),
        (
            lambda: EngineOptions(checkpoint_interval=-1),
            "checkpoint_interval must be a number 0 or more, got -1",
        ),
        (lambda: TableOptions(timezone="Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (lambda: TableOptions(timezone="../etc/passwd"), "unknown time zone '../etc/passwd'"),
    ],
)
def test_a_bad_argument_is_a_validation_error_with_its_message(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        call()
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)  # callers' ``except ValueError`` still works


@settings(deadline=None, max_examples=400)
@given(
    text=st.one_of(
        st.text(),
        st.from_regex(
            r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}"
            r"([T ][0-9]{2}(:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?)?)?"
            r"(Z|[+-][0-9]{2}(:?[0-9]{2}(:?[0-9]{2})?)?)?\Z"
        ),
    ),
    end=st.booleans(),
)
def test_any_text_is_a_bound_or_a_validation_error(text: str, end: bool) -> None:
    """Nothing else: no OverflowError, TypeError or bare ValueError from the parsers."""
    result = _bound_or_error(text, end)
    if isinstance(result, ValidationError):
        assert str(result).startswith(repr(text.strip()))  # names what it refused
    else:
        assert type(result) is int


def _bound_or_error(text: str, end: bool) -> int | ValidationError:
    try:
        return parse_bound(text, end=end)
    except ValidationError as error:
        return error


# -- a damaged plan: the checkpoint's units -------------------------------------------


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda: window_of({"since": 1}), "window"),
        (lambda: CustomersJob().ids({"userids": "zhangsan"}), "userids"),
        (lambda: AcquisitionJob().ids({}), "link_id"),
    ],
)
def test_a_unit_spec_that_lost_a_key_is_a_checkpoint_error(
    call: Callable[[], object], key: str
) -> None:
    with pytest.raises(CheckpointError) as caught:
        call()
    assert str(caught.value) == f"a unit spec lost its {key}"


@pytest.mark.parametrize(
    "error",
    [
        CheckpointError,
        CorpsFileError,
        ManifestError,
        OutputError,
        OutputBusyError,
        OutputExistsError,
    ],
)
def test_the_exports_own_errors_are_wecom_errors(error: type[Exception]) -> None:
    assert issubclass(error, WeComError)
    if error in (CheckpointError, CorpsFileError, ManifestError):
        assert issubclass(error, ValueError)  # as they were: ``except ValueError`` still works
    if error is OutputWriteError:
        assert issubclass(error, OSError)


# -- the transfer pairs file ----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"zhangsan,lisi\nwangwu\n", "{path}, line 2: expected handover_userid,takeover_userid"),
        (b"zhangsan,lisi\n,lisi\n", "{path}, line 2: expected handover_userid,takeover_userid"),
        (b"a,b,c\n", "{path}, line 1: expected handover_userid,takeover_userid"),
        (
            b"zhangsan,lisi\n\xff\xfe,x\n",
            "{path} is not UTF-8 text (invalid start byte at byte 14)",
        ),
        (
            b'a,b\nc,d\nx,"' + b"y" * 200_000 + b'"\n',
            "{path}, line 3: field larger than field limit (131072)",
        ),
    ],
    ids=["one-cell", "empty-cell", "three-cells", "not-utf8", "huge-field"],
)
def test_a_bad_pairs_file_is_a_validation_error_naming_the_place(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "pairs.csv"
    path.write_bytes(content)
    with pytest.raises(ValidationError) as caught:
        read_pairs(path)
    assert str(caught.value) == message.format(path=path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff,x\n", " is not UTF-8 text (invalid start byte at byte 0)"),
        (b'x,"' + b"y" * 200_000 + b'"\n', ", line 1: field larger than field limit (131072)"),
    ],
)
def test_the_command_refuses_a_bad_pairs_file_in_one_line_before_any_request(
    tmp_path: Path,
    content: bytes,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Was a traceback (csv.Error) or the codec's message without the file's name."""
    pairs = tmp_path / "pairs.csv"
    pairs.write_bytes(content)
    monkeypatch.setenv("WECOM_SECRET", "Argument-Secret-x81q")
    # Port 9 (discard): nothing answers there, and nothing may be sent anyway.
    args = ["export", "transfers", "--base-url", "http://127.0.0.1:9", "--corp-id", "wwargs"]
    status = main([*args, "-q", "--transfer-pairs", str(pairs), "-o", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err
    assert status == ExitStatus.USAGE
    assert err == f"wecom-async: error: {pairs}{message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.csv"]


# -- files the export cannot write ----------------------------------------------------


def _settings(output: Path) -> ExportSettings:
    return ExportSettings(
        kind="customers",
        output=output,
        format="jsonl",
        corp_id="wwargs",
        secret="Argument-Secret-x81q",
        base_url=None,
        sandbox_customers=None,
        concurrency=1,
        rate_limit=100,
        hourly_rate_limit=1000,
        rate_limit_delay=0.0,
        retry_delay=0.0,
        chunk_size=None,
        resume=False,
        force=False,
        table=TableOptions(),
        quiet=True,
    )


async def test_a_full_disk_is_an_output_write_error_and_the_command_says_it_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeWeCom("wwargs", "Argument-Secret-x81q")
    fake.seed(staff=2, customers_per_staff=3, seed=1)
    out = tmp_path / "customers.jsonl"

    write = OutputFile.write

    def full(self: OutputFile, data: bytes) -> None:
        if data:  # the (empty) header goes in: the disk fills with the first records
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        write(self, data)

    monkeypatch.setattr(OutputFile, "write", full)
    http = httpx.AsyncClient(transport=fake.transport())
    client = WeComClient("wwargs", "Argument-Secret-x81q", http_client=http)
    async with http, client:
        with pytest.raises(OutputWriteError) as caught:
            await run_export(CustomersJob(), client, out, options=EngineOptions(concurrency=1))
    error = caught.value
    assert isinstance(error, OSError)  # ``except OSError`` still works, errno and all
    assert (error.errno, error.filename) == (errno.ENOSPC, f"{out}.part")
    assert str(error) == f"[Errno 28] No space left on device: '{out}.part'"
    assert isinstance(error.__cause__, OSError)
    assert Checkpoint.path_for(out).exists()  # kept: the export resumes
    assert failure_status(error, _settings(out)) == (
        ExitStatus.FAILED,
        f"no room to write {out} (No space left on device): the records written so far "
        "are saved; make room, then run the same command with --resume",
    )


@pytest.mark.parametrize(
    "write",
    [
        lambda missing: Checkpoint("customers", "jsonl", "ww", [], []).save(missing / "c"),
        lambda missing: write_atomic(missing / "m.json", b"{}"),
    ],
    ids=["checkpoint", "write_atomic"],
)
def test_a_file_that_cannot_be_written_is_an_output_write_error(
    tmp_path: Path, write: Callable[[Path], None]
) -> None:
    missing = tmp_path / "gone"
    with pytest.raises(OutputWriteError) as caught:
        write(missing)
    assert caught.value.errno == errno.ENOENT
    assert str(missing) in str(caught.value)
    assert failure_status(caught.value, _settings(tmp_path / "o.jsonl")) == (
        ExitStatus.FAILED,
        f"cannot write the output: {caught.value}",
    )


async def test_an_output_in_a_missing_folder_is_an_output_write_error(tmp_path: Path) -> None:
    fake = FakeWeCom("wwargs", "Argument-Secret-x81q")
    http = httpx.AsyncClient(transport=fake.transport())
    client = WeComClient("wwargs", "Argument-Secret-x81q", http_client=http)
    async with http, client:
        with pytest.raises(OutputWriteError) as caught:
            await run_export(TagsJob(), client, tmp_path / "gone" / "tags.jsonl")
    assert caught.value.errno == errno.ENOENT
    assert fake.requests == []  # refused before anything was asked of WeCom
