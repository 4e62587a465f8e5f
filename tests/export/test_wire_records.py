"""The customers export writes the wire dicts WeCom sent: the same bytes as the models.

``CustomersJob.fetch`` validates every record by reading the whole answer into its models
(as ``client.external_contact.batch_get_by_user`` does), then writes the dicts WeCom sent
instead of ``to_dict`` of those models. The plain path (the public method, then
``to_dict`` of each item) must give exactly the same output bytes, in every format.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.wire_models import json_differences, model_dicts
from wecom_async import RetryPolicy, StructureError, WeComClient, from_dict, to_dict
from wecom_async.export import CustomersJob, EngineOptions, run_export
from wecom_async.export._writer import CsvEncoder, Format, JsonlEncoder, TableOptions
from wecom_async.models import CustomerWithFollowInfo

MEMBERS = ["zhangsan", "lisi"]

#: What WeCom may send: unknown fields at every depth, nulls, odd types where a field may
#: be left out, nested lists, keys in an order no model uses, characters a line reader
#: trips over (a lone surrogate, U+2028), floats and large integers.
ODD_RECORDS: list[dict[str, Any]] = [
    {
        "follow_info": {
            "userid": "zhangsan",
            "remark": None,
            "tag_id": ["etA", "etB"],
            "createtime": "1700000000",
            "add_way": 4242,
            "wechat_channels": {"nickname": "视频号", "source": 1, "new_flag": [1, 2.5, None]},
            "score": 1e300,
            "remark_mobiles": [],
        },
        "external_contact": {
            "name": "陈\ud83d\u2028客户",
            "external_userid": "wmA",
            "type": 2,
            "gender": True,
            "external_profile": {
                "external_attr": [
                    {"type": 0, "name": "文本", "text": {"value": "v", "style": 3}},
                    {"type": 9, "name": "new kind", "video": {"url": "u"}},
                ],
                "wechat_channels": None,
            },
            "corp_name": 12,
        },
        "lifecycle": {"stage": 3, "since": 9_007_199_254_740_993},
    },
    {
        "external_contact": {"external_userid": "wmB", "avatar": "", "unionid": None},
        "follow_info": {
            "userid": "lisi",
            "tags": [{"group_name": "g", "tag_id": "t", "type": 1}, "odd"],
            "tag_id": "not a list",
            "description": "",
            "state": {"nested": {"deeper": [[]]}},
        },
    },
    {"external_contact": {"external_userid": "wmC"}, "follow_info": {"userid": "zhangsan"}},
]


def answers(records: list[Any]) -> Callable[[httpx.Request], httpx.Response]:
    page = {
        "errcode": 0,
        "errmsg": "ok",
        "external_contact_list": records,
        "next_cursor": "",
        "page_extra": {"kept": True},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/gettoken"):
            return httpx.Response(200, json={"errcode": 0, "access_token": "T", "expires_in": 7200})
        if path.endswith("/get_follow_user_list"):
            return httpx.Response(200, json={"errcode": 0, "follow_user": MEMBERS})
        assert path.endswith("/batch/get_by_user"), path
        return httpx.Response(200, content=json.dumps(page).encode())

    return handler


def client_of(records: list[Any]) -> tuple[httpx.AsyncClient, WeComClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(answers(records)))
    client = WeComClient("wwcorp", "secret-xyz", http_client=http, retry=RetryPolicy.no_delay())
    return http, client


async def export(records: list[Any], out: Path, format: Format) -> None:
    http, client = client_of(records)
    async with http, client:
        options = EngineOptions(concurrency=1, checkpoint_interval=0)
        job = CustomersJob(chunk_size=100)  # one unit: the page is read once
        await run_export(job, client, out, format=format, options=options)


async def plain(records: list[Any], format: Format) -> bytes:
    """The plain path: the public paginator, then ``to_dict`` of each model."""
    http, client = client_of(records)
    async with http, client:
        page = await client.external_contact.batch_get_by_user(MEMBERS, limit=100)
        dicts = [to_dict(item) for item in page.items]
    if format == "jsonl":
        return JsonlEncoder().encode(dicts)
    encoder = CsvEncoder(CustomersJob().table(), TableOptions())
    return encoder.header() + encoder.encode(dicts)


@pytest.mark.parametrize("format", ["jsonl", "csv"])
def test_the_export_writes_the_same_bytes_as_the_plain_path(format: Format, tmp_path: Path) -> None:
    out = tmp_path / f"out.{format}"
    anyio.run(export, ODD_RECORDS, out, format)
    fast = out.read_bytes()
    assert fast == anyio.run(plain, ODD_RECORDS, format)
    if format == "jsonl":
        lines = fast.decode().splitlines()
        assert len(lines) == len(ODD_RECORDS)
        for line, sent in zip(lines, ODD_RECORDS, strict=True):
            assert list(json_differences(sent, json.loads(line))) == []


def test_a_record_the_model_cannot_read_stops_the_export_and_names_its_path(
    tmp_path: Path,
) -> None:
    broken = {"external_contact": {"external_userid": "wmX"}, "follow_info": {"userid": 7}}
    with pytest.raises(StructureError) as caught:
        anyio.run(export, [*ODD_RECORDS, broken], tmp_path / "out.jsonl", "jsonl")
    assert any(
        e.endswith("@ $.external_contact_list[3].follow_info.userid") for e in caught.value.errors
    ), caught.value.errors
    part = tmp_path / "out.jsonl.part"
    assert part.read_bytes() == b""  # nothing of the page was written


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(records=st.lists(model_dicts(CustomerWithFollowInfo, "optional"), max_size=4))
def test_wire_dicts_and_models_encode_to_the_same_bytes(records: list[dict[str, Any]]) -> None:
    models = [from_dict(CustomerWithFollowInfo, record) for record in records]
    dicts = [to_dict(model) for model in models]
    assert JsonlEncoder().encode(records) == JsonlEncoder().encode(dicts)
    encoder = CsvEncoder(CustomersJob().table(), TableOptions())
    assert encoder.encode(records) == encoder.encode(dicts)
