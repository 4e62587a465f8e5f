"""The export's file guarantees against real processes: overlap, clobber, swap, full disk."""

from __future__ import annotations

import csv
import json
import resource
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.export.helpers import (
    cli_args,
    expected_pairs,
    export_args,
    new_fake,
    part_of,
    read_lines,
    read_pairs,
    run_cli,
    secret_env,
    serve,
)
from wecom_async.export.cli import ExitStatus
from wecom_async.testing import FakeWeCom

#: Small chunks and two workers: many pages, so a run can be caught midway.
PACE = ("--concurrency", "2", "--rate-limit", "100000")
SLOW = ("--chunk-size", "5", *PACE)


@pytest.fixture
def slow_fake() -> FakeWeCom:
    """~1,650 pairs (17+ pages) and 50 ms per response: an export takes half a second."""
    corp = new_fake(latency=0.05)
    corp.seed(staff=30, customers_per_staff=50, seed=11)
    return corp


@pytest.fixture
def url(slow_fake: FakeWeCom) -> Iterator[str]:
    """``slow_fake`` on 127.0.0.1."""
    with serve(slow_fake) as base_url:
        yield base_url


def start(url: str, out: Path, *more: str, cwd: Path) -> subprocess.Popen[str]:
    """Start ``export customers`` into ``out`` as a separate process."""
    return subprocess.Popen(
        cli_args(*export_args(url, out, *SLOW, *more)),
        cwd=cwd,
        env=secret_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_lines(paths: tuple[Path, ...], at_least: int, proc: subprocess.Popen[str]) -> None:
    """Wait until one of ``paths`` holds ``at_least`` lines, the process still running."""
    deadline = time.monotonic() + 30
    while not any(p.exists() and p.read_bytes().count(b"\n") >= at_least for p in paths):
        assert proc.poll() is None, "the export ended before it could be caught midway"
        assert time.monotonic() < deadline, "the export made no progress"
        time.sleep(0.005)


def test_a_second_run_on_the_same_output_is_refused_while_the_first_runs(
    slow_fake: FakeWeCom, url: str, tmp_path: Path
) -> None:
    out = tmp_path / "customers.jsonl"
    slow_fake.latency = 0.4  # the first run lasts a few seconds
    first = start(url, out, cwd=tmp_path)
    wait_for_lines((out, part_of(out)), 100, first)
    # Frozen, the first run still holds the output's lock, however slowly the others start
    # on a loaded machine; it resumes once they have been refused.
    first.send_signal(signal.SIGSTOP)
    try:
        others = [
            subprocess.Popen(
                cli_args(*export_args(url, out, *PACE, *more)),
                cwd=tmp_path,
                env=secret_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for more in ((), ("--force",), ("--resume",))
        ]
        refusals = [other.communicate(timeout=60)[1] for other in others]
        assert first.poll() is None, "the first run ended before the others were refused"
    finally:
        # The others have been refused: the rest of the first run need not be slow.
        slow_fake.latency = 0.0
        first.send_signal(signal.SIGCONT)
    _, first_err = first.communicate(timeout=60)

    for other, stderr in zip(others, refusals, strict=True):
        assert other.returncode == ExitStatus.BUSY, stderr
        assert "another export" in stderr
        assert f"pid {first.pid}" in stderr
    assert first.returncode == ExitStatus.OK, first_err
    pairs = read_pairs(out)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_pairs(slow_fake)
    # Nothing of either run is left beside the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.jsonl"]


def test_an_existing_file_is_never_overwritten_without_force(url: str, tmp_path: Path) -> None:
    out = tmp_path / "customers.jsonl"
    out.write_bytes(b"someone else's file\n")

    refused = run_cli(*export_args(url, out), cwd=tmp_path, env=secret_env())

    assert refused.returncode == ExitStatus.USAGE
    assert "already exists" in refused.stderr
    assert "--force" in refused.stderr
    assert out.read_bytes() == b"someone else's file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.jsonl"]


def test_a_killed_nightly_run_leaves_yesterdays_file_whole_and_resumes(
    slow_fake: FakeWeCom, url: str, tmp_path: Path
) -> None:
    out = tmp_path / "customers.jsonl"
    latency, slow_fake.latency = slow_fake.latency, 0.0  # only tonight's run must be caught
    yesterday = run_cli(*export_args(url, out, *SLOW), cwd=tmp_path, env=secret_env())
    assert yesterday.returncode == ExitStatus.OK, yesterday.stderr
    complete = out.read_bytes()

    slow_fake.latency = latency
    tonight = start(url, out, "--force", cwd=tmp_path)
    wait_for_lines((part_of(out),), 300, tonight)
    tonight.send_signal(signal.SIGKILL)
    tonight.wait(timeout=10)
    slow_fake.latency = 0.0
    assert out.read_bytes() == complete  # yesterday's file, untouched
    assert part_of(out).exists()

    # The killed run's lock died with it: the resume is not refused, and replaces the
    # file as the interrupted run was allowed to.
    resumed = run_cli(*export_args(url, out, *PACE, "--resume"), cwd=tmp_path, env=secret_env())

    assert resumed.returncode == ExitStatus.OK, resumed.stderr
    pairs = read_pairs(out)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_pairs(slow_fake)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.jsonl"]


def test_resume_refuses_a_swapped_file_of_the_same_length(url: str, tmp_path: Path) -> None:
    out = tmp_path / "customers.jsonl"
    run = start(url, out, cwd=tmp_path)
    wait_for_lines((out, part_of(out)), 300, run)
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=10)
    assert run.returncode == ExitStatus.INTERRUPTED
    written = part_of(out) if part_of(out).exists() else out
    saved = json.loads(out.with_name(out.name + ".checkpoint").read_text())
    data = written.read_bytes()
    # Another file of the same length: one customer's line, another customer's id.
    first = data.index(b'"wm') + 3
    swapped = data[:first] + (b"X" if data[first : first + 1] != b"X" else b"Y") + data[first + 1 :]
    written.write_bytes(swapped)

    resumed = run_cli(*export_args(url, out, *PACE, "--resume"), cwd=tmp_path, env=secret_env())

    assert resumed.returncode == ExitStatus.USAGE, resumed.stderr
    assert "content" in resumed.stderr
    assert "cannot resume" in resumed.stderr
    assert written.read_bytes() == swapped  # left as it was, for the user to look at
    assert saved["output_bytes"] <= len(swapped)


def _limit_file_size(limit: int) -> None:
    # Python ignores SIGXFSZ at start-up, so a write past the limit raises EFBIG.
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


@pytest.mark.parametrize("limit", [250_001])
def test_a_full_disk_leaves_whole_lines_and_resumes_exactly(
    slow_fake: FakeWeCom, url: str, tmp_path: Path, limit: int
) -> None:
    out = tmp_path / "customers.jsonl"
    slow_fake.latency = 0.0
    full = subprocess.run(
        cli_args(*export_args(url, out, *SLOW)),
        cwd=tmp_path,
        env=secret_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: _limit_file_size(limit),
    )

    assert full.returncode == ExitStatus.FAILED, full.stderr
    assert full.stderr.count("\n") == 1
    assert "no room" in full.stderr
    assert "--resume" in full.stderr
    written = part_of(out) if part_of(out).exists() else out
    lines = read_lines(written)  # no half-written last line
    assert len(lines) > 0
    assert written.stat().st_size <= limit

    resumed = run_cli(*export_args(url, out, *PACE, "--resume"), cwd=tmp_path, env=secret_env())

    assert resumed.returncode == ExitStatus.OK, resumed.stderr
    pairs = read_pairs(out)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_pairs(slow_fake)


#: Names customers can type (valid JSON from WeCom): a cut emoji (a lone surrogate), the
#: line separators of ``str.splitlines``, and plain text around them.
HOSTILE_NAMES = (
    "半个\ud83d",
    "\udc00tail",
    "line\u2028separator\u2029paragraph\u0085next-line",
    "正常的名字",
)


@pytest.fixture
def hostile() -> FakeWeCom:
    """Two members; each follows customers with every one of :data:`HOSTILE_NAMES`."""
    corp = new_fake()
    corp.seed(staff=2, customers_per_staff=3, seed=8)
    for name in HOSTILE_NAMES:
        corp.add_customer(name=name, followers=sorted(corp.state.staff))
    return corp


def test_customer_text_is_written_losslessly_as_json_lines(
    hostile: FakeWeCom, tmp_path: Path
) -> None:
    out = tmp_path / "customers.jsonl"
    with serve(hostile) as base_url:
        done = run_cli(*export_args(base_url, out), cwd=tmp_path, env=secret_env())

    assert done.returncode == ExitStatus.OK, done.stderr
    text = out.read_bytes().decode("utf-8")  # strict: valid UTF-8 throughout
    lines = text.splitlines()  # the reader that split on U+2028 / U+2029 / U+0085
    assert len(lines) == len(expected_pairs(hostile))
    names = [json.loads(line)["external_contact"]["name"] for line in lines]
    for name in HOSTILE_NAMES:
        assert names.count(name) == 2  # once per follower, exactly as WeCom sent it
    assert "\\ud83d" in text
    assert "\\u2028" in text


def test_customer_text_is_written_as_valid_csv(hostile: FakeWeCom, tmp_path: Path) -> None:
    out = tmp_path / "customers.csv"
    with serve(hostile) as base_url:
        done = run_cli(*export_args(base_url, out), cwd=tmp_path, env=secret_env())

    assert done.returncode == ExitStatus.OK, done.stderr
    with out.open(encoding="utf-8", newline="") as handle:  # strict UTF-8
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(expected_pairs(hostile))
    names = [row["name"] for row in rows]
    # Lone surrogates cannot be UTF-8: each becomes U+FFFD; the rest is kept as typed.
    for name in ("半个\ufffd", "\ufffdtail", HOSTILE_NAMES[2], HOSTILE_NAMES[3]):
        assert names.count(name) == 2
