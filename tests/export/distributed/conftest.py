"""Fixtures of the distributed export's tests: a Redis client and a ledger with one export.

Export ``E`` (directory ``/tmp/x``): shards 0 and 1 of corp ``a``, shard 2 of corp ``b``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from taskiq import AsyncBroker

from tests.redis_server import RedisServer
from wecom_async.export.distributed import Ledger, ShardPlan, shard_broker


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, socket_timeout=10, socket_connect_timeout=10)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def ledger(redis: Redis) -> Ledger:
    ledger = Ledger(redis)
    plan = [
        ShardPlan("a", {"userids": ["u1"]}),
        ShardPlan("a", {"userids": ["u2"]}),
        ShardPlan("b", {"userids": ["v1"]}, size=3),
    ]
    assert await ledger.create(
        "E", kind="customers", directory="/tmp/x", request={}, corps=["a", "b"], shards=plan
    )
    return ledger


@pytest.fixture
async def broker(redis_server: RedisServer) -> AsyncIterator[AsyncBroker]:
    started = shard_broker(redis_server.url)
    await started.startup()
    try:
        yield started
    finally:
        await started.shutdown()
