"""Per-API frequency budgets (45009 and the 60 s block), concurrency caps (45033), latency."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from tests.testing.wire import Api, connect
from wecom_async.testing import FakeWeCom

FOLLOW_LIST = "externalcontact/get_follow_user_list"


async def _errcodes(api: Api, n: int) -> list[object]:
    return [(await api.get(FOLLOW_LIST))["errcode"] for _ in range(n)]


async def test_budget_overrun_answers_45009_and_blocks_for_60_seconds(
    fake: FakeWeCom, api: Api
) -> None:
    fake.set_rate_limit(FOLLOW_LIST, 5)
    await api.gettoken()
    assert await _errcodes(api, 6) == [0, 0, 0, 0, 0, 45009]
    fake.clock.advance(59.9)  # blocked for 60 s from the overrun, whatever the window
    assert await _errcodes(api, 1) == [45009]
    fake.clock.advance(0.1)
    assert await _errcodes(api, 6) == [0, 0, 0, 0, 0, 45009]
    assert (await api.get("externalcontact/list", userid="x"))["errcode"] == 60111  # other API
    assert fake.calls(FOLLOW_LIST) == 13


async def test_window_resets_after_a_minute_without_overrun(fake: FakeWeCom, api: Api) -> None:
    fake.set_rate_limit(FOLLOW_LIST, 3)
    await api.gettoken()
    assert await _errcodes(api, 3) == [0, 0, 0]
    fake.clock.advance(60)
    assert await _errcodes(api, 3) == [0, 0, 0]


async def test_default_budget_is_per_api_and_gettoken_counts_too() -> None:
    fake = FakeWeCom(rate_limit_per_minute=2)
    async with connect(fake) as own:
        assert [(await own.gettoken())["errcode"] for _ in range(3)] == [0, 0, 45009]
        own.token = fake.tokens.issue("wwfake", "fake-secret", fake.clock.now())[0]
        assert await _errcodes(own, 3) == [0, 0, 45009]


async def test_unlimited_budget() -> None:
    fake = FakeWeCom(rate_limit_per_minute=None)
    async with connect(fake) as own:
        assert set(await _errcodes(own, 300)) == {0}


@pytest.fixture
def held_sleep(monkeypatch: pytest.MonkeyPatch) -> tuple[list[float], asyncio.Event]:
    """Replace anyio.sleep: record each delay and wait on an event instead of the clock."""
    delays: list[float] = []
    release = asyncio.Event()

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await release.wait()

    monkeypatch.setattr(anyio, "sleep", sleep)
    return delays, release


async def test_concurrency_cap_answers_45033_while_requests_are_in_flight(
    fake: FakeWeCom, api: Api, held_sleep: tuple[list[float], asyncio.Event]
) -> None:
    delays, release = held_sleep
    fake.set_concurrency_limit(FOLLOW_LIST, 2)
    assert (await api.get(FOLLOW_LIST))["errcode"] == 0  # fetches the token, no latency yet
    fake.latency = 0.25
    tasks = [asyncio.create_task(api.get(FOLLOW_LIST)) for _ in range(4)]
    for _ in range(100):  # run the tasks until each got its answer and waits in the latency
        await asyncio.sleep(0)
    assert len(delays) == 4
    assert fake.concurrency.in_flight(FOLLOW_LIST) == 2
    assert not any(task.done() for task in tasks)
    release.set()
    results = [(await task)["errcode"] for task in tasks]
    assert results == [0, 0, 45033, 45033]
    assert fake.concurrency.in_flight(FOLLOW_LIST) == 0
    assert delays == [0.25] * 4  # latency applies to every response, refused ones too
    assert (await api.get(FOLLOW_LIST))["errcode"] == 0
    fake.set_concurrency_limit(FOLLOW_LIST, None)
    assert fake.concurrency.in_flight(FOLLOW_LIST) == 0


def test_windows_each_block_for_their_own_length() -> None:
    """WeCom's minute and hour, scaled down: over the short window blocks for its length,
    over the long one blocks for the long one's."""
    fake = FakeWeCom(rate_limits=[(3, 1.0), (5, 10.0)])
    limiter = fake.rate
    path = "externalcontact/get"
    answers = [limiter.allow(path, t) for t in (0.0, 0.1, 0.2, 0.3)]
    assert answers == [True, True, True, False]  # the 4th in a second: blocked for 1 s
    assert not limiter.allow(path, 1.2)
    assert [limiter.allow(path, t) for t in (1.3, 1.4, 1.5)] == [True, True, True]
    assert [limiter.allow(path, t) for t in (2.4, 2.5)] == [True, True]
    # 5 counted in the fresh 10 s window (from 1.3): the 6th blocks the API for 10 s.
    assert not limiter.allow(path, 2.6)
    assert not limiter.allow(path, 12.5)
    assert limiter.allow(path, 12.7)


def test_the_request_log_tells_when_each_request_arrived() -> None:
    fake = FakeWeCom(rate_limits=[(1, 60.0)])
    fake.set_rate_limits("gettoken", None)

    async def main() -> None:
        import httpx

        from wecom_async import RateLimitError, RetryPolicy, WeComClient

        http = httpx.AsyncClient(transport=fake.transport())
        client = WeComClient(
            fake.corp_id, fake.secret, http_client=http, retry=RetryPolicy.no_delay(max_attempts=1)
        )
        async with client:
            await client.external_contact.get_follow_user_list()
            fake.clock.advance(5)
            with pytest.raises(RateLimitError):
                await client.external_contact.get_follow_user_list()

    anyio.run(main)
    follow = [r.at for r in fake.requests if r.path.endswith("follow_user_list")]
    assert follow == [fake.clock.now() - 5, fake.clock.now()]
