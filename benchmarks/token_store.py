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
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator

import anyio
from _canned_server import free_port, serve
from core_throughput import CUSTOMER, TOKEN
from redis.asyncio import Redis

from wecom_async import MemoryTokenStore, TokenStore, WeComClient
from wecom_async.redis import RedisTokenStore

BODIES = {
    "/cgi-bin/gettoken": json.dumps(TOKEN).encode(),
    "/cgi-bin/externalcontact/get": json.dumps(CUSTOMER, ensure_ascii=False).encode(),
}


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on loopback, persistence off; yields its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is not installed; pass --redis-url")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        argv = [executable, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        argv += ["--appendonly", "no", "--dir", tmp]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait()


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
        async with WeComClient(
            "wwbench", "bench-secret", base_url=base, token_store=store()
        ) as client:
            await client.external_contact.get("wm1")
            before = await _script_calls(redis)
            rps, cpu = await _drive(n, callers, lambda: client.external_contact.get("wm1"))
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
