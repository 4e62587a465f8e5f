"""Outage: Redis failures fall back to per-process state, one warning per outage, then resume."""

from __future__ import annotations

import logging

import pytest
from redis.asyncio import Redis

from tests.redis_server import RedisServer
from wecom_async.redis import Outage


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_an_outage_falls_back_warns_once_and_resumes_when_redis_is_back(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    outage = Outage("TestPiece", retry_after=5.0, clock=clock)
    redis = Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1)
    shared_calls = 0

    async def shared() -> str:
        nonlocal shared_calls
        shared_calls += 1
        return "shared" if await redis.ping() else "?"

    async def local() -> str:
        return "local"

    try:
        assert await outage.run(shared, local) == "shared"
        redis_server.kill()
        with caplog.at_level(logging.WARNING, logger="wecom_async"):
            answers = [await outage.run(shared, local) for _ in range(5)]
        assert answers == ["local"] * 5
        assert outage.down
        # Only the first call tried Redis: the others rest until retry_after has passed.
        assert shared_calls == 2
        warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(warnings) == 1
        assert "TestPiece" in warnings[0].getMessage()

        redis_server.start()
        assert await outage.run(shared, local) == "local"  # still resting: no probe yet
        clock.now += 5.0
        assert await outage.run(shared, local) == "shared"
        assert not outage.down
        assert any("answers again" in r.getMessage() for r in caplog.records)
    finally:
        await redis.aclose()


async def test_errors_that_are_not_outages_propagate() -> None:
    outage = Outage("TestPiece")

    async def shared() -> str:
        raise KeyError("a bug, not an outage")

    async def local() -> str:
        return "local"

    with pytest.raises(KeyError):
        await outage.run(shared, local)
    assert not outage.down


async def test_a_hung_redis_counts_as_an_outage_after_the_timeout() -> None:
    import anyio

    outage = Outage("TestPiece", timeout=0.01)

    async def shared() -> str:
        await anyio.sleep_forever()
        return "never"

    async def local() -> str:
        return "local"

    assert await outage.run(shared, local) == "local"
    assert outage.down
