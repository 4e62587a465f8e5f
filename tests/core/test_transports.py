"""The owned client fails the same way on both HTTP layers (``transport="httpx"`` / ``"aiohttp"``).

A loopback server misbehaves on a real socket, as a broken WeCom or proxy would: it
resets the connection after reading the request, answers 502 or garbage, hangs, drips
its body, cuts it short, or inflates a gzip body. Each failure must give the same
WeComError class, the same ``sent`` flag and the same number of requests on the wire on
both transports: the retry rules above the transport depend on nothing else.
"""

from __future__ import annotations

import asyncio
import base64
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
        #: The last request head per path (a proxy's absolute-form target made a path).
        self.heads: dict[str, str] = {}
        #: Raw bytes scripted as an answer are written as they are.
        self.scripts: dict[str, list[str | bytes]] = {}
        #: Paths whose request body is never read, nor answered (a deaf server).
        self.deaf: set[str] = set()
        self.server: asyncio.Server | None = None
        self.handlers: set[asyncio.Task[object]] = set()
        #: Set once a request is held unanswered ("hang").
        self.hanging = asyncio.Event()
        #: Set once an answer's body stops short, the connection held open ("stall").
        self.stalled = asyncio.Event()

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *behaviours: str | bytes) -> None:
        self.scripts[path] = list(behaviours)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                path = head.split(" ")[1].split("?")[0]
                if path.startswith("http://"):
                    path = "/" + path.split("/", 3)[3]
                self.heads[path] = head
                if path in self.deaf:
                    self.hanging.set()
                    await asyncio.sleep(3600)
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

    async def _answer(
        self, behaviour: str | bytes, path: str, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must end."""
        if isinstance(behaviour, bytes):
            writer.write(behaviour)
        elif behaviour == "ok":
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
        elif behaviour == "stall":
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"errcode": 0')
            await writer.drain()
            self.stalled.set()
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


def _walk(error: BaseException) -> list[tuple[str, list[object]]]:
    """Each frame of ``error``'s traceback: its file and its locals."""
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, list(tb.tb_frame.f_locals.values())))
        tb = tb.tb_next
    return frames


def test_the_refusal_under_trio_holds_no_request_in_its_traceback() -> None:
    async def call() -> None:
        async with _client("http://127.0.0.1:9", "aiohttp") as client:
            await client.external_contact.get_follow_user_list()

    with pytest.raises(ValidationError) as caught:
        anyio.run(call, backend="trio")
    # The refusal came from inside httpx, whose frames hold the gettoken URL (corpsecret).
    assert caught.value.__context__ is None
    for filename, values in _walk(caught.value):
        assert "/httpx/" not in filename
        assert "_aiohttp.py" not in filename
        assert not [value for value in values if isinstance(value, httpx.Request)]
    assert SECRET not in "".join(repr(values) for _, values in _walk(caught.value))


@pytest.mark.parametrize(
    "base_url",
    ["https://qyapi.weixin.qq.com/?debug=1", "https://qyapi.weixin.qq.com#top", "http://h/p?"],
)
def test_a_base_url_with_a_query_or_fragment_is_refused(base_url: str) -> None:
    # Paths are appended to it: every call would go to the wrong place.
    with pytest.raises(ValidationError, match="base_url"):
        WeComClient(CORP_ID, SECRET, base_url=base_url)


async def test_closing_fails_the_call_in_flight_and_refuses_the_waiting_one(
    server: HostileServer, transport: TransportName
) -> None:
    server.script(READ, "stall")
    client = _client(server.url, transport, attempts=1, max_in_flight=1)
    # Long enough that a reader left hanging by the close fails the test as a timeout.
    client._core._exchange_limit = 2.0
    errors: dict[str, WeComError] = {}

    async def call(name: str) -> None:
        try:
            await client.external_contact.get_follow_user_list()
        except WeComError as exc:
            errors[name] = exc

    await client.tokens.get()
    async with anyio.create_task_group() as tg:
        tg.start_soon(call, "reading")
        await server.stalled.wait()
        await anyio.wait_all_tasks_blocked()  # the first call waits for the rest of its body
        tg.start_soon(call, "waiting")
        await anyio.wait_all_tasks_blocked()  # the second waits for the only connection
        await client.aclose()
    # Inside a task group: nothing escaped as a cancellation, both calls ended in errors.
    assert type(errors["reading"]) is TransportError
    assert errors["reading"].sent is True
    assert type(errors["waiting"]) is ClientClosedError
    # The waiting call never went out, not even after the close freed its connection.
    assert server.calls[READ] == 1


@pytest.mark.parametrize(
    "reason", ["成功".encode(), "成功".encode("gbk"), "été".encode("latin-1")], ids=str
)
async def test_any_reason_phrase_is_read_and_the_connection_reused(
    server: HostileServer, transport: TransportName, reason: bytes
) -> None:
    body = json.dumps(ANSWERS[READ]).encode()
    head = b"HTTP/1.1 200 " + reason + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
    server.script(READ, head + body)
    async with _client(server.url, transport, attempts=1, max_in_flight=1) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
        # One connection in all: the first answer gave it back.
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls[READ] == 2


@pytest.mark.parametrize(
    "headers",
    [("X-Big: " + "a" * 90_000,), tuple(f"X-Many-{i}: v" for i in range(500))],
    ids=["a 90 KB header line", "500 headers"],
)
async def test_a_head_within_h11s_100_kib_is_read_on_both(
    server: HostileServer, transport: TransportName, headers: tuple[str, ...]
) -> None:
    server.script(READ, _http("200 OK", json.dumps(ANSWERS[READ]).encode(), *headers))
    async with _client(server.url, transport, attempts=1) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]


def _chunked(body: bytes) -> bytes:
    return b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


_READ_BODY: Final = json.dumps(ANSWERS[READ]).encode()
_SMUGGLED: Final = json.dumps({"errcode": 0, "follow_user": ["SMUGGLED"]}).encode()

# Answers h11 and aiohttp's parser frame differently (one reads them, the other refuses
# them, or they read different bodies): refused on both, as a protocol error.
AMBIGUOUS: Final = {
    "bytes after the body": _http("200 OK", _READ_BODY) + b"hello-after",
    "a second answer after the body": _http("200 OK", _READ_BODY) + _http("200 OK", _SMUGGLED),
    "a 204 with a body": b"HTTP/1.1 204 No Content\r\nContent-Length: 11\r\n\r\nhello-after",
    "Content-Length and chunked": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunked(_READ_BODY)
    ),
    "a protocol switch": (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        + _READ_BODY
    ),
    "gzip, chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        + _chunked(gzip.compress(_READ_BODY))
    ),
}


@pytest.mark.parametrize("answer", list(AMBIGUOUS))
async def test_an_ambiguously_framed_answer_is_refused_alike_and_its_connection_dropped(
    server: HostileServer, transport: TransportName, answer: str
) -> None:
    server.script(READ, AMBIGUOUS[answer])
    async with _client(server.url, transport, attempts=1, max_in_flight=1) as client:
        await client.tokens.get()  # the read goes out on a kept-alive connection
        with pytest.raises(TransportError) as caught:
            await client.external_contact.get_follow_user_list()
        # The next call reads its own answer, never what was left on the connection.
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert caught.value.sent is True
    assert server.calls[READ] == 2
    for quoted in ("b'", "hello", "SMUGGLED", "errcode"):
        assert quoted not in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 two-hundred " + TOKEN.encode() + b"\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz" + TOKEN.encode() + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX-" + TOKEN.encode() + b"\r\nContent-Length: 2\r\n\r\n{}",
    ],
    ids=["status line", "chunk size", "header line"],
)
async def test_a_parser_error_quotes_none_of_the_answer(
    server: HostileServer, transport: TransportName, answer: bytes
) -> None:
    server.script(READ, answer)
    async with _client(server.url, transport, attempts=1) as client:
        with pytest.raises(TransportError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.sent is True
    assert TOKEN not in str(caught.value)
    assert "b'" not in str(caught.value)


async def test_proxy_credentials_reach_a_plain_http_proxy(
    server: HostileServer, transport: TransportName
) -> None:
    # The loopback server acts as the proxy; the target host never resolves.
    proxy = server.url.replace("http://", "http://us%40er:p%3Ass@")
    async with _client("http://wecom.invalid", transport, proxy=proxy) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    expected = "proxy-authorization: basic " + base64.b64encode(b"us@er:p:ss").decode().lower()
    for path in ("/cgi-bin/gettoken", READ):
        assert expected in server.heads[path].lower()


async def test_a_server_that_stops_reading_an_upload_is_a_write_timeout(
    server: HostileServer, transport: TransportName
) -> None:
    server.deaf.add(WRITE)
    client = _client(server.url, transport, attempts=1)
    client._core._http.timeout = httpx.Timeout(5.0, write=0.2)
    client._core._exchange_limit = 3.0
    # Larger than what the kernel and the event loop buffer for an unread socket.
    filler = "x" * 32_000_000
    async with client:
        with pytest.raises(APITimeoutError) as caught:
            await client.request("POST", "externalcontact/add_contact_way", json={"f": filler})
    assert caught.value.sent is True
    assert "WriteTimeout" in str(caught.value)
    assert server.calls.get(WRITE) is None  # its body never read


async def test_a_large_json_body_arrives_whole_on_both_transports(
    server: HostileServer, transport: TransportName
) -> None:
    # Past 64 KiB the aiohttp transport hands the body over in pieces (under the write
    # timeout): still one Content-Length body, byte for byte.
    names = [f"客户-{i:06d}" for i in range(20_000)]
    async with _client(server.url, transport) as client:
        await client.request("POST", "externalcontact/add_contact_way", json={"names": names})
    assert json.loads(server.bodies[WRITE]) == {"names": names}
    assert len(server.bodies[WRITE]) > 200_000
    assert "transfer-encoding" not in server.heads[WRITE].lower()
