"""Cost per call of the shared RedisRateBudget against the per-process MemoryRateBudget.

A canned-bytes server (``_canned_server.py``) answers ``gettoken`` and
``externalcontact/get`` on loopback; a throwaway ``redis-server`` (no persistence) holds
the shared budget. Rounds alternate between a client paced by a ``MemoryRateBudget`` and
one paced by a ``RedisRateBudget``, both with limits far above the request rate so that
only their cost shows, at 1 and 64 concurrent callers. Redis round trips per call are
read from the server's own ``INFO commandstats`` (every command it ran, script loads
included), not counted on our side: EVALSHA, EVAL and SCRIPT LOAD are what a client
sends, while the commands a script runs inside Redis are not round trips.

Run:  python benchmarks/rate_budget.py --requests 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).parent))
from _canned_server import free_port, serve

from wecom_async import MemoryRateBudget, RateBudget, WeComClient
from wecom_async.redis import RedisRateBudget

CUSTOMER = {
    "errcode": 0,
    "errmsg": "ok",
    "external_contact": {"external_userid": "wm1", "name": "李四", "type": 2},
    "follow_user": [{"userid": f"user{i}", "createtime": 1525779812} for i in range(3)],
}
TOKEN = {"errcode": 0, "errmsg": "ok", "access_token": "BENCH-TOKEN", "expires_in": 7200}
#: Far above the request rate: the budgets decide at once, only their cost is measured.
UNPACED = [(10**9, 60.0), (10**9, 3600.0)]


async def _drive(n: int, callers: int, one: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    wall, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as group:
        for _ in range(callers):
            group.start_soon(worker)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, cpu / n * 1e6


#: The commands a client sends (the ones a script runs inside Redis are counted apart).
_SENT = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_script|load", "cmdstat_script")


async def _round_trips(redis_url: str) -> int:
    async with Redis.from_url(redis_url) as redis:
        stats = await redis.info("commandstats")
    return sum(int(stats[name]["calls"]) for name in _SENT if name in stats)


async def _one(base: str, budget: RateBudget, n: int, callers: int) -> tuple[float, float]:
    async with WeComClient("wwbench", "bench-secret", base_url=base, rate_budget=budget) as client:
        await client.external_contact.get("wm1")
        return await _drive(n, callers, lambda: client.external_contact.get("wm1"))


async def _round(
    base: str, redis_url: str, n: int, callers: int
) -> dict[str, tuple[float, float, float]]:
    memory = await _one(base, MemoryRateBudget(UNPACED), n, callers)
    shared = RedisRateBudget.from_url(redis_url, limits=UNPACED)
    before = await _round_trips(redis_url)
    redis = await _one(base, shared, n, callers)
    trips = (await _round_trips(redis_url) - before) / (n + 2)  # + gettoken, the warm-up
    await shared.aclose()
    return {"MemoryRateBudget": (*memory, 0.0), "RedisRateBudget": (*redis, trips)}


def _redis_server(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    executable = shutil.which("redis-server")
    if executable is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    argv = [
        executable,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        folder,
    ]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    return process, f"redis://127.0.0.1:{port}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bodies = {
        "/cgi-bin/gettoken": json.dumps(TOKEN).encode(),
        "/cgi-bin/externalcontact/get": json.dumps(CUSTOMER, ensure_ascii=False).encode(),
    }
    table: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder, serve(bodies) as base:
        redis, redis_url = _redis_server(folder)
        try:
            for _ in range(args.rounds):
                for callers in (1, 64):
                    figures = anyio.run(_round, base, redis_url, args.requests, callers)
                    for name, row in figures.items():
                        table.setdefault((name, callers), []).append(row)
        finally:
            redis.terminate()
            redis.wait()
    print("| budget | callers | requests/s | CPU µs/request | Redis round trips/call |")
    print("|---|---|---|---|---|")
    for (name, callers), rows in table.items():
        rate = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        trips = statistics.median(r[2] for r in rows)
        print(f"| {name} | {callers} | {rate:,.0f} | {cpu:,.0f} | {trips:.2f} |")


if __name__ == "__main__":
    main()
