"""The manifest of a completed export: what it holds, so that the next run can go on from it.

When an export of a time-ranged kind (group-messages, moments, behavior-stats) completes,
``<output>.manifest.json`` is written beside its output (after the output is in place,
atomically, like the checkpoint)::

    {"version": 1, "kind": "group-messages", "corp_id": "ww...",
     "since": 1709222400, "until": 1711900799,   # the range covered, both included
     "records": 1234, "finished_at": 1711900900}

``since`` / ``until`` are the range the plan covered (whole days for behavior-stats).
``--since last`` reads the
manifest of the output it is given and starts one second after its ``until``: a nightly
run exports what is new since the previous one. The manifest is written after the output
is renamed into place; a crash between the two leaves the previous manifest, so the next
``--since last`` repeats that run's range (records twice across the two files), never
skips one. It holds the corp id, never a secret.

A distributed export (``--workers``) keeps one such manifest per corp and kind in its
output directory, ``DIR/<corp_id>.<kind>.manifest.json`` (:func:`corp_output`): one
directory serves every corp and kind of a nightly job, and everything the job writes
stays under ``DIR`` (an object store's prefix, say). Its range is that corp's range
exported into ``DIR`` so far: a finished export advances it, never past a gap and never
back (see ``wecom_async/export/distributed/_since_last.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .._exceptions import WeComError
from .._jsontext import json_text, read_json
from ._range import TimeRange
from ._store import Location, StorageError, as_location

__all__ = [
    "MANIFEST_SUFFIX",
    "Manifest",
    "ManifestError",
    "completed",
    "corp_output",
    "manifest_location",
    "manifest_path",
]

MANIFEST_SUFFIX: Final = ".manifest.json"
MANIFEST_VERSION: Final = 1


class ManifestError(WeComError, ValueError):
    """Raised when the manifest ``--since last`` needs is missing, damaged or another's."""


def manifest_path(output: Path) -> Path:
    """The manifest beside ``output``."""
    return output.with_name(output.name + MANIFEST_SUFFIX)


def manifest_location(output: Location | Path | str) -> Location:
    """The manifest beside ``output``, a path or a URL.

    Raises:
        ValidationError: ``output`` is a URL that cannot be used.
    """
    where = as_location(output)
    return where.with_name(where.name + MANIFEST_SUFFIX)


def corp_output(directory: Location | Path | str, corp_id: str, kind: str) -> Location | Path:
    """What a distributed export to ``directory`` (a path, or an fsspec URL) writes its
    ``corp_id`` / ``kind`` manifest beside (``DIR/<corp_id>.<kind>``: the manifest is
    ``DIR/<corp_id>.<kind>.manifest.json``)."""
    if isinstance(directory, Path):
        return directory / f"{corp_id}.{kind}"
    return as_location(directory) / f"{corp_id}.{kind}"


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """What a completed export holds (see the module docstring)."""

    kind: str
    corp_id: str
    covered: TimeRange | None
    records: int
    finished_at: int

    def save(self, output: Location | Path | str) -> None:
        """Write the manifest beside ``output`` (a path or a URL), whole.

        Raises:
            OSError: the manifest cannot be written (locally an ``OutputWriteError``,
                a ``WeComError`` too).
        """
        document = {
            "version": MANIFEST_VERSION,
            "kind": self.kind,
            "corp_id": self.corp_id,
            "since": self.covered.since if self.covered else None,
            "until": self.covered.until if self.covered else None,
            "records": self.records,
            "finished_at": self.finished_at,
        }
        manifest_location(output).write_bytes((json_text(document, indent=2) + "\n").encode())

    @classmethod
    def load(cls, output: Location | Path | str) -> Manifest:
        """Read the manifest of the export written to ``output`` (a path or a URL).

        Raises:
            ManifestError: there is none (no completed run to that output), or it cannot
                be read (not whole JSON above all).
            StorageError: the store of a URL failed (an OSError).
            ValidationError: ``output`` is a URL that cannot be used.
        """
        path = manifest_location(output)
        try:
            data = read_json(path.read_bytes())
        except FileNotFoundError:
            raise ManifestError(
                f"--since last: no previous export to {output} (no {path}); run it once "
                "with --since DATE (or the kind's default range) first"
            ) from None
        except StorageError:  # the store failed, not the manifest: not a usage error
            raise
        except OSError as error:
            raise ManifestError(f"cannot read {path}: {error}") from None
        except ValueError as error:  # a write cut short: never used
            raise ManifestError(
                f"{path} is not whole JSON (a write cut short?): {error}; remove it and "
                "give --since DATE"
            ) from None
        try:
            if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
                raise TypeError("not a version 1 manifest")
            since, until = data["since"], data["until"]
            covered = None if since is None else TimeRange(_int(since), _int(until))
            return cls(
                kind=_str(data["kind"]),
                corp_id=_str(data["corp_id"]),
                covered=covered,
                records=_int(data["records"]),
                finished_at=_int(data["finished_at"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ManifestError(f"{path} is damaged ({error})") from None

    def next_since(self, kind: str, corp_id: str) -> int:
        """Where ``--since last`` starts: one second after this run's range.

        Raises:
            ManifestError: the manifest is of another kind or corp, or has no range.
        """
        if (self.kind, self.corp_id) != (kind, corp_id):
            raise ManifestError(
                f"--since last: the previous export to this output was {self.kind} of "
                f"corp {self.corp_id}, not {kind} of corp {corp_id}"
            )
        if self.covered is None:
            raise ManifestError(f"--since last: the previous {kind} export had no time range")
        return self.covered.until + 1


def completed(kind: str, corp_id: str, covered: TimeRange | None, records: int) -> Manifest:
    """The manifest of an export completed now."""
    return Manifest(
        kind=kind, corp_id=corp_id, covered=covered, records=records, finished_at=int(time.time())
    )


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
