"""Files a person hands the command (a manifest, a checkpoint, a corps file, a pairs file)
and bounds past the calendar end in one error line and an exit status, never a
traceback or a hang: a document nested deeper than the parser goes, a manifest written
in milliseconds, a bound after 9999-12-31, a FIFO where a file is expected."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.export.helpers import run_cli, secret_env
from wecom_async.export import Checkpoint
from wecom_async.export.cli import ExitStatus, main

#: Deeper than json / tomllib recurse (their RecursionError was the traceback).
DEEP = "[" * 100_000 + "]" * 100_000
#: Nothing listens there: a command that got as far as sending would fail differently.
NOWHERE = ["--base-url", "http://127.0.0.1:9"]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WECOM_SECRET", "s3cr3t-value")
    for name in ("WECOM_REDIS_URL", "WECOM_CORP_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def manifest(until: int, corp_id: str = "ww1") -> str:
    """A version-1 group-messages manifest of ``corp_id`` ending at ``until``."""
    return json.dumps(
        {
            "version": 1,
            "kind": "group-messages",
            "corp_id": corp_id,
            "since": 0,
            "until": until,
            "records": 1,
            "finished_at": 0,
        }
    )


def error_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The exit status and the one error line of the command (a traceback fails the test)."""
    status = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("wecom-async: error:")]
    assert len(lines) == 1, err
    return status, lines[0].removeprefix("wecom-async: error: ")


def since_last(*more: str) -> list[str]:
    return ["export", "group-messages", "--corp-id", "ww1", "-o", "m.jsonl", *more, *NOWHERE]


def test_a_deeply_nested_manifest_is_unreadable(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "m.jsonl.manifest.json").write_text(DEEP)
    assert error_of(since_last("--since", "last"), capsys) == (
        ExitStatus.USAGE,
        "m.jsonl.manifest.json is not whole JSON (a write cut short?): JSON nested too "
        "deeply to read; remove it and give --since DATE",
    )


@pytest.mark.parametrize("until", [1_704_670_740_000, 253_402_271_999 + 1, 10**30])
def test_a_manifest_whose_range_is_not_seconds_is_damaged(
    here: Path, capsys: pytest.CaptureFixture[str], until: int
) -> None:
    # 1_704_670_740_000: 2024-01-08 in milliseconds, read as seconds the year 55988.
    (here / "m.jsonl.manifest.json").write_text(manifest(until))
    status, line = error_of(since_last("--since", "last"), capsys)
    assert status == ExitStatus.USAGE
    assert line == (
        f"m.jsonl.manifest.json is damaged (until {until} is past "
        "9999-12-31T23:59:59+08:00: not a time)"
    )


def test_the_manifest_of_the_last_second_is_read(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last second a date shows is a range's end; --since last then has nothing left."""
    (here / "m.jsonl.manifest.json").write_text(manifest(253_402_271_999))
    status, line = error_of(since_last("--since", "last"), capsys)
    assert status == ExitStatus.USAGE
    assert line == (
        "--since (253402272000 (Unix seconds, no date)) is after the kind's default end: "
        "give --until, or wait until there is something new"
    )


@pytest.mark.parametrize(
    ("option", "bound"),
    [
        ("--since", "9999-12-31T23:59:59-23:59"),  # 10000-01-01 in UTC: no timestamp
        ("--until", "9999-12-31T23:59:59-23:59"),
        ("--since", "9999-12-31T16:00:00Z"),  # one second past the last date in Beijing
        ("--until", "9999-12-31T16:00:00Z"),
        ("--since", "9999-12-31T23:59:59.5+08:00"),  # rounded up for a start
    ],
)
def test_a_bound_past_the_last_date_is_refused(
    here: Path, capsys: pytest.CaptureFixture[str], option: str, bound: str
) -> None:
    assert error_of(since_last(option, bound), capsys) == (
        ExitStatus.USAGE,
        f"{bound!r} is after 9999-12-31T23:59:59+08:00",
    )


def test_a_deeply_nested_checkpoint_is_unreadable(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "c.jsonl.checkpoint").write_text(DEEP)
    argv = ["export", "customers", "--corp-id", "ww1", "-o", "c.jsonl", "--resume", *NOWHERE]
    assert error_of(argv, capsys) == (
        ExitStatus.USAGE,
        "cannot read the checkpoint c.jsonl.checkpoint: JSON nested too deeply to read",
    )


def test_a_checkpoint_whose_windows_are_not_seconds_is_damaged(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--resume with a range compares it with the checkpoint's: a window in milliseconds
    is a damaged plan (its date cannot even be shown), not a traceback."""
    spec = {"since": 1_704_067_200, "until": 1_704_153_599_000, "chat_type": "single"}
    empty = hashlib.sha256(b"").hexdigest()
    saved = Checkpoint("group-messages", "jsonl", "ww1", [spec], [1], output_sha256=empty)
    saved.save(here / "m.jsonl.checkpoint")
    (here / "m.jsonl.part").write_bytes(b"")
    status, line = error_of(
        since_last("--resume", "--since", "2024-01-01", "--until", "2024-01-02"), capsys
    )
    assert (status, line) == (
        ExitStatus.USAGE,
        "a unit's window 1704067200..1704153599000 is not a range of Unix seconds up to "
        "9999-12-31T23:59:59+08:00: the plan it came from is damaged",
    )


def test_a_deeply_nested_corps_file_is_not_toml(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "corps.toml").write_text("a = " + DEEP)
    argv = ["export", "customers", "--corps", "corps.toml", "-o", "out"]
    assert error_of(argv, capsys) == (
        ExitStatus.USAGE,
        "corps.toml is not valid TOML: nested too deeply to read",
    )


def test_a_fifo_given_as_the_pairs_file_is_refused_without_blocking(tmp_path: Path) -> None:
    """Reading a FIFO with no writer blocked for ever; --corps already refused one."""
    os.mkfifo(tmp_path / "pairs")
    done = run_cli(
        "export",
        "transfers",
        "--corp-id",
        "ww1",
        "--transfer-pairs",
        "pairs",
        "-o",
        "t.jsonl",
        *NOWHERE,
        cwd=tmp_path,
        env=secret_env(),
        timeout=30,
    )
    assert done.returncode == ExitStatus.USAGE
    assert (
        done.stderr
        == "wecom-async: error: cannot read --transfer-pairs pairs: not a regular file\n"
    )
    assert not (tmp_path / "t.jsonl").exists()
