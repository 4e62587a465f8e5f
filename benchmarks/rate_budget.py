"""Cost per call of the shared RedisRateBudget against the per-process MemoryRateBudget.

A canned-bytes server (``_canned_server.py``) answers ``gettoken`` and
``externalcontact/get`` on loopback; a throwaway ``redis-server`` (no persistence) holds
the shared budget. Rounds alternate between a client paced by a ``MemoryRateBudget`` and
one paced by a ``RedisRateBudget``, both with limits far above the request rate so that
only their cost shows, at 1 and 64 concurrent callers. Redis round trips per call are
read from the server's own ``INFO commandstats`` (every command it ran, script loads
included), not counted on our side: EVALSHA, EVAL and SCRIPT LOAD are what a client
sends, while the commands a script runs inside Redis are not round trips.

A second table queues ``--queued`` callers (1,000) at once behind each budget at its
default limits (150 a second after a burst of 30: about 6.5 s of slots, most of them more
than a second away), with the per-key queue (``after``) and with the loop it replaced, in
which every waiting caller polled for itself (``before``): CPU seconds, wake-ups (calls
of the budget's sleep) and Redis round trips for the whole queue.

Run:  python benchmarks/rate_budget.py --requests 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
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


Sleep = Callable[[float], Awaitable[None]]


async def _herd(ask: Callable[[], Awaitable[tuple[bool, float]]], sleep: Sleep) -> None:
    """The acquire loop before the per-key queue: every waiting caller asks again itself."""
    while True:
        reserved, wait = await ask()
        if reserved:
            if wait > 0:
                await sleep(wait)
            return
        await sleep(wait)


class _HerdMemory(MemoryRateBudget):
    """``MemoryRateBudget`` with the acquire loop it had before the per-key queue."""

    async def acquire(self, key: str) -> None:
        await _herd(lambda: self._ask(key), self._sleep)


class _HerdRedis(RedisRateBudget):
    """``RedisRateBudget`` with the acquire loop it had before the per-key queue."""

    async def acquire(self, key: str) -> None:
        await _herd(lambda: self._decide(key), self._sleep)


class _Wakes:
    """``anyio.sleep``, counting the calls."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, seconds: float) -> None:
        self.count += 1
        await anyio.sleep(seconds)


async def _queue(redis_url: str, name: str, callers: int) -> tuple[float, int, int, float]:
    """``callers`` callers of one key at once behind one budget: (CPU s, wake-ups, Redis
    round trips, wall s)."""
    wakes = _Wakes()
    budget: MemoryRateBudget | RedisRateBudget
    if name.startswith("Memory"):
        budget = (_HerdMemory if "before" in name else MemoryRateBudget)(sleep=wakes)
    else:
        kind = _HerdRedis if "before" in name else RedisRateBudget
        budget = kind.from_url(redis_url, prefix=f"bench:{name}:")
        budget._sleep = wakes
    before = await _round_trips(redis_url)
    wall, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as group:
        for _ in range(callers):
            group.start_soon(budget.acquire, "wwbench:/cgi-bin/externalcontact/get")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    trips = await _round_trips(redis_url) - before
    if isinstance(budget, RedisRateBudget):
        await budget.aclose()
    return cpu, wakes.count, trips, wall


def _queued(redis_url: str, callers: int) -> None:
    print()
    print("| budget, loop | callers | CPU s | wake-ups | Redis round trips | wall s |")
    print("|---|---|---|---|---|---|")
    for name in ("Memory before", "Memory after", "Redis before", "Redis after"):
        cpu, wakes, trips, wall = anyio.run(_queue, redis_url, name, callers)
        print(f"| {name} | {callers:,} | {cpu:.2f} | {wakes:,} | {trips:,} | {wall:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queued", type=int, default=1000)
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
    with redis_server() as redis_url:
        _queued(redis_url, args.queued)


if __name__ == "__main__":
    main()
