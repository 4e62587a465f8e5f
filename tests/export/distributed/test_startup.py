"""A worker started while its Redis cannot be reached waits for it with one clear log
line, and serves shard tasks once Redis is up, instead of dying with a traceback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis

from tests.export.helpers import SECRET
from tests.redis_server import RedisServer
from wecom_async.export.distributed import (
    LeaseOptions,
    Ledger,
    ShardWorker,
    kick_shards,
    serve_worker,
    shard_broker,
)
from wecom_async.testing import FakeWeCom

from .test_damaged import create, factory


async def eventually(check: Callable[[], bool | Awaitable[bool]]) -> None:
    # Patience only: a loaded two-core machine running the suite in two workers has
    # been seen to need more than 20 s here; a worker that never serves still fails.
    with anyio.fail_after(60):
        while True:
            done = check()
            if done if isinstance(done, bool) else await done:
                return
            await anyio.sleep(0.01)


async def test_a_worker_started_before_its_redis_serves_once_redis_is_up(
    redis_server: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    redis_server.kill()
    fake = FakeWeCom("wwa", SECRET)
    fake.seed(staff=2, customers_per_staff=1, seed=2)
    async with Redis.from_url(redis_server.url, socket_connect_timeout=2) as redis:
        # A poll far longer than the test: only the shard task can run the shard.
        worker = ShardWorker(redis, [("a", factory(fake))], options=LeaseOptions(), poll=3600)
        async with anyio.create_task_group() as group:
            broker = shard_broker(redis_server.url, xread_block_ms=50)
            # Retries at most 0.2 s apart: a loaded machine's slow redis-server start must
            # not let the backoff grow past the test's patience.
            group.start_soon(
                lambda: serve_worker(broker, worker, startup_delay=0.01, max_startup_delay=0.2)
            )
            await eventually(lambda: "cannot reach the Redis of the shard tasks" in caplog.text)
            assert "Traceback" not in caplog.text
            redis_server.start()
            ledger = Ledger(redis)
            await create(ledger, "E", tmp_path)
            await redis.srem("wecom:export:active", "E")  # no sweep: the task alone
            kicker = shard_broker(redis_server.url)
            await kicker.startup()
            try:
                await kick_shards(kicker, "E", [0, 1])
            finally:
                await kicker.shutdown()
            await eventually(lambda: ledger.complete("E"))
            group.cancel_scope.cancel()
    assert "the Redis of the shard tasks answers; serving" in caplog.text
    assert caplog.text.count("cannot reach the Redis of the shard tasks") == 1
