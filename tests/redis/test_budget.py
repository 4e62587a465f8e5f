"""RedisRateBudget against a real redis-server: the script, the shared block, many processes
on a loopback fake WeCom (zero 45009s, every window held, clock skew irrelevant), and Redis
killed and restarted under load."""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import anyio
import httpx
import pytest
from redis.asyncio import Redis

from tests.export.helpers import serve
from tests.redis_server import RedisServer
from wecom_async import RetryPolicy, WeComClient
from wecom_async.redis import RedisRateBudget
from wecom_async.testing import FakeClock, FakeWeCom

REPO = Path(__file__).resolve().parents[2]
PATH = "externalcontact/get_follow_user_list"
KEY = "wwbudget:/cgi-bin/x"


class Stop(Exception):
    """Raised by a recording sleep to end a wait that would be long."""


class Sleeps:
    """Records the waits the budget asks for; refuses (Stop) any wait above ``stop_above``."""

    def __init__(self, stop_above: float = 10.0) -> None:
        self.waits: list[float] = []
        self.stop_above = stop_above

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if seconds > self.stop_above:
            raise Stop(seconds)


@pytest.fixture
async def redis(redis_server: RedisServer) -> Iterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client  # type: ignore[misc]
    await client.aclose()


async def _slots(redis: Redis, key: str) -> float:
    last = await redis.hget(f"wecom:rate:{{{key}}}", "last")
    assert last is not None
    return float(last)


async def test_the_script_spaces_slots_exactly_on_redis_time(redis: Redis) -> None:
    """600 a minute with no burst: each reserved slot is 0.1 s after the one before, on
    Redis' clock, whatever the caller's clock says; another key is not affected."""
    sleeps = Sleeps()
    budget = RedisRateBudget(redis, limits=[(600, 60.0)], burst=1, sleep=sleeps)
    slots = []
    for _ in range(8):
        await budget.acquire(KEY)
        slots.append(await _slots(redis, KEY))
    gaps = [round(b - a) for a, b in itertools.pairwise(slots)]
    assert gaps == [100_000] * 7  # µs
    assert len(sleeps.waits) == 7  # the first went at once, each other one waited its turn
    await budget.acquire("wwbudget:/cgi-bin/other")
    assert len(sleeps.waits) == 7


async def test_a_longer_window_is_exact_and_a_far_slot_is_not_reserved(redis: Redis) -> None:
    sleeps = Sleeps(stop_above=5.0)
    budget = RedisRateBudget(redis, limits=[(100, 1.0), (3, 30.0)], sleep=sleeps)
    for _ in range(3):
        await budget.acquire(KEY)
    other = RedisRateBudget(redis, limits=[(100, 1.0), (3, 30.0)], sleep=sleeps)
    with pytest.raises(Stop):
        await other.acquire(KEY)  # the 4th, in another process, waits for the 1st to be 30 s old
    assert sleeps.waits[-1] == pytest.approx(29.0, abs=0.5)  # 30 s, less the second ahead
    with pytest.raises(Stop):
        await budget.acquire(KEY)  # the process that sent them knows it without asking
    assert sleeps.waits[-1] == pytest.approx(30.0, abs=0.5)
    log = await redis.get(f"wecom:rate:{{{KEY}}}:log:3:30")
    assert log is not None
    assert len(log) == 3 * 8


async def test_a_45009_blocks_the_key_for_every_budget_sharing_redis(redis: Redis) -> None:
    first = RedisRateBudget(redis, limits=[(1000, 60.0)])
    sleeps = Sleeps(stop_above=1.0)
    second = RedisRateBudget(redis, limits=[(1000, 60.0)], sleep=sleeps)
    assert await first.refused(KEY, 60.0) == pytest.approx(60.0, abs=0.1)
    assert await second.refused(KEY, 5.0) == pytest.approx(60.0, abs=0.1)  # the longer stays
    with pytest.raises(Stop):
        await second.acquire(KEY)
    assert sleeps.waits[-1] == pytest.approx(59.0, abs=0.5)
    await second.acquire("wwbudget:/cgi-bin/other")  # another API is open


def test_the_password_is_never_shown(redis_server: RedisServer) -> None:
    url = f"redis://:Redis-Pw-93kq-long-enough@127.0.0.1:{redis_server.port}/0"
    budget = RedisRateBudget.from_url(url, limits=[(10, 1.0)])
    assert "Redis-Pw-93kq-long-enough" not in repr(budget)
    from wecom_async._logging import redact

    assert "Redis-Pw-93kq-long-enough" not in redact(f"connecting to {url} failed")


def test_bad_limits_are_refused(redis_server: RedisServer) -> None:
    for limits in ([], [(0, 1.0)], [(5, 0.0)]):
        with pytest.raises(ValueError):
            RedisRateBudget.from_url(redis_server.url, limits=limits)


# -- many processes ----------------------------------------------------------------------


def _workers(
    base_url: str,
    redis_url: str,
    fake: FakeWeCom,
    *,
    calls: int,
    limits: Sequence[tuple[int, float]],
    skews: Sequence[float],
    rate_limit_delay: float = 60.0,
    attempts: int = 1,
) -> list[dict[str, int]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.redis.budget_worker",
                json.dumps(
                    {
                        "base_url": base_url,
                        "redis_url": redis_url,
                        "corp_id": fake.corp_id,
                        "secret": fake.secret,
                        "calls": calls,
                        "limits": limits,
                        "skew": skew,
                        "rate_limit_delay": rate_limit_delay,
                        "attempts": attempts,
                    }
                ),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for skew in skews
    ]
    tallies = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        tallies.append(json.loads(out.decode().strip().splitlines()[-1]))
    return tallies


def _most_in_any(times: list[float], seconds: float) -> int:
    """The most requests that any stretch of ``seconds`` holds."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_four_processes_with_skewed_clocks_share_both_windows_with_no_45009(
    redis_server: RedisServer,
) -> None:
    """WeCom's minute and hour, scaled down to 1 s and 10 s. Four processes, two of them
    with clocks 1.5 s off, share a budget of 25 a second and 100 per 10 s; the fake allows
    50 a second (room for a loaded machine delaying some requests and bunching them) and
    110 per 10 s: 120 calls paced by the short window alone would break it."""
    fake = FakeWeCom(clock=FakeClock(real_time=True), rate_limits=[(50, 1.0), (110, 10.0)])
    fake.seed(staff=2, customers_per_staff=1, seed=3)
    with serve(fake) as base_url:
        tallies = _workers(
            base_url,
            redis_server.url,
            fake,
            calls=30,
            limits=[(25, 1.0), (100, 10.0)],
            skews=[-1.5, 0.0, 0.0, 1.5],
        )
    assert tallies == [{"ok": 30}] * 4  # no retries allowed: any 45009 would show here
    times = [r.at for r in fake.requests if r.path == PATH]
    assert len(times) == 120
    assert _most_in_any(times, 1.0) <= 50
    assert _most_in_any(times, 10.0) <= 110
    # The long window did bind: the last 20 calls waited for the first ones to age out
    # (the short window alone would have sent all 120 within 5 s).
    assert max(times) - min(times) >= 9.5


def test_a_45009_in_one_process_blocks_the_api_in_the_others(redis_server: RedisServer) -> None:
    fake = FakeWeCom(clock=FakeClock(real_time=True))
    fake.seed(staff=2, customers_per_staff=1, seed=3)
    fake.inject(PATH, errcode=45009)  # the first request of the fleet is refused
    with serve(fake) as base_url:
        tallies = _workers(
            base_url,
            redis_server.url,
            fake,
            calls=5,
            limits=[(20, 1.0)],
            skews=[0.0, 0.0, 0.0],
            rate_limit_delay=3.0,
            attempts=2,
        )
    assert sorted(t.get("ok", 0) for t in tallies) == [5, 5, 5]
    answered = [(r.at, r) for r in fake.requests if r.path == PATH]
    refused_at = answered[0][0]
    later = [at - refused_at for at, _ in answered[1:]]
    # Requests already on their way when the 45009 came back (tens of ms, more on a loaded
    # machine) aside, nobody sent until the block ended: the others waited for it instead
    # of meeting 45009.
    assert len(later) == 15
    assert sum(1 for delay in later if 0.5 < delay < 3.0) == 0
    assert sum(1 for delay in later if delay >= 3.0) >= 12


async def test_redis_killed_and_restarted_under_load(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Calls go on through the per-process fallback, with one warning; once Redis is back
    the budget is shared again (its keys reappear)."""
    fake = FakeWeCom()
    fake.seed(staff=2, customers_per_staff=1, seed=3)
    budget = RedisRateBudget(
        Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1),
        limits=[(1000, 1.0)],
        retry_after=0.05,
    )
    http = httpx.AsyncClient(transport=fake.transport())
    client = WeComClient(
        fake.corp_id,
        fake.secret,
        http_client=http,
        rate_budget=budget,
        retry=RetryPolicy.no_delay(max_attempts=1),
    )
    key = f"wecom:rate:{{{fake.corp_id}:/cgi-bin/{PATH}}}"

    async def shared() -> bool:
        async with Redis.from_url(redis_server.url) as probe:
            return bool(await probe.exists(key))

    async def load(n: int) -> None:
        async with anyio.create_task_group() as group:
            for _ in range(n):
                group.start_soon(client.external_contact.get_follow_user_list)

    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        async with client:
            await load(20)
            assert await shared()
            redis_server.kill()
            await load(50)  # no Redis: every call still goes
            redis_server.start()  # empty: nothing persisted
            await anyio.sleep(0.1)  # past retry_after
            await load(20)
            assert await shared()  # shared again
    assert fake.calls(PATH) == 90
    messages = [r.getMessage() for r in caplog.records]
    assert sum("RedisRateBudget: Redis is unreachable" in m for m in messages) == 1
    assert sum("RedisRateBudget: Redis answers again" in m for m in messages) == 1


# -- the export command --------------------------------------------------------------------


def test_the_export_command_shares_the_budget_through_redis_url(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """``wecom-async export --redis-url`` paces through Redis (the budget's keys for the
    export's API appear there) and exports every pair."""
    from tests.export.helpers import CORP_ID, SECRET, cli_env, expected_pairs, read_pairs, run_cli

    fake = FakeWeCom(CORP_ID, SECRET, clock=FakeClock(real_time=True))
    fake.seed(staff=3, customers_per_staff=5, seed=4)
    out = tmp_path / "customers.jsonl"
    with serve(fake) as base_url:
        result = run_cli(
            "export",
            "customers",
            "--base-url",
            base_url,
            "--corp-id",
            CORP_ID,
            "--secret",
            SECRET,
            "-o",
            str(out),
            "--redis-url",
            redis_server.url,
            "--quiet",
            cwd=tmp_path,
            env={**cli_env(), "PYTHONPATH": str(REPO)},
        )
    assert result.returncode == 0, result.stderr
    assert set(read_pairs(out)) == expected_pairs(fake)

    async def keys() -> list[bytes]:
        async with Redis.from_url(redis_server.url) as redis:
            return sorted(await redis.keys("wecom:rate:*"))

    stored = anyio.run(keys)
    assert f"wecom:rate:{{{CORP_ID}:/cgi-bin/externalcontact/batch/get_by_user}}".encode() in stored


def test_a_bad_redis_url_is_a_usage_error_that_does_not_repeat_it(tmp_path: Path) -> None:
    from tests.export.helpers import run_cli

    result = run_cli(
        "export",
        "tags",
        "--sandbox",
        "--redis-url",
        "http://:Pw-in-url-9Kq27xZ0vLm@host/0",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--redis-url is not a Redis URL" in result.stderr
    assert "Pw-in-url" not in result.stderr + result.stdout
