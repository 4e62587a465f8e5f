"""An export started by the release that wrote keys in WeCom's order is not resumed.

Releases before checkpoint version 2 wrote each record's keys in the order WeCom sent
them; this one sorts them. Resuming such an export would leave one file with both orders,
so ``--resume`` refuses it with a message saying why, touching nothing, and a fresh run
writes the whole file in one order.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx
import pytest

from wecom_async import RetryPolicy, StructureError, WeComClient
from wecom_async._jsontext import json_lines
from wecom_async.export import Checkpoint, CheckpointError, CustomersJob, EngineOptions, run_export

MEMBERS = ["u1", "u2"]


def record(who: str) -> dict[str, object]:
    """Keys in WeCom's order, which is not sorted."""
    return {
        "external_contact": {"external_userid": "wm" + who, "name": "n", "type": 1},
        "follow_info": {"userid": who, "remark": "r", "createtime": 1, "add_way": 1},
    }


def handler(broken: bool) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/gettoken"):
            return httpx.Response(200, json={"errcode": 0, "access_token": "T", "expires_in": 7200})
        if path.endswith("/get_follow_user_list"):
            return httpx.Response(200, json={"errcode": 0, "follow_user": MEMBERS})
        who = json.loads(request.content)["userid_list"][0]
        if who == "u2" and broken:  # stops the export after u1's unit
            return httpx.Response(
                200, json={"errcode": 0, "external_contact_list": [{"external_contact": 1}]}
            )
        page = {"errcode": 0, "external_contact_list": [record(who)], "next_cursor": ""}
        return httpx.Response(200, json=page)

    return httpx.MockTransport(answer)


async def export(out: Path, *, broken: bool, resume: bool) -> None:
    http = httpx.AsyncClient(transport=handler(broken))
    client = WeComClient("wwcorp", "secret-release", http_client=http, retry=RetryPolicy.no_delay())
    async with http, client:
        options = EngineOptions(concurrency=1, checkpoint_interval=0)
        job = CustomersJob(chunk_size=1)
        await run_export(job, client, out, format="jsonl", resume=resume, options=options)


def test_a_checkpoint_of_the_release_before_sorted_keys_is_not_resumed(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    part, checkpoint = out.with_name("out.jsonl.part"), Checkpoint.path_for(out)
    with pytest.raises(StructureError):
        anyio.run(lambda: export(out, broken=True, resume=False))
    document = json.loads(checkpoint.read_bytes())
    assert document["version"] == 2
    document["version"] = 1  # as the earlier release wrote it
    checkpoint.write_text(json.dumps(document))
    before = (part.read_bytes(), checkpoint.read_bytes())
    assert before[0].count(b"\n") == 1  # u1's record

    with pytest.raises(CheckpointError) as caught:
        anyio.run(lambda: export(out, broken=False, resume=True))
    message = str(caught.value)
    assert "written by an earlier release" in message
    assert "start the export over (without --resume)" in message
    assert (part.read_bytes(), checkpoint.read_bytes()) == before  # nothing touched
    assert not out.exists()

    anyio.run(lambda: export(out, broken=False, resume=False))  # the way out it names
    assert out.read_bytes() == json_lines([record("u1"), record("u2")])
    assert not checkpoint.exists()
