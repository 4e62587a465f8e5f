"""Finishing a distributed export: the manifests, then out of the active set.

Whoever sees the export complete first finishes it: the worker whose commit was the
last one, any worker's sweep that finds nothing left to claim, or ``wait_export``. One
finisher at a time holds the export's short lock (:mod:`._lock`) and finishes it only
while it is still active, so its manifests are written once; a finisher that was killed
or cut off from Redis is replaced once its lock's lease (a minute) runs out. It writes::

    <directory>/<id>/manifest.json   every shard's part, items, failures, errors, and the
                                     range the export covered
    <directory>/<corp>.<kind>.manifest.json   (a URL: inside it, through the same storage)
                                     each corp's manifest of the kind (corp, covered
                                     range, records), where ``--since last`` of the next
                                     distributed export to <directory> reads that corp's
                                     start; advanced (see :mod:`._since_last`: never
                                     back, never past a gap) for every corp whose shards
                                     all committed, of a kind with a range

A corp's range is the one planned for it at submission (``corp_range`` in the plan's
request; a plan without it: its shards' windows), so a corp whose plan was empty (no
follow-user for behavior-stats) covered its range with 0 records. A corp with a shard
failed for good gets no new ``--since last`` manifest (its previous one stays): a range
it did not cover is never skipped by the next run. A corp's manifest that cannot be
written is logged and keeps its previous one: the other corps go on from theirs, and the
export is finished all the same (only ``<id>/manifest.json`` that cannot be written, or
a corp's manifest another finisher holds, leaves it for the next sweep).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from redis.exceptions import RedisError

from ...models._base import JsonObject
from .._range import TimeRange, covered
from ._ledger import ExportStatus, Ledger, LedgerError
from ._lock import LockBusy, lock_key, short_lock
from ._parts import ExportFiles
from ._since_last import LOCK_LEASE, LOCK_WAIT, save_corp_manifests

__all__ = ["finish_export", "finish_if_complete"]


def covered_range(status: ExportStatus, corp: str | None = None) -> TimeRange | None:
    """The range the export (its corp ``corp``) covers: planned at submission, or its
    windowed shards' (None: a kind without a range)."""
    if corp is None:
        spans = [span for each in status.corps if (span := covered_range(status, each))]
        if not spans:
            return None
        return TimeRange(min(s.since for s in spans), max(s.until for s in spans))
    planned = _planned(status.request, corp)
    return planned or covered(shard.spec for shard in status.shards if shard.corp == corp)


def _planned(request: JsonObject, corp: str) -> TimeRange | None:
    """``corp``'s range recorded at submission (None: a plan from before, or damaged)."""
    ranges = request.get("corp_range")
    bounds = ranges.get(corp) if isinstance(ranges, dict) else None
    if not isinstance(bounds, list) or len(bounds) != 2:
        return None
    since, until = (b if isinstance(b, int) and not isinstance(b, bool) else None for b in bounds)
    if since is None or until is None or not 0 <= since <= until:
        return None
    return TimeRange(since, until)


async def finish_export(ledger: Ledger, status: ExportStatus, *, wait: float = LOCK_WAIT) -> None:
    """Write the manifests of the complete export ``status`` and retire it, unless
    another finisher did (one finisher at a time: the export's short lock).

    Args:
        ledger: the shard ledger.
        status: the export, complete.
        wait: how long to wait for a corp's manifest another export's finisher is
            updating.

    Raises:
        OSError: ``<id>/manifest.json`` cannot be written (the export stays active:
            retried).
        LockBusy: (a ``LedgerError``) another finisher is finishing this export, or
            held a corp's manifest for ``wait`` seconds, or this finisher's lock was lost
            while it was stalled (the export stays active until it is finished).
        RedisError: Redis cannot be reached.
    """
    key = lock_key(ledger.prefix, f"finish\n{status.export_id}")
    async with short_lock(ledger.redis, key, wait=0, lease=LOCK_LEASE) as held:
        if not await ledger.is_active(status.export_id):
            return  # finished by another meanwhile: its manifests are written once
        files = ExportFiles(status.directory, status.export_id)
        await held.confirm()
        await anyio.to_thread.run_sync(files.save_manifest, status, covered_range(status))
        await save_corp_manifests(
            ledger, files.directory, status.export_id, status.kind, _done(status), wait=wait
        )
        await ledger.retire(status.export_id)


def _done(status: ExportStatus) -> dict[str, tuple[TimeRange, int]]:
    """The range and records of every corp whose shards all committed (of a ranged kind)."""
    done = {}
    for corp in status.corps:
        mine = [shard for shard in status.shards if shard.corp == corp]
        span = covered_range(status, corp)
        if span is not None and all(shard.state == "committed" for shard in mine):
            done[corp] = (span, sum(shard.items for shard in mine))
    return done


async def finish_if_complete(
    ledger: Ledger, export_id: str, warn: Callable[[str, Exception], None]
) -> bool:
    """Finish ``export_id`` if every shard is committed or failed; True when it was.

    Never raises for want of Redis, a damaged ledger, an unwritable ``<id>/manifest.json``
    or a corp's manifest another finisher is updating: the error goes to
    ``warn(export_id, error)``, and the next sweep tries again.
    """
    try:
        if not await ledger.complete(export_id):
            return False
        status = await ledger.status(export_id)
        if status is None or not status.complete:
            return False
        await finish_export(ledger, status)
    except LockBusy:
        return False  # another finisher is on it (or, if it dies, the next sweep)
    except (RedisError, OSError, LedgerError, ValueError) as error:
        warn(export_id, error)
        return False
    return True
