"""Cost per call of RedisTokenStore against MemoryTokenStore on the loopback core benchmark.

The canned-bytes server (``_canned_server.py``) answers gettoken and externalcontact/get;
a throwaway ``redis-server`` (``--redis-url`` to use another) holds the shared token.
Rounds alternate between a client on ``MemoryTokenStore`` and one on ``RedisTokenStore``
doing ``client.external_contact.get(...)``, at 1 and 64 concurrent callers; the table gives
medians, and the Redis round trips per call counted by the server (``INFO commandstats``).
The hot path takes the token from the process's local copy, so the target is a ratio
within 5% and ~0 round trips per call.

Run:  python benchmarks/token_store.py --requests 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
from collections.abc import Callable

import anyio
from _canned_server import serve
from _drive import UNPACED, drive, redis_server
from core_throughput import CUSTOMER, TOKEN
from redis.asyncio import Redis

from wecom_async import MemoryRateBudget, MemoryTokenStore, TokenStore, WeComClient
from wecom_async.redis import RedisTokenStore

BODIES = {
    "/cgi-bin/gettoken": json.dumps(TOKEN).encode(),
    "/cgi-bin/externalcontact/get": json.dumps(CUSTOMER, ensure_ascii=False).encode(),
}


async def _script_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return sum(
        int(entry.get("calls", 0))
        for name, entry in stats.items()
        if name in ("cmdstat_evalsha", "cmdstat_eval") and isinstance(entry, dict)
    )


async def _round(base: str, redis_url: str, n: int, callers: int) -> dict[str, tuple[float, ...]]:
    results: dict[str, tuple[float, ...]] = {}
    redis = Redis.from_url(redis_url)
    stores: dict[str, Callable[[], TokenStore]] = {
        "MemoryTokenStore": MemoryTokenStore,
        "RedisTokenStore": lambda: RedisTokenStore(redis),
    }
    for name, store in stores.items():
        # Unpaced: the default budget would hold both stores at WeCom's 150 calls a second.
        unpaced = MemoryRateBudget(UNPACED)
        async with WeComClient(
            "wwbench", "bench-secret", base_url=base, token_store=store(), rate_budget=unpaced
        ) as client:
            await client.external_contact.get("wm1")
            before = await _script_calls(redis)
            rps, cpu = await drive(n, callers, lambda: client.external_contact.get("wm1"))
            trips = (await _script_calls(redis) - before) / n
            results[name] = (rps, cpu, trips)
    await redis.flushdb()
    await redis.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    table: dict[tuple[str, int], list[tuple[float, ...]]] = {}
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(serve(BODIES))
        redis_url = args.redis_url or stack.enter_context(redis_server())
        for _ in range(args.rounds):
            for callers in (1, 64):
                for name, figures in anyio.run(
                    _round, base, redis_url, args.requests, callers
                ).items():
                    table.setdefault((name, callers), []).append(figures)
    columns = ["token store", "callers", "requests/s (median)", "CPU µs/request (median)"]
    print("| " + " | ".join([*columns, "Redis round trips/call"]) + " |")
    print("|---|---|---|---|---|")
    medians: dict[tuple[str, int], float] = {}
    for (name, callers), rows in sorted(table.items()):
        rps = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        trips = statistics.median(r[2] for r in rows)
        medians[(name, callers)] = rps
        print(f"| {name} | {callers} | {rps:,.0f} | {cpu:,.0f} | {trips:.4f} |")
    for callers in (1, 64):
        ratio = medians[("RedisTokenStore", callers)] / medians[("MemoryTokenStore", callers)]
        print(f"RedisTokenStore / MemoryTokenStore at {callers} callers: {ratio:.3f}x")


if __name__ == "__main__":
    main()
