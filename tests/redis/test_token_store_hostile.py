"""RedisTokenStore against what goes wrong in production: busy pools, callers cancelled
mid-trip, garbage in Redis, a Redis that loses a write, a gettoken slower than the lease,
a hung Redis and call deadlines shorter than the store's timeout, bad settings.

Real redis-server throughout; "processes" are separate stores on one Redis.
"""

from __future__ import annotations

import logging
import math
import os
import signal
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest
from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis

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
from wecom_async._token import token_key
from wecom_async.redis import RedisRateBudget, RedisTokenStore
from wecom_async.testing import FakeWeCom

KEY = "wecom_async:token:wwfake:0123abcd"
TOKEN_KEY = f"wecom_async:{{{KEY}}}:token"
LEASE_KEY = f"wecom_async:{{{KEY}}}:lease"
FENCE_KEY = f"wecom_async:{{{KEY}}}:fence"
#: The stores' Redis timeout where only a real outage may fall back.
SLOW = 10.0


class Fetches:
    """A gettoken stand-in that counts its calls; ``hook`` runs inside each fetch."""

    def __init__(self) -> None:
        self.calls = 0
        self.hook: object = None

    async def __call__(self) -> tuple[str, int]:
        self.calls += 1
        if callable(self.hook):
            await self.hook()
        return f"token-number-{self.calls:04d}-abcdefghijklmnop", 7200


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, socket_timeout=10, socket_connect_timeout=10)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def stopped(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The server, SIGCONTed after the test whatever the test did with SIGSTOP."""
    try:
        yield redis_server
    finally:
        if redis_server.process is not None:
            os.kill(redis_server.process.pid, signal.SIGCONT)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wecom_async"]


# -- 1. a busy connection pool is no outage --------------------------------------------------


async def test_many_keys_on_one_from_url_store_need_no_fallback(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # 150 keys at once (a provider's many corps) on each of two "processes": more round
    # trips in flight than redis-py's default pool (100) has connections.
    fetch = Fetches()
    stores = [RedisTokenStore.from_url(redis_server.url, timeout=SLOW) for _ in range(2)]
    keys = [f"wecom_async:token:corp{i}:0123abcd" for i in range(150)]
    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        async with anyio.create_task_group() as tg:
            for store in stores:
                for key in keys:
                    tg.start_soon(TokenManager(fetch, store, key).get)
    for store in stores:
        assert "redis_down=False" in repr(store)
        await store.aclose()
    assert fetch.calls == 150  # one gettoken per key for the fleet, none by a fallback
    assert warnings_of(caplog) == []


async def test_a_given_client_with_a_small_non_blocking_pool_waits_for_a_connection(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = Redis(connection_pool=ConnectionPool.from_url(redis_server.url, max_connections=3))
    store = RedisTokenStore(client, timeout=SLOW)
    fetch = Fetches()
    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        async with anyio.create_task_group() as tg:
            for i in range(40):
                tg.start_soon(TokenManager(fetch, store, f"{KEY}-{i}").get)
    assert fetch.calls == 40
    assert "redis_down=False" in repr(store)
    assert warnings_of(caplog) == []
    await client.aclose()


def test_from_url_clients_have_a_blocking_pool_with_socket_timeouts(
    redis_server: RedisServer,
) -> None:
    for piece in (
        RedisTokenStore.from_url(redis_server.url, timeout=1.5),
        RedisRateBudget.from_url(redis_server.url, timeout=1.5),
    ):
        pool = piece._redis.connection_pool
        assert isinstance(pool, BlockingConnectionPool)
        assert pool.connection_kwargs["socket_timeout"] == 1.5
        assert pool.connection_kwargs["socket_connect_timeout"] == 1.5


# -- 2. a caller cancelled while its get-or-lease is on the wire -----------------------------


async def test_a_lease_taken_for_a_cancelled_caller_is_released(redis: Redis) -> None:
    store = RedisTokenStore(Redis.from_url(_url(redis)), lease_ttl=30.0, timeout=SLOW)
    await store.get_or_lease("warm-up")  # scripts loaded
    # Scripts wait 300 ms (as behind a slow network): the caller is gone by the time
    # Redis runs its get-or-lease and grants the lease.
    await redis.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    with anyio.move_on_after(0.05):
        await TokenManager(Fetches(), store, KEY).get()
    await store.aclose()  # lets the abandoned round trip end
    assert await redis.exists(FENCE_KEY) == 1  # the script did run: a lease was granted
    assert await redis.exists(LEASE_KEY) == 0  # and released, not left for lease_ttl
    other = RedisTokenStore(redis, lease_ttl=30.0, timeout=SLOW)
    assert isinstance(await other.get_or_lease(KEY), Lease)


async def test_a_lease_this_process_orphaned_is_taken_back_by_its_next_call(redis: Redis) -> None:
    store = RedisTokenStore(Redis.from_url(_url(redis)), lease_ttl=30.0, timeout=SLOW)
    await store.get_or_lease("warm-up")
    await redis.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    with anyio.move_on_after(0.05):
        await store.get_or_lease(KEY)
    # Queued behind the abandoned trip: Redis grants that one first, then this call
    # finds the lease of its own process and takes it instead of waiting 30 s.
    with anyio.fail_after(10):
        lease = await store.get_or_lease(KEY)
    assert isinstance(lease, Lease)
    held = await redis.get(LEASE_KEY)
    assert held is not None
    assert held.startswith(f"{lease.fence}:".encode())
    assert await store.put(lease, "token-after-reclaim-abcdefghij", 600)
    await store.aclose()


async def test_a_store_timeout_on_a_slow_reply_leaves_no_lease(redis: Redis) -> None:
    store = RedisTokenStore(Redis.from_url(_url(redis)), lease_ttl=30.0, timeout=0.1)
    await store.get_or_lease("warm-up")
    await redis.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    fetch = Fetches()
    token = await TokenManager(fetch, store, KEY).get()  # falls back: fetches its own
    assert token.value == "token-number-0001-abcdefghijklmnop"
    # Once Redis runs the script (the lease granted), the abandoned trip releases it.
    with anyio.fail_after(5):
        while not await redis.exists(FENCE_KEY) or await redis.exists(LEASE_KEY):  # noqa: ASYNC110
            await anyio.sleep(0.01)  # Redis' state: nothing in this process to wait on
    await store.aclose()


def _url(redis: Redis) -> str:
    kwargs = redis.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"


# -- 4 and 8. what the store did not write ---------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [b"1:\xff\xfe-not-utf8", b"1" * 5000 + b":token", b"1:tok en", b"12:", b":token"],
    ids=["non-utf8", "huge-fence", "space", "no-token", "no-fence"],
)
@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "decoded"])
async def test_an_unreadable_token_value_is_replaced(
    redis_server: RedisServer, garbage: bytes, decode: bool
) -> None:
    client = Redis.from_url(redis_server.url, decode_responses=decode)
    fake = FakeWeCom()
    own = f"wecom_async:{{{token_key(fake.corp_id, fake.secret)}}}:token"
    await client.set(own, garbage, px=600_000)
    store = RedisTokenStore(client, timeout=SLOW)
    async with WeComClient(
        fake.corp_id,
        fake.secret,
        http_client=httpx.AsyncClient(transport=fake.transport()),
        base_url=fake.base_url,
        token_store=store,
        retry=RetryPolicy.no_delay(),
    ) as wecom:
        assert await wecom.external_contact.get_follow_user_list() is not None
    assert fake.calls("gettoken") == 1
    stored = await client.get(own)
    assert stored is not None
    assert stored != garbage
    assert "redis_down=False" in repr(store)
    await client.aclose()


async def test_a_token_without_ttl_is_not_trusted(redis: Redis) -> None:
    await redis.set(TOKEN_KEY, "1:a-token-someone-wrote-by-hand")
    assert isinstance(await RedisTokenStore(redis, timeout=SLOW).get_or_lease(KEY), Lease)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: r.rpush(TOKEN_KEY, "x"),
        lambda r: r.rpush(LEASE_KEY, "x"),
        lambda r: r.set(FENCE_KEY, "not-a-number"),
        lambda r: r.set(FENCE_KEY, "9" * 19),
        lambda r: r.hset(FENCE_KEY, "a", "b"),
    ],
    ids=["token-list", "lease-list", "fence-text", "fence-too-big", "fence-hash"],
)
async def test_keys_of_the_wrong_kind_are_repaired_not_taken_for_an_outage(
    redis: Redis, caplog: pytest.LogCaptureFixture, spoil: object
) -> None:
    assert callable(spoil)
    await spoil(redis)
    fetch = Fetches()
    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        for _ in range(3):
            await TokenManager(fetch, RedisTokenStore(redis, timeout=SLOW), KEY).get()
    assert fetch.calls == 1  # shared, not one per "process" through the fallback
    assert warnings_of(caplog) == []


async def test_a_redis_that_refuses_writes_is_named_an_error_not_unreachable(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    await redis.config_set("maxmemory", 1)  # every script that may write: OOM
    try:
        with caplog.at_level(logging.WARNING, logger="wecom_async"):
            got = await RedisTokenStore(redis, timeout=SLOW).get_or_lease(KEY)
    finally:
        await redis.config_set("maxmemory", 0)
    assert isinstance(got, Lease)  # the fallback's
    [warning] = warnings_of(caplog)
    assert "RedisTokenStore: Redis error (OutOfMemoryError: " in warning
    assert "unreachable" not in warning


# -- 5. a token fetched under a lease Redis lost is kept --------------------------------------


async def test_a_token_whose_fenced_put_is_refused_after_a_flush_is_not_fetched_again(
    redis: Redis,
) -> None:
    fetch = Fetches()
    fetch.hook = redis.flushall  # Redis loses everything while gettoken runs
    store = RedisTokenStore(redis, timeout=SLOW)
    manager = TokenManager(fetch, store, KEY)
    first = await manager.get()
    assert await redis.exists(TOKEN_KEY) == 0  # the lease was gone: not written
    assert await manager.get() == first
    assert fetch.calls == 1


async def test_a_token_fetched_when_redis_dies_before_the_put_is_not_fetched_again(
    redis_server: RedisServer,
) -> None:
    fetch = Fetches()

    async def die() -> None:
        redis_server.kill()

    fetch.hook = die
    store = RedisTokenStore.from_url(redis_server.url, timeout=SLOW)
    manager = TokenManager(fetch, store, KEY)
    first = await manager.get()
    assert "redis_down=True" in repr(store)
    assert await manager.get() == first
    assert await store.get_or_lease(KEY) == first  # the fallback path answers it too
    assert fetch.calls == 1
    await store.aclose()


# -- 6. a gettoken slower than lease_ttl ------------------------------------------------------


async def test_a_gettoken_slower_than_the_lease_keeps_its_lease(redis: Redis) -> None:
    fetch = Fetches()

    async def slow() -> None:
        await anyio.sleep(0.6)  # Redis' clock is real: three lease_ttls pass meanwhile

    fetch.hook = slow
    stores = [RedisTokenStore(redis, lease_ttl=0.2, timeout=SLOW) for _ in range(6)]
    tokens: list[IssuedToken] = []

    async def process(store: RedisTokenStore) -> None:
        tokens.append(await TokenManager(fetch, store, KEY).get())

    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(process, store)
    assert fetch.calls == 1
    assert len({(t.value, t.fence) for t in tokens}) == 1


async def test_a_killed_fetcher_stops_renewing(redis: Redis) -> None:
    store = RedisTokenStore(redis, lease_ttl=0.2, timeout=SLOW)
    lease = await store.get_or_lease(KEY)
    assert isinstance(lease, Lease)
    with anyio.move_on_after(0.5):  # a fetch under way
        await store.keep_lease(lease)
    assert 0 < await redis.pttl(LEASE_KEY) <= 200  # renewed while it ran
    # Nobody renews it now (the fetcher is gone): it expires, another process fetches.
    with anyio.fail_after(5):
        again = await RedisTokenStore(redis, timeout=SLOW).get_or_lease(KEY)
    assert isinstance(again, Lease)
    assert again.fence > lease.fence
    assert not await store.put(lease, "a-token-from-the-dead-fetcher", 600)


# -- 3 and 7. a hung Redis ---------------------------------------------------------------------


async def test_a_hung_redis_with_deadlines_shorter_than_the_timeout_falls_back(
    stopped: RedisServer,
) -> None:
    fake = FakeWeCom()
    store = RedisTokenStore.from_url(stopped.url, timeout=1.0)
    await store.get_or_lease("warm-up")
    assert stopped.process is not None
    os.kill(stopped.process.pid, signal.SIGSTOP)
    async with WeComClient(
        fake.corp_id,
        fake.secret,
        http_client=httpx.AsyncClient(transport=fake.transport()),
        base_url=fake.base_url,
        token_store=store,
        retry=RetryPolicy.no_delay(),
        deadline=0.4,  # shorter than the store's timeout
    ) as client:
        for _ in range(4):
            await client.external_contact.get_follow_user_list()
    assert fake.calls("externalcontact/get_follow_user_list") == 4
    assert fake.calls("gettoken") == 1  # the fallback's token, kept
    os.kill(stopped.process.pid, signal.SIGCONT)
    await store.aclose()


async def test_while_redis_hangs_a_process_with_a_token_makes_no_round_trip(
    stopped: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisTokenStore.from_url(stopped.url, timeout=0.2, retry_after=0.0)
    fetch = Fetches()
    manager = TokenManager(fetch, store, KEY)
    await store.get_or_lease("warm-up")
    assert stopped.process is not None
    os.kill(stopped.process.pid, signal.SIGSTOP)
    with caplog.at_level(logging.WARNING, logger="wecom_async"):
        token = await manager.get()  # waits out the timeout once, then the fallback's
        assert "redis_down=True" in repr(store)
        # The fallback's token answers at once, whatever probes run meanwhile.
        assert store.peek(KEY) == token
        for _ in range(50):
            assert await manager.get() == token
    assert fetch.calls == 1
    assert sum("unreachable" in m for m in warnings_of(caplog)) == 1
    os.kill(stopped.process.pid, signal.SIGCONT)
    await store.aclose()


# -- 9 and 10. settings --------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["hunter2", "p@ss:w/rd"])
async def test_a_short_password_in_the_url_is_masked(
    redis_server: RedisServer, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    from urllib.parse import quote

    url = redis_server.url.replace("redis://", f"redis://:{quote(password, safe='')}@")
    store = RedisTokenStore.from_url(url)  # this Redis has no password: AUTH fails
    with caplog.at_level(logging.DEBUG):
        assert isinstance(await store.get_or_lease(KEY), Lease)  # the fallback's
    await store.aclose()
    for text in (
        *warnings_of(caplog),
        repr(store),
        redact(f"could not connect to {url}"),
        redact(f"could not connect to {redis_server.url}?password={password}"),
    ):
        assert quote(password, safe="") not in text
        assert password not in text


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://127.0.0.1:port/0", ""])
def test_a_bad_url_is_a_validation_error(url: str) -> None:
    with pytest.raises(ValidationError):
        RedisTokenStore.from_url(url)
    with pytest.raises(ValidationError):
        RedisRateBudget.from_url(url)


@pytest.mark.parametrize(
    "settings",
    [
        {"timeout": 0.0},
        {"timeout": -1.0},
        {"timeout": math.nan},
        {"timeout": math.inf},
        {"retry_after": math.nan},
        {"retry_after": -1.0},
        {"retry_after": math.inf},
    ],
)
async def test_timeouts_that_bound_nothing_are_refused(
    redis: Redis, settings: dict[str, float]
) -> None:
    with pytest.raises(ValidationError):
        RedisTokenStore(redis, **settings)
    with pytest.raises(ValidationError):
        RedisRateBudget(redis, **settings)
