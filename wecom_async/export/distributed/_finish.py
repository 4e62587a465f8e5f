"""Finishing a distributed export: the manifests, then out of the active set.

Whoever sees the export complete first finishes it: the worker whose commit was the
last one, any worker's sweep that finds nothing left to claim (a finisher that was
killed or cut off from Redis is replaced within a poll), or ``wait_export``. Every
shard is committed or failed for good by then, so finishing twice writes the same
files again::

    <directory>/<id>/manifest.json   every shard's part, items, failures, errors, and the
                                     range the export covered
    <directory>/<corp>.<kind>.manifest.json   (a URL: inside it, through the same storage)
                                     each corp's manifest of the kind (corp, covered
                                     range, records), where ``--since last`` of the next
                                     distributed export to <directory> reads that corp's
                                     start; written for every corp whose shards all
                                     committed, of a kind with a range

A corp with a shard failed for good gets no new ``--since last`` manifest (its previous
one stays): a range it did not cover is never skipped by the next run. The other corps of
the export go on from theirs.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from redis.exceptions import RedisError

from .._manifest import completed, corp_output
from .._range import TimeRange, covered
from ._ledger import ExportStatus, Ledger, LedgerError
from ._parts import ExportFiles

__all__ = ["finish_export", "finish_if_complete"]


def covered_range(status: ExportStatus, corp: str | None = None) -> TimeRange | None:
    """The range the export's windowed shards (of ``corp``) cover (None: a kind without
    a range)."""
    return covered(shard.spec for shard in status.shards if corp in (None, shard.corp))


async def finish_export(ledger: Ledger, status: ExportStatus) -> None:
    """Write the manifests of the complete export ``status`` and retire it.

    Raises:
        OSError: a manifest cannot be written (the export stays active: retried).
    """
    files = ExportFiles(status.directory, status.export_id)
    await anyio.to_thread.run_sync(_write_manifests, files, status)
    await ledger.retire(status.export_id)


def _write_manifests(files: ExportFiles, status: ExportStatus) -> None:
    files.save_manifest(status, covered_range(status))
    for corp in status.corps:
        mine = [shard for shard in status.shards if shard.corp == corp]
        span = covered_range(status, corp)
        if span is None or any(shard.state != "committed" for shard in mine):
            continue
        records = sum(shard.items for shard in mine)
        completed(status.kind, corp, span, records).save(
            corp_output(files.directory, corp, status.kind)
        )


async def finish_if_complete(
    ledger: Ledger, export_id: str, warn: Callable[[str, Exception], None]
) -> bool:
    """Finish ``export_id`` if every shard is committed or failed; True when it was.

    Never raises for want of Redis, a damaged ledger or an unwritable manifest: the
    error goes to ``warn(export_id, error)``, and the next sweep tries again.
    """
    try:
        if not await ledger.complete(export_id):
            return False
        status = await ledger.status(export_id)
        if status is None or not status.complete:
            return False
        await finish_export(ledger, status)
    except (RedisError, OSError, LedgerError, ValueError) as error:
        warn(export_id, error)
        return False
    return True
