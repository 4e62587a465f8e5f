"""Serving an export in-process until it is finished, for the distributed tests."""

from __future__ import annotations

import anyio
from redis.asyncio import Redis

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
