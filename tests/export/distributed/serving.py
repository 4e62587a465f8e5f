"""Serving exports for the distributed tests: in-process until an export is finished,
or by ``wecom-async worker`` processes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import anyio
from redis.asyncio import Redis

from tests.export.helpers import cli_args
from wecom_async.export.distributed import ExportStatus, Ledger, ShardWorker


async def until_retired(
    redis: Redis, worker: ShardWorker, export_id: str, *, patience: float = 30.0
) -> ExportStatus:
    """Run ``worker`` until ``export_id`` is finished (out of the active set); its status.

    A worker that dies fails the test with its error; one that never finishes the export
    fails it after ``patience`` seconds.
    """
    ledger = Ledger(redis)
    async with worker.running():
        with anyio.fail_after(patience):
            while True:
                if export_id not in await ledger.active():
                    break
                await anyio.sleep(0.02)
    status = await ledger.status(export_id)
    assert status is not None
    return status


@contextmanager
def cli_workers(
    common: Sequence[str], cwd: Path, env: dict[str, str], count: int = 2
) -> Iterator[list[str]]:
    """``count`` ``wecom-async worker`` processes with the options ``common`` (a 2 s
    lease, polling every 0.2 s); killed on exit, when the yielded list receives each
    one's output (to search for secrets)."""
    workers = [
        subprocess.Popen(
            cli_args("worker", *common, "--lease", "2", "--poll", "0.2"),
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(count)
    ]
    logs: list[str] = []
    try:
        yield logs
    finally:
        for proc in workers:
            proc.kill()
        logs += [proc.communicate(timeout=10)[0] for proc in workers]
