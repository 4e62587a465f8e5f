"""Throughput and CPU per request of ``client.external_contact.get`` versus raw httpx.

A separate process serves canned WeCom answers (gettoken, externalcontact/get) with
uvicorn on loopback. In this process, rounds alternate between the SDK and a raw
``httpx.AsyncClient`` loop doing the same GET and ``json.loads``, at 1 and 64 concurrent
callers, so that both are measured side by side under the same machine noise; the table
gives medians over the rounds.

Run:  python benchmarks/core_throughput.py --requests 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import statistics
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

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


def _serve(port: int) -> None:
    import uvicorn

    bodies = {
        "/cgi-bin/gettoken": json.dumps(TOKEN).encode(),
        "/cgi-bin/externalcontact/get": json.dumps(CUSTOMER, ensure_ascii=False).encode(),
    }

    async def app(
        scope: dict[str, object], receive: object, send: Callable[..., Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            return
        body = bodies.get(str(scope["path"]), b'{"errcode":404}')
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _drive(n: int, callers: int, one: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    wall, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as tg:
        for _ in range(callers):
            tg.start_soon(worker)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, cpu / n * 1e6


async def _round(base: str, n: int, callers: int) -> dict[str, tuple[float, float]]:
    results: dict[str, tuple[float, float]] = {}
    async with httpx.AsyncClient(base_url=base) as http:
        params = {"access_token": "BENCH-TOKEN", "external_userid": "wm1"}

        async def raw() -> object:
            response = await http.get("/cgi-bin/externalcontact/get", params=params)
            return json.loads(response.content)

        await raw()
        results["raw httpx"] = await _drive(n, callers, raw)
    # The default budget would pace this loop at WeCom's 150 calls a second per API: keep its
    # cost (a budget is always there) but not its pace.
    unpaced = MemoryRateBudget([(10**9, 60.0), (10**9, 3600.0)])
    async with WeComClient("wwbench", "bench-secret", base_url=base, rate_budget=unpaced) as client:
        await client.external_contact.get("wm1")
        results["wecom_async"] = await _drive(
            n, callers, lambda: client.external_contact.get("wm1")
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/cgi-bin/gettoken")
            break
        except httpx.TransportError:
            time.sleep(0.05)
    table: dict[tuple[str, int], list[tuple[float, float]]] = {}
    try:
        for _ in range(args.rounds):
            for callers in (1, 64):
                for name, figures in anyio.run(_round, base, args.requests, callers).items():
                    table.setdefault((name, callers), []).append(figures)
    finally:
        server.terminate()
    print("| client | callers | requests/s (median) | CPU µs/request (median) |")
    print("|---|---|---|---|")
    medians = {}
    for (name, callers), rows in sorted(table.items()):
        rps = statistics.median(r for r, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        medians[(name, callers)] = rps
        print(f"| {name} | {callers} | {rps:,.0f} | {cpu:,.0f} |")
    for callers in (1, 64):
        ratio = medians[("wecom_async", callers)] / medians[("raw httpx", callers)]
        print(f"\nwecom_async / raw httpx at {callers} caller(s): {ratio:.2f}x")
    scaling = medians[("wecom_async", 64)] / medians[("wecom_async", 1)]
    print(f"wecom_async at 64 callers / at 1 caller: {scaling:.2f}x")


if __name__ == "__main__":
    main()
