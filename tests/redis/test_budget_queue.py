"""RedisRateBudget's callers of one process waiting for a far slot queue in front of Redis:
one round trip per question, and only the first waiting caller asks (they polled Redis in
a herd: a round trip per waiting caller per slot)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import anyio
from redis.asyncio import Redis

from tests.redis_server import RedisServer
from wecom_async.redis import RedisRateBudget

KEY = "wwqueue:/cgi-bin/x"
#: The commands a client sends; those a script runs inside Redis are not round trips.
SENT = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_script|load")


async def _round_trips(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return sum(int(stats[name]["calls"]) for name in SENT if name in stats)


class CountedSleep:
    """``anyio.sleep``, counting the waits (Redis' clock is real: so are the waits)."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, seconds: float) -> None:
        self.count += 1
        await anyio.sleep(seconds)


async def test_waiting_callers_ask_redis_in_turn_not_in_a_herd(redis_server: RedisServer) -> None:
    """300 callers of one process at once behind 100 calls a second (3 s of slots, the
    last 200 more than a second away). Each waiting caller woke again and again before
    (about 6.5 sleeps and 3 round trips per caller here, more the longer the queue); now
    the first one alone polls, the others ask in turn: about one wake-up per caller and
    two round trips (one at once, one in turn)."""
    n = 300
    sleep = CountedSleep()
    async with Redis.from_url(redis_server.url) as redis:
        budget = RedisRateBudget(redis, limits=[(100, 1.0)], burst=1, sleep=sleep)
        before = await _round_trips(redis)
        done = 0

        async def caller() -> None:
            nonlocal done
            await budget.acquire(KEY)
            done += 1

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for _ in range(n):
                    group.start_soon(caller)
        trips = await _round_trips(redis) - before
    assert done == n
    assert sleep.count <= 3 * n
    assert trips <= 2.5 * n


async def test_a_first_wave_asks_redis_one_at_a_time_in_arrival_order(
    redis_server: RedisServer,
) -> None:
    """300 callers of one process arriving together, nobody queued yet. Each asked Redis
    at once before (nobody saw a queue while the first round trip was out): 300 script
    calls in flight, about 50 connections opened, and the slots went in the order the
    replies came back. Now the first caller opens the queue before it asks: one script
    call at a time on one connection, asked (so slots taken) in arrival order.

    (Sends follow the slots, but a reply delayed more than the 5 ms between two slots,
    on a busy machine, may wake its caller after the next one: the order asserted is
    the order of the questions, which is the order of the slots.)"""
    n = 300
    asking: ContextVar[int] = ContextVar("asking")
    asked: list[int] = []
    in_flight = peak = 0
    async with Redis.from_url(redis_server.url) as redis:
        before = int((await redis.info("stats"))["total_connections_received"])
        budget = RedisRateBudget.from_url(redis_server.url, limits=[(200, 1.0)], burst=1)
        script = budget._acquire

        async def counted(**kwargs: Any) -> Any:
            nonlocal in_flight, peak
            asked.append(asking.get())
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await script(**kwargs)
            finally:
                in_flight -= 1

        budget._acquire = counted  # type: ignore[assignment]
        done = 0

        async def caller(number: int) -> None:
            nonlocal done
            asking.set(number)
            await budget.acquire(KEY)
            done += 1

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for number in range(n):
                    group.start_soon(caller, number)
        await budget.aclose()
        opened = int((await redis.info("stats"))["total_connections_received"]) - before
    assert done == n
    assert peak == 1
    assert opened == 1  # the budget's one connection
    # Each caller's first question in arrival order; a queue's head may ask twice.
    assert list(dict.fromkeys(asked)) == list(range(n))
    assert n <= len(asked) <= 2 * n
