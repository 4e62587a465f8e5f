"""The distributed command ends in one error line and an exit status, never a traceback,
on what a person hands it: a corp label that is a path (checked before any file of the
output directory is read, so ``../victim`` reaches nothing outside it), a damaged or
nested per-corp manifest, a missing or damaged ``plan.json`` on resume, and worker
options that are not positive (``nan`` included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.test_cli_damaged_inputs import error_of, manifest
from tests.redis_server import RedisServer
from wecom_async.export.cli import ExitStatus, main

DEEP = "[" * 100_000 + "]" * 100_000
NOWHERE = ["--base-url", "http://127.0.0.1:9"]
#: No Redis listens there: the checks tested here come before Redis is used.
NO_REDIS = ["--redis-url", "redis://127.0.0.1:9/0"]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WECOM_SECRET", "s3cr3t-value")
    for name in ("WECOM_REDIS_URL", "WECOM_CORP_ID"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "D").mkdir()
    return tmp_path


def workers(*more: str) -> list[str]:
    return ["export", "group-messages", "--workers", "-o", "D", *more, *NO_REDIS, *NOWHERE]


@pytest.mark.parametrize("corp_id", ["a/b", "../victim", "..", ".hidden", "a b", "/abs"])
def test_a_corp_label_that_is_not_a_plain_name_is_a_usage_error(
    here: Path, capsys: pytest.CaptureFixture[str], corp_id: str
) -> None:
    assert error_of(workers("--corp-id", corp_id), capsys) == (
        ExitStatus.USAGE,
        f"--corp-id {corp_id!r} cannot label a corp of a distributed export: letters, "
        "digits, '.', '_' or '-' only (not a path)",
    )


def test_since_last_never_reads_a_manifest_outside_the_directory(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``D/../victim.group-messages.manifest.json`` is beside D: had it been read, its
    nesting would have been the error (a RecursionError traceback before the fix)."""
    (here / "victim.group-messages.manifest.json").write_text(DEEP)
    status, line = error_of(workers("--since", "last", "--corp-id", "../victim"), capsys)
    assert status == ExitStatus.USAGE
    assert line.startswith("--corp-id '../victim' cannot label a corp")


def test_a_deeply_nested_corp_manifest_is_unreadable(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "D" / "ww1.group-messages.manifest.json").write_text(DEEP)
    assert error_of(workers("--since", "last", "--corp-id", "ww1"), capsys) == (
        ExitStatus.USAGE,
        f"corp ww1: {Path('D') / 'ww1.group-messages.manifest.json'} is not whole JSON (a "
        "write cut short?): JSON nested too deeply to read; remove it and give --since DATE",
    )


def test_a_corp_manifest_in_milliseconds_is_damaged(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "D" / "ww1.group-messages.manifest.json").write_text(manifest(1_704_670_740_000, "ww1"))
    assert error_of(workers("--since", "last", "--corp-id", "ww1"), capsys) == (
        ExitStatus.USAGE,
        f"corp ww1: {Path('D') / 'ww1.group-messages.manifest.json'} is damaged "
        "(until 1704670740000 is past 9999-12-31T23:59:59+08:00: not a time)",
    )


@pytest.mark.parametrize(
    ("plan", "reason"),
    [
        (
            None,
            "the export's files cannot be used (FileNotFoundError: [Errno 2] No such file "
            "or directory: 'D/E1/plan.json')",
        ),
        ("[[", "D/E1/plan.json is not a plan.json of this release"),
        (DEEP, "D/E1/plan.json is not a plan.json of this release"),
        ('{"export_id": "E1"}', "not a plan.json of this release"),
    ],
    ids=["missing", "malformed", "nested", "foreign"],
)
def test_resume_with_a_missing_or_damaged_plan_is_one_line(
    here: Path,
    capsys: pytest.CaptureFixture[str],
    redis_server: RedisServer,
    plan: str | None,
    reason: str,
) -> None:
    (here / "D" / "E1").mkdir()
    if plan is not None:
        (here / "D" / "E1" / "plan.json").write_text(plan)
    argv = ["export", "resume", "E1", "--dir", "D", "--redis-url", redis_server.url]
    status, line = error_of(argv, capsys)
    assert status == ExitStatus.FAILED
    assert line == reason


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--lease", "0"], "argument --lease: must be a finite number of seconds above 0, got '0'"),
        (
            ["--lease", "nan"],
            "argument --lease: must be a finite number of seconds above 0, got 'nan'",
        ),
        (
            ["--lease", "inf"],
            "argument --lease: must be a finite number of seconds above 0, got 'inf'",
        ),
        (["--poll", "0"], "argument --poll: must be a finite number of seconds above 0, got '0'"),
        (
            ["--poll", "-1"],
            "argument --poll: must be a finite number of seconds above 0, got '-1'",
        ),
        (["--shards", "0"], "argument --shards: must be at least 1, got 0"),
        (["--shards", "1.5"], "argument --shards: not a whole number: '1.5'"),
        (["--rate-limit", "0"], "argument --rate-limit: must be at least 1, got 0"),
    ],
)
def test_a_worker_option_that_is_not_positive_is_a_usage_error(
    here: Path, capsys: pytest.CaptureFixture[str], option: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["worker", "--corp-id", "ww1", *NO_REDIS, *option])
    assert caught.value.code == ExitStatus.USAGE
    assert capsys.readouterr().err.splitlines()[-1] == f"wecom-async worker: error: {message}"
