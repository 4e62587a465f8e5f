"""The output file and its formats: JSON Lines (the wire format) and a flat CSV table.

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
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Final, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._exceptions import ValidationError
from .._jsontext import json_lines, json_text
from ..models._base import JsonObject, JsonValue
from ._checkpoint import CheckpointError

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "CsvEncoder",
    "Encoder",
    "Format",
    "JsonlEncoder",
    "Key",
    "OutputFile",
    "Table",
    "TableOptions",
    "cell",
    "local_time",
]

Format = Literal["jsonl", "csv", "xlsx", "parquet"]
FORMATS: Final[tuple[Format, ...]] = ("jsonl", "csv", "xlsx", "parquet")
#: The format an output's extension names (compared in lower case).
EXTENSIONS: Final[dict[str, Format]] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
}
#: Flattens one wire record into rows of a job's columns (``cell`` formats each value).
RowsFunction = Callable[[JsonObject], Sequence[Sequence[JsonValue]]]
#: The identity of one record (or table row): cells of the job's identity columns.
Key = tuple[str, ...]
#: The readable local-time column written after each Unix-time column ``c``: ``c_local``.
LOCAL_SUFFIX: Final = "_local"
#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM: Final = b"\xef\xbb\xbf"


class Encoder(Protocol):
    """Turns records into the bytes of one output format, and reads identities back."""

    def header(self) -> bytes:
        """Return what a fresh file starts with."""
        ...

    def encode(self, records: Sequence[JsonObject]) -> bytes:
        """Return the bytes of ``records``, whole lines only."""
        ...

    def keys(self, record: JsonObject) -> list[Key]:
        """The identities of ``record`` as this format writes them."""
        ...

    def read_keys(self, path: Path, start: int, end: int) -> set[Key]:
        """The identities of the records written to ``path`` between ``start`` and ``end``.

        Reads the part line by line, so a large output is never held in memory.
        ``start`` is where a page began (never inside a record or the header).
        """
        ...


class JsonlEncoder:
    """One JSON object per line, UTF-8, exactly the wire dict (nothing dropped), keys sorted.

    Args:
        keys: the identities of a record (the job's :meth:`~._job.Job.keys`).
    """

    def __init__(self, keys: Callable[[JsonObject], list[Key]] | None = None) -> None:
        self._keys = keys

    def header(self) -> bytes:
        """JSON Lines has no header."""
        return b""

    def encode(self, records: Sequence[JsonObject]) -> bytes:
        """Return one compact JSON line per record, the keys of every object sorted.

        Sorted keys make the line depend on the values alone: the wire dict WeCom sent
        and ``to_dict`` of the model read from it give the same bytes.
        Lone surrogates (a customer's cut emoji) and U+2028, U+2029, U+0085 are written
        as ``\\u`` escapes: the line is valid UTF-8, ``str.splitlines`` keeps it whole,
        and it decodes to exactly the value WeCom sent.
        """
        return json_lines(records)

    def keys(self, record: JsonObject) -> list[Key]:
        """The record's identities (none without a ``keys`` function)."""
        return self._keys(record) if self._keys is not None else []

    def read_keys(self, path: Path, start: int, end: int) -> set[Key]:
        """The identities of the lines between ``start`` and ``end``."""
        lines = _lines(path, start, end)
        return {key for line in lines if line.strip() for key in self.keys(json.loads(line))}


#: Code points UTF-8 cannot encode.
_SURROGATES: Final = re.compile("[\ud800-\udfff]")


def cell(value: JsonValue) -> str:
    """Format one table cell: empty for absent, JSON text (keys sorted) for lists and objects.

    A lone surrogate (half an emoji) cannot be written in UTF-8: in a text cell it
    becomes U+FFFD; inside JSON text it is escaped (``\\ud83d``), losing nothing.
    A float is written as JSON writes it (the same digits as ``str``), so NaN and the
    infinities are refused here as in JSON text.

    Raises:
        ResponseError: the value holds NaN or an infinity.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict | float):
        return json_text(value, sort_keys=True)
    return _SURROGATES.sub("\ufffd", str(value))


def local_time(value: JsonValue, zone: tzinfo | None) -> str | None:
    """ISO 8601 with the offset (``2024-05-01T09:30:00+08:00``) of a Unix time in ``zone``
    (None: the machine's zone), or None for what is not a Unix time."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        moment = datetime.fromtimestamp(value, zone or timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return (moment if zone is not None else moment.astimezone()).isoformat()


@dataclass(frozen=True, kw_only=True)
class TableOptions:
    """How table formats are written for the people who open them.

    Attributes:
        timezone: IANA name of the zone of the ``*_local`` columns (None: the machine's).
        raw_formulas: write text cells that start like a formula as they are, instead of
            after a ``'`` that makes a spreadsheet show them as text.
        bom: start a CSV file with a UTF-8 byte order mark (Excel needs it to read UTF-8).

    Raises:
        ValidationError: ``timezone`` names no zone this machine knows.
    """

    timezone: str | None = None
    raw_formulas: bool = False
    bom: bool = True

    def __post_init__(self) -> None:
        self.zone()  # an unknown zone is refused now, not after the export

    def zone(self) -> tzinfo | None:
        """The zone of the local-time columns (None: the machine's local zone)."""
        if self.timezone is None:
            return None
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a zone key at all
            raise ValidationError(f"unknown time zone {self.timezone!r}") from None

    def to_json(self) -> JsonObject:
        """The options as the checkpoint records them (a resume must use the same)."""
        return {"timezone": self.timezone, "raw_formulas": self.raw_formulas, "bom": self.bom}


class Table:
    """A job's flat table: its columns, each Unix-time column followed by ``<name>_local``.

    Args:
        columns: the job's columns.
        rows: flattens one record into rows of one value per job column.
        times: the job's columns that hold Unix times.
        identity: the columns that identify a row.
        zone: the zone of the local-time columns (None: the machine's).
    """

    def __init__(
        self,
        columns: Sequence[str],
        rows: RowsFunction,
        *,
        times: Sequence[str] = (),
        identity: Sequence[str] = (),
        zone: tzinfo | None = None,
    ) -> None:
        self._rows_of = rows
        self._zone = zone
        self._times = frozenset(i for i, column in enumerate(columns) if column in times)
        self.columns: tuple[str, ...] = tuple(
            name
            for i, column in enumerate(columns)
            for name in ((column, column + LOCAL_SUFFIX) if i in self._times else (column,))
        )
        self._identity = [self.columns.index(column) for column in identity]

    def rows(self, record: JsonObject) -> list[list[JsonValue]]:
        """The rows of ``record``, a local time after each Unix time."""
        table = []
        for row in self._rows_of(record):
            values: list[JsonValue] = []
            for i, value in enumerate(row):
                values.append(value)
                if i in self._times:
                    values.append(local_time(value, self._zone))
            table.append(values)
        return table

    def key(self, row: Sequence[str]) -> Key:
        """The identity of one row of cells."""
        return tuple(row[i] for i in self._identity)


class CsvEncoder:
    """RFC 4180 CSV (UTF-8, CRLF, quoted as needed) of a :class:`Table`, for spreadsheets.

    By default (:class:`TableOptions`) the file starts with a UTF-8 BOM, and a text cell
    that a spreadsheet would run as a formula (starting with ``= + - @``, a tab or a
    carriage return) is written after a ``'``. Numbers are never changed. A lone
    surrogate becomes U+FFFD (see :func:`cell`); U+2028, U+2029 and U+0085 are kept as
    they are, like line breaks inside a quoted cell: read CSV with a CSV reader.

    Args:
        table: the columns and rows (and the zone of the local times).
        options: BOM and formulas.
    """

    def __init__(self, table: Table, options: TableOptions | None = None) -> None:
        self._table = table
        self._options = options or TableOptions()

    def header(self) -> bytes:
        """Return the BOM (unless turned off) and the header row."""
        bom = UTF8_BOM if self._options.bom else b""
        return bom + self._rows([self._table.columns])

    def render(self, value: JsonValue) -> str:
        """The text of one cell as written."""
        text = cell(value)
        if isinstance(value, str) and not self._options.raw_formulas:
            return "'" + text if text.startswith(FORMULA_STARTS) else text
        return text

    def encode(self, records: Sequence[JsonObject]) -> bytes:
        """Return the CSV rows of the records."""
        return self._rows(
            [self._cells(row) for record in records for row in self._table.rows(record)]
        )

    def keys(self, record: JsonObject) -> list[Key]:
        """The identities of the record's rows, as written."""
        return [self._table.key(self._cells(row)) for row in self._table.rows(record)]

    def read_keys(self, path: Path, start: int, end: int) -> set[Key]:
        """The identities of the rows between ``start`` and ``end``."""
        lines = _lines(path, start, end)
        # A quoted cell may hold a line break; the csv reader joins such lines back up.
        rows = csv.reader(line.decode() for line in lines)
        return {self._table.key(row) for row in rows if row}

    def _cells(self, row: Sequence[JsonValue]) -> list[str]:
        return [self.render(value) for value in row]

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
    os.lseek(fd, 0, os.SEEK_SET)
    left = length
    while left > 0:
        block = os.read(fd, min(_HASH_BLOCK, left))
        if not block:  # pragma: no cover - the size was checked just before
            break
        digest.update(block)
        left -= len(block)
    return digest


def _lines(path: Path, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        for line in handle:
            if left <= 0:
                return
            yield line[:left]
            left -= len(line)
