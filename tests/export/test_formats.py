"""xlsx and parquet: read back with openpyxl / pyarrow, compared with the JSON Lines export."""

from __future__ import annotations

import json
import sys
import zipfile
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest
from openpyxl import load_workbook
from pyarrow import parquet

from tests.export.helpers import BATCH, part_of
from tests.export.test_engine import Hook
from wecom_async import WeComClient
from wecom_async._jsontext import json_text
from wecom_async.export import (
    CustomersJob,
    EngineOptions,
    GroupChatsJob,
    Job,
    OutputError,
    TableOptions,
    run_export,
)
from wecom_async.models._base import JsonValue
from wecom_async.testing import FakeWeCom

FAST = EngineOptions(concurrency=4, checkpoint_interval=0)
ZONE = "Asia/Shanghai"
TEXTS = (
    "=1+1",
    "@SUM(1)",
    "半个\ud83d",
    "ctl\x01char",
    "line\u2028sep",
    "0012",
    "",
    "non\uffffchar\ufffe",
)


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """A corp with group chats and customers whose names are odd text."""
    wecom_fake.seed(staff=6, customers_per_staff=40, seed=12)
    for text in TEXTS:
        wecom_fake.add_customer(name=text, followers=sorted(wecom_fake.state.staff)[:2])
    return wecom_fake


def _xlsx_cell(value: JsonValue) -> JsonValue:
    """What the xlsx export documents for a JSON value."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else str(value)
    if isinstance(value, list | dict):
        return json_text(value)
    text = (
        str(value).replace("\x01", "\ufffd").replace("\uffff", "\ufffd").replace("\ufffe", "\ufffd")
    )
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text) or None


def _parquet_cell(value: JsonValue) -> JsonValue:
    """What the parquet export documents for a JSON value (in a column of its type)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, list | dict):
        return json_text(value)
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in str(value))


def expected(jsonl: Path, job: Job, format: str) -> Counter[tuple[JsonValue, ...]]:
    """The rows the table formats must hold, from the JSON Lines export."""
    table = job.table(ZoneInfo(ZONE))
    convert = _xlsx_cell if format == "xlsx" else _parquet_cell
    rows: Counter[tuple[JsonValue, ...]] = Counter()
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        for row in table.rows(json.loads(line)):
            rows[tuple(convert(value) for value in row)] += 1
    return rows


def names(directory: Path) -> list[str]:
    """The files in ``directory``."""
    return sorted(path.name for path in directory.iterdir())


def read_back(path: Path, format: str) -> tuple[list[str], Counter[tuple[JsonValue, ...]]]:
    """The header and rows of an xlsx or parquet file."""
    if format == "xlsx":
        book = load_workbook(path, read_only=True)
        header, *rows = [list(row) for row in book.active.iter_rows(values_only=True)]
        book.close()
        width = len(header)  # a row's trailing empty cells are not stored
        padded = (tuple(row) + (None,) * (width - len(row)) for row in rows)
        return [str(c) for c in header], Counter(padded)
    data = parquet.read_table(path)
    return data.column_names, Counter(tuple(row.values()) for row in data.to_pylist())


@pytest.mark.parametrize("format", ["xlsx", "parquet"])
@pytest.mark.parametrize("job", [CustomersJob, GroupChatsJob])
async def test_table_formats_hold_exactly_what_json_lines_hold(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path, format: str, job: type[Job]
) -> None:
    jsonl, out = tmp_path / "x.jsonl", tmp_path / f"x.{format}"
    await run_export(job(), wecom_client, jsonl, options=FAST)
    result = await run_export(
        job(),
        wecom_client,
        out,
        format=format,  # type: ignore[arg-type]
        options=FAST,
        table=TableOptions(timezone=ZONE),
    )

    header, rows = read_back(out, format)
    assert tuple(header) == job().table().columns
    assert rows == expected(jsonl, job(), format)
    assert sum(rows.values()) >= result.items > 0
    assert names(tmp_path) == sorted(["x.jsonl", out.name])
    if format == "xlsx":  # "=1+1" is text in the sheet, never a formula
        with zipfile.ZipFile(out) as book:
            assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("format", ["xlsx", "parquet"])
async def test_table_formats_resume_through_their_json_lines(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path, format: str
) -> None:
    jsonl, out = tmp_path / "x.jsonl", tmp_path / f"x.{format}"
    await run_export(CustomersJob(), wecom_client, jsonl, options=FAST)
    table = TableOptions(timezone=ZONE)
    with anyio.CancelScope() as scope:
        await run_export(
            CustomersJob(chunk_size=1),
            wecom_client,
            out,
            format=format,  # type: ignore[arg-type]
            progress=Hook(2, scope.cancel),
            options=EngineOptions(concurrency=2, checkpoint_interval=0),
            table=table,
        )
    assert scope.cancelled_caught
    assert not out.exists()
    assert part_of(out).read_bytes().startswith(b'{"external_contact"')  # JSON Lines

    await run_export(
        CustomersJob(),
        wecom_client,
        out,
        format=format,  # type: ignore[arg-type]
        resume=True,
        options=FAST,
        table=table,
    )

    assert read_back(out, format)[1] == expected(jsonl, CustomersJob(), format)
    assert not part_of(out).exists()


@pytest.mark.parametrize(("format", "module"), [("xlsx", "openpyxl"), ("parquet", "pyarrow")])
async def test_a_missing_extra_is_named_before_anything_starts(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    format: str,
    module: str,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # not installed
    with pytest.raises(OutputError, match=rf"pip install 'wecom-async\[{format}\]'"):
        await run_export(
            CustomersJob(),
            wecom_client,
            tmp_path / f"x.{format}",
            format=format,  # type: ignore[arg-type]
        )
    assert corp.calls(BATCH) == 0
    assert names(tmp_path) == []
