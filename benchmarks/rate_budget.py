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
import statistics
import sys
from pathlib import Path

import anyio
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).parent))
from _canned_server import serve
from _drive import UNPACED, drive, redis_server

from wecom_async import MemoryRateBudget, RateBudget, WeComClient
from wecom_async.redis import RedisRateBudget

CUSTOMER = {
    "errcode": 0,
    "errmsg": "ok",
    "external_contact": {"external_userid": "wm1", "name": "李四", "type": 2},
    "follow_user": [{"userid": f"user{i}", "createtime": 1525779812} for i in range(3)],
}
TOKEN = {"errcode": 0, "errmsg": "ok", "access_token": "BENCH-TOKEN", "expires_in": 7200}


#: The commands a client sends (the ones a script runs inside Redis are counted apart).
_SENT = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_script|load", "cmdstat_script")


async def _round_trips(redis_url: str) -> int:
    async with Redis.from_url(redis_url) as redis:
        stats = await redis.info("commandstats")
    return sum(int(stats[name]["calls"]) for name in _SENT if name in stats)


async def _one(base: str, budget: RateBudget, n: int, callers: int) -> tuple[float, float]:
    async with WeComClient("wwbench", "bench-secret", base_url=base, rate_budget=budget) as client:
        await client.external_contact.get("wm1")
        return await drive(n, callers, lambda: client.external_contact.get("wm1"))


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
    with serve(bodies) as base, redis_server() as redis_url:
        for _ in range(args.rounds):
            for callers in (1, 64):
                figures = anyio.run(_round, base, redis_url, args.requests, callers)
                for name, row in figures.items():
                    table.setdefault((name, callers), []).append(row)
    print("| budget | callers | requests/s | CPU µs/request | Redis round trips/call |")
    print("|---|---|---|---|---|")
    for (name, callers), rows in table.items():
        rate = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        trips = statistics.median(r[2] for r in rows)
        print(f"| {name} | {callers} | {rate:,.0f} | {cpu:,.0f} | {trips:.2f} |")


if __name__ == "__main__":
    main()
