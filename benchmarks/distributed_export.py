"""A distributed export of three corps on 1, 2 and 4 ``wecom-async worker`` processes.

One process serves the fake WeCom on loopback with three corps of ``--customers``
customers each (100 per member, a tenth of them followed by two members) and
``--latency`` seconds per response; a throwaway redis-server holds the ledger, the
tokens and the rate budget. For each worker count, the workers (``worker --corps``) are
started and warm, then ``export customers --corps --workers-wait`` is timed from
submission to the manifest. Redis is flushed between runs (a fresh rate budget).

The ideal of a run is the larger of two bounds:

* the budget bound: each corp's ``batch/get_by_user`` pages at the budget's pace
  (``--rate-limit`` per minute per API per corp, a burst of 30 first), corps in parallel;
* the latency bound: every page waits ``--latency``, ``--shards`` pages in flight per
  worker (a shard pages sequentially): pages × latency / (workers × shards), and no
  less than the largest shard's pages × latency.

Pages are counted from the ledger (each shard's records, 100 per page). CPU is each
process's user + system time from ``/proc`` (Linux). Run::

    python benchmarks/distributed_export.py             # 3 corps x 30,000, 1/2/4 workers
    python benchmarks/distributed_export.py --small     # 3 corps x 3,000, 1/2 workers
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
from _drive import redis_server
from redis.asyncio import Redis

from wecom_async.export.distributed import ExportStatus, Ledger

REPO = Path(__file__).resolve().parent.parent
CORPS = ("wwbench1", "wwbench2", "wwbench3")
SECRETS = {corp: f"bench-secret-{corp}" for corp in CORPS}
PER_MEMBER = 100
PAGE = 100
BURST = 30


def _serve(customers: int, latency: float) -> None:
    """The child process: serve the three corps until SIGTERM; the URL on stdout."""
    from wecom_async.export._sandbox import serve_fake
    from wecom_async.testing import FakeClock, FakeWeCom

    first = CORPS[0]
    fake = FakeWeCom(
        first,
        SECRETS[first],
        clock=FakeClock(real_time=True),
        latency=latency,
        rate_limit_per_minute=None,  # the workers' budget paces; the fake only answers
        record_limit=0,
    )
    members = math.ceil(customers / PER_MEMBER)
    for seed, corp in enumerate(CORPS):
        target = fake.corp(first) if corp == first else fake.add_corp(corp)
        if corp != first:
            target.tokens.add_secret(SECRETS[corp])
        target.seed(staff=members, customers_per_staff=PER_MEMBER, seed=seed)
    serve_fake(fake, ready=lambda url: print(url, flush=True))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update({f"SECRET_{corp.upper()}": secret for corp, secret in SECRETS.items()})
    return env


def _corps_file(folder: Path) -> Path:
    path = folder / "corps.toml"
    path.write_text(
        "".join(
            f'[[corp]]\ncorp_id = "{corp}"\nsecret_env = "SECRET_{corp.upper()}"\n\n'
            for corp in CORPS
        )
    )
    return path


def _cpu(pid: int) -> float:
    """User + system seconds of a live process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    workers: int
    wall: float
    records: int
    pages: int
    budget_bound: float
    latency_bound: float
    worker_cpu: float
    fake_cpu: float

    @property
    def ideal(self) -> float:
        return max(self.budget_bound, self.latency_bound)


def _ledger(url: str, export_id: str) -> ExportStatus:
    async def read() -> ExportStatus:
        async with Redis.from_url(url) as client:
            status = await Ledger(client).status(export_id)
            if status is None or not status.complete or status.failed:
                raise SystemExit(f"the export {export_id} did not complete: {status}")
            return status

    return anyio.run(read)


def _flush(url: str) -> None:
    async def flush() -> None:
        async with Redis.from_url(url) as client:
            await client.flushdb()

    anyio.run(flush)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "wecom_async", *args]


def measure(workers: int, fake: tuple[str, int], url: str, args: argparse.Namespace) -> Run:
    base_url, fake_pid = fake
    _flush(url)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corps = _corps_file(folder)
        common = ["--corps", str(corps), "--redis-url", url, "--base-url", base_url]
        procs = [
            subprocess.Popen(
                _cli("worker", *common, "--shards", str(args.shards), "--poll", "0.2"),
                cwd=folder,
                env=_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        try:
            time.sleep(args.warmup)  # imports done, taskiq listening
            cpu_before = sum(_cpu(p.pid) for p in procs)
            fake_before = _cpu(fake_pid)
            wall = time.perf_counter()
            chunk = ["--chunk-size", str(args.chunk_size)]
            done = subprocess.run(
                _cli(
                    "export",
                    "customers",
                    *common,
                    *chunk,
                    "-o",
                    str(folder / "out"),
                    "--workers-wait",
                ),
                cwd=folder,
                env=_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - wall
            worker_cpu = sum(_cpu(p.pid) for p in procs) - cpu_before
            fake_cpu = _cpu(fake_pid) - fake_before
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait()
        if done.returncode != 0:
            raise SystemExit(f"the export failed ({done.returncode}): {done.stderr}")
    status = _ledger(url, done.stdout.strip())
    pages = [max(1, math.ceil(shard.items / PAGE)) for shard in status.shards]
    per_corp: dict[str, int] = {}
    for shard, count in zip(status.shards, pages, strict=True):
        per_corp[shard.corp] = per_corp.get(shard.corp, 0) + count
    pace = args.rate_limit / 60
    budget = max(max(0, n - BURST) / pace for n in per_corp.values())
    latency = max(sum(pages) / (workers * args.shards), max(pages)) * args.latency
    return Run(workers, wall, status.items, sum(pages), budget, latency, worker_cpu, fake_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=30_000, help="per corp")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--shards", type=int, default=2, help="per worker (worker --shards)")
    parser.add_argument("--chunk-size", type=int, default=10, help="follow-users per shard")
    parser.add_argument("--rate-limit", type=int, default=9000, help="the workers' default")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before submitting")
    parser.add_argument("--small", action="store_true", help="3,000 customers, 1 and 2 workers")
    args = parser.parse_args()
    if args.small:
        args.customers, args.workers = 3_000, [1, 2]
    fake_proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(args.customers), str(args.latency)],
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake_proc.stdout is not None
        base_url = fake_proc.stdout.readline().strip()
        if not base_url:
            raise SystemExit("the fake server did not start")
        with redis_server() as url:
            runs = [measure(n, (base_url, fake_proc.pid), url, args) for n in args.workers]
    finally:
        fake_proc.terminate()
        fake_proc.wait()
    print(
        f"3 corps x {args.customers:,} customers, latency {args.latency * 1000:g} ms, "
        f"{args.shards} shards per worker, chunk {args.chunk_size}, {os.cpu_count()} CPUs"
    )
    print(
        "| workers | wall s | records | pages | budget bound s | latency bound s | "
        "wall / ideal | speed-up vs 1 | worker CPU s | fake CPU s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(
            f"| {run.workers} | {run.wall:.1f} | {run.records:,} | {run.pages:,} | "
            f"{run.budget_bound:.1f} | {run.latency_bound:.1f} | {run.wall / run.ideal:.2f}x | "
            f"{runs[0].wall / run.wall:.2f}x | {run.worker_cpu:.1f} | {run.fake_cpu:.1f} |"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _serve(int(sys.argv[2]), float(sys.argv[3]))
    else:
        main()
