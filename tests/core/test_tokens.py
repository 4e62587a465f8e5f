"""Token manager: single flight, refresh once on token errcodes, compare-and-delete, cancel."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import httpx
import pytest

from tests.core.scripted import CORP_ID, SECRET, ScriptedWeCom
from wecom_async import (
    ConfigurationError,
    MemoryRateBudget,
    MemoryTokenStore,
    RetryPolicy,
    TokenError,
    TokenManager,
)
from wecom_async._token import IssuedToken, Lease, token_key


def _unpaced() -> MemoryRateBudget:
    """A budget too large to pace a burst: the default one spaces 1,000 calls of one API
    over 6.5 s of real time, and these tests are about the token, not the pace."""
    return MemoryRateBudget(limits=[(1_000_000_000, 60.0)])


async def _burst(client, n: int) -> list[list[str]]:
    results: list[list[str]] = []

    async def one() -> None:
        results.append(await client.external_contact.get_follow_user_list())

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return results


async def test_thousand_concurrent_calls_on_a_cold_client_fetch_one_token() -> None:
    server = ScriptedWeCom()
    async with server.client(rate_budget=_unpaced()) as client:
        results = await _burst(client, 1000)
    assert len(results) == 1000
    assert all(r == ["zhangsan"] for r in results)
    assert server.calls["gettoken"] == 1
    assert server.calls["externalcontact/get_follow_user_list"] == 1000


async def test_token_expiring_mid_burst_costs_exactly_one_more_gettoken() -> None:
    server = ScriptedWeCom()

    async def expire_then_answer(request: httpx.Request) -> httpx.Response:
        server.expire_all()
        return httpx.Response(200, json={"errcode": 42001, "errmsg": "access_token expired"})

    # The 300th business call finds the token expired on the server; later calls see 42001 too.
    server.script(
        "externalcontact/get_follow_user_list",
        *([{"errcode": 0, "errmsg": "ok", "follow_user": ["zhangsan"]}] * 299),
        expire_then_answer,
    )
    async with server.client(rate_budget=_unpaced()) as client:
        results = await _burst(client, 1000)
    assert len(results) == 1000
    assert all(r == ["zhangsan"] for r in results)
    assert server.calls["gettoken"] == 2


@pytest.mark.parametrize("errcode", [40014, 42001, 40001])
async def test_token_errcode_refreshes_once_and_resends_outside_the_retry_budget(
    errcode: int,
) -> None:
    server = ScriptedWeCom()
    server.script("externalcontact/get_follow_user_list", {"errcode": errcode, "errmsg": "bad"})
    # max_attempts=1: no retries at all, yet the resend after a refresh still happens.
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls["gettoken"] == 2
    assert server.calls["externalcontact/get_follow_user_list"] == 2
    assert server.seen_tokens == [server.token(1), server.token(2)]


async def test_token_that_stays_bad_after_refresh_raises_without_looping() -> None:
    server = ScriptedWeCom()
    bad = {"errcode": 40014, "errmsg": "invalid access_token, hint: [1700000000-abc]"}
    server.script("externalcontact/get_follow_user_list", bad, bad, bad, bad)
    async with server.client() as client:
        with pytest.raises(TokenError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.errcode == 40014
    assert caught.value.hint == "1700000000-abc"
    assert server.calls["gettoken"] == 2
    assert server.calls["externalcontact/get_follow_user_list"] == 2


@pytest.mark.parametrize("errcode", [40001, 40013, 41002, 41004])
async def test_gettoken_configuration_errcodes_raise_at_once(errcode: int) -> None:
    server = ScriptedWeCom()
    server.gettoken_script.append({"errcode": errcode, "errmsg": "invalid credential"})
    async with server.client() as client:
        with pytest.raises(ConfigurationError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.errcode == errcode
    assert server.calls["gettoken"] == 1
    assert server.calls["externalcontact/get_follow_user_list"] == 0


async def test_gettoken_system_busy_is_retried() -> None:
    server = ScriptedWeCom()
    server.gettoken_script.append({"errcode": -1, "errmsg": "system busy"})
    async with server.client() as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls["gettoken"] == 2


async def test_late_failure_of_an_old_token_keeps_the_newer_token() -> None:
    store = MemoryTokenStore()
    tokens = iter(["OLD-TOKEN-1", "NEW-TOKEN-2", "NEWER-TOKEN-3"])
    fetches = 0

    async def fetch() -> tuple[str, int]:
        nonlocal fetches
        fetches += 1
        await anyio.lowlevel.checkpoint()
        return next(tokens), 7200

    manager = TokenManager(fetch, store, token_key(CORP_ID, SECRET))
    old = await manager.get()
    # Fifty callers fail with the old token at once: the first invalidation wins, the others
    # are no-ops, and one refresh serves them all.
    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(manager.invalidate, old)
    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(manager.get)
    new = await manager.get()
    assert (old.value, new.value) == ("OLD-TOKEN-1", "NEW-TOKEN-2")
    # A late failure reported for the old token must not wipe the new one.
    await manager.invalidate(old)
    assert (await manager.get()).value == "NEW-TOKEN-2"
    assert fetches == 2


async def test_late_failure_does_not_wipe_a_fresh_copy_of_the_same_string() -> None:
    # WeCom hands back the same token until it expires: the fresh copy has the same value
    # as the one that failed, and only the fence tells them apart.
    fetches = 0

    async def fetch() -> tuple[str, int]:
        nonlocal fetches
        fetches += 1
        return "SAME-TOKEN", 7200

    manager = TokenManager(fetch, MemoryTokenStore(), "k")
    first = await manager.get()
    await manager.invalidate(first)
    second = await manager.get()
    assert second.value == first.value
    assert second.fence != first.fence
    for _ in range(10):
        await manager.invalidate(first)  # late reports about the first copy
    assert await manager.get() == second
    assert fetches == 2


async def test_fenced_write_of_an_expired_lease_is_refused() -> None:
    store = MemoryTokenStore()
    key = token_key(CORP_ID, SECRET)
    lease = await store.get_or_lease(key)
    assert isinstance(lease, Lease)
    assert await store.put(lease, "FIRST", 100.0)
    # The lease was consumed by the write: a stale holder cannot write again.
    assert not await store.put(lease, "STALE", 100.0)
    stored = await store.get_or_lease(key)
    assert isinstance(stored, IssuedToken)
    assert stored.value == "FIRST"
    assert "FIRST" not in repr(stored)


async def test_token_refreshes_ahead_of_expiry_on_the_injected_clock() -> None:
    now = 1000.0
    store = MemoryTokenStore(clock=lambda: now)
    serial = 0

    async def fetch() -> tuple[str, int]:
        nonlocal serial
        serial += 1
        return f"T{serial}", 7200

    manager = TokenManager(fetch, store, "k", refresh_margin=300)
    assert (await manager.get()).value == "T1"
    now += 7200 - 301
    assert (await manager.get()).value == "T1"
    now += 2  # inside the 300 s margin: refreshed before WeCom's expiry
    assert (await manager.get()).value == "T2"


def test_store_key_never_contains_the_secret() -> None:
    key = token_key(CORP_ID, SECRET)
    assert SECRET not in key
    assert CORP_ID in key
    assert key != token_key(CORP_ID, SECRET + "x")


async def _until(condition) -> None:
    while not condition():
        await anyio.lowlevel.checkpoint()


async def test_cancelled_refresh_leaves_the_manager_usable() -> None:
    server = ScriptedWeCom()
    server.gettoken_gate = anyio.Event()
    async with server.client() as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.external_contact.get_follow_user_list)
            await _until(lambda: server.calls["gettoken"] == 1)
            tg.cancel_scope.cancel()  # the caller is cancelled while it performs the refresh
        server.gettoken_gate = None
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls["gettoken"] == 2


async def test_cancelled_waiter_does_not_block_the_fetcher() -> None:
    server = ScriptedWeCom()
    gate = server.gettoken_gate = anyio.Event()
    async with server.client() as client:
        results: list[list[str]] = []

        async def fetcher() -> None:
            results.append(await client.external_contact.get_follow_user_list())

        async with anyio.create_task_group() as tg:
            tg.start_soon(fetcher)
            await _until(lambda: server.calls["gettoken"] == 1)
            async with anyio.create_task_group() as waiters:
                waiters.start_soon(client.external_contact.get_follow_user_list)
                await anyio.lowlevel.checkpoint()
                waiters.cancel_scope.cancel()  # cancelled while waiting for the lease
            gate.set()
        assert results == [["zhangsan"]]
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls["gettoken"] == 1


async def test_a_fresh_token_the_store_can_peek_at_needs_no_store_round_trip() -> None:
    """The hot path: a store that holds a fresh copy answers at once (no lease, no flight)."""

    class CountingStore(MemoryTokenStore):
        def __init__(self) -> None:
            super().__init__()
            self.round_trips = 0

        async def get_or_lease(self, key: str) -> IssuedToken | Lease:
            self.round_trips += 1
            return await super().get_or_lease(key)

    fetched: list[int] = []

    async def fetch() -> tuple[str, int]:
        fetched.append(1)
        return "token-value-0123456789abcdef", 7200

    store = CountingStore()
    manager = TokenManager(fetch, store, "k")
    first = await manager.get()
    assert store.round_trips == 1
    for _ in range(50):
        assert await manager.get() == first
    assert (store.round_trips, len(fetched)) == (1, 1)
    await manager.invalidate(first)
    assert (await manager.get()).value == first.value  # fetched again after the refusal
    assert (store.round_trips, len(fetched)) == (2, 2)
