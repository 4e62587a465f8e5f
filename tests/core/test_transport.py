"""ShardedTransport over a real loopback server: the connection cap holds, shards come back."""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.testing.wire import serve
from wecom_async import RetryPolicy, ShardedTransport, WeComClient
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
