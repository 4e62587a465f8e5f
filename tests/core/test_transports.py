"""The owned client fails the same way on both HTTP layers (``transport="httpx"`` / ``"aiohttp"``).

A loopback server misbehaves on a real socket, as a broken WeCom or proxy would: it
resets the connection after reading the request, answers 502 or garbage, hangs, drips
its body, cuts it short, or inflates a gzip body. Each failure must give the same
WeComError class, the same ``sent`` flag and the same number of requests on the wire on
both transports: the retry rules above the transport depend on nothing else.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import AsyncIterator
from typing import Final

import anyio
import httpx
import pytest

from tests.conftest import leaked
from wecom_async import (
    APITimeoutError,
    ClientClosedError,
    ResponseError,
    RetryPolicy,
    TransportError,
    ValidationError,
    WeComClient,
    WeComError,
)
from wecom_async._client import TransportName

CORP_ID = "wwwire"
SECRET = "wire-test-secret-0123456789"
TOKEN = "TOKEN-on-the-wire-0123456789"
READ = "/cgi-bin/externalcontact/get_follow_user_list"
WRITE = "/cgi-bin/externalcontact/add_contact_way"
UPLOAD = "/cgi-bin/media/uploadimg"
ANSWERS: Final = {
    "/cgi-bin/gettoken": {"errcode": 0, "access_token": TOKEN, "expires_in": 7200},
    READ: {"errcode": 0, "errmsg": "ok", "follow_user": ["zhangsan"]},
    WRITE: {"errcode": 0, "errmsg": "ok", "config_id": "c1"},
    UPLOAD: {"errcode": 0, "errmsg": "ok", "url": "https://wework.qpic.cn/x.png"},
}


def _http(status: str, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class HostileServer:
    """Answers like WeCom, except where a path is scripted to misbehave (once each)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.bodies: dict[str, bytes] = {}
        self.scripts: dict[str, list[str]] = {}
        self.server: asyncio.Server | None = None
        self.handlers: set[asyncio.Task[object]] = set()
        #: Set once a request is held unanswered ("hang").
        self.hanging = asyncio.Event()

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *behaviours: str) -> None:
        self.scripts[path] = list(behaviours)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                path = head.split(" ")[1].split("?")[0]
                for line in head.split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                        self.bodies[path] = await reader.readexactly(length)
                self.calls[path] = self.calls.get(path, 0) + 1
                script = self.scripts.get(path)
                behaviour = script.pop(0) if script else "ok"
                if not await self._answer(behaviour, path, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, behaviour: str, path: str, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must end."""
        if behaviour == "ok":
            writer.write(_http("200 OK", json.dumps(ANSWERS[path]).encode()))
        elif behaviour == "reset":
            return False
        elif behaviour == "502":
            writer.write(_http("502 Bad Gateway", b"<html>bad gateway</html>"))
        elif behaviour == "malformed":
            writer.write(b"HTTP/1.1 two-hundred OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
            return False
        elif behaviour == "garbage":
            writer.write(_http("200 OK", b"<html>not json</html>"))
        elif behaviour == "truncated":
            writer.write(_http("200 OK", b'{"errcode": 0, "follow_user": []}')[:-10])
            await writer.drain()
            return False
        elif behaviour == "bomb":
            body = gzip.compress(b" " * 200_000)
            writer.write(_http("200 OK", body, "Content-Encoding: gzip"))
        elif behaviour == "hang":
            self.hanging.set()
            await asyncio.sleep(3600)
        elif behaviour == "trickle":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(100_000):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.01)
        await writer.drain()
        return True

    async def __aenter__(self) -> HostileServer:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.handlers:
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()


@pytest.fixture(params=["httpx", "aiohttp"])
def transport(request: pytest.FixtureRequest) -> TransportName:
    name: TransportName = request.param
    return name


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as hostile:
        yield hostile


def _client(
    base_url: str, transport: TransportName, attempts: int = 2, **options: object
) -> WeComClient:
    client = WeComClient(
        CORP_ID,
        SECRET,
        base_url=base_url,
        transport=transport,
        retry=RetryPolicy.no_delay(max_attempts=attempts),
        timeout=httpx.Timeout(5.0, read=0.3),
        trust_env=False,
        **options,  # type: ignore[arg-type]
    )
    # Small bounds, so that a dripped or inflated body is cut off quickly.
    client._core._exchange_limit = 0.5
    client._core._max_body_bytes = 100_000
    return client


# What the server does -> the error the caller sees and whether the request may have left.
FAILURES: Final[dict[str, tuple[type[WeComError], bool]]] = {
    "reset": (TransportError, True),
    "502": (ResponseError, False),
    "garbage": (ResponseError, False),
    "malformed": (TransportError, True),
    "truncated": (TransportError, True),
    "bomb": (ResponseError, False),
    "hang": (APITimeoutError, True),
    "trickle": (APITimeoutError, True),
}


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_a_write_failing_on_the_wire_is_the_same_error_and_is_not_resent(
    server: HostileServer, transport: TransportName, failure: str
) -> None:
    expected, sent = FAILURES[failure]
    server.script(WRITE, failure)
    async with _client(server.url, transport) as client:
        with pytest.raises(WeComError) as caught:
            await client.request("POST", "externalcontact/add_contact_way", json={"type": 1})
    assert type(caught.value) is expected
    if isinstance(caught.value, TransportError):
        assert caught.value.sent is sent
    assert server.calls[WRITE] == 1
    assert caught.value.__context__ is None
    assert not leaked(str(caught.value) + repr(caught.value), (TOKEN,))
    assert "access_token" not in str(caught.value)


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_a_read_failing_on_the_wire_is_retried_once_on_both_transports(
    server: HostileServer, transport: TransportName, failure: str
) -> None:
    server.script(READ, failure)
    async with _client(server.url, transport) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    # One failed attempt and one resend: no transport resends on its own.
    assert server.calls[READ] == 2


async def test_a_refused_connection_is_an_unsent_transport_error(transport: TransportName) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with _client(f"http://127.0.0.1:{port}", transport) as client:
        with pytest.raises(TransportError) as caught:
            await client.request("POST", "externalcontact/add_contact_way", json={"type": 1})
    assert type(caught.value) is TransportError
    assert caught.value.sent is False


async def test_a_deadline_cutting_a_read_short_gives_the_connection_back(
    server: HostileServer, transport: TransportName
) -> None:
    server.script(READ, "hang")
    async with _client(server.url, transport, attempts=1, max_in_flight=1) as client:
        client._core._http.timeout = httpx.Timeout(5.0)
        with pytest.raises(APITimeoutError) as caught:
            await client.external_contact.get_follow_user_list(deadline=0.3)
        assert caught.value.sent is True
        # One connection in all: the next call gets it back.
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]


async def test_a_cancelled_caller_gives_the_connection_back(
    server: HostileServer, transport: TransportName
) -> None:
    server.script(READ, "hang")
    async with _client(server.url, transport, attempts=1, max_in_flight=1) as client:
        await client.tokens.get()
        with anyio.move_on_after(0.2) as scope:
            await client.external_contact.get_follow_user_list()
        assert scope.cancelled_caught
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls[READ] == 2


async def test_waiting_for_a_connection_past_the_pool_timeout_is_an_unsent_timeout(
    server: HostileServer, transport: TransportName
) -> None:
    server.script(READ, "hang")
    client = WeComClient(
        CORP_ID,
        SECRET,
        base_url=server.url,
        transport=transport,
        retry=RetryPolicy.no_delay(max_attempts=1),
        timeout=httpx.Timeout(5.0, pool=0.2),
        max_in_flight=1,
        trust_env=False,
    )
    async with client, anyio.create_task_group() as tg:
        await client.tokens.get()
        tg.start_soon(client.external_contact.get_follow_user_list)
        await server.hanging.wait()
        with pytest.raises(APITimeoutError) as caught:
            await client.external_contact.get_follow_user_list()
        tg.cancel_scope.cancel()
    assert caught.value.sent is False
    assert server.calls[READ] == 1


async def test_a_closed_client_sends_nothing(
    server: HostileServer, transport: TransportName
) -> None:
    client = _client(server.url, transport)
    assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.external_contact.get_follow_user_list()
    assert server.calls[READ] == 1


def test_aiohttp_under_trio_is_refused_before_anything_is_sent() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        async def call() -> None:
            async with _client(url, "aiohttp") as client:
                await client.request("GET", "externalcontact/get_follow_user_list")

        with pytest.raises(ValidationError, match="asyncio only"):
            anyio.run(call, backend="trio")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


def test_transport_is_for_the_owned_client_and_names_a_known_layer() -> None:
    with pytest.raises(ValidationError, match="transport="):
        WeComClient(CORP_ID, SECRET, http_client=httpx.AsyncClient(), transport="aiohttp")
    with pytest.raises(ValidationError, match="'httpx' or 'aiohttp'"):
        WeComClient(CORP_ID, SECRET, transport="curl")  # type: ignore[arg-type]


def test_a_socks_proxy_on_aiohttp_is_refused_without_quoting_its_url() -> None:
    with pytest.raises(ValidationError) as caught:
        WeComClient(CORP_ID, SECRET, transport="aiohttp", proxy="socks5://u:pw-77@p:1080")
    assert "pw-77" not in str(caught.value)
    assert "http://, https://" in str(caught.value)


async def test_a_read_reset_after_sending_goes_out_once_per_attempt(
    server: HostileServer, transport: TransportName
) -> None:
    server.script(READ, "reset", "reset", "reset")
    async with _client(server.url, transport, attempts=1) as client:
        await client.tokens.get()  # the read goes out on the kept-alive connection
        with pytest.raises(TransportError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.sent is True
    # aiohttp on its own resends a GET whose reused connection broke: not here.
    assert server.calls[READ] == 1


async def test_a_multipart_upload_arrives_whole_on_both_transports(
    server: HostileServer, transport: TransportName
) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    async with _client(server.url, transport) as client:
        url = await client.media.upload_image(image, filename="logo.png")
    assert url == "https://wework.qpic.cn/x.png"
    body = server.bodies[UPLOAD]
    assert image in body
    assert b'filename="logo.png"' in body
    assert server.calls[UPLOAD] == 1
