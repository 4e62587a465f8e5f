"""Each corp's ``--since last`` manifest in a distributed export's directory.

``DIR/<corp>.<kind>.manifest.json`` holds the range of that corp exported into ``DIR``
so far (and the records exported over it); the next ``--since last`` starts one second
after its ``until``. A finished export changes it only forward and only without a gap:

* no manifest yet: the export's range is written;
* the export's range joins or overlaps it (``since <= until + 1``) and ends later: it
  becomes ``(min of the two since, the export's until)``, the records added;
* the export's range starts after ``until + 1``: the manifest stays, and one warning
  names the corp, the kind and the gap (the next ``--since last`` exports the gap; an
  export of the gap alone joins it again);
* the export's range ends at or before ``until`` (an old export finishing late, or one of
  an earlier range): the manifest stays; it never goes back.

So two exports to one ``DIR`` may overlap and finish in any order: records may repeat
across their files, the manifest never skips a second and never goes back. Each update
is one read-merge-write under a short Redis lock of the directory, corp and kind
(:mod:`._lock`), so two finishers never both read the old manifest: the lock is renewed
while its holder reads and writes (a slow store keeps it), and confirmed right before the
write; a finisher that finds it lost (it was stalled past the lease, another may have
written since) writes nothing, and its export is finished again at the next sweep. A manifest that
cannot be read or written is logged and left as it is; the other corps go on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Final

import anyio

from ..._exceptions import WeComError
from ..._logging import redact
from .._manifest import Manifest, completed, corp_output, manifest_location
from .._range import TimeRange, shown
from .._store import Location
from ._ledger import Ledger
from ._lock import LockBusy, LockLost, lock_key, short_lock

__all__ = ["LOCK_LEASE", "LOCK_WAIT", "advanced", "save_corp_manifests"]

logger: Final = logging.getLogger("wecom_async.export")

#: How long a finisher waits for another's update of the same manifest, in seconds
#: (then the export stays unfinished and the next sweep tries again).
LOCK_WAIT: Final = 10.0
#: How long the lock holds if its holder never gives it back (killed mid-update).
LOCK_LEASE: Final = 60.0


def advanced(old: Manifest | None, new: Manifest) -> Manifest | None:
    """What the manifest ``old`` becomes after an export that covered ``new``; None:
    it stays as it is (see the module docstring)."""
    if old is None or old.covered is None:
        return new
    if new.covered is None or new.covered.until <= old.covered.until:
        return None
    if gap(old, new) is not None:
        return None
    span = TimeRange(min(old.covered.since, new.covered.since), new.covered.until)
    return replace(new, covered=span, records=old.records + new.records)


async def save_corp_manifests(
    ledger: Ledger,
    directory: Location,
    export_id: str,
    kind: str,
    covered: Mapping[str, tuple[TimeRange, int]],
    *,
    wait: float = LOCK_WAIT,
) -> None:
    """Advance the manifest of each corp of ``covered`` (its range, its records).

    Each corp on its own: one that cannot be read or written is logged and keeps its
    manifest; the others are written all the same.

    Raises:
        LockBusy: another finisher held a corp's lock for ``wait`` seconds, or this one
            lost it before writing (the others were written; an update done already is
            not done twice: try again).
        RedisError: Redis cannot be reached.
    """
    busy: list[str] = []
    for corp, (span, records) in covered.items():
        output = corp_output(directory, corp, kind)
        try:
            key = lock_key(ledger.prefix, f"manifest\n{directory.shared()}\n{corp}\n{kind}")
            async with short_lock(ledger.redis, key, wait=wait, lease=LOCK_LEASE) as held:
                new = completed(kind, corp, span, records)
                merged = await anyio.to_thread.run_sync(_merged, output, new)
                if merged is not None:
                    await held.confirm()  # never written once another may hold it
                    await anyio.to_thread.run_sync(merged.save, output)
        except LockLost as error:
            logger.warning(
                "export %s: the --since last manifest of corp %s (%s) is not written: %s; "
                "the export is finished again later",
                export_id,
                corp,
                kind,
                error,
            )
            busy.append(corp)
        except LockBusy:
            busy.append(corp)
        except (OSError, ValueError, WeComError) as error:
            logger.error(
                "export %s: the --since last manifest of corp %s (%s) cannot be updated, "
                "it keeps its previous one: %s",
                export_id,
                corp,
                kind,
                redact(f"{type(error).__name__}: {error}"),
            )
    if busy:
        raise LockBusy(f"the --since last manifests of {busy} are being updated by another")


def _merged(output: Location | Path, new: Manifest) -> Manifest | None:
    """Read the corp's manifest and merge ``new`` in (under the lock): what to write, or
    None when it stays as it is.

    Raises:
        ManifestError: the manifest there is damaged, or another corp's or kind's.
        OSError: it cannot be read.
    """
    old = Manifest.load(output) if manifest_location(output).is_file() else None
    if old is not None:
        old.next_since(new.kind, new.corp_id)  # this corp's and kind's, with a range
    merged = advanced(old, new)
    if merged is None and (missed := gap(old, new)) is not None:
        logger.warning(
            "corp %s (%s): the export's range starts after %s .. %s, which no export to "
            "this directory covered; --since last stays before it (the next run exports it)",
            new.corp_id,
            new.kind,
            shown(missed.since),
            shown(missed.until),
        )
    return merged


def gap(old: Manifest | None, new: Manifest) -> TimeRange | None:
    """The seconds between ``old``'s range and the later ``new`` one (None: no gap)."""
    if old is None or old.covered is None or new.covered is None:
        return None
    if new.covered.since <= old.covered.until + 1:
        return None
    return TimeRange(old.covered.until + 1, new.covered.since - 1)
