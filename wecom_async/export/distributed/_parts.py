"""The files of a distributed export: the plan, the part of each shard, commit records.

Everything of export ``E`` lives in ``<directory>/E/``::

    plan.json                   kind, request, corps and every shard (corp, unit spec)
    E-s00003-e<epoch>-<owner>.jsonl       the records of shard 3 written under that
                                          lease (<owner>: a digest of the worker's token)
    E-s00003-e<epoch>-<owner>.jsonl.part  the same while it is being written
    commits/s00003.json         the committed epoch's file, written after the ledger
                                accepted it (to rebuild a ledger Redis lost)
    manifest.json               written once every shard is committed or failed

A part is named by its lease's epoch and owner, and created exclusively, so two
workers that ran the same shard (one of them stale) never write the same file; the
ledger says which one counts. A file name read back (from the ledger or a commit
record) counts only if it is such a plain name of that very shard: nothing outside the
folder is ever read. Readers read only
the committed part of each shard. A part is fsynced and renamed into place before its
commit is asked for, so a committed part is always whole.

A commit record is written only after the ledger accepted the commit; a worker killed
between the two leaves a shard that a rebuilt ledger runs again (its parts are then
orphans, never read), never one counted twice.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..._jsontext import json_text
from ...models._base import JsonObject
from .._checkpoint import write_atomic
from .._output import fsync_directory
from .._range import TimeRange
from ._ledger import ExportStatus, LedgerError, ShardPlan

__all__ = [
    "PLAN_FILE",
    "ExportFiles",
    "PartFile",
    "Plan",
]

logger: Final = logging.getLogger("wecom_async.export")

PLAN_FILE: Final = "plan.json"
MANIFEST_FILE: Final = "manifest.json"
PLAN_VERSION: Final = 1
_TAG: Final = 16
#: What follows ``<export>-s<k>-e`` in a part's name: the epoch and the owner's digest.
_LEASE: Final = re.compile(rf"[1-9][0-9]{{0,18}}-[0-9a-f]{{{_TAG}}}\.jsonl")


@dataclass(frozen=True)
class Plan:
    """What ``plan.json`` holds: the export as submitted."""

    export_id: str
    kind: str
    request: JsonObject
    corps: list[str]
    shards: list[ShardPlan]

    def to_json(self) -> JsonObject:
        """The document written to ``plan.json``."""
        return {
            "version": PLAN_VERSION,
            "export_id": self.export_id,
            "kind": self.kind,
            "request": self.request,
            "corps": list(self.corps),
            "shards": [{"corp": s.corp, "spec": s.spec, "size": s.size} for s in self.shards],
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> Plan:
        """Read ``plan.json`` back.

        Raises:
            ValueError: not a plan of this release.
        """
        try:
            shards = data["shards"]
            corps = data["corps"]
            request = data["request"]
            if data.get("version") != PLAN_VERSION or not isinstance(shards, list):
                raise TypeError
            if not isinstance(corps, list) or not isinstance(request, dict):
                raise TypeError
            return cls(
                export_id=str(data["export_id"]),
                kind=str(data["kind"]),
                request=request,
                corps=[str(c) for c in corps],
                shards=[_shard_plan(s) for s in shards],
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError("not a plan.json of this release") from None


def _shard_plan(data: object) -> ShardPlan:
    if not isinstance(data, dict) or not isinstance(data.get("spec"), dict):
        raise TypeError
    return ShardPlan(str(data["corp"]), data["spec"], int(data["size"]))


class ExportFiles:
    """The folder of one distributed export; see the module docstring.

    Args:
        directory: the export's output directory (the folder ``E`` is made in).
        export_id: the export's id.
    """

    def __init__(self, directory: Path, export_id: str) -> None:
        self.export_id = export_id
        self.folder = directory / export_id

    def __repr__(self) -> str:
        return f"ExportFiles({str(self.folder)!r})"

    def part_name(self, shard: int, epoch: int, owner: str) -> str:
        """The committed file name of ``shard`` written under the lease ``epoch`` of ``owner``."""
        tag = hashlib.sha256(owner.encode()).hexdigest()[:_TAG]
        return f"{self.export_id}-s{shard:05d}-e{epoch}-{tag}.jsonl"

    def is_part_name(self, shard: int, name: str) -> bool:
        """``name`` is a plain file name :meth:`part_name` gives ``shard`` (any lease)."""
        prefix = f"{self.export_id}-s{shard:05d}-e"
        return name.startswith(prefix) and _LEASE.fullmatch(name[len(prefix) :]) is not None

    def save_plan(self, plan: Plan) -> None:
        """Write ``plan.json`` (atomically), making the folder; never over another plan.

        Raises:
            FileExistsError: the folder holds a plan already (an export of this id).
        """
        (self.folder / "commits").mkdir(parents=True, exist_ok=True)
        path = self.folder / PLAN_FILE
        tmp = path.with_name(f"{PLAN_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        write_atomic(tmp, json_text(plan.to_json()).encode() + b"\n")
        try:
            os.link(tmp, path)  # whole, and only where there is no plan yet
        finally:
            tmp.unlink()
        fsync_directory(self.folder)

    def drop_plan(self) -> None:
        """Remove ``plan.json`` (a submission the ledger refused)."""
        (self.folder / PLAN_FILE).unlink(missing_ok=True)

    def load_plan(self) -> Plan:
        """Read ``plan.json``.

        Raises:
            OSError: it cannot be read.
            ValueError: it is not a plan of this release.
        """
        data = json.loads((self.folder / PLAN_FILE).read_bytes())
        if not isinstance(data, dict):
            raise ValueError("not a plan.json of this release")
        return Plan.from_json(data)

    def open_part(self, shard: int, epoch: int, owner: str) -> PartFile:
        """Start writing the part of ``shard`` under the lease ``epoch`` of ``owner``.

        Raises:
            FileExistsError: that lease's part exists already (never for a lease the
                ledger granted once).
        """
        return PartFile(self.folder / self.part_name(shard, epoch, owner))

    def record_commit(
        self, shard: int, file: str, items: int, failures: Sequence[JsonObject]
    ) -> None:
        """Write the commit record of ``shard`` (after the ledger accepted the commit)."""
        record = {"file": file, "items": items, "failures": list(failures)}
        write_atomic(self._commit_path(shard), json_text(record).encode() + b"\n")

    def _commit_path(self, shard: int) -> Path:
        return self.folder / "commits" / f"s{shard:05d}.json"

    def committed_on_disk(self, plan: Plan) -> list[ShardPlan]:
        """The plan's shards, each marked committed where a commit record says so and
        its part is there (a ledger rebuilt from the folder starts from these)."""
        shards = []
        for k, shard in enumerate(plan.shards):
            record = self._read_commit(k)
            if record is not None and self._has_part(k, str(record["file"])):
                failures = json.dumps(record.get("failures", []))
                items = int(str(record["items"]))
                shard = ShardPlan(
                    shard.corp, shard.spec, shard.size, str(record["file"]), items, failures
                )
            shards.append(shard)
        return shards

    def _has_part(self, shard: int, name: str) -> bool:
        """``name`` is a part of ``shard`` in the folder (a record naming anything else,
        a path outside the folder above all, is not believed: the shard runs again)."""
        if not self.is_part_name(shard, name):
            logger.warning("%s: the commit record of shard %d names %r: ignored", self, shard, name)
            return False
        return (self.folder / name).is_file()

    def _read_commit(self, shard: int) -> JsonObject | None:
        try:
            data = json.loads(self._commit_path(shard).read_bytes())
        except (OSError, ValueError):
            return None
        ok = isinstance(data, dict) and isinstance(data.get("file"), str)
        return data if ok and isinstance(data.get("items"), int) else None

    def committed_parts(self, status: ExportStatus, corp: str | None = None) -> list[Path]:
        """The committed part of every committed shard (of ``corp``), in shard order.

        Raises:
            LedgerError: the ledger names a file that is not a part of that shard (a
                path outside the folder above all).
        """
        parts = []
        for shard in status.shards:
            if shard.state != "committed" or corp not in (None, shard.corp):
                continue
            if shard.file is None or not self.is_part_name(shard.shard, shard.file):
                raise LedgerError(
                    f"the ledger of export {self.export_id} names {shard.file!r} as the part "
                    f"of shard {shard.shard}: not a part of that shard"
                )
            parts.append(self.folder / shard.file)
        return parts

    def assemble(self, status: ExportStatus, output: Path, corp: str | None = None) -> int:
        """Concatenate the committed parts into ``output`` (atomically); return its lines.

        Raises:
            OSError: a committed part is missing, or ``output`` cannot be written.
            LedgerError: the ledger names a file that is not a part of its shard.
        """
        tmp = output.with_name(output.name + ".part")
        lines = 0
        try:
            with open(tmp, "wb") as out:
                for path in self.committed_parts(status, corp):
                    with open(path, "rb") as part:
                        for chunk in iter(lambda: part.read(1 << 20), b""):
                            lines += chunk.count(b"\n")
                            out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, output)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        fsync_directory(output.parent)
        return lines

    def save_manifest(self, status: ExportStatus, span: TimeRange | None = None) -> None:
        """Write ``manifest.json``: the kind, corps, the range covered (``span``, both
        ends included; None: a kind without a range) and each shard's committed part."""
        document = {
            "export_id": status.export_id,
            "kind": status.kind,
            "request": status.request,
            "corps": status.corps,
            "since": span.since if span else None,
            "until": span.until if span else None,
            "items": status.items,
            "committed": status.committed,
            "failed": status.failed,
            "shards": [
                {
                    "shard": s.shard,
                    "corp": s.corp,
                    "state": s.state,
                    "file": s.file,
                    "items": s.items,
                    "failures": s.failures,
                    "error": s.error,
                }
                for s in status.shards
            ],
        }
        write_atomic(self.folder / MANIFEST_FILE, json_text(document).encode() + b"\n")


class PartFile:
    """The part a lease writes: ``<name>.part`` until :meth:`finish` renames it.

    Args:
        path: the committed name (the ``.part`` is beside it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + ".part")
        # Exclusive: a second writer of one name fails here rather than interleave, and
        # a part in place already is never replaced.
        self._fd: int | None = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        if path.exists():
            self.discard_tmp()
            raise FileExistsError(errno.EEXIST, "the part exists already", str(path))

    def __repr__(self) -> str:
        return f"PartFile({str(self.path)!r})"

    def write(self, data: bytes) -> None:
        """Append ``data`` (whole records)."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._require(), view) :]

    def truncate(self, size: int) -> None:
        """Drop what was written after ``size`` bytes (a unit starts over)."""
        os.ftruncate(self._require(), size)
        os.lseek(self._require(), size, os.SEEK_SET)

    def finish(self) -> None:
        """Make the part durable and give it its committed name."""
        fd = self._require()
        os.fsync(fd)
        self.close()
        os.replace(self.tmp, self.path)
        fsync_directory(self.path.parent)

    def discard(self) -> None:
        """Remove the part under either name (the ledger refused it)."""
        self.discard_tmp()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def discard_tmp(self) -> None:
        """Close and remove the part being written (the committed name is left alone)."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()

    def close(self) -> None:
        """Close the file (kept on disk)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _require(self) -> int:
        if self._fd is None:
            raise RuntimeError("the part is closed")
        return self._fd
