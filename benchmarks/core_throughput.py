"""Throughput and CPU per request of ``client.external_contact.get``: the SDK against raw loops.

A canned-bytes loopback server (``_canned_server``: nginx if present, else a small asyncio
server) answers gettoken and externalcontact/get. In this process, rounds alternate
between five clients doing the same GET, at 1 and 64 concurrent callers, so that all are
measured side by side under the same machine noise; the table gives medians over rounds:

* raw httpx: ``httpx.AsyncClient`` (its default pool) and ``json.loads``;
* wecom_async: ``WeComClient`` on its default transport (``ShardedTransport``);
* raw httpx+aiohttp: ``httpx.AsyncClient`` on ``httpx_aiohttp.AiohttpTransport``, ``json.loads``;
* wecom_async aiohttp: ``WeComClient(transport="aiohttp")``;
* raw aiohttp: ``aiohttp.ClientSession`` and ``json.loads`` (the ceiling, for reference).

The SDK calls also check the envelope, add the token and structure the answer into
``CustomerDetail``; the raw loops only parse JSON.

Run:  python benchmarks/core_throughput.py --requests 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import anyio
import httpx
from httpx_aiohttp import AiohttpTransport

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _canned_server import serve
from _drive import UNPACED, drive

from wecom_async import MemoryRateBudget, WeComClient

CUSTOMER = {
    "errcode": 0,
    "errmsg": "ok",
    "external_contact": {
        "external_userid": "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA",
        "name": "李四",
        "type": 2,
        "gender": 1,
        "corp_name": "腾讯",
        "external_profile": {"external_attr": [{"type": 0, "name": "n", "text": {"value": "v"}}]},
    },
    "follow_user": [
        {
            "userid": f"user{i}",
            "remark": "李部长",
            "createtime": 1525779812,
            "tags": [{"group_name": "g", "tag_name": "t", "type": 1, "tag_id": "etA"}],
            "add_way": 1,
        }
        for i in range(3)
    ],
}
TOKEN = {"errcode": 0, "errmsg": "ok", "access_token": "BENCH-TOKEN", "expires_in": 7200}


PATH = "/cgi-bin/externalcontact/get"
PARAMS = {"access_token": "BENCH-TOKEN", "external_userid": "wm1"}
CLIENTS = ("raw httpx", "wecom_async", "raw httpx+aiohttp", "wecom_async aiohttp", "raw aiohttp")
One = Callable[[], Awaitable[object]]


async def _raw_httpx(http: httpx.AsyncClient, n: int, callers: int) -> tuple[float, float]:
    async def one() -> object:
        response = await http.get(PATH, params=PARAMS)
        return json.loads(response.content)

    await one()
    return await drive(n, callers, one)


async def _sdk(client: WeComClient, n: int, callers: int) -> tuple[float, float]:
    async def one() -> object:
        return await client.external_contact.get("wm1")

    await one()
    return await drive(n, callers, one)


async def _round(base: str, n: int, callers: int, name: str) -> tuple[float, float]:
    if name == "raw httpx":
        async with httpx.AsyncClient(base_url=base) as http:
            return await _raw_httpx(http, n, callers)
    if name == "raw httpx+aiohttp":
        async with httpx.AsyncClient(base_url=base, transport=AiohttpTransport()) as http:
            return await _raw_httpx(http, n, callers)
    if name == "raw aiohttp":
        async with aiohttp.ClientSession(base_url=base) as session:

            async def one() -> object:
                async with session.get(PATH, params=PARAMS) as response:
                    return json.loads(await response.read())

            await one()
            return await drive(n, callers, one)
    transport = "aiohttp" if name.endswith("aiohttp") else "httpx"
    # The default budget would pace this loop at WeCom's 150 calls a second per API: keep its
    # cost (a budget is always there) but not its pace.
    unpaced = MemoryRateBudget(UNPACED)
    async with WeComClient(
        "wwbench", "bench-secret", base_url=base, transport=transport, rate_budget=unpaced
    ) as c:
        return await _sdk(c, n, callers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bodies = {
        "/cgi-bin/gettoken": json.dumps(TOKEN).encode(),
        PATH: json.dumps(CUSTOMER, ensure_ascii=False).encode(),
    }
    table: dict[tuple[str, int], list[tuple[float, float]]] = {}
    with serve(bodies) as base:
        for _ in range(args.rounds):
            for callers in (1, 64):
                for name in CLIENTS:
                    figures = anyio.run(_round, base, args.requests, callers, name)
                    table.setdefault((name, callers), []).append(figures)
    print("| client | callers | requests/s (median) | CPU µs/request (median) |")
    print("|---|---|---|---|")
    rps: dict[tuple[str, int], float] = {}
    for callers in (1, 64):
        for name in CLIENTS:
            rows = table[(name, callers)]
            rps[(name, callers)] = statistics.median(r for r, _ in rows)
            cpu = statistics.median(c for _, c in rows)
            print(f"| {name} | {callers} | {rps[(name, callers)]:,.0f} | {cpu:,.0f} |")
    print()
    for callers in (1, 64):
        for sdk, raw in (
            ("wecom_async", "raw httpx"),
            ("wecom_async aiohttp", "raw httpx+aiohttp"),
            ("wecom_async aiohttp", "wecom_async"),
        ):
            ratio = rps[(sdk, callers)] / rps[(raw, callers)]
            print(f"- {sdk} / {raw} at {callers} caller(s): {ratio:.2f}x")


if __name__ == "__main__":
    main()
