"""RedisRateBudget against a real redis-server: the script, the shared block, many processes
on a loopback fake WeCom (zero 45009s, every window held, clock skew irrelevant), and Redis
killed and restarted under load."""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import struct
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
from wecom_async import MemoryRateBudget, RetryPolicy, WeComClient
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


class FakeTime:
    """A clock and a sleep that moves it, for a fallback budget."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


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


# -- what a hostile Redis, a broken configuration or an unlucky failover leaves behind --------

STATE = f"wecom:rate:{{{KEY}}}"
UNREACHABLE = "RedisRateBudget: Redis is unreachable"


async def _redis_now_us(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1_000_000 + int(micros)


def _outages(caplog: pytest.LogCaptureFixture) -> int:
    """Warnings that the budget went per process: Redis unreachable, or answering errors."""
    return sum(
        UNREACHABLE in record.getMessage() or "Redis error (" in record.getMessage()
        for record in caplog.records
    )


async def test_odd_block_lengths_are_cut_to_an_hour_and_sharing_goes_on(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """An infinite or absurd block (a 45009 under a broken policy) raised a bare
    OverflowError/ValueError that the outage guard took for an outage; a block key set by
    hand for ten days closed the API that long."""
    sleeps = Sleeps(stop_above=5.0)
    budget = RedisRateBudget(redis, limits=[(100, 1.0)], sleep=sleeps)
    assert await budget.refused("wwodd:/cgi-bin/inf", math.inf) == 3600.0
    assert await budget.refused("wwodd:/cgi-bin/huge", 1e17) == 3600.0
    assert await budget.refused("wwodd:/cgi-bin/nan", math.nan) == 0.0
    await budget.acquire("wwodd:/cgi-bin/nan")  # NaN blocked nothing
    assert 3_599_000 < await redis.pttl("wecom:rate:{wwodd:/cgi-bin/inf}:block") <= 3_600_000
    await redis.set(STATE + ":block", "1", px=10 * 86_400_000)
    other = RedisRateBudget(redis, limits=[(100, 1.0)], sleep=sleeps)
    with pytest.raises(Stop):
        await other.acquire(KEY)
    assert 3598.0 < sleeps.waits[-1] <= 3599.0  # an hour, less the second ahead
    assert await redis.pttl(STATE + ":block") <= 3_600_000  # and the key was cut too
    assert _outages(caplog) == 0


async def test_state_from_a_clock_ahead_does_not_block_the_fleet(redis: Redis) -> None:
    """A failover to a replica whose clock is behind (an NTP step, a restored snapshot):
    times written ten minutes ahead made every process wait ten minutes."""
    ahead = await _redis_now_us(redis) + 600_000_000
    await redis.hset(STATE, mapping={"tat": ahead, "last": ahead})
    ring = struct.pack(">d", ahead) * 3
    await redis.set(STATE + ":log:3:30", ring)
    sleeps = Sleeps(stop_above=5.0)
    budget = RedisRateBudget(redis, limits=[(100, 1.0), (3, 30.0)], sleep=sleeps)
    await budget.acquire(KEY)
    assert all(wait <= 1.1 for wait in sleeps.waits)
    assert await _slots(redis, KEY) <= await _redis_now_us(redis) + 1_100_000


async def test_a_queue_behind_a_burst_keeps_the_pace(redis: Redis) -> None:
    """A slot caught up from the burst leaves GCRA's time up to the burst's tolerance past
    the furthest slot; the script took that for a time written under a clock ahead and
    dropped it, forgetting the pace: 30 callers of a budget of 600 a minute with a burst
    of 10 all went within 0.13 s, not over 2 s (default limits: about 560 calls a second
    for a queue of 1,000, not 150)."""
    budget = RedisRateBudget(redis, limits=[(600, 60.0)], burst=10)
    start = await _redis_now_us(redis)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for _ in range(30):
                group.start_soon(budget.acquire, KEY)
    # The burst of 10 at once, then one slot per interval: the 30th at least 20 later.
    assert await _slots(redis, KEY) - start >= 20 * budget.pace.interval * 1e6 - 1
    state = await redis.hgetall(STATE)
    assert float(state[b"tat"]) - float(state[b"last"]) == pytest.approx(
        budget.pace.tolerance * 1e6 + budget.pace.interval * 1e6
    )


@pytest.mark.parametrize("tat", ["1e300", "inf", "-inf", "nan", "abc", "0x7fffffffffffffff"])
async def test_a_nonsense_time_in_the_state_is_ignored(
    redis: Redis, caplog: pytest.LogCaptureFixture, tat: str
) -> None:
    """tat = 1e300 made the script answer a negative wait: a bare ValueError from sleep."""
    await redis.hset(STATE, mapping={"tat": tat, "last": tat})
    sleeps = Sleeps(stop_above=5.0)
    await RedisRateBudget(redis, limits=[(100, 1.0)], sleep=sleeps).acquire(KEY)
    assert all(0 <= wait <= 1.1 for wait in sleeps.waits)
    assert _outages(caplog) == 0


async def _garbage(redis: Redis, kind: str) -> None:
    ring = STATE + ":log:5:30"
    if kind == "state is a string":
        await redis.delete(STATE)
        await redis.set(STATE, "x")
    elif kind == "ring is a hash":
        await redis.delete(ring)
        await redis.hset(ring, "a", "b")
    elif kind == "block is a list":
        await redis.rpush(STATE + ":block", "x")
    else:
        await redis.hset(STATE, ring, kind.removeprefix("position "))


@pytest.mark.parametrize(
    "kind",
    [
        "state is a string",
        "ring is a hash",
        "block is a list",
        "position -1",
        "position 1.5",
        "position nan",
        "position 5",
        "position x",
    ],
)
async def test_garbage_at_a_key_is_cleared_not_failed_on(
    redis: Redis, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """A key of the wrong type made every call fail with WRONGTYPE: each process on its own
    for good. A ring position that is not a whole number in range read the wrong send
    (-1: the latest, so a wait of a whole window) or a misaligned 8 bytes."""
    limits = [(100, 1.0), (5, 30.0)]
    first = RedisRateBudget(redis, limits=limits)
    for _ in range(5):
        await first.acquire(KEY)  # the ring is full
    await _garbage(redis, kind)
    sleeps = Sleeps(stop_above=5.0)
    second = RedisRateBudget(redis, limits=limits, sleep=sleeps)  # another process
    if kind == "ring is a hash" or kind.startswith("position"):
        await second.acquire(KEY)  # the ring's order is unknown: it starts again
        assert await redis.strlen(STATE + ":log:5:30") == 8
    else:
        with pytest.raises(Stop):  # the ring is still there and still binds
            await second.acquire(KEY)
        assert 28.0 < sleeps.waits[-1] < 29.5
    assert await second.refused(KEY, 40.0) == pytest.approx(40.0, abs=0.1)
    assert await redis.type(STATE) in (b"hash", b"none")  # never the garbage
    assert _outages(caplog) == 0


@pytest.mark.parametrize("reply", [[0, 5], [1, 10**13], [2, 0], [1, -3], [b"x", 0], None, [1]])
async def test_an_answer_that_makes_no_sense_is_taken_for_an_outage(
    redis: Redis, caplog: pytest.LogCaptureFixture, reply: object
) -> None:
    """What another script under the same name, or a proxy, might answer: the process
    paces itself and the operator is told, instead of a bare ValueError from sleep()."""
    budget = RedisRateBudget(redis, limits=[(100, 1.0)], sleep=Sleeps(stop_above=0.0))

    async def answer(**_: object) -> object:
        return reply

    budget._acquire = answer  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        await budget.acquire(KEY)
    assert _outages(caplog) == 1


LIMITS = [(1000, 1.0), (100, 60.0)]  # a minute and an hour, the hour scaled down


@pytest.mark.parametrize("how", ["killed", "restarted empty"])
async def test_a_process_never_forgets_its_own_sends(redis_server: RedisServer, how: str) -> None:
    """One process spends the long window's 100 calls through Redis; then Redis dies, or
    comes back empty. Its fallback started empty, and Redis forgot: it sent a second
    window at once, twice the limit."""
    sleeps = Sleeps(stop_above=5.0)
    budget = RedisRateBudget(
        Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1),
        limits=LIMITS,
        retry_after=0.0,
        sleep=sleeps,
    )
    for _ in range(100):
        await budget.acquire(KEY)
    assert sleeps.waits == [] or max(sleeps.waits) < 1.0
    if how == "killed":
        redis_server.kill()
    else:
        redis_server.restart()
    with pytest.raises(Stop):
        await budget.acquire(KEY)
    assert 55.0 < sleeps.waits[-1] <= 60.0  # until the first of the 100 is a minute old


async def test_the_fallback_given_is_told_of_every_send(redis: Redis) -> None:
    time = FakeTime()
    fallback = MemoryRateBudget(LIMITS, clock=time, sleep=time.sleep)
    budget = RedisRateBudget(redis, limits=LIMITS, fallback=fallback)
    for _ in range(100):
        await budget.acquire(KEY)
    await fallback.acquire(KEY)  # what the fallback would do if Redis went now
    assert sum(time.slept) == pytest.approx(60.0, abs=0.2)


@pytest.mark.parametrize("whose", ["this process's", "another process's"])
async def test_a_block_heard_of_from_redis_survives_an_outage(
    redis_server: RedisServer, whose: str
) -> None:
    sleeps = Sleeps(stop_above=5.0)
    budget = RedisRateBudget(
        Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1),
        limits=[(100, 1.0)],
        retry_after=0.0,
        sleep=sleeps,
    )
    if whose == "this process's":
        await budget.refused(KEY, 30.0)
    else:
        async with Redis.from_url(redis_server.url) as redis:
            await RedisRateBudget(redis, limits=[(100, 1.0)]).refused(KEY, 30.0)
        with pytest.raises(Stop):
            await budget.acquire(KEY)  # Redis tells of the block
    redis_server.kill()
    with pytest.raises(Stop):
        await budget.acquire(KEY)  # the process still knows
    assert 28.0 < sleeps.waits[-1] <= 30.0


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
    block = 2.0  # seconds the 45009 blocks the API: well past the 0.7 s the fleet's calls span
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
            rate_limit_delay=block,
            attempts=2,
        )
    assert sorted(t.get("ok", 0) for t in tallies) == [5, 5, 5]
    answered = [(r.at, r) for r in fake.requests if r.path == PATH]
    refused_at = answered[0][0]
    later = [at - refused_at for at, _ in answered[1:]]
    # Requests already on their way when the 45009 came back (tens of ms, more on a loaded
    # machine) aside, nobody sent until the block ended: the others waited for it instead
    # of meeting 45009.
    # At the budget's 20 a second the 15 requests span 0.7 s: had the block not held, some
    # would land between half a second and the block's end.
    assert len(later) == 15
    assert sum(1 for delay in later if 0.5 < delay < block) == 0
    assert sum(1 for delay in later if delay >= block) >= 5


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
    assert sum("the rate budget is per process until Redis answers" in m for m in messages) == 1
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
