"""RedisTokenStore against a real redis-server: each script, fencing, outages, many clients.

The "processes" here are separate stores (each with its own local copies) on one Redis;
test_token_processes.py repeats the fleet scenarios with real OS processes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from redis.asyncio import Redis

from tests.redis_server import RedisServer
from wecom_async import (
    IssuedToken,
    Lease,
    RetryPolicy,
    TokenManager,
    ValidationError,
    WeComClient,
)
from wecom_async._logging import redact
from wecom_async.redis import RedisTokenStore
from wecom_async.testing import FakeWeCom

KEY = "wecom_async:token:wwfake:0123abcd"
#: The stores' Redis timeout in these tests: only a real outage falls back.
SLOW = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    # Generous timeouts: on a loaded CI machine a slow connect must not pass for an
    # outage (the fallback would fetch more tokens than the test counts).
    client = Redis.from_url(redis_server.url, socket_timeout=10, socket_connect_timeout=10)
    try:
        yield client
    finally:
        await client.aclose()


async def evalsha_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    entry = stats.get("cmdstat_evalsha", {})
    return int(entry.get("calls", 0)) if isinstance(entry, dict) else 0


async def test_concurrent_get_or_lease_on_a_cold_key_grants_one_lease(redis: Redis) -> None:
    # One caller per store, as behind a TokenManager (its single flight), 50 "processes".
    stores = [RedisTokenStore(redis, timeout=SLOW) for _ in range(50)]
    leases: list[Lease] = []
    tokens: list[IssuedToken] = []

    async def caller(store: RedisTokenStore) -> None:
        got = await store.get_or_lease(KEY)
        if isinstance(got, Lease):
            leases.append(got)
            await anyio.sleep(0.02)  # the others look while the fetch is under way
            assert await store.put(got, "token-from-the-one-fetch-xxxxxx", 600)
        else:
            tokens.append(got)

    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(caller, store)
    assert len(leases) == 1
    assert len(tokens) == 49
    assert {(t.value, t.fence) for t in tokens} == {
        ("token-from-the-one-fetch-xxxxxx", leases[0].fence)
    }


async def test_put_is_fenced_an_expired_lease_cannot_overwrite_a_newer_token(
    redis: Redis,
) -> None:
    slow, fast = (
        RedisTokenStore(redis, lease_ttl=0.05, timeout=SLOW),
        RedisTokenStore(redis, timeout=SLOW),
    )
    old = await slow.get_or_lease(KEY)
    assert isinstance(old, Lease)
    # The lease expires on Redis' clock; the next caller waits for that, then fetches.
    new = await fast.get_or_lease(KEY)
    assert isinstance(new, Lease)
    assert new.fence > old.fence
    assert await fast.put(new, "the-newer-token-yyyyyyyyyyyy", 600)
    assert not await slow.put(old, "the-stale-token-zzzzzzzzzzzz", 600)
    assert await redis.get(f"wecom_async:{{{KEY}}}:token") == (
        f"{new.fence}:the-newer-token-yyyyyyyyyyyy".encode()
    )
    # A stale release does not free someone else's lease either.
    again = await RedisTokenStore(redis, timeout=SLOW).get_or_lease(KEY + "-other")
    assert isinstance(again, Lease)
    await slow.release(Lease(again.key, again.fence - 1))
    assert await redis.exists(f"wecom_async:{{{again.key}}}:lease") == 1


async def test_a_lease_expires_after_lease_ttl_and_a_released_one_at_once(redis: Redis) -> None:
    store = RedisTokenStore(redis, lease_ttl=0.2, timeout=SLOW)
    lease = await store.get_or_lease(KEY)
    assert isinstance(lease, Lease)
    assert 0 < await redis.pttl(f"wecom_async:{{{KEY}}}:lease") <= 200
    await store.release(lease)
    assert await redis.exists(f"wecom_async:{{{KEY}}}:lease") == 0
    again = await store.get_or_lease(KEY)
    assert isinstance(again, Lease)
    assert again.fence == lease.fence + 1


async def test_invalidate_is_compare_and_delete_on_value_and_fence(redis: Redis) -> None:
    store, other = RedisTokenStore(redis, timeout=SLOW), RedisTokenStore(redis, timeout=SLOW)
    first = await store.get_or_lease(KEY)
    assert isinstance(first, Lease)
    await store.put(first, "same-string-both-times-aaaaaaa", 600)
    old = IssuedToken("same-string-both-times-aaaaaaa", first.fence)
    assert await store.invalidate(KEY, old)
    second = await other.get_or_lease(KEY)
    assert isinstance(second, Lease)
    # WeCom handed back the same string: only the fence tells the writes apart.
    await other.put(second, "same-string-both-times-aaaaaaa", 600)
    assert not await store.invalidate(KEY, old)
    current = await store.get_or_lease(KEY)
    assert current == IssuedToken("same-string-both-times-aaaaaaa", second.fence)
    assert await store.invalidate(KEY, current)
    assert await redis.exists(f"wecom_async:{{{KEY}}}:token") == 0


async def test_a_refused_token_is_replaced_once_for_every_process(redis: Redis) -> None:
    stores = [RedisTokenStore(redis, timeout=SLOW) for _ in range(8)]
    lease = await stores[0].get_or_lease(KEY)
    assert isinstance(lease, Lease)
    await stores[0].put(lease, "revoked-token-bbbbbbbbbbbbbbbb", 600)
    copies = [await store.get_or_lease(KEY) for store in stores]
    assert all(store.peek(KEY) == copies[0] for store in stores)
    refused = copies[0]
    assert isinstance(refused, IssuedToken)
    leases: list[Lease] = []

    async def process(store: RedisTokenStore) -> IssuedToken:
        # What the token layer does on 40014: invalidate what it sent, then get again.
        await store.invalidate(KEY, refused)
        got = await store.get_or_lease(KEY)
        if isinstance(got, Lease):
            leases.append(got)
            assert await store.put(got, "replacement-cccccccccccccccccc", 600)
            got = IssuedToken("replacement-cccccccccccccccccc", got.fence)
        return got

    results: list[IssuedToken] = []

    async def run(store: RedisTokenStore) -> None:
        results.append(await process(store))

    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(run, store)
    assert len(leases) == 1
    assert {(t.value, t.fence) for t in results} == {
        ("replacement-cccccccccccccccccc", leases[0].fence)
    }
    assert all(store.peek(KEY) == results[0] for store in stores)


async def test_the_hot_path_makes_no_round_trip_while_the_copy_is_fresh(redis: Redis) -> None:
    clock = Clock()
    store = RedisTokenStore(redis, clock=clock, timeout=SLOW)
    fetches = 0

    async def fetch() -> tuple[str, int]:
        nonlocal fetches
        fetches += 1
        return "hot-path-token-dddddddddddddddd", 7200

    manager = TokenManager(fetch, store, KEY)
    await manager.get()
    before = await evalsha_calls(redis)
    for _ in range(100):
        assert (await manager.get()).value == "hot-path-token-dddddddddddddddd"
    assert await evalsha_calls(redis) == before
    clock.now += 7200  # this copy is stale, Redis' is not: one round trip, no fetch
    await manager.get()
    assert await evalsha_calls(redis) == before + 1
    for _ in range(100):
        await manager.get()
    assert await evalsha_calls(redis) == before + 1
    assert fetches == 1


async def test_scripts_are_reloaded_after_script_flush_and_a_restart(
    redis_server: RedisServer, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisTokenStore.from_url(redis_server.url)
    lease = await store.get_or_lease(KEY)
    assert isinstance(lease, Lease)
    await redis.script_flush()
    assert await store.put(lease, "after-flush-token-eeeeeeeeeeee", 600)
    redis_server.restart()  # empty: no scripts, no token, a new fence counter
    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        new = await store.get_or_lease(KEY + "-after")
        assert isinstance(new, Lease)
        async with Redis.from_url(redis_server.url) as fresh:  # the fixture's died
            assert await fresh.exists(f"wecom_async:{{{new.key}}}:lease")  # from Redis
        # The fence counter restarts from Redis' clock: above every fence handed out before.
        assert new.fence > lease.fence
        assert not await store.put(Lease(new.key, lease.fence), "stale-ffffffffffffffff", 600)
    await store.aclose()
    assert not any("unreachable" in r.getMessage() for r in caplog.records)


async def test_garbage_under_the_token_key_counts_as_no_token(redis: Redis) -> None:
    await redis.set(f"wecom_async:{{{KEY}}}:token", "not a fenced token")
    store = RedisTokenStore(redis, timeout=SLOW)
    assert isinstance(await store.get_or_lease(KEY), Lease)


async def test_an_outage_falls_back_to_per_process_tokens_and_shares_again_after(
    redis_server: RedisServer, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = RedisTokenStore(redis, retry_after=5.0, clock=clock)
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        local = await store.get_or_lease(KEY)
        assert isinstance(local, Lease)
        assert await store.put(local, "fallback-token-gggggggggggggggg", 600)
        assert await store.get_or_lease(KEY) == IssuedToken(
            "fallback-token-gggggggggggggggg", local.fence
        )
        # A fallback lease taken during the outage is written to the fallback, even
        # when Redis is back by the time the fetch ends.
        other = await store.get_or_lease(KEY + "-other")
        redis_server.start()
        clock.now += 5.0
        assert await store.put(other, "fallback-token-hhhhhhhhhhhhhhhh", 600)
        assert await redis.exists(f"wecom_async:{{{other.key}}}:token") == 0
        # Shared again: Redis is empty after the restart, so this caller fetches for all.
        shared = await store.get_or_lease(KEY)
        assert isinstance(shared, Lease)
        held = await redis.get(f"wecom_async:{{{KEY}}}:lease")
        assert held is not None
        assert held.startswith(f"{shared.fence}:".encode())
    messages = [r.getMessage() for r in caplog.records]
    assert sum("RedisTokenStore: Redis is unreachable" in m for m in messages) == 1
    assert sum("RedisTokenStore: Redis answers again" in m for m in messages) == 1


async def test_from_url_masks_the_password_and_owns_its_client(
    redis_server: RedisServer, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    password = "redis-Pa55word-that-must-not-leak"
    await redis.config_set("requirepass", password)
    url = redis_server.url.replace("redis://", f"redis://:{password}@")
    store = RedisTokenStore.from_url(url)
    assert password not in repr(store)
    assert isinstance(await store.get_or_lease(KEY), Lease)
    await store.aclose()
    wrong = RedisTokenStore.from_url(redis_server.url.replace("redis://", "redis://:nope@"))
    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        assert isinstance(await wrong.get_or_lease(KEY), Lease)  # the fallback's
    await wrong.aclose()
    assert any("unreachable" in r.getMessage() for r in caplog.records)
    assert not any(password in r.getMessage() for r in caplog.records)
    # Registered as a secret: wherever the SDK writes a message, the password is masked.
    assert password not in redact(f"AUTH failed for {url}")
    other = "another-redis-password-in-the-query"
    await RedisTokenStore.from_url(f"{redis_server.url}?password={other}").aclose()
    assert other not in redact(f"AUTH {other}")


@pytest.mark.parametrize("lease_ttl", [0.0, -1.0, 0.0001, math.inf, math.nan])
async def test_a_lease_ttl_that_cannot_bound_a_wait_is_refused(
    redis: Redis, lease_ttl: float
) -> None:
    with pytest.raises(ValidationError):
        RedisTokenStore(redis, lease_ttl=lease_ttl)


async def test_eight_clients_with_fifty_callers_each_make_one_gettoken(redis: Redis) -> None:
    fake = FakeWeCom()
    clients = [
        WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=httpx.AsyncClient(transport=fake.transport()),
            base_url=fake.base_url,
            token_store=RedisTokenStore(redis, timeout=SLOW),
            retry=RetryPolicy.no_delay(),
        )
        for _ in range(8)
    ]
    async with anyio.create_task_group() as tg:
        for client in clients:
            for _ in range(50):
                tg.start_soon(client.external_contact.get_follow_user_list)
    assert fake.calls("gettoken") == 1
    assert fake.calls("externalcontact/get_follow_user_list") == 400
    fake.invalidate_tokens()
    async with anyio.create_task_group() as tg:
        for client in clients:
            for _ in range(50):
                tg.start_soon(client.external_contact.get_follow_user_list)
    assert fake.calls("gettoken") == 2
