"""The checkpoint of an export: what is in the output file, and where each unit resumes.

An export is split into *units* (for customers: chunks of follow-user ids), each paged by
an opaque cursor. The checkpoint, a JSON file beside the output, records:

* the plan (every unit's spec), fixed when the export starts, so a resume pages through
  exactly the same requests even if the corp changed meanwhile;
* the finished units, and the cursor of each unfinished unit that has started;
* where in the output each unfinished unit's first page begins, and which units were
  restarted from their first page (a cursor WeCom no longer accepted): their records
  already in the output are skipped when they come again;
* ``output_bytes``, the length of the output at the moment the cursors were recorded,
  and ``output_sha256``, the SHA-256 of those bytes: a resume continues only a file
  whose first ``output_bytes`` bytes are exactly these (not a file swapped in since);
* ``overwrite``: whether the run may replace an existing output when it completes;
* partial failures seen so far, and counters for the summary.

It is only ever replaced whole (write a temporary file, fsync, ``os.replace``, fsync the
directory), after the output itself was flushed and fsynced, so the checkpoint on disk
always describes a prefix of the output. A resume checks that prefix's hash, truncates
the output to ``output_bytes`` and restarts each unit at its cursor: no item is lost or
repeated.

It holds the corp id but never the secret or an access token.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

from .._exceptions import WeComError
from .._jsontext import json_text, read_json
from ..models._base import JsonObject, JsonValue
from ._output import fsync_directory, write_failure

__all__ = [
    "CHECKPOINT_SUFFIX",
    "Checkpoint",
    "CheckpointError",
    "Failure",
    "lost",
    "merge_failures",
    "write_atomic",
]

T = TypeVar("T")

#: Format version written into every checkpoint; another version is refused. Version 2:
#: the output's JSON objects (JSON Lines records, CSV cells) have their keys sorted, where
#: version 1 kept WeCom's order; resuming across the change would mix both in one file.
CHECKPOINT_VERSION: Final = 2
#: The version of the releases that wrote keys in WeCom's order.
UNSORTED_KEYS_VERSION: Final = 1
#: The checkpoint of ``out.jsonl`` is ``out.jsonl.checkpoint``.
CHECKPOINT_SUFFIX: Final = ".checkpoint"


class CheckpointError(WeComError, ValueError):
    """Raised when a checkpoint cannot be read or does not match the export asked for,
    or a unit of its plan lost what it needs (its window, its userids)."""


def lost(key: str) -> CheckpointError:
    """The error for a unit spec without its ``key``: the plan it came from (a checkpoint,
    a ledger's shard) was damaged, and the unit cannot be fetched."""
    return CheckpointError(f"a unit spec lost its {key}")


@dataclass(frozen=True)
class Failure:
    """A partial failure: some ids could not be exported, and why (one line).

    Attributes:
        reason: a short stable key, e.g. ``"unlicensed"`` or ``"errcode 701008"``.
        ids: the member userids (or chat ids, config ids) concerned.
        detail: a one-line human explanation.
    """

    reason: str
    ids: tuple[str, ...]
    detail: str

    def to_json(self) -> JsonObject:
        """Return the JSON form stored in the checkpoint."""
        return {"reason": self.reason, "ids": list(self.ids), "detail": self.detail}

    @classmethod
    def from_json(cls, data: JsonValue) -> Failure:
        """Read the JSON form back (CheckpointError when malformed)."""
        if not isinstance(data, dict):
            raise CheckpointError("malformed failure record")
        reason, ids, detail = data.get("reason"), data.get("ids"), data.get("detail")
        if not isinstance(reason, str) or not isinstance(detail, str) or not isinstance(ids, list):
            raise CheckpointError("malformed failure record")
        return cls(reason, tuple(str(i) for i in ids), detail)


def merge_failures(failures: Iterable[Failure]) -> list[Failure]:
    """Merge failures of the same reason and detail into one, ids deduplicated in order."""
    merged: dict[tuple[str, str], dict[str, None]] = {}
    for failure in failures:
        merged.setdefault((failure.reason, failure.detail), {}).update(dict.fromkeys(failure.ids))
    return [Failure(reason, tuple(ids), detail) for (reason, detail), ids in merged.items()]


@dataclass
class Checkpoint:
    """The state of one export; see the module docstring."""

    kind: str
    format: str
    corp_id: str
    #: Each unit's spec (job-specific JSON), in plan order.
    units: list[JsonObject]
    #: Each unit's weight in the progress display (e.g. follow-users in a chunk).
    sizes: list[int]
    done: set[int] = field(default_factory=set)
    cursors: dict[int, str] = field(default_factory=dict)
    #: Output offset of the first page of each unfinished unit that has started.
    starts: dict[int, int] = field(default_factory=dict)
    #: Unfinished units restarted from their first page: their records in the output
    #: from ``starts`` on are skipped when WeCom sends them again.
    restarted: set[int] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    output_bytes: int = 0
    #: SHA-256 (hex) of the first ``output_bytes`` bytes; None in checkpoints of earlier
    #: releases, which cannot be resumed safely.
    output_sha256: str | None = None
    overwrite: bool = False
    #: How a table format is written (TableOptions.to_json); empty for JSON Lines.
    table: JsonObject = field(default_factory=dict)
    items: int = 0
    pages: int = 0
    #: The JSON text of ``units``, with the list and the count it was made from: units
    #: are only ever appended (a split adds its parts) and their specs never change, so
    #: a commit encodes the plan's ids (50,000 follow-users: half a megabyte) once, not
    #: ten times a second.
    _units_text: tuple[object, int, str] = field(
        default=(None, -1, ""), init=False, repr=False, compare=False
    )

    @staticmethod
    def path_for(output: Path) -> Path:
        """Return the checkpoint path beside ``output``."""
        return output.with_name(output.name + CHECKPOINT_SUFFIX)

    def pending(self) -> list[int]:
        """Return the indexes of the units still to do, in plan order."""
        return [i for i in range(len(self.units)) if i not in self.done]

    def done_size(self) -> int:
        """Return the total weight of the finished units."""
        return sum(self.sizes[i] for i in self.done)

    def to_bytes(self) -> bytes:
        """Return the JSON document written to disk."""
        document = {
            "version": CHECKPOINT_VERSION,
            "kind": self.kind,
            "format": self.format,
            "corp_id": self.corp_id,
            "output_bytes": self.output_bytes,
            "output_sha256": self.output_sha256,
            "overwrite": self.overwrite,
            "table": self.table,
            "items": self.items,
            "pages": self.pages,
            "done": sorted(self.done),
            "cursors": {str(k): v for k, v in sorted(self.cursors.items())},
            "starts": {str(k): v for k, v in sorted(self.starts.items())},
            "restarted": sorted(self.restarted),
            "failures": [f.to_json() for f in self.failures],
            "sizes": self.sizes,
        }
        # The same text as with "units" last in the document, its encoding reused.
        return (json_text(document)[:-1] + ',"units":' + self._units_json() + "}").encode()

    def _units_json(self) -> str:
        units, count, text = self._units_text
        if units is not self.units or count != len(self.units):
            text = json_text(self.units)
            self._units_text = (self.units, len(self.units), text)
        return text

    def save(self, path: Path) -> None:
        """Replace the checkpoint file at ``path`` atomically with this state.

        Raises:
            OutputWriteError: the file cannot be written (an ``OSError`` too).
        """
        write_atomic(path, self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """Read a checkpoint file.

        Raises:
            CheckpointError: the file is missing, unreadable or not a checkpoint of this
                version (one of the earlier version, whose output holds keys in another
                order, is refused with a message that says so).
        """
        try:
            data = read_json(path.read_bytes())
        except FileNotFoundError:
            raise CheckpointError(f"no checkpoint at {path}: nothing to resume") from None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"cannot read the checkpoint {path}: {exc}") from None
        version = data.get("version") if isinstance(data, dict) else None
        if version == UNSORTED_KEYS_VERSION:
            raise CheckpointError(
                f"{path} was written by an earlier release, which wrote each record's keys in "
                "the order WeCom sent them; this release writes them sorted, and one file must "
                "not mix both: start the export over (without --resume), or finish it with "
                "the release that started it"
            )
        if not isinstance(data, dict) or version != CHECKPOINT_VERSION:
            raise CheckpointError(f"{path} is not a version {CHECKPOINT_VERSION} checkpoint")
        try:
            units, sizes = data["units"], data["sizes"]
            checkpoint = cls(
                kind=_typed(data["kind"], str),
                format=_typed(data["format"], str),
                corp_id=_typed(data["corp_id"], str),
                units=[_typed(u, dict) for u in _typed(units, list)],
                sizes=[_typed(s, int) for s in _typed(sizes, list)],
                done={_typed(i, int) for i in _typed(data["done"], list)},
                cursors={int(k): _typed(v, str) for k, v in _typed(data["cursors"], dict).items()},
                # Absent from checkpoints of earlier releases: a restart then reads the
                # whole output instead of the unit's part.
                starts={
                    int(k): _typed(v, int) for k, v in _typed(data.get("starts", {}), dict).items()
                },
                restarted={_typed(i, int) for i in _typed(data.get("restarted", []), list)},
                failures=[Failure.from_json(f) for f in _typed(data["failures"], list)],
                output_bytes=_typed(data["output_bytes"], int),
                output_sha256=_optional(data.get("output_sha256"), str),
                overwrite=_typed(data.get("overwrite", False), bool),
                table=_typed(data.get("table", {}), dict),
                items=_typed(data["items"], int),
                pages=_typed(data["pages"], int),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path} is a damaged checkpoint ({exc})") from None
        if len(checkpoint.units) != len(checkpoint.sizes) or any(
            not 0 <= i < len(checkpoint.units)
            for i in (
                *checkpoint.done,
                *checkpoint.cursors,
                *checkpoint.starts,
                *checkpoint.restarted,
            )
        ):
            raise CheckpointError(f"{path} is a damaged checkpoint (unit indexes)")
        return checkpoint


def _typed(value: object, kind: type[T]) -> T:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _optional(value: object, kind: type[T]) -> T | None:
    return None if value is None else _typed(value, kind)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file.

    The data goes to a temporary file of a unique name in the same directory (two
    writers never share one), is fsynced, and replaces ``path`` with ``os.replace``; the
    directory is fsynced so the rename survives a power loss too (where the platform
    allows). A failed write removes its temporary file.

    Raises:
        OutputWriteError: the file cannot be written (an ``OSError`` too).
    """
    try:
        _replace_atomically(path, data)
    except OSError as error:
        raise write_failure(error) from error


def _replace_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with open(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_directory(path.parent)
