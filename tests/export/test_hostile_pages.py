"""A customers export against ``batch/get_by_user`` pages no honest WeCom sends.

Each page below once made the export claim success while what it wrote was wrong or
incomplete: numbers no JSON line can carry written as ``Infinity`` / ``NaN``, members
WeCom reported as unserved (``fail_info``) in an odd shape silently not reported. Now the
export either stops with a WeComError naming the problem, writing nothing of the page,
or records a failure that carries what WeCom sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import anyio
import httpx
import pytest

from wecom_async import ResponseError, RetryPolicy, WeComClient
from wecom_async._jsontext import json_lines, json_text
from wecom_async.export import (
    Batch,
    Checkpoint,
    CustomersJob,
    EngineOptions,
    ExportResult,
    Job,
    Unit,
    run_export,
)
from wecom_async.export._jobs import FAIL_INFO_QUOTED, ODD_FAIL_INFO, UNLICENSED
from wecom_async.export._writer import CsvEncoder, Format, JsonlEncoder, TableOptions, cell
from wecom_async.models._base import JsonObject, JsonValue

MEMBERS = ["zhangsan", "lisi"]
SECRET = "secret-hostile-pages-9Qx"
RECORD = '{"external_contact":{"external_userid":"wmA"},"follow_info":{"userid":"zhangsan"}}'


def page(*, records: str = RECORD, fail_info: str | None = None) -> str:
    """The text of a last page holding ``records`` (and ``fail_info``, as given)."""
    extra = "" if fail_info is None else f',"fail_info":{fail_info}'
    return (
        f'{{"errcode":0,"errmsg":"ok","external_contact_list":[{records}]{extra},"next_cursor":""}}'
    )


def answering(body: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/gettoken"):
            return httpx.Response(200, json={"errcode": 0, "access_token": "T", "expires_in": 7200})
        if path.endswith("/get_follow_user_list"):
            return httpx.Response(200, json={"errcode": 0, "follow_user": MEMBERS})
        assert path.endswith("/batch/get_by_user"), path
        return httpx.Response(200, content=body.encode())

    return httpx.MockTransport(handler)


async def export(body: str, out: Path, format: Format = "jsonl") -> ExportResult:
    """One unit (both members), one page: ``body``."""
    http = httpx.AsyncClient(transport=answering(body))
    client = WeComClient("wwcorp", SECRET, http_client=http, retry=RetryPolicy.no_delay())
    async with http, client:
        options = EngineOptions(concurrency=1, checkpoint_interval=0)
        return await run_export(
            CustomersJob(chunk_size=100), client, out, format=format, options=options
        )


# -- numbers no float holds ------------------------------------------------------------


@pytest.mark.parametrize("format", ["jsonl", "csv"])
@pytest.mark.parametrize(
    ("number", "named"),
    [
        ("1e400", "1e400, beyond the range"),
        ("1e-400", "1e-400, too small for a float"),
        ("NaN", "NaN, which"),
        ("-Infinity", "-Infinity,"),
    ],
)
def test_a_number_json_lines_cannot_carry_stops_the_export_writing_nothing_of_it(
    tmp_path: Path, format: Format, number: str, named: str
) -> None:
    records = RECORD.replace('"wmA"', f'"wmA","score":{number}')
    out = tmp_path / f"out.{format}"
    with pytest.raises(ResponseError) as caught:
        anyio.run(export, page(records=records), out, format)
    assert named in str(caught.value)
    assert "batch/get_by_user" in str(caught.value)
    assert not out.exists()
    written = out.with_name(out.name + ".part").read_bytes()
    assert b"wmA" not in written  # nothing of the page: no line to repair later
    checkpoint = Checkpoint.load(Checkpoint.path_for(out))
    assert (checkpoint.items, checkpoint.done, checkpoint.failures) == (0, set(), [])


@pytest.mark.parametrize(
    "write",
    [
        lambda v: JsonlEncoder().encode([{"a": {"b": [v]}}]),
        lambda v: json_lines([v]),
        lambda v: json_text({"a": v}, indent=2),  # the manifest's and --summary-json's text
        lambda v: cell(v),  # a CSV cell of a number
        lambda v: cell([v]),  # a CSV cell of JSON text
        lambda v: CsvEncoder(CustomersJob().table(), TableOptions()).encode(
            [{"external_contact": {"external_userid": "wmA", "type": v}}]
        ),
        lambda v: Checkpoint("customers", "jsonl", "ww", [{"n": v}], [1]).to_bytes(),
    ],
    ids=["jsonl", "json_lines", "indented", "csv-number", "csv-json", "csv-row", "checkpoint"],
)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_no_writer_of_the_export_writes_what_is_not_json(write: object, value: float) -> None:
    assert callable(write)
    with pytest.raises(ResponseError, match="cannot be written as JSON"):
        write(value)


def test_finite_floats_are_written_as_before() -> None:
    assert cell(1e300) == "1e+300" == str(1e300)
    assert cell(-0.0) == "-0.0"
    assert json.loads(JsonlEncoder().encode([{"x": 2.5e-300}])) == {"x": 2.5e-300}


# -- fail_info ------------------------------------------------------------------------------


def _failures(tmp_path: Path, fail_info: str) -> list[tuple[str, tuple[str, ...], str]]:
    out = tmp_path / "out.jsonl"
    result = anyio.run(export, page(fail_info=fail_info), out)
    assert out.read_bytes() == (RECORD + "\n").encode()  # the members WeCom served
    assert not Checkpoint.path_for(out).exists()  # complete: the failures are reported
    return [(f.reason, f.ids, f.detail) for f in result.failures]


def test_a_clean_unlicensed_list_is_one_failure_of_those_members(tmp_path: Path) -> None:
    failures = _failures(tmp_path, '{"unlicensed_userid_list":["lisi"]}')
    assert [(reason, ids) for reason, ids, _ in failures] == [(UNLICENSED, ("lisi",))]


@pytest.mark.parametrize(
    ("fail_info", "quoted"),
    [
        ('{"unlicensed_userid_list":["lisi",5]}', '{"unlicensed_userid_list":["lisi",5]}'),
        ('{"unlicensed_userid_list":"lisi"}', '{"unlicensed_userid_list":"lisi"}'),
        ('["lisi"]', '["lisi"]'),
        ('"lisi"', '"lisi"'),
        ("0", "0"),
        ('{"invalid_userid_list":["lisi"]}', '{"invalid_userid_list":["lisi"]}'),
    ],
)
def test_a_fail_info_of_another_shape_is_a_failure_of_the_chunk_quoting_it(
    tmp_path: Path, fail_info: str, quoted: str
) -> None:
    """Which members an unreadable fail_info means is unknown: the whole chunk is
    reported, with what WeCom sent, instead of a complete-looking export."""
    failures = _failures(tmp_path, fail_info)
    assert len(failures) == 1
    reason, ids, detail = failures[0]
    assert (reason, ids) == (ODD_FAIL_INFO, tuple(MEMBERS))
    assert detail.endswith(f"fail_info {quoted}")
    assert "\n" not in detail


def test_a_known_and_an_unknown_failure_are_both_reported(tmp_path: Path) -> None:
    failures = _failures(
        tmp_path, '{"invalid_userid_list":["wangwu"],"unlicensed_userid_list":["lisi"]}'
    )
    assert [(reason, ids) for reason, ids, _ in failures] == [
        (UNLICENSED, ("lisi",)),
        (ODD_FAIL_INFO, tuple(MEMBERS)),
    ]
    assert failures[1][2].endswith('fail_info {"invalid_userid_list":["wangwu"]}')


@pytest.mark.parametrize("fail_info", ["null", "{}", "[]", '{"unlicensed_userid_list":[]}'])
def test_an_empty_fail_info_reports_nothing(tmp_path: Path, fail_info: str) -> None:
    assert _failures(tmp_path, fail_info) == []


def test_an_odd_fail_info_is_quoted_bounded_and_without_secrets(tmp_path: Path) -> None:
    # Sorted, "because" comes first: the secret is inside the part quoted.
    huge = json.dumps({"because": f"corpsecret={SECRET}", "ids": [f"u{i}" for i in range(5000)]})
    [(_, _, detail)] = _failures(tmp_path, huge)
    assert SECRET not in detail
    assert '"because":"corpsecret=' in detail
    assert len(detail) < FAIL_INFO_QUOTED + 200
    assert detail.endswith("...")


async def test_the_public_page_keeps_every_fail_info_as_sent() -> None:
    """What the export reports comes from the page the public method returns."""
    shapes = {
        '{"unlicensed_userid_list":["lisi",5]}': (
            "fail_info.extra",
            {"unlicensed_userid_list": ["lisi", 5]},
        ),
        '{"invalid_userid_list":["lisi"]}': ("fail_info.extra", {"invalid_userid_list": ["lisi"]}),
        '["lisi"]': ("extra", ["lisi"]),
    }
    for fail_info, (where, sent) in shapes.items():
        http = httpx.AsyncClient(transport=answering(page(fail_info=fail_info)))
        client = WeComClient("wwcorp", SECRET, http_client=http, retry=RetryPolicy.no_delay())
        async with http, client:
            first = await client.external_contact.batch_get_by_user(MEMBERS)
        if where == "extra":
            assert first.fail_info is None
            assert first.extra["fail_info"] == sent
        else:
            assert first.fail_info is not None
            assert first.fail_info.unlicensed_userid_list is None
            assert dict(first.fail_info.extra) == sent


# -- a null list -----------------------------------------------------------------------------


@pytest.mark.parametrize("records", ["null", "missing", "[]"])
def test_a_null_customer_list_is_an_empty_page_like_a_missing_one(
    tmp_path: Path, records: str
) -> None:
    body = {"null": page().replace(f"[{RECORD}]", "null"), "[]": page(records="")}.get(
        records, '{"errcode":0,"errmsg":"ok","next_cursor":""}'
    )
    out = tmp_path / "out.jsonl"
    result = anyio.run(export, body, out)
    assert out.read_bytes() == b""
    assert (result.items, result.pages, result.failures) == (0, 1, [])


# -- a record that cannot be written, in the middle of a batch of pages ---------------------


class _TwoUnits(Job):
    """Two units, fetched together; unit 1's record holds NaN until ``healed``."""

    name = "two-units"
    unit_label = "units"
    columns = ("id",)
    identity = ("id",)

    def __init__(self, *, healed: bool) -> None:
        self._healed = healed
        self._arrived = 0
        self._together = anyio.Event()

    async def plan(self, client: WeComClient) -> list[Unit]:
        return [Unit({"n": 0}), Unit({"n": 1})]

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        if not self._healed:
            # Both pages reach the writer in one batch: unit 0's first, then unit 1's.
            self._arrived += 1
            if self._arrived == 2:
                self._together.set()
            await self._together.wait()
        value = float("nan") if spec["n"] == 1 and not self._healed else 1.5
        return Batch([{"id": f"r{spec['n']}", "v": value}], None)

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        return [[record.get("id")]]


def test_a_page_that_cannot_be_written_loses_none_of_the_pages_before_it(tmp_path: Path) -> None:
    """The checkpoint committed when the export stops records unit 0 as done: its page,
    gathered in the same batch before the page that failed, must be in the output."""
    out = tmp_path / "out.jsonl"
    options = EngineOptions(concurrency=2, checkpoint_interval=0)

    async def run(job: Job, *, resume: bool) -> ExportResult:
        http = httpx.AsyncClient(transport=answering(page()))
        client = WeComClient("wwcorp", SECRET, http_client=http, retry=RetryPolicy.no_delay())
        async with http, client:
            return await run_export(job, client, out, resume=resume, options=options)

    with pytest.raises(ResponseError, match="cannot be written as JSON"):
        anyio.run(lambda: run(_TwoUnits(healed=False), resume=False))
    checkpoint = Checkpoint.load(Checkpoint.path_for(out))
    assert checkpoint.done == {0}  # the batch really held both pages
    assert out.with_name("out.jsonl.part").read_bytes() == b'{"id":"r0","v":1.5}\n'

    result = anyio.run(lambda: run(_TwoUnits(healed=True), resume=True))
    assert out.read_bytes() == b'{"id":"r0","v":1.5}\n{"id":"r1","v":1.5}\n'
    assert result.items == 2
