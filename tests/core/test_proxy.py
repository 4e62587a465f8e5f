"""The owned HTTP client goes out through the proxy of the environment or of ``proxy=``.

A loopback server plays the egress proxy: it answers absolute-form requests itself (as a
forwarding proxy would relay WeCom's answer) and records what it was asked, so the tests
see exactly which requests went through it and which went direct.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import pytest

from wecom_async import RetryPolicy, TransportError, ValidationError, WeComClient
from wecom_async._client import TransportName

CORP_ID = "wwproxy"
SECRET = "proxy-test-secret-0123456789"
TOKEN = "token-through-the-proxy-0123456789"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class LoopbackHttp:
    """A tiny HTTP/1.1 server that answers like WeCom and records each request line."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.credentials: list[str] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        target = head.split(" ")[1]
        self.targets.append(head.split("\r\n")[0])
        self.credentials += [
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("proxy-authorization:")
        ]
        length = next(
            (
                int(line.split(":", 1)[1])
                for line in head.split("\r\n")
                if line.lower().startswith("content-length:")
            ),
            0,
        )
        if length:
            await reader.readexactly(length)
        if head.startswith("CONNECT"):
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        else:
            body = (
                {"errcode": 0, "access_token": TOKEN, "expires_in": 7200}
                if "/cgi-bin/gettoken" in target
                else {"errcode": 0, "errmsg": "ok", "follow_user": ["zhangsan"]}
            )
            payload = json.dumps(body).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> LoopbackHttp:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture(params=["httpx", "aiohttp"])
def transport(request: pytest.FixtureRequest) -> TransportName:
    """Every test runs on both HTTP layers of the owned client: proxies behave the same."""
    name: TransportName = request.param
    return name


@pytest.fixture
async def proxy() -> AsyncIterator[LoopbackHttp]:
    async with LoopbackHttp() as server:
        yield server


@pytest.fixture
async def direct() -> AsyncIterator[LoopbackHttp]:
    async with LoopbackHttp() as server:
        yield server


def _client(base_url: str, transport: TransportName, **options: object) -> WeComClient:
    return WeComClient(
        CORP_ID,
        SECRET,
        base_url=base_url,
        retry=RetryPolicy.no_delay(max_attempts=1),
        transport=transport,
        **options,  # type: ignore[arg-type]
    )


async def test_http_proxy_of_the_environment_carries_every_request(
    no_proxy_env: pytest.MonkeyPatch, proxy: LoopbackHttp, transport: TransportName
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    # The host does not exist: only a proxy can answer for it.
    async with _client("http://wecom.invalid", transport) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert [t.split("?")[0] for t in proxy.targets] == [
        "GET http://wecom.invalid/cgi-bin/gettoken",
        "GET http://wecom.invalid/cgi-bin/externalcontact/get_follow_user_list",
    ]


async def test_https_proxy_of_the_environment_is_asked_to_connect_to_wecom(
    no_proxy_env: pytest.MonkeyPatch, proxy: LoopbackHttp, transport: TransportName
) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url.replace("://", "://user:proxy-pass-42@"))
    async with WeComClient(
        CORP_ID, SECRET, retry=RetryPolicy.no_delay(max_attempts=1), transport=transport
    ) as client:
        with pytest.raises(TransportError) as caught:
            await client.external_contact.get_follow_user_list()
    assert proxy.targets == ["CONNECT qyapi.weixin.qq.com:443 HTTP/1.1"]
    assert proxy.credentials == ["Basic " + base64.b64encode(b"user:proxy-pass-42").decode()]
    assert "proxy-pass-42" not in str(caught.value)
    assert "proxy-pass-42" not in repr(caught.value)


async def test_all_proxy_applies_when_no_scheme_variable_is_set(
    no_proxy_env: pytest.MonkeyPatch, proxy: LoopbackHttp, transport: TransportName
) -> None:
    no_proxy_env.setenv("ALL_PROXY", proxy.url)
    async with _client("http://wecom.invalid", transport) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert len(proxy.targets) == 2


async def test_no_proxy_sends_matching_hosts_direct(
    no_proxy_env: pytest.MonkeyPatch,
    proxy: LoopbackHttp,
    direct: LoopbackHttp,
    transport: TransportName,
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    no_proxy_env.setenv("NO_PROXY", "example.org, 127.0.0.1")
    async with _client(direct.url, transport) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert proxy.targets == []
    assert len(direct.targets) == 2


async def test_no_proxy_star_turns_every_proxy_off(
    no_proxy_env: pytest.MonkeyPatch,
    proxy: LoopbackHttp,
    direct: LoopbackHttp,
    transport: TransportName,
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    no_proxy_env.setenv("NO_PROXY", "*")
    async with _client(direct.url, transport) as client:
        await client.external_contact.get_follow_user_list()
    assert (len(proxy.targets), len(direct.targets)) == (0, 2)


async def test_explicit_proxy_wins_over_the_environment(
    no_proxy_env: pytest.MonkeyPatch,
    proxy: LoopbackHttp,
    direct: LoopbackHttp,
    transport: TransportName,
) -> None:
    # The environment names a proxy that would answer too: the explicit one must be used.
    no_proxy_env.setenv("HTTP_PROXY", direct.url)
    async with _client("http://wecom.invalid", transport, proxy=proxy.url) as client:
        await client.external_contact.get_follow_user_list()
    assert (len(proxy.targets), len(direct.targets)) == (2, 0)


async def test_trust_env_false_ignores_the_environment(
    no_proxy_env: pytest.MonkeyPatch,
    proxy: LoopbackHttp,
    direct: LoopbackHttp,
    transport: TransportName,
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    async with _client(direct.url, transport, trust_env=False) as client:
        await client.external_contact.get_follow_user_list()
    assert (len(proxy.targets), len(direct.targets)) == (0, 2)


async def test_proxied_client_still_caps_requests_in_flight(
    no_proxy_env: pytest.MonkeyPatch, proxy: LoopbackHttp, transport: TransportName
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    client = _client("http://wecom.invalid", transport, max_in_flight=3)
    proxied = client._http._transport_for_url(client._http.build_request("GET", "http://x").url)
    expected = {"httpx": "ShardedTransport(shards=3)", "aiohttp": "AioHttpTransport(connections=3)"}
    assert repr(proxied) == expected[transport]
    await client.aclose()


def test_proxy_with_a_given_http_client_is_refused() -> None:
    import httpx

    with pytest.raises(ValidationError, match="proxy"):
        WeComClient(CORP_ID, SECRET, http_client=httpx.AsyncClient(), proxy="http://p:1")
