"""The rate budget in the core: MemoryRateBudget's pacing, its keys per corp and per API,
and the block every caller shares after a 45009."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Sequence

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.scripted import CORP_ID, ScriptedWeCom
from tests.core.virtual_time import run_virtual
from wecom_async import (
    MemoryRateBudget,
    RateLimitError,
    RetryPolicy,
    ValidationError,
    WeComClient,
)
from wecom_async.testing import FakeWeCom

PATH = "externalcontact/get_follow_user_list"
REFUSED = {"errcode": 45009, "errmsg": "api freq out of limit"}


class FakeTime:
    """A clock and a sleep that moves it, for the rate budget."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_budget_spaces_calls_per_path() -> None:
    time = FakeTime()
    budget = MemoryRateBudget([(600, 60.0)], burst=1, clock=time, sleep=time.sleep)  # one per 0.1 s
    for _ in range(4):
        await budget.acquire("/cgi-bin/a")
    await budget.acquire("/cgi-bin/b")  # another API has its own budget

    assert time.slept == pytest.approx([0.1, 0.1, 0.1])
    assert time.now == pytest.approx(0.3)


async def test_budget_lets_a_burst_catch_up_unused_slots() -> None:
    time = FakeTime()
    budget = MemoryRateBudget([(9_000, 60.0)], clock=time, sleep=time.sleep)
    assert budget.burst == 30
    for _ in range(30):
        await budget.acquire("/cgi-bin/a")
    assert time.slept == []  # a full bucket at the start
    await budget.acquire("/cgi-bin/a")
    assert time.slept == pytest.approx([budget.interval])
    time.now += 1.0  # nobody called for a second: the slots are saved, up to the burst
    for _ in range(30):
        await budget.acquire("/cgi-bin/a")
    assert len(time.slept) == 1
    await budget.acquire("/cgi-bin/a")
    assert len(time.slept) == 2


@pytest.mark.parametrize(("per_minute", "idle_every"), [(100, 7), (3_000, 40), (9_000, 500)])
async def test_budget_never_puts_more_than_n_calls_in_any_minute(
    per_minute: int, idle_every: int
) -> None:
    time = FakeTime()
    budget = MemoryRateBudget([(per_minute, 60.0)], clock=time, sleep=time.sleep)
    sent = []
    for i in range(3 * per_minute + 50):
        if i % idle_every == 0:
            time.now += 0.5  # callers pause now and then, saving slots for a burst
        await budget.acquire("/cgi-bin/x")
        sent.append(time.now)

    window = [sent[i + per_minute] - sent[i] for i in range(len(sent) - per_minute)]
    assert min(window) >= 60 - 1e-6  # any N + 1 calls span a minute at least


async def test_a_busy_caller_gets_the_whole_budget() -> None:
    time = FakeTime()
    budget = MemoryRateBudget([(9_000, 60.0)], clock=time, sleep=time.sleep)
    for _ in range(18_000):
        await budget.acquire("/cgi-bin/x")
    # (N + 1 - burst) per minute after the first burst: the price of the window guarantee.
    assert time.now == pytest.approx((18_000 - 30) * 60 / (9_000 + 1 - 30))
    assert 18_000 / time.now * 60 > 0.995 * 9_000


@pytest.mark.parametrize(
    ("windows", "burst"),
    [([], None), ([(0, 60.0)], None), ([(5, 0.0)], None), ([(5, -1.0)], None), ([(5, 1.0)], 6)],
)
def test_budget_refuses_nonsense(windows: list[tuple[int, float]], burst: int | None) -> None:
    with pytest.raises(ValueError):
        MemoryRateBudget(windows, burst=burst)


@pytest.mark.parametrize(
    ("limits", "burst"),
    [
        ([(math.inf, 60.0)], None),  # was a bare OverflowError
        ([(math.nan, 60.0)], None),  # was a bare ValueError
        ([(10, "60")], None),  # was a bare TypeError
        ([(1.9, 60.0)], None),  # was silently cut to 1 call
        ([(True, 60.0)], None),
        ([(10, math.nan)], None),
        ([(10, math.inf)], None),
        ([(10, 1e9)], None),  # a window of 30 years
        ([(10**10, 60.0)], None),  # beyond any use
        (None, None),
        ([10, 60.0], None),  # not pairs
        ([(10, 1.0), (100, 60.0), (100, 60.0)], None),  # one window twice
        ([(10, 1.0), (50, 1.0)], None),
        ([(10, 1.0)], 1.5),
        ([(10, 1.0)], True),
    ],
)
def test_odd_limits_are_a_validation_error(limits: object, burst: object) -> None:
    with pytest.raises(ValidationError):
        MemoryRateBudget(limits, burst=burst)  # type: ignore[arg-type]


def test_whole_numbers_of_calls_may_be_written_as_floats() -> None:
    assert MemoryRateBudget([(9e3, 60)]).limits == ((9_000, 60.0),)  # type: ignore[list-item]


async def test_a_block_is_never_longer_than_an_hour_or_the_longest_window() -> None:
    """An infinite, NaN or absurd block length (a policy, a caller) closed the key for
    good, or raised; it is cut to an hour (WeCom's longest block), or the longest window
    if that is longer, and NaN blocks nothing."""
    time = FakeTime()
    budget = MemoryRateBudget([(600, 60.0)], clock=time, sleep=time.sleep)
    assert await budget.refused("a", math.inf) == 3600.0
    assert await budget.refused("b", 1e17) == 3600.0
    assert await budget.refused("c", math.nan) == 0.0
    assert await budget.refused("d", -5.0) == 0.0
    await budget.acquire("c")
    await budget.acquire("d")
    assert time.slept == []
    await budget.acquire("a")
    assert time.slept == [3600.0 - 1.0, 1.0]  # waited the hour (the last second reserved)
    daily = MemoryRateBudget([(600, 60.0), (10_000, 86_400.0)], clock=time, sleep=time.sleep)
    assert await daily.refused("a", math.inf) == 86_400.0


def test_a_policy_with_an_odd_delay_is_refused_before_any_call() -> None:
    for field in ("base_delay", "max_delay", "rate_limit_delay"):
        for value in (math.inf, math.nan, 1e17, -1.0, True, "60"):
            with pytest.raises(ValidationError, match=field):
                RetryPolicy(**{field: value})  # type: ignore[arg-type]
    for value in (math.nan, 1.5, -0.1):
        with pytest.raises(ValidationError, match="jitter"):
            RetryPolicy(jitter=value)
    for value in (0, 2.0, True):
        with pytest.raises(ValidationError, match="max_attempts"):
            RetryPolicy(max_attempts=value)  # type: ignore[arg-type]
    assert RetryPolicy(rate_limit_delay=3600, jitter=1).rate_limit_delay == 3600


async def test_keys_idle_for_the_longest_window_are_forgotten() -> None:
    """A provider process paces many corps x paths: a key holds memory while a window can
    still hold it, and is forgotten once idle for the longest window, without forgetting
    what still binds."""
    time = FakeTime()
    budget = MemoryRateBudget([(2, 1.0), (3, 100.0)], clock=time, sleep=time.sleep)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for corp in range(20_000):
            await budget.acquire(f"ww{corp}:/cgi-bin/x")
        full = tracemalloc.get_traced_memory()[0] - before
        time.now = 100.0  # every key idle for the longest window
        await budget.acquire("busy")  # t = 100
        await budget.acquire("busy")
        await budget.acquire("busy")  # the hour's third call of "busy", at t = 101
        time.now = 199.5  # the sweep is due again: "busy" still binds, the rest is gone
        await budget.acquire("other")
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert full > 5_000_000  # 20,000 keys with a log each
    assert left < full / 50
    slept = len(time.slept)
    await budget.acquire("busy")  # its 4th call in 100 s waits for the 1st to age out
    assert time.slept[slept:] == [pytest.approx(200.0 - 199.5)]


def test_the_default_budget_is_below_both_wecom_windows() -> None:
    """WeCom allows 10,000 calls a minute and 150,000 an hour; the default keeps 10% spare."""
    assert MemoryRateBudget().limits == ((9_000, 60.0), (135_000, 3600.0))


def _breaches(sent: list[float], windows: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    """The windows that some stretch of the send times breaks: for ``(calls, seconds)``,
    ``calls + 1`` sends less than ``seconds`` apart (the stretch from the first to the
    last of them is a window holding ``calls + 1``)."""
    ordered = sorted(sent)
    return [
        (calls, seconds)
        for calls, seconds in windows
        if any(
            ordered[i + calls] - ordered[i] < seconds - 1e-9 for i in range(len(ordered) - calls)
        )
    ]


async def _busy(budget: MemoryRateBudget, time: FakeTime, calls: int) -> list[float]:
    """One caller that sends as fast as the budget lets it; the send times."""
    sent = []
    for _ in range(calls):
        await budget.acquire("/cgi-bin/x")
        sent.append(time.now)
    return sent


SMALL_WINDOWS = [(50, 1.0), (200, 10.0)]  # a minute and an hour, scaled down


async def test_a_long_run_respects_every_window_at_the_tighter_pace() -> None:
    time = FakeTime()
    sent = await _busy(MemoryRateBudget(SMALL_WINDOWS, clock=time, sleep=time.sleep), time, 4_000)

    assert _breaches(sent, SMALL_WINDOWS) == []
    # Not more careful than needed: each 10 s holds its 200 calls, sent at the short
    # window's pace (50 a second, 4 s), so 4,000 calls end just after 19 x 10 + 4 s:
    # 20 calls a second on average, the longer window's limit.
    assert sent[-1] == pytest.approx(19 * 10 + 199 / 50)
    assert len(sent) / sent[-1] > 20
    # The same caller under the short window alone breaks the long one: what the budget
    # did before it knew the hour.
    alone = FakeTime()
    unaware = await _busy(
        MemoryRateBudget(SMALL_WINDOWS[:1], clock=alone, sleep=alone.sleep), alone, 4_000
    )
    assert _breaches(unaware, SMALL_WINDOWS) == [(200, 10.0)]


async def test_a_short_run_goes_at_the_short_windows_pace() -> None:
    """150 calls fit the long window: they are paced by the short one only (50 a second),
    not spread over the long window's average (20 a second)."""
    time = FakeTime()
    sent = await _busy(MemoryRateBudget(SMALL_WINDOWS, clock=time, sleep=time.sleep), time, 150)
    assert sent[-1] == pytest.approx(149 / 50)


def test_concurrent_callers_reserve_slots_in_order() -> None:
    """600 callers arriving at one instant: those within a second of their slot reserve it
    before sleeping, the others wait and ask again; together they keep every window and
    the pace of one busy caller."""
    sent: list[float] = []

    async def main() -> None:
        budget = MemoryRateBudget(SMALL_WINDOWS)

        async def caller() -> None:
            await budget.acquire("/cgi-bin/x")
            sent.append(anyio.current_time())

        async with anyio.create_task_group() as group:
            for _ in range(600):
                group.start_soon(caller)

    run_virtual(main)
    assert _breaches(sent, SMALL_WINDOWS) == []
    assert max(sent) == pytest.approx(2 * 10 + 199 / 50)


@settings(max_examples=60)
@given(
    windows=st.lists(
        st.tuples(st.integers(1, 40), st.floats(0.5, 30.0)),
        min_size=1,
        max_size=3,
        unique_by=lambda limit: limit[1],
    ),
    gaps=st.lists(st.sampled_from([0.0, 0.0, 0.0, 0.01, 0.3, 2.0, 15.0]), min_size=1, max_size=300),
)
async def test_no_window_is_ever_broken(
    windows: list[tuple[int, float]], gaps: list[float]
) -> None:
    time = FakeTime()
    budget = MemoryRateBudget(windows, clock=time, sleep=time.sleep)
    sent = []
    for gap in gaps:
        time.now += gap  # callers pause now and then, saving slots for a burst
        await budget.acquire("/cgi-bin/x")
        sent.append(time.now)

    assert _breaches(sent, windows) == []
    assert sent == sorted(sent)


# -- the budget in the client ---------------------------------------------------------------


class Recorder(MemoryRateBudget):
    """A MemoryRateBudget that notes every key it paces and every block it is told of."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.keys: list[str] = []
        self.blocks: list[tuple[str, float]] = []

    async def acquire(self, key: str) -> None:
        self.keys.append(key)
        await super().acquire(key)

    async def refused(self, key: str, seconds: float) -> float:
        self.blocks.append((key, seconds))
        return await super().refused(key, seconds)


def _client(fake: FakeWeCom, budget: MemoryRateBudget, **options: object) -> WeComClient:
    http = httpx.AsyncClient(transport=fake.transport())
    return WeComClient(
        fake.corp_id,
        fake.secret,
        http_client=http,
        base_url=fake.base_url,
        rate_budget=budget,
        **options,  # type: ignore[arg-type]
    )


def test_one_budget_paces_each_corp_and_each_api_on_its_own() -> None:
    """A service provider's one budget: each (corp, API) gets the whole limit; two corps or
    two APIs never share it."""
    sent: dict[tuple[str, str], list[float]] = {}

    async def main() -> None:
        budget = Recorder([(2, 60.0)], burst=1)  # one call every 30 s per key
        corps = [FakeWeCom("wwcorpa", "secret-a-1234"), FakeWeCom("wwcorpb", "secret-b-1234")]
        for fake in corps:
            fake.seed(staff=2, customers_per_staff=1, seed=1)

        async def calls(client: WeComClient, corp: str) -> None:
            for _ in range(3):
                await client.external_contact.get_follow_user_list()
                sent.setdefault((corp, "follow"), []).append(anyio.current_time())

        async with (
            _client(corps[0], budget) as a,
            _client(corps[1], budget) as b,
            anyio.create_task_group() as group,
        ):
            group.start_soon(calls, a, "wwcorpa")
            group.start_soon(calls, b, "wwcorpb")
        assert set(budget.keys) == {
            f"{corp}:/cgi-bin/{path}"
            for corp in ("wwcorpa", "wwcorpb")
            for path in ("gettoken", PATH)
        }

    run_virtual(main)
    # gettoken has a key of its own, so each corp's first call goes at once; then 30 s apart.
    assert sent[("wwcorpa", "follow")] == pytest.approx([0.0, 30.0, 60.0])
    assert sent[("wwcorpb", "follow")] == pytest.approx([0.0, 30.0, 60.0])


def test_a_45009_blocks_that_api_for_every_caller_until_the_window_ends() -> None:
    server = ScriptedWeCom()
    server.script(PATH, REFUSED)
    arrivals: list[tuple[str, float]] = []

    # The first caller meets the 45009; a second one, arriving a second later, waits for the
    # block instead of being refused too; another API goes at once.
    async def scenario() -> list[tuple[str, float]]:
        budget = Recorder()
        retry = RetryPolicy(rate_limit_delay=60.0, jitter=0.0)
        async with server.client(rate_budget=budget, retry=retry) as client:
            await client.request("GET", "other/api")  # a token first, another API

            async def first() -> None:
                await client.external_contact.get_follow_user_list()
                arrivals.append(("first", anyio.current_time()))

            async def second() -> None:
                await anyio.sleep(1.0)
                await client.external_contact.get_follow_user_list()
                arrivals.append(("second", anyio.current_time()))

            async def other_api() -> None:
                await anyio.sleep(1.0)
                await client.request("GET", "other/api")
                arrivals.append(("other", anyio.current_time()))

            async with anyio.create_task_group() as group:
                group.start_soon(first)
                group.start_soon(second)
                group.start_soon(other_api)
        assert budget.blocks == [(f"{CORP_ID}:/cgi-bin/{PATH}", 60.0)]
        return arrivals

    result = run_virtual(scenario)
    assert dict(result) == pytest.approx({"other": 1.0, "first": 60.0, "second": 60.0})
    assert server.calls[PATH] == 3  # one refused, then each caller once: no second 45009


def test_a_block_longer_than_the_deadline_fails_at_once_and_still_blocks_the_others() -> None:
    server = ScriptedWeCom()
    server.script(PATH, REFUSED)

    async def main() -> tuple[float, float]:
        budget = MemoryRateBudget()
        retry = RetryPolicy(rate_limit_delay=60.0)
        async with server.client(rate_budget=budget, retry=retry) as client:
            started = anyio.current_time()
            with pytest.raises(RateLimitError) as caught:
                await client.external_contact.get_follow_user_list(deadline=30)
            assert caught.value.errcode == 45009
            failed_after = anyio.current_time() - started
            await client.external_contact.get_follow_user_list()  # waits for the block
            return failed_after, anyio.current_time() - started

    failed_after, second_done = run_virtual(main)
    assert failed_after == 0.0  # no wait the deadline cannot cover
    assert second_done == pytest.approx(60.0)
    assert server.calls[PATH] == 2


def test_a_45009_after_the_last_attempt_still_blocks_the_api() -> None:
    server = ScriptedWeCom()
    server.script(PATH, REFUSED)

    async def main() -> float:
        budget = MemoryRateBudget()
        retry = RetryPolicy(max_attempts=1, rate_limit_delay=60.0)
        async with server.client(rate_budget=budget, retry=retry) as client:
            with pytest.raises(RateLimitError):
                await client.external_contact.get_follow_user_list()
            started = anyio.current_time()
            await client.external_contact.get_follow_user_list()
            return anyio.current_time() - started

    assert run_virtual(main) == pytest.approx(60.0)
    assert server.calls[PATH] == 2


def test_a_block_already_longer_is_kept() -> None:
    async def main() -> tuple[float, float, float]:
        budget = MemoryRateBudget()
        long = await budget.refused("ww:/cgi-bin/x", 3600.0)
        short = await budget.refused("ww:/cgi-bin/x", 60.0)
        started = anyio.current_time()
        await budget.acquire("ww:/cgi-bin/x")
        return long, short, anyio.current_time() - started

    assert run_virtual(main) == pytest.approx((3600.0, 3600.0, 3600.0))


def test_every_client_has_a_memory_budget_by_default() -> None:
    """Without ``rate_budget=``, a client paces itself at 9,000 calls a minute per API: a
    burst of 30 goes at once, then one call every 60 / 8,971 s."""
    fake = FakeWeCom()
    times: list[float] = []

    async def main() -> None:
        http = httpx.AsyncClient(transport=fake.transport())
        async with WeComClient(fake.corp_id, fake.secret, http_client=http) as client:
            for _ in range(40):
                await client.external_contact.get_follow_user_list()
                times.append(anyio.current_time())

    run_virtual(main)
    assert times[29] == 0.0
    assert times[39] == pytest.approx(10 * 60 / (9_000 + 1 - 30))
    assert fake.calls(PATH) == 40


def test_fake_and_budget_agree_no_45009_at_the_limit() -> None:
    """Against the fake's minute limit, a budget of that limit never meets 45009 (the
    budget's clock is the fake's, so the fake's minute and the budget's are one)."""
    fake = FakeWeCom(rate_limit_per_minute=20)

    async def main() -> int:
        clock = fake.clock

        async def sleep(seconds: float) -> None:
            clock.advance(seconds)

        budget = MemoryRateBudget([(20, 60.0)], clock=clock.now, sleep=sleep)
        async with _client(fake, budget, retry=RetryPolicy.no_delay(max_attempts=1)) as client:
            for _ in range(65):
                await client.external_contact.get_follow_user_list()
        return fake.calls(PATH)

    assert anyio.run(main) == 65  # no retries: a single 45009 would have raised
