"""A distributed export on real processes: three fake corps served on loopback, a real
redis-server, worker processes (``worker_main.py``), the submitter in the test."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import anyio
import httpx
from redis.asyncio import Redis

from tests.export.helpers import REPO, SECRET, cli_env, read_lines, serve
from wecom_async import MemoryRateBudget, MemoryTokenStore, RetryPolicy, WeComClient
from wecom_async.export import CustomersJob, EngineOptions, run_export
from wecom_async.export.distributed import (
    ClientFactory,
    Corp,
    ExportFiles,
    ExportStatus,
    Ledger,
    shard_broker,
    submit_export,
    wait_export,
)
from wecom_async.testing import FakeWeCom

#: Corp labels and seeds: three corps of different sizes.
CORPS: Final = (("north", 11), ("south", 12), ("east", 13))
#: Seconds the whole distributed export may take in a test; far above a healthy run.
EXPORT_TIMEOUT: Final = 30.0


@dataclass
class Cluster:
    """The corps (fake, loopback URL), the Redis URL and the workers started."""

    redis_url: str
    folder: Path
    fakes: dict[str, FakeWeCom]
    urls: dict[str, str]
    workers: list[subprocess.Popen[str]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start_worker(
        self, *, lease: float = 1.0, poll: float = 0.2, action: str = ""
    ) -> subprocess.Popen[str]:
        specs = [f"{label},{fake.corp_id},{self.urls[label]}" for label, fake in self.fakes.items()]
        log = self.folder / f"worker-{len(self.workers)}.log"
        env = cli_env(WECOM_SECRET=SECRET, STEP_ACTION=action)
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.export.distributed.worker_main",
                    self.redis_url,
                    str(lease),
                    str(poll),
                    *specs,
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        self.workers.append(proc)
        self.logs.append(log)
        return proc

    def logged(self) -> str:
        return "\n".join(log.read_text() for log in self.logs if log.exists())

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
            proc.wait(timeout=10)

    def corps(self) -> list[Corp]:
        return [(label, _factory(fake)) for label, fake in self.fakes.items()]


def _factory(fake: FakeWeCom) -> ClientFactory:
    """A planning client on the fake's in-process transport."""

    def build(*, token_store: object, rate_budget: object) -> WeComClient:
        return WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=httpx.AsyncClient(transport=fake.transport()),
            base_url=fake.base_url,
            retry=RetryPolicy.no_delay(),
        )

    return build  # type: ignore[return-value]


def new_fakes() -> dict[str, FakeWeCom]:
    fakes = {}
    for label, seed in CORPS:
        fake = FakeWeCom(f"ww{label}", SECRET)
        fake.seed(staff=5, customers_per_staff=6 + seed % 5, seed=seed)
        fakes[label] = fake
    return fakes


@contextlib.contextmanager
def cluster(redis_url: str, folder: Path) -> Iterator[Cluster]:
    fakes = new_fakes()
    with contextlib.ExitStack() as stack:
        urls = {label: stack.enter_context(serve(fake)) for label, fake in fakes.items()}
        running = Cluster(redis_url, folder, fakes, urls)
        try:
            yield running
        finally:
            running.stop()


def single_process_lines(fake: FakeWeCom, out: Path) -> list[str]:
    """What the one-process export of ``fake`` writes."""

    async def run() -> None:
        async with (
            httpx.AsyncClient(transport=fake.transport()) as http,
            WeComClient(
                fake.corp_id,
                fake.secret,
                http_client=http,
                base_url=fake.base_url,
                retry=RetryPolicy.no_delay(),
            ) as client,
        ):
            await run_export(
                CustomersJob(chunk_size=1),
                client,
                out,
                options=EngineOptions(concurrency=2, checkpoint_interval=0),
            )

    anyio.run(run)
    return read_lines(out)


async def submit(running: Cluster, *, chunk_size: int = 1) -> str:
    async with Redis.from_url(running.redis_url) as redis:
        broker = shard_broker(running.redis_url)
        await broker.startup()
        try:
            return await submit_export(
                Ledger(redis),
                broker,
                "customers",
                running.corps(),
                running.folder / "out",
                chunk_size=chunk_size,
                token_store=MemoryTokenStore(),
                rate_budget=MemoryRateBudget(),
            )
        finally:
            await broker.shutdown()


async def wait(running: Cluster, export_id: str) -> ExportStatus:
    async with Redis.from_url(
        running.redis_url, socket_timeout=2, socket_connect_timeout=2
    ) as redis:
        broker = shard_broker(running.redis_url)
        await broker.startup()
        try:
            with anyio.fail_after(EXPORT_TIMEOUT):
                return await wait_export(
                    Ledger(redis), broker, running.folder / "out", export_id, poll=0.1
                )
        finally:
            await broker.shutdown()


def assembled(running: Cluster, export_id: str, status: ExportStatus) -> dict[str, list[str]]:
    """The committed lines of each corp (``export assemble --corp``)."""
    files = ExportFiles(running.folder / "out", export_id)
    lines = {}
    for label in running.fakes:
        out = running.folder / f"{label}.jsonl"
        count = files.assemble(status, out, label)
        lines[label] = read_lines(out)
        assert count == len(lines[label])
    return lines


def assert_equal_to_single_process(running: Cluster, export_id: str, status: ExportStatus) -> None:
    got = assembled(running, export_id, status)
    for label, fake in running.fakes.items():
        expected = single_process_lines(fake, running.folder / f"{label}-single.jsonl")
        assert expected, "the corp has customers to export"
        assert Counter(got[label]).most_common(1)[0][1] == 1, f"{label}: a line repeats"
        assert sorted(got[label]) == sorted(expected), label


def wait_until(predicate: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
