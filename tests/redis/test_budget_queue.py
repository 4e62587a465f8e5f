"""RedisRateBudget's callers of one process waiting for a far slot queue in front of Redis:
one round trip per question, and only the first waiting caller asks (they polled Redis in
a herd: a round trip per waiting caller per slot)."""

from __future__ import annotations

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
