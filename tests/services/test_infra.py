"""client.infra (endpoints.md #87) end to end against the fake WeCom."""

from __future__ import annotations

import pytest

from wecom_async import APIError, WeComClient
from wecom_async.testing import FakeWeCom

CALLBACK_IP = "getcallbackip"


async def test_get_callback_ip_lists_the_addresses(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    ips = await wecom_client.infra.get_callback_ip()
    assert ips == ["159.75.144.151", "112.53.2.93", "106.55.227.187", "183.47.98.227"]
    assert ips.response.ip_list == list(ips)
    request = wecom_fake.requests[-1]
    assert (request.method, request.path, request.json) == ("GET", CALLBACK_IP, None)
    assert set(request.query) == {"access_token"}


async def test_get_callback_ip_is_resent_after_system_busy(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.inject(CALLBACK_IP, errcode=-1, times=2)
    assert len(await wecom_client.infra.get_callback_ip()) == 4
    assert wecom_fake.calls(CALLBACK_IP) == 3


async def test_a_refused_call_is_its_errcode(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.inject(CALLBACK_IP, errcode=48002)
    with pytest.raises(APIError) as caught:
        await wecom_client.infra.get_callback_ip()
    assert caught.value.errcode == 48002
    assert wecom_fake.calls(CALLBACK_IP) == 1
