"""The output file and its two formats: JSON Lines (the wire format) and a flat CSV table.

Records reach the writer as wire dicts (``wecom_async.to_dict`` of a model, unknown fields
included). The exporter writes whole pages with one ``os.write`` call each, so the file
never holds part of a record: a regular-file write is not cut short by a signal, and a
crash between two pages leaves only whole pages. A resume truncates the file to the length
the checkpoint recorded anyway.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Final, Literal, Protocol

from .._jsontext import json_text
from ..models._base import JsonObject, JsonValue
from ._checkpoint import CheckpointError

__all__ = [
    "FORMATS",
    "CsvEncoder",
    "Encoder",
    "Format",
    "JsonlEncoder",
    "Key",
    "OutputFile",
    "cell",
    "read_keys",
]

Format = Literal["jsonl", "csv"]
FORMATS: Final[tuple[Format, ...]] = ("jsonl", "csv")
#: Flattens one wire record into CSV rows (``cell`` formats each value).
RowsFunction = Callable[[JsonObject], Sequence[Sequence[JsonValue]]]
#: The identity of one record (or CSV row): cells of the job's identity columns.
Key = tuple[str, ...]


class Encoder(Protocol):
    """Turns records into the bytes of one output format."""

    def header(self) -> bytes:
        """Return what a fresh file starts with."""
        ...

    def encode(self, records: Sequence[JsonObject]) -> bytes:
        """Return the bytes of ``records``, whole lines only."""
        ...


class JsonlEncoder:
    """One JSON object per line, UTF-8, exactly the wire dict (nothing dropped)."""

    def header(self) -> bytes:
        """JSON Lines has no header."""
        return b""

    def encode(self, records: Sequence[JsonObject]) -> bytes:
        """Return one compact JSON line per record.

        Lone surrogates (a customer's cut emoji) and U+2028, U+2029, U+0085 are written
        as ``\\u`` escapes: the line is valid UTF-8, ``str.splitlines`` keeps it whole,
        and it decodes to exactly the value WeCom sent.
        """
        return "".join(json_text(record) + "\n" for record in records).encode()


#: Code points UTF-8 cannot encode.
_SURROGATES: Final = re.compile("[\ud800-\udfff]")


def cell(value: JsonValue) -> str:
    """Format one table cell: empty for absent, JSON text for lists and objects.

    A lone surrogate (half an emoji) cannot be written in UTF-8: in a text cell it
    becomes U+FFFD; inside JSON text it is escaped (``\\ud83d``), losing nothing.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json_text(value)
    return _SURROGATES.sub("\ufffd", str(value))


class CsvEncoder:
    """RFC 4180 CSV (UTF-8, CRLF, quoted as needed) with a fixed header row.

    Args:
        columns: the header, in order.
        rows: flattens one record into rows of one value per column.
    """

    def __init__(self, columns: Sequence[str], rows: RowsFunction) -> None:
        self._columns = list(columns)
        self._rows_of = rows

    def header(self) -> bytes:
        """Return the header row."""
        return self._rows([self._columns])

    def encode(self, records: Sequence[JsonObject]) -> bytes:
        """Return the CSV rows of the records."""
        return self._rows(
            [[cell(v) for v in row] for record in records for row in self._rows_of(record)]
        )

    @staticmethod
    def _rows(rows: Sequence[Sequence[str]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode()


class OutputFile:
    """The output, written with one ``os.write`` per batch; see the module docstring.

    It keeps the SHA-256 of everything written, updated as bytes go out, so the
    checkpoint can record the hash of the prefix it describes at no extra read.

    Args:
        path: where the export goes (the temporary ``.part`` file of the run).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._hash = hashlib.sha256()
        #: Bytes in the file (what the checkpoint records).
        self.size = 0

    def create(self, header: bytes) -> None:
        """Create or empty the file and write ``header``."""
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.size = 0
        self._hash = hashlib.sha256()
        self.write(header)

    def reopen(self, length: int, sha256: str) -> None:
        """Open the file of an interrupted export and cut it back to ``length`` bytes.

        Raises:
            CheckpointError: the file is missing, shorter than ``length``, or its first
                ``length`` bytes are not the ones the checkpoint recorded (it was changed
                or replaced since).
        """
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            raise CheckpointError(f"the output {self.path} is gone: cannot resume") from None
        try:
            actual = os.fstat(fd).st_size
            if actual < length:
                raise CheckpointError(
                    f"the output {self.path} has {actual} bytes but the checkpoint recorded "
                    f"{length}: it was changed since, cannot resume"
                )
            digest = _prefix_hash(fd, length)
            if digest.hexdigest() != sha256:
                raise CheckpointError(
                    f"the content of {self.path} is not what the checkpoint recorded (its "
                    f"first {length:,} bytes differ): it was changed or replaced since, "
                    "cannot resume"
                )
            os.ftruncate(fd, length)
            os.lseek(fd, length, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self.size, self._hash = fd, length, digest

    def write(self, data: bytes) -> None:
        """Append ``data`` whole, or not at all.

        A regular file takes it in one call; partial writes loop. When the disk refuses
        part of it (ENOSPC, EFBIG past a file size limit, EIO), the file is cut back to
        where ``data`` began, so it never ends in half a record.

        Raises:
            OSError: the file cannot be written, or a write took no byte at all.
        """
        if self._fd is None:
            raise RuntimeError("the output file is not open")
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                if written == 0:  # no progress would loop forever
                    raise OSError(errno.EIO, f"the disk took none of the bytes for {self.path}")
                view = view[written:]
        except OSError:
            self._cut_back()
            raise
        self._hash.update(data)
        self.size += len(data)

    def _cut_back(self) -> None:
        """Drop the bytes of a failed write (shrinking a file needs no room)."""
        if self._fd is None:  # pragma: no cover - write() checked it
            return
        with contextlib.suppress(OSError):  # else the checkpoint's length still rules
            os.ftruncate(self._fd, self.size)
            os.lseek(self._fd, self.size, os.SEEK_SET)

    def digest(self) -> str:
        """Return the SHA-256 (hex) of the ``size`` bytes written."""
        return self._hash.hexdigest()

    def sync(self) -> None:
        """Flush the written bytes to the disk (before the checkpoint claims them)."""
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


#: Bytes read at once when a resume hashes the checkpointed prefix.
_HASH_BLOCK: Final = 1 << 20


def _prefix_hash(fd: int, length: int) -> hashlib._Hash:
    """The SHA-256 of the first ``length`` bytes of ``fd``, read in blocks."""
    digest = hashlib.sha256()
    offset = 0
    while offset < length:
        block = os.pread(fd, min(_HASH_BLOCK, length - offset), offset)
        if not block:  # pragma: no cover - the size was checked just before
            break
        digest.update(block)
        offset += len(block)
    return digest


def read_keys(
    path: Path,
    start: int,
    end: int,
    format: Format,
    *,
    record_keys: Callable[[JsonObject], list[Key]],
    row_key: Callable[[list[str]], Key],
) -> set[Key]:
    """The keys of the records written to ``path`` between byte ``start`` and ``end``.

    Reads the part line by line, so a large output is never held in memory. ``start``
    is where a page began (never inside a record or the CSV header).

    Args:
        path: the output.
        start, end: the part to read.
        format: the output's format.
        record_keys: the keys of a JSON Lines record.
        row_key: the key of a CSV row.
    """
    lines = _lines(path, start, end)
    if format == "jsonl":
        return {key for line in lines if line.strip() for key in record_keys(json.loads(line))}
    # A quoted cell may hold a line break; the csv reader joins such lines back up.
    return {row_key(row) for row in csv.reader(line.decode() for line in lines) if row}


def _lines(path: Path, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        for line in handle:
            if left <= 0:
                return
            yield line[:left]
            left -= len(line)
