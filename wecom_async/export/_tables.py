"""Spreadsheet and columnar outputs: ``xlsx`` (openpyxl) and ``parquet`` (pyarrow).

Both are written at the end, from the export's complete JSON Lines: records stream into
``<output>.part`` as JSON Lines exactly as for ``--format jsonl`` (so the checkpoint,
``--resume`` and every file guarantee are the same), and once every unit is done the
``.part`` is read line by line into a temporary file beside the output, which is then
renamed onto it. Memory stays flat: openpyxl writes in its streaming write-only mode
and pyarrow in row groups.

The columns are the job's table (as for CSV: ``--help`` lists them, a ``<name>_local``
column after each Unix time). Cells carry the JSON values losslessly, typed:

* ``xlsx``: numbers as numbers (integers beyond 2^53, which Excel would round, as text),
  booleans as booleans, absent as an empty cell, text as text (a cell that starts with
  ``=`` is text, never a formula), lists and objects as compact JSON text;
* ``parquet``: a column whose values are all integers is ``int64``, all booleans
  ``bool``, anything else ``string`` (lists and objects as JSON text); absent is null.

Text that is not valid Unicode cannot be stored by either: a lone surrogate becomes
U+FFFD, and in ``xlsx`` so do the C0 control characters XML forbids (all but tab, line
feed and carriage return).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from ..models._base import JsonValue
from ._output import OutputError, publish
from ._writer import Table, cell

__all__ = ["TABLE_FORMATS", "require", "write_table"]

#: The formats written at the end from the JSON Lines ``.part``, and their extra.
TABLE_FORMATS: Final = {"xlsx": ("openpyxl", "xlsx"), "parquet": ("pyarrow", "parquet")}
#: Largest integer a spreadsheet's float holds exactly.
_EXACT_IN_FLOAT: Final = 2**53
_INT64: Final = (-(2**63), 2**63 - 1)
#: Rows per parquet row group.
_ROW_GROUP: Final = 10_000
#: Characters XML 1.0 cannot hold: C0 controls but tab and line breaks, lone surrogates,
#: and the noncharacters U+FFFE and U+FFFF (valid JSON, so a customer can send them).
_XML_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def require(format: str) -> None:
    """Check, before an export starts, that ``format`` can be written at its end.

    Raises:
        OutputError: its library is not installed (the extra to install is named).
    """
    if format not in TABLE_FORMATS:
        return
    module, extra = TABLE_FORMATS[format]
    try:
        __import__(module)
    except ImportError:
        raise OutputError(
            f"--format {format} needs {module}: pip install 'wecom-async[{extra}]'"
        ) from None


def write_table(format: str, jsonl: Path, output: Path, table: Table) -> None:
    """Write the records of ``jsonl`` to ``output`` as ``format`` (atomic: a temporary
    file beside it, fsynced, renamed onto it)."""
    writer = _write_xlsx if format == "xlsx" else _write_parquet
    fd, name = tempfile.mkstemp(prefix=output.name + ".", suffix=".tmp", dir=output.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        writer(jsonl, temporary, table)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        publish(temporary, output)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _rows(jsonl: Path, table: Table) -> Iterator[list[JsonValue]]:
    with open(jsonl, "rb") as handle:
        for line in handle:
            if line.strip():
                yield from table.rows(json.loads(line))


def _xlsx_value(value: JsonValue) -> JsonValue:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if abs(value) <= _EXACT_IN_FLOAT else str(value)
    return _XML_ILLEGAL.sub("\ufffd", cell(value))


def _write_xlsx(jsonl: Path, path: Path, table: Table) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")
    sheet.append(list(table.columns))
    for row in _rows(jsonl, table):
        cells = []
        for value in row:
            shown = WriteOnlyCell(sheet, value=_xlsx_value(value))
            if isinstance(shown.value, str):
                shown.data_type = "s"  # text, even when it starts with "=": never a formula
            cells.append(shown)
        sheet.append(cells)
    book.save(path)


def _kind(value: JsonValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) and _INT64[0] <= value <= _INT64[1]:
        return "int"
    return "string"


def _column_kinds(jsonl: Path, table: Table) -> list[str]:
    """Each column's parquet kind, from every value (a first pass over the records)."""
    kinds = ["null"] * len(table.columns)
    for row in _rows(jsonl, table):
        for i, value in enumerate(row):
            kind = _kind(value)
            if kind != "null" and kinds[i] != kind:
                kinds[i] = kind if kinds[i] == "null" else "string"
    return kinds


def _parquet_value(kind: str) -> Callable[[JsonValue], JsonValue]:
    if kind in ("int", "bool"):
        return lambda value: value
    return lambda value: None if value is None else cell(value)


def _write_parquet(jsonl: Path, path: Path, table: Table) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = _column_kinds(jsonl, table)
    types = {"int": pa.int64(), "bool": pa.bool_(), "string": pa.string(), "null": pa.string()}
    schema = pa.schema(
        [(name, types[kind]) for name, kind in zip(table.columns, kinds, strict=True)]
    )
    convert = [_parquet_value(kind) for kind in kinds]
    with pq.ParquetWriter(path, schema) as writer:

        def flush(rows: list[list[JsonValue]]) -> None:
            columns = list(zip(*rows, strict=True))
            arrays = [
                pa.array(list(values), type=schema.field(i).type)
                for i, values in enumerate(columns)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))

        batch: list[list[JsonValue]] = []
        for row in _rows(jsonl, table):
            batch.append([to(value) for to, value in zip(convert, row, strict=True)])
            if len(batch) >= _ROW_GROUP:
                flush(batch)
                batch = []
        if batch:  # an empty export still gets the schema when the writer closes
            flush(batch)
