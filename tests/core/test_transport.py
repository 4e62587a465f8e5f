"""ShardedTransport over a real loopback server: the connection cap holds, shards come back."""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.testing.wire import serve
from wecom_async import APITimeoutError, RetryPolicy, ShardedTransport, WeComClient
from wecom_async._transport import OwnedClient
from wecom_async.testing import FakeWeCom

PATH = "externalcontact/get_follow_user_list"


async def test_never_more_requests_in_flight_than_shards_and_every_shard_returns() -> None:
    fake = FakeWeCom(latency=0.005)
    fake.add_staff("zhangsan")
    # The fake answers 45033 if more than 4 requests of this API are in flight at once.
    fake.set_concurrency_limit(PATH, 4)
    transport = ShardedTransport(4)
    with serve(fake.app) as base_url:
        async with (
            httpx.AsyncClient(transport=transport) as http,
            WeComClient(
                "wwfake",
                "fake-secret",
                http_client=http,
                base_url=base_url,
                retry=RetryPolicy.no_delay(max_attempts=1),
                max_in_flight=64,  # the transport alone must hold the cap
            ) as client,
        ):
            results: list[list[str]] = []

            async def call() -> None:
                results.append(await client.external_contact.get_follow_user_list())

            async with anyio.create_task_group() as tg:
                for _ in range(40):
                    tg.start_soon(call)
            assert results == [["zhangsan"]] * 40
            assert len(transport._free) == 4  # every shard was handed back

            # A caller cancelled mid-request gives its shard back too.
            with anyio.move_on_after(0.001):
                await client.external_contact.get_follow_user_list()
            await anyio.sleep(0.05)
            assert len(transport._free) == 4
    assert fake.calls(PATH) >= 40


def test_shards_must_be_positive() -> None:
    with pytest.raises(ValueError, match="shards"):
        ShardedTransport(0)


async def test_a_caller_waits_for_a_shard_no_longer_than_the_pool_timeout() -> None:
    """With every shard busy, the pool timeout applies, as in httpx's own pool."""
    entered, leave = anyio.Event(), anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        entered.set()
        await leave.wait()
        return httpx.Response(200, json={"errcode": 0, "follow_user": []})

    transport = ShardedTransport(1)
    transport._shards = [httpx.MockTransport(slow)]  # type: ignore[list-item]
    transport._free = list(transport._shards)  # type: ignore[arg-type]
    async with (
        httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0, pool=0.0)) as http,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(http.get, "http://wecom.test/busy")
        await entered.wait()
        with pytest.raises(httpx.PoolTimeout):
            await http.get("http://wecom.test/second")
        leave.set()
    # The busy shard came back, and the refused caller took none.
    assert len(transport._free) == 1


async def test_the_sdk_turns_a_pool_timeout_into_an_unsent_timeout_error() -> None:
    entered, leave = anyio.Event(), anyio.Event()
    seen: list[str] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("gettoken"):
            return httpx.Response(200, json={"errcode": 0, "access_token": "t" * 20})
        entered.set()
        await leave.wait()
        return httpx.Response(200, json={"errcode": 0, "follow_user": []})

    transport = ShardedTransport(1)
    transport._shards = [httpx.MockTransport(slow)]  # type: ignore[list-item]
    transport._free = list(transport._shards)  # type: ignore[arg-type]
    async with (
        httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0, pool=0.0)) as http,
        WeComClient(
            "wwfake",
            "fake-secret",
            http_client=http,
            base_url="http://wecom.test",
            retry=RetryPolicy.no_delay(max_attempts=1),
        ) as client,
        anyio.create_task_group() as tg,
    ):
        await client.tokens.get()
        tg.start_soon(client.external_contact.get_follow_user_list)
        await entered.wait()
        with pytest.raises(APITimeoutError) as caught:
            await client.external_contact.get_follow_user_list()
        leave.set()
    assert caught.value.sent is False
    assert seen.count("/cgi-bin/externalcontact/get_follow_user_list") == 1


def test_shards_share_one_tls_context() -> None:
    transport = ShardedTransport(3)
    contexts = {id(shard._pool._ssl_context) for shard in transport._shards}
    assert len(contexts) == 1


async def test_the_owned_client_keeps_cookies_an_answer_sets_and_sends_them_back() -> None:
    """Its jar skips answers that set no cookie, and reads the others exactly as httpx does."""
    seen: list[str | None] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        if request.url.path == "/sticky":
            return httpx.Response(200, headers={"Set-Cookie": "lb=node-2; Path=/"}, json={})
        return httpx.Response(200, json={})

    async with OwnedClient(transport=httpx.MockTransport(answer), timeout=httpx.Timeout(5)) as http:
        await http.get("http://wecom.test/plain")
        assert dict(http.cookies) == {}
        await http.get("http://wecom.test/sticky")
        await http.get("http://wecom.test/plain")
        assert dict(http.cookies) == {"lb": "node-2"}
    assert seen == [None, None, "lb=node-2"]
    client = WeComClient("wwfake", "fake-secret")
    assert type(client._http) is OwnedClient
    await client.aclose()
