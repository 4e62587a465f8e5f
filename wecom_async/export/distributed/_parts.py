"""The files of a distributed export: the plan, the part of each shard, commit records.

Everything of export ``E`` lives in ``<directory>/E/``, a local directory or an fsspec
URL (see ``wecom_async/export/_store.py``)::

    plan.json                   kind, request, corps and every shard (corp, unit spec)
    E-s00003-e<epoch>-<owner>.jsonl       the records of shard 3 written under that
                                          lease (<owner>: a digest of the worker's token)
    E-s00003-e<epoch>-<owner>.jsonl.part  the same while it is being written
    commits/s00003.json         the committed epoch's file, written after the ledger
                                accepted it (to rebuild a ledger Redis lost)
    manifest.json               written once every shard is committed or failed

A part is named by its lease's epoch and owner, and refused if it exists already, so
two workers that ran the same shard (one of them stale) never write the same file; the
ledger says which one counts. A file name read back (from the ledger or a commit
record) counts only if it is such a plain name of that very shard: nothing outside the
folder is ever read. Readers read only
the committed part of each shard. A part is put in place whole before its commit is
asked for, so a committed part is always whole: in a local directory it is written as
``.part`` (created exclusively), fsynced and renamed; on a URL (an object store: no
rename, no append, no exclusive create) it is spooled to a local temporary file and
uploaded whole with one ``put_file``, and every other file is written whole with one
``pipe_file``.

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..._jsontext import json_text, read_json
from ...models._base import JsonObject
from .._range import TimeRange
from .._store import Location, as_location, whole_file
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
            LedgerError: not a plan of this release (a damaged ``plan.json``).
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
            raise LedgerError("not a plan.json of this release") from None


def _plan_bytes(plan: Plan) -> bytes:
    return json_text(plan.to_json()).encode() + b"\n"


def _shard_plan(data: object) -> ShardPlan:
    if not isinstance(data, dict) or not isinstance(data.get("spec"), dict):
        raise TypeError
    return ShardPlan(str(data["corp"]), data["spec"], int(data["size"]))


class ExportFiles:
    """The folder of one distributed export; see the module docstring.

    Args:
        directory: the export's output directory (the folder ``E`` is made in): a path,
            or an fsspec URL (``scheme://...``, checked by
            ``parse_location`` of ``wecom_async/export/_store.py``).
        export_id: the export's id.

    Raises:
        ValidationError: ``directory`` is a URL that cannot be used.
    """

    def __init__(self, directory: Location | Path | str, export_id: str) -> None:
        self.export_id = export_id
        self.directory = as_location(directory)
        self.store = self.directory / export_id
        #: The folder: a :class:`~pathlib.Path`, or the URL.
        self.folder = self.store.native

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
        """Write ``plan.json`` whole, making the folder; never over another plan.

        In a local directory the plan is linked into place, so only one of two
        submitters at once succeeds; on a URL (no exclusive create) it is check-then-
        write, and the ledger's ``create`` (atomic in Redis) stays the authority on the
        export id: :func:`~wecom_async.export.distributed.submit_export` writes the plan
        before it and submits nothing when the ledger has the id; the submitter it
        accepts then calls :meth:`keep_plan`; one it refuses :meth:`drop_plan`, or, when
        the ledger's export of that id is in this folder, :meth:`keep_plan` with that
        export's plan (read from the ledger: a racing submitter may have written over it).

        Raises:
            FileExistsError: the folder holds a plan already (an export of this id).
        """
        (self.store / "commits").make_folder()
        (self.store / PLAN_FILE).create_bytes(_plan_bytes(plan))

    def keep_plan(self, plan: Plan) -> None:
        """Make sure ``plan.json`` is ``plan`` (the ledger accepted its id): on a URL a
        submitter that raced past the check may have written over it; write it again."""
        where = self.store / PLAN_FILE
        with contextlib.suppress(OSError):
            if where.read_bytes() == _plan_bytes(plan):
                return
        where.write_bytes(_plan_bytes(plan))

    def drop_plan(self, plan: Plan | None = None) -> None:
        """Remove ``plan.json`` (a submission the ledger refused); given ``plan``, only
        while it is that plan (never the plan of the submitter that won the id)."""
        where = self.store / PLAN_FILE
        if plan is not None:
            try:
                if where.read_bytes() != _plan_bytes(plan):
                    return
            except FileNotFoundError:
                return
        where.unlink()

    def load_plan(self) -> Plan:
        """Read ``plan.json``.

        Raises:
            OSError: it cannot be read (FileNotFoundError: there is none).
            LedgerError: it is not a plan of this release.
        """
        try:
            data = read_json((self.store / PLAN_FILE).read_bytes())
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise LedgerError(f"{self.store / PLAN_FILE} is not a plan.json of this release")
        return Plan.from_json(data)

    def open_part(self, shard: int, epoch: int, owner: str) -> PartFile:
        """Start writing the part of ``shard`` under the lease ``epoch`` of ``owner``.

        Raises:
            FileExistsError: that lease's part exists already (never for a lease the
                ledger granted once).
        """
        return PartFile(self.store / self.part_name(shard, epoch, owner))

    def record_commit(
        self, shard: int, file: str, items: int, failures: Sequence[JsonObject]
    ) -> None:
        """Write the commit record of ``shard`` (after the ledger accepted the commit)."""
        record = {"file": file, "items": items, "failures": list(failures)}
        self._commit_path(shard).write_bytes(json_text(record).encode() + b"\n")

    def _commit_path(self, shard: int) -> Location:
        return self.store / "commits" / f"s{shard:05d}.json"

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
        return (self.store / name).is_file()

    def _read_commit(self, shard: int) -> JsonObject | None:
        try:
            data = read_json(self._commit_path(shard).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        ok = isinstance(data.get("file"), str) and isinstance(data.get("items"), int)
        return data if ok else None

    def committed_parts(self, status: ExportStatus, corp: str | None = None) -> list[Location]:
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
            parts.append(self.store / shard.file)
        return parts

    def assemble(
        self, status: ExportStatus, output: Location | Path | str, corp: str | None = None
    ) -> int:
        """Concatenate the committed parts into ``output`` (a path or a URL), put in place
        whole once complete; return its lines.

        Raises:
            OSError: a committed part is missing, or ``output`` cannot be written.
            LedgerError: the ledger names a file that is not a part of its shard.
            ValidationError: ``output`` is a URL that cannot be used.
        """
        lines = 0
        parts = self.committed_parts(status, corp)
        with whole_file(as_location(output)) as out:
            for location in parts:
                with location.open_read() as part:
                    for chunk in iter(lambda: part.read(1 << 20), b""):
                        lines += chunk.count(b"\n")
                        out.write(chunk)
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
        (self.store / MANIFEST_FILE).write_bytes(json_text(document).encode() + b"\n")


class PartFile:
    """The part a lease writes, put in place whole by :meth:`finish`.

    In a local directory it is ``<name>.part`` beside its committed name, created
    exclusively and renamed; on a URL it is a local temporary file uploaded whole.

    Args:
        path: the committed name (a path, or a location of the export's store).

    Raises:
        FileExistsError: a part of that name is there already (or, locally, is being
            written).
    """

    def __init__(self, path: Location | Path) -> None:
        self.path = as_location(path)
        # Locally exclusive: a second writer of one name fails here rather than
        # interleave. A part in place already is never replaced (checked again before
        # an upload, where nothing is exclusive).
        self._spool = self.path.spool(exclusive=True)
        self.tmp = self._spool.path
        self._fd: int | None = self._spool.fd
        self._placed = False  # the committed name may hold what this part put there
        try:
            there = self.path.is_file()
        except BaseException:  # the store cannot be asked: no spool left behind
            self.discard_tmp()
            raise
        if there:
            self.discard_tmp()
            raise FileExistsError(errno.EEXIST, "the part exists already", str(self.path))

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
        """Make the part durable and put it in place under its committed name.

        Raises:
            FileExistsError: a part of that name appeared meanwhile (never replaced).
            OSError: it could not be put in place (kept as written: :meth:`discard`).
        """
        fd = self._require()
        os.fsync(fd)
        self.close()
        if self.path.is_file():  # where nothing is exclusive (a URL), the only guard
            raise FileExistsError(errno.EEXIST, "the part exists already", str(self.path))
        self._placed = True
        self.path.publish(self._spool)

    def discard(self) -> None:
        """Remove the part under either name (the ledger refused it); the committed name
        only if this part was put there (never another writer's file).

        Raises:
            OSError: the committed name could not be removed (an orphan: never read,
                since the ledger never names it).
        """
        self.discard_tmp()
        if self._placed:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def discard_tmp(self) -> None:
        """Close and remove the part being written (the committed name is left alone)."""
        self.close()
        self.path.drop_spool(self._spool)

    def close(self) -> None:
        """Close the file (kept on disk)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _require(self) -> int:
        if self._fd is None:
            raise RuntimeError("the part is closed")
        return self._fd
