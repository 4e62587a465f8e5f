"""Throughput and memory of ``wecom-async export customers`` against a loopback fake WeCom.

For each corp size, the fake is served by ``wecom-async fake-server`` (uvicorn, a separate
process, with a per-request latency), and the export runs as the real console command in
another process, so the exporter's peak RSS is measured alone (``os.wait4``)::

    python benchmarks/export_throughput.py                       # 10,000 and 100,000
    python benchmarks/export_throughput.py --customers 100000 --latency 0.05 --repeat 3

The ideal time of an export is the larger of two bounds:

* rate: the busiest API's requests / the allowed rate (``--rate-limit`` per minute);
* latency: all requests x latency / concurrency (requests in flight).

The report gives the wall time of the whole command (interpreter start, token, plan and
the final checkpoint included), the engine's own time, their ratios to the ideal, and the
peak RSS. Nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORP_ID, SECRET = "wwfake", "fake-secret"


@dataclass(frozen=True)
class Run:
    """One measured export."""

    customers: int
    records: int
    requests: dict[str, int]
    wall: float
    engine: float
    peak_rss_mb: float
    ideal: float
    bound: str


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["WECOM_SECRET"] = SECRET
    return env


def _start_server(customers: int, latency: float) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "wecom_async", "fake-server", "--port", "0",
        "--customers", str(customers), "--latency", str(latency),
    ]  # fmt: skip
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env()
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if not url.startswith("http://"):
        server.kill()
        raise RuntimeError("the fake server did not start")
    return server, url


def _export(url: str, workdir: Path, args: argparse.Namespace) -> tuple[float, float, dict]:
    """Run the command; return (wall seconds, peak RSS in MB, its JSON summary)."""
    summary = workdir / "summary.json"
    command = [
        sys.executable, "-m", "wecom_async", "export", "customers", "--base-url", url,
        "--corp-id", CORP_ID, "-o", str(workdir / "customers.jsonl"), "--quiet",
        "--summary-json", str(summary), "--concurrency", str(args.concurrency),
        "--rate-limit", str(args.rate_limit),
    ]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(command, env=_env(), stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        assert child.stderr is not None
        raise RuntimeError(f"export failed ({child.returncode}): {child.stderr.read()!r}")
    peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return wall, peak_mb, json.loads(summary.read_text())


def measure(customers: int, args: argparse.Namespace) -> Run:
    """Serve a corp of ``customers``, export it, and return the figures."""
    server, url = _start_server(customers, args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wall, peak_mb, summary = _export(url, Path(tmp), args)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    requests: dict[str, int] = summary["requests"]
    rate_bound = max(requests.values()) / (args.rate_limit / 60)
    latency_bound = sum(requests.values()) * args.latency / args.concurrency
    return Run(
        customers=customers,
        records=summary["records"],
        requests=requests,
        wall=wall,
        engine=summary["elapsed"],
        peak_rss_mb=peak_mb,
        ideal=max(rate_bound, latency_bound),
        bound="rate" if rate_bound >= latency_bound else "latency",
    )


def main() -> None:
    """Measure and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate-limit", type=int, default=9_000, help="per API per minute")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (best kept)")
    args = parser.parse_args()
    print(
        f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, "
        f"rate limit {args.rate_limit:,}/min, Python {sys.version.split()[0]}\n"
    )
    columns = ["customers", "records", "requests", "ideal (bound)", "wall", "wall/ideal"]
    columns += ["engine", "engine/ideal", "peak RSS"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))
    runs: list[Run] = []
    for customers in args.customers:
        run = min((measure(customers, args) for _ in range(args.repeat)), key=lambda r: r.wall)
        runs.append(run)
        print(
            f"| {run.customers:,} | {run.records:,} | {sum(run.requests.values()):,} "
            f"| {run.ideal:.2f} s ({run.bound}) | {run.wall:.2f} s | {run.wall / run.ideal:.3f} "
            f"| {run.engine:.2f} s | {run.engine / run.ideal:.3f} | {run.peak_rss_mb:.1f} MB |",
            flush=True,
        )
    if len(runs) > 1:
        growth = runs[-1].peak_rss_mb - runs[0].peak_rss_mb
        first, last = runs[0].customers, runs[-1].customers
        print(f"\npeak RSS growth from {first:,} to {last:,} customers: {growth:+.1f} MB")


if __name__ == "__main__":
    main()
