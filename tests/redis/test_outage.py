"""Outage: Redis failures fall back to per-process state, one warning per outage, then resume."""

from __future__ import annotations

import logging

import anyio
import pytest
from redis.asyncio import Redis
from redis.exceptions import MaxConnectionsError, ResponseError

from tests.core.virtual_time import run_virtual
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


# -- deadlines, probes, busy pools (virtual time: the waits are exact, and take none) -------


class Hung:
    """A Redis operation that never answers until ``answer`` is set; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.answer = anyio.Event()

    async def __call__(self) -> str:
        self.calls += 1
        await self.answer.wait()
        return "shared"


async def _local() -> str:
    return "local"


def test_a_deadline_shorter_than_the_timeout_falls_back_in_time() -> None:
    async def main() -> tuple[str, float, bool]:
        hung = Hung()
        outage = Outage("TestPiece", timeout=10.0, probe=hung)
        start = anyio.current_time()
        with anyio.fail_after(1.0):  # the caller's deadline
            answer = await outage.run(hung, _local)
        return answer, anyio.current_time() - start, outage.down

    answer, waited, down = run_virtual(main)
    assert answer == "local"
    assert waited == pytest.approx(0.5)  # half the deadline, the rest left for the fallback
    assert not down  # not the full timeout: the probe decides (still waiting here)


def test_while_down_callers_wait_for_a_probe_at_most_a_quarter_of_timeout() -> None:
    async def main() -> None:
        clock = Clock()
        hung = Hung()
        outage = Outage("TestPiece", timeout=2.0, retry_after=5.0, clock=clock, probe=hung)
        assert await outage.run(hung, _local) == "local"  # waits the full timeout
        assert outage.down
        before = hung.calls
        start = anyio.current_time()
        # Resting: no probe, no wait, the operation itself never runs.
        assert [await outage.run(hung, _local) for _ in range(10)] == ["local"] * 10
        assert anyio.current_time() == start
        clock.now += 5.0  # a probe is due: the first callers wait for it a little
        assert await outage.run(hung, _local) == "local"
        assert anyio.current_time() - start == pytest.approx(0.5)
        assert await outage.run(hung, _local) == "local"  # the probe is old: no wait
        assert anyio.current_time() - start == pytest.approx(0.5)
        assert hung.calls == before + 1  # the probe only
        hung.answer.set()  # Redis answers the probe
        await anyio.sleep(0.05)
        assert not outage.down
        assert await outage.run(hung, _local) == "shared"
        await outage.aclose()

    run_virtual(main)


def test_a_busy_connection_pool_is_asked_again_not_taken_for_an_outage() -> None:
    async def main() -> None:
        outage = Outage("TestPiece", timeout=2.0)
        failures = 3

        async def busy() -> str:
            nonlocal failures
            if failures:
                failures -= 1
                raise MaxConnectionsError("Too many connections")
            return "shared"

        assert await outage.run(busy, _local) == "shared"
        assert not outage.down

    run_virtual(main)


async def test_an_error_answer_is_named_a_redis_error_not_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = Outage("TestPiece")

    async def refused() -> str:
        raise ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        assert await outage.run(refused, _local) == "local"
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("TestPiece: Redis error (ResponseError: WRONGTYPE")
