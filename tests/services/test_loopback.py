"""The same SDK scenario through a real loopback server and in-process gives the same answers."""

from __future__ import annotations

import httpx

from tests.testing.wire import serve
from wecom_async import RetryPolicy, WeComClient, to_dict
from wecom_async.testing import FakeWeCom


async def _scenario(client: WeComClient) -> dict[str, object]:
    staff = await client.external_contact.get_follow_user_list()
    items = [
        to_dict(item)
        async for item in client.external_contact.batch_get_by_user(staff[:5], limit=13)
    ]
    detail = await client.external_contact.get(str(items[0]["external_contact"]["external_userid"]))  # type: ignore[index]
    return {"staff": staff, "items": items, "detail": to_dict(detail)}


def _fake() -> FakeWeCom:
    fake = FakeWeCom()
    fake.seed(staff=8, customers_per_staff=30, seed=21)
    return fake


async def test_loopback_server_and_in_process_transport_agree() -> None:
    in_process = _fake()
    async with (
        httpx.AsyncClient(transport=in_process.transport()) as http,
        WeComClient(
            "wwfake", "fake-secret", http_client=http, retry=RetryPolicy.no_delay()
        ) as client,
    ):
        expected = await _scenario(client)

    served = _fake()
    with serve(served.app) as base_url:
        async with WeComClient(
            "wwfake", "fake-secret", base_url=base_url, retry=RetryPolicy.no_delay()
        ) as client:
            # The owned client goes over real sockets through ShardedTransport.
            assert "ShardedTransport" in repr(client._http._transport)
            actual = await _scenario(client)
    assert actual == expected
    assert len(actual["items"]) > 13  # several pages  # type: ignore[arg-type]
    assert served.calls("gettoken") == in_process.calls("gettoken") == 1
    assert served.calls("externalcontact/batch/get_by_user") == in_process.calls(
        "externalcontact/batch/get_by_user"
    )
