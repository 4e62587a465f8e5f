"""``wecom-async export`` end to end: a subprocess against the fake on a real loopback port."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.export.helpers import (
    BATCH,
    CORP_ID,
    SECRET,
    cli_args,
    expected_pairs,
    export_args,
    leaks,
    new_fake,
    part_of,
    read_lines,
    read_pairs,
    run_cli,
    secret_env,
    serve,
)
from wecom_async.export import CustomersJob
from wecom_async.export._sandbox import sandbox_fake
from wecom_async.export.cli import ExitStatus, main
from wecom_async.testing import FakeWeCom


@pytest.fixture
def fake() -> FakeWeCom:
    """A corp of 12 members, ~400 customers, with shared customers."""
    corp = new_fake()
    corp.seed(staff=12, customers_per_staff=30, seed=3)
    return corp


@pytest.fixture
def base_url(fake: FakeWeCom) -> Iterator[str]:
    """``fake`` served on 127.0.0.1."""
    with serve(fake) as url:
        yield url


def test_export_writes_every_pair_once_and_never_the_secret(
    fake: FakeWeCom, base_url: str, tmp_path: Path
) -> None:
    out, summary = tmp_path / "customers.jsonl", tmp_path / "summary.json"
    done = run_cli(
        *export_args(base_url, out, "--concurrency", "4", "-v", "--summary-json", str(summary)),
        cwd=tmp_path,
        env=secret_env(),
    )

    assert done.returncode == ExitStatus.OK, done.stderr
    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(fake)
    assert not (tmp_path / "customers.jsonl.checkpoint").exists()
    report = json.loads(summary.read_text())
    assert report["records"] == len(pairs)
    assert report["pages"] == fake.calls(BATCH)
    assert report["requests"] == {
        "/cgi-bin/gettoken": 1,
        "/cgi-bin/externalcontact/get_follow_user_list": 1,
        f"/cgi-bin/{BATCH}": fake.calls(BATCH),
    }
    assert "DEBUG" in done.stderr  # the logs were on
    assert leaks(SECRET, [done.stdout, done.stderr], tmp_path) == []


def _wait_for_lines(path: Path, at_least: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not path.exists() or path.read_bytes().count(b"\n") < at_least:
        assert proc.poll() is None, "the export ended before it could be interrupted"
        assert time.monotonic() < deadline, "the export made no progress"
        time.sleep(0.005)


@pytest.fixture
def slow_fake() -> FakeWeCom:
    """~1,650 pairs (17+ pages) and 50 ms per response: an export takes half a second."""
    corp = new_fake(latency=0.05)
    corp.seed(staff=30, customers_per_staff=50, seed=11)
    return corp


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_interrupted_export_resumes_with_nothing_missing_or_repeated(
    slow_fake: FakeWeCom, tmp_path: Path, how: str
) -> None:
    out, full = tmp_path / "customers.jsonl", tmp_path / "full.jsonl"
    checkpoint = tmp_path / "customers.jsonl.checkpoint"
    more = ("--chunk-size", "5", "--concurrency", "2", "--rate-limit", "100000")
    with serve(slow_fake) as url:
        proc = subprocess.Popen(
            cli_args(*export_args(url, out, *more)),
            cwd=tmp_path,
            env=secret_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        part = part_of(out)
        _wait_for_lines(part, 300, proc)
        proc.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGINT)
        _, stderr = proc.communicate(timeout=2)  # Ctrl-C stops within a second or two

        assert not out.exists()  # only a complete export is put in place
        lines_at_stop = read_lines(part)  # no torn line, even right after SIGKILL
        state = json.loads(checkpoint.read_text())
        assert 300 <= len(lines_at_stop) < len(expected_pairs(slow_fake))
        assert len(state["done"]) < len(state["units"])  # stopped midway
        assert state["output_bytes"] <= part.stat().st_size
        if how == "SIGINT":
            assert proc.returncode == ExitStatus.INTERRUPTED
            assert "--resume" in stderr
            assert state["output_bytes"] == part.stat().st_size  # final commit on the way out
            assert state["items"] == len(lines_at_stop)
        else:
            assert proc.returncode == -signal.SIGKILL

        slow_fake.latency = 0.0
        resumed = run_cli(
            *export_args(url, out, *more[2:], "--resume"), cwd=tmp_path, env=secret_env()
        )
        whole = run_cli(*export_args(url, full), cwd=tmp_path, env=secret_env())

    assert resumed.returncode == ExitStatus.OK, resumed.stderr
    assert "(resumed)" in resumed.stderr
    assert whole.returncode == ExitStatus.OK, whole.stderr
    resumed_lines, full_lines = read_lines(out), read_lines(full)
    assert len(set(resumed_lines)) == len(resumed_lines)
    assert sorted(resumed_lines) == sorted(full_lines)
    assert set(read_pairs(out)) == expected_pairs(slow_fake)
    assert not checkpoint.exists()
    assert leaks(SECRET, [resumed.stderr, stderr], tmp_path) == []


def test_csv_has_the_documented_columns(fake: FakeWeCom, base_url: str, tmp_path: Path) -> None:
    out = tmp_path / "customers.csv"
    done = run_cli(*export_args(base_url, out, "-q"), cwd=tmp_path, env=secret_env())

    assert done.returncode == ExitStatus.OK, done.stderr
    assert done.stderr == ""  # --quiet
    with out.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CustomersJob().table().columns
    assert {(r["external_userid"], r["follow_userid"]) for r in rows} == expected_pairs(fake)
    assert len(rows) == len(expected_pairs(fake))
    follow = fake.follow(rows[0]["external_userid"], rows[0]["follow_userid"])
    assert follow is not None
    assert json.loads(rows[0]["tag_id"] or "[]") == follow.tag_ids
    assert rows[0]["createtime"] == str(follow.createtime)


def test_bad_credentials_exit_4_without_printing_the_secret(base_url: str, tmp_path: Path) -> None:
    wrong = "Wr0ng-Secret-Xy81pq"
    done = run_cli(
        *export_args(base_url, tmp_path / "out.jsonl", "-v"),
        cwd=tmp_path,
        env=secret_env(wrong),
    )

    assert done.returncode == ExitStatus.CREDENTIALS
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "bad credentials" in errors[0]
    assert "40001" in errors[0]
    assert not (tmp_path / "out.jsonl").exists()
    assert leaks(wrong, [done.stdout, done.stderr], tmp_path) == []


def test_missing_permission_exits_5(fake: FakeWeCom, base_url: str, tmp_path: Path) -> None:
    fake.inject("externalcontact/get_follow_user_list", errcode=48002)
    done = run_cli(*export_args(base_url, tmp_path / "out.jsonl"), cwd=tmp_path, env=secret_env())

    assert done.returncode == ExitStatus.PERMISSION
    assert done.stderr.count("\n") == 1
    assert "permission denied (errcode 48002: api forbidden)" in done.stderr
    assert leaks(SECRET, [done.stdout, done.stderr], tmp_path) == []


def test_permission_lost_midway_exits_5_and_keeps_the_checkpoint(
    fake: FakeWeCom, base_url: str, tmp_path: Path
) -> None:
    fake.inject(BATCH, errcode=48002)
    out = tmp_path / "out.jsonl"
    done = run_cli(
        *export_args(base_url, out, "--concurrency", "1"), cwd=tmp_path, env=secret_env()
    )

    assert done.returncode == ExitStatus.PERMISSION
    state = json.loads((tmp_path / "out.jsonl.checkpoint").read_text())
    assert state["corp_id"] == CORP_ID
    assert leaks(SECRET, [done.stdout, done.stderr], tmp_path) == []


def test_unreachable_host_exits_6(tmp_path: Path) -> None:
    with serve(FakeWeCom()) as url:
        pass  # the port is free again: nothing listens there now
    done = run_cli(
        *export_args(url, tmp_path / "out.jsonl", "--retry-delay", "0"),
        cwd=tmp_path,
        env=secret_env(),
    )

    assert done.returncode == ExitStatus.UNREACHABLE
    assert done.stderr.startswith(f"wecom-async: error: cannot reach {url}: ")
    assert done.stderr.count("\n") == 1


def test_unlicensed_members_are_reported_with_exit_3(tmp_path: Path) -> None:
    corp = new_fake()
    report = corp.seed(staff=10, customers_per_staff=5, seed=4, unlicensed_staff=3)
    out = tmp_path / "out.jsonl"
    with serve(corp) as url:
        done = run_cli(*export_args(url, out, "--chunk-size", "2"), cwd=tmp_path, env=secret_env())

    assert done.returncode == ExitStatus.PARTIAL, done.stderr
    assert set(read_pairs(out)) == expected_pairs(corp)
    warnings = sorted(line for line in done.stderr.splitlines() if "warning:" in line)
    assert len(warnings) == 2
    # A whole chunk without licenses answers 701008; a mixed one reports fail_info.
    assert "1 not exported (no valid interop (互通) license" in warnings[0]
    assert warnings[0].endswith(f": {report.staff[7]}")
    assert "2 not exported (errcode 701008: no valid interop license)" in warnings[1]
    assert warnings[1].endswith(f": {report.staff[8]}, {report.staff[9]}")


def test_sandbox_needs_no_account(tmp_path: Path) -> None:
    done = run_cli("export", "customers", "--sandbox", "--sandbox-customers", "500", cwd=tmp_path)

    assert done.returncode == ExitStatus.OK, done.stderr
    assert "exported" in done.stderr
    pairs = read_pairs(tmp_path / "customers.jsonl")
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_pairs(sandbox_fake(500))


def test_fake_server_command_serves_the_sandbox_corp(tmp_path: Path) -> None:
    server = subprocess.Popen(
        cli_args("fake-server", "--port", "0", "--customers", "300", "--secret", SECRET),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        args = ["--base-url", url, "--corp-id", "wwfake", "-o", str(tmp_path / "out.jsonl")]
        done = run_cli("export", "customers", *args, cwd=tmp_path, env=secret_env())
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)

    assert server.returncode == 0
    assert done.returncode == ExitStatus.OK, done.stderr
    assert set(read_pairs(tmp_path / "out.jsonl")) == expected_pairs(
        sandbox_fake(300, secret=SECRET)
    )


FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)")
#: Names a spreadsheet would run as formulas (OWASP's list: = + - @ tab CR), and one it would not.
SPREADSHEET_NAMES = (*FORMULAS, "\tTAB", "\rCR", "a=b")


@pytest.fixture
def spreadsheet_corp() -> Iterator[str]:
    """A corp whose customers have :data:`SPREADSHEET_NAMES`, served on 127.0.0.1."""
    corp = new_fake()
    corp.seed(staff=1, customers_per_staff=2, seed=9)
    for name in SPREADSHEET_NAMES:
        corp.add_customer(name=name, followers=list(corp.state.staff))
    with serve(corp) as url:
        yield url


@dataclass
class Ran:
    """How an in-process run of the command ended."""

    returncode: int
    stderr: str


@pytest.fixture
def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Ran]:
    """Run the command in this process (cheaper than a subprocess where no signal or
    file-system limit is involved); the secret comes from the environment."""
    monkeypatch.setenv("WECOM_SECRET", SECRET)

    def run(*args: str) -> Ran:
        status = main(list(args))
        return Ran(status, capsys.readouterr().err)

    return run


def test_csv_is_safe_and_readable_in_a_spreadsheet_by_default(
    spreadsheet_corp: str, tmp_path: Path, run_main: Callable[..., Ran]
) -> None:
    out = tmp_path / "customers.csv"
    done = run_main(*export_args(spreadsheet_corp, out, "--timezone", "Asia/Shanghai"))

    assert done.returncode == ExitStatus.OK, done.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbfexternal_userid,")  # UTF-8 BOM for Excel
    with out.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    columns = list(reader.fieldnames or ())
    assert columns[columns.index("createtime") + 1] == "createtime_local"
    names = [row["name"] for row in rows]
    for name in SPREADSHEET_NAMES[:-1]:
        assert names.count("'" + name) == 1  # shown as text, never run
    assert names.count("a=b") == 1
    for row in rows:
        when = datetime.fromtimestamp(int(row["createtime"]), ZoneInfo("Asia/Shanghai"))
        assert row["createtime_local"] == when.isoformat()
        assert row["createtime_local"].endswith("+08:00")


def test_csv_formulas_and_bom_can_be_turned_off(
    spreadsheet_corp: str, tmp_path: Path, run_main: Callable[..., Ran]
) -> None:
    out = tmp_path / "customers.csv"
    done = run_main(*export_args(spreadsheet_corp, out, "--csv-raw-formulas", "--no-bom"))

    assert done.returncode == ExitStatus.OK, done.stderr
    assert out.read_bytes().startswith(b"external_userid,")
    with out.open(newline="", encoding="utf-8") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    for name in SPREADSHEET_NAMES:
        assert names.count(name) == 1


def test_rate_limit_refusals_are_reported_in_the_summary(
    fake: FakeWeCom, base_url: str, tmp_path: Path, run_main: Callable[..., Ran]
) -> None:
    fake.inject(BATCH, errcode=45009, times=3)
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    args = ("--rate-limit-delay", "0.05", "--summary-json", str(summary), "--concurrency", "1")
    done = run_main(*export_args(base_url, out, *args))

    assert done.returncode == ExitStatus.OK, done.stderr
    assert set(read_pairs(out)) == expected_pairs(fake)
    lines = [line for line in done.stderr.splitlines() if "45009" in line]
    assert len(lines) == 1
    assert "3 requests refused" in lines[0]
    report = json.loads(summary.read_text())
    assert report["rate_limited"]["refusals"] == 3
    assert 0.15 <= report["rate_limited"]["waited"] < 30


def test_an_interrupt_before_the_plan_does_not_advise_resume(tmp_path: Path) -> None:
    corp = new_fake(latency=1.0)  # the plan's requests take long enough to interrupt
    corp.seed(staff=2, customers_per_staff=2, seed=1)
    out, summary = tmp_path / "out.jsonl", tmp_path / "missing" / "folder" / "summary.json"
    with serve(corp) as url:
        proc = subprocess.Popen(
            cli_args(*export_args(url, out, "--summary-json", str(summary))),
            cwd=tmp_path,
            env=secret_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not corp.requests:  # the token request is on its way: signals are handled
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)

    assert proc.returncode == ExitStatus.INTERRUPTED
    assert "--resume" not in stderr
    assert "before the export started" in stderr
    assert "Traceback" not in stderr
    report = json.loads(summary.read_text())  # the folder was made, the failed run reported
    assert report["exit_status"] == ExitStatus.INTERRUPTED
    assert report["records"] == 0
    assert not out.exists()
    assert not part_of(out).exists()


def test_a_failed_run_writes_its_summary_too(
    fake: FakeWeCom, base_url: str, tmp_path: Path, run_main: Callable[..., Ran]
) -> None:
    fake.inject(BATCH, errcode=48002)
    summary = tmp_path / "summary.json"
    done = run_main(*export_args(base_url, tmp_path / "out.jsonl", "--summary-json", str(summary)))

    assert done.returncode == ExitStatus.PERMISSION
    report = json.loads(summary.read_text())
    assert report["exit_status"] == ExitStatus.PERMISSION
    assert "48002" in report["error"]
    assert report["requests"][f"/cgi-bin/{BATCH}"] >= 1
