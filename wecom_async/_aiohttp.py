"""``WeComClient(transport="aiohttp")``: httpx on aiohttp's HTTP/1.1 client (extra ``aiohttp``).

httpcore spends noticeably more CPU per request than aiohttp, so at high concurrency the
client's own HTTP layer, not WeCom, sets the pace. This transport puts aiohttp under
httpx's API, the way ``httpx-aiohttp`` and openai-python's ``DefaultAioHttpClient`` do;
everything above the transport (timeouts, the exchange limit, the body cap, gzip,
cookies, proxies, retries) stays the SDK's and httpx's own. The exchange itself is
written here rather than inherited, so that it fails the way the default transport does:

* aiohttp's exceptions mapped to the httpx exception the default transport raises for the
  same failure, above all whether the request may have left;
* no silent resend: aiohttp resends a GET whose reused connection broke, httpx does not;
* the wait for a connection is :class:`~wecom_async._transport.Slots`, as on the default
  transport: bounded by the pool timeout, refused once the transport is closed;
* ``aclose()`` fails the calls in flight at once (a body being read included) and the
  calls still waiting with :class:`~wecom_async._transport.TransportClosed`;
* the answer's head read like h11 reads it: reason phrases in any bytes, header lines
  and header blocks up to 100 KiB, and the same framing refusals
  (:func:`~wecom_async._transport.framing_problem`, bytes after the body);
* the URL sent byte for byte as httpx built it, proxy credentials sent to a plain-http
  proxy too, and a write timeout on uploads (each chunk, as httpx bounds each write);
* a clear refusal outside asyncio: aiohttp runs on asyncio only, never under trio.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, Final

import aiohttp
import httpx
import sniffio
from aiohttp.abc import AbstractStreamWriter
from aiohttp.connector import Connection
from yarl import URL

from ._exceptions import ValidationError
from ._transport import (
    Slots,
    TransportClosed,
    framing_problem,
    scrubbed,
    shared_ssl_context,
)

__all__ = ["PROXY_SCHEMES", "AioHttpTransport"]

#: Proxy URL schemes aiohttp can use (no SOCKS).
PROXY_SCHEMES: Final = ("http", "https")

# h11 (under httpx) reads an answer's head up to 100 KiB in all, whatever its lines; aiohttp
# refuses lines over 8190 bytes and more than 128 headers unless told otherwise.
_HEAD_LIMIT: Final = 100 * 1024
# aiohttp counts headers since 3.13.4 (at most 128 by default); before, it did not.
_HEADER_COUNT: Final[dict[str, Any]] = (
    {"max_headers": _HEAD_LIMIT}
    if "max_headers" in inspect.signature(aiohttp.ClientSession).parameters
    else {}
)
# Keep-alive connections idle longer than this are closed (httpx's default too).
_KEEPALIVE: Final = 5.0
# Bodies up to this size are handed to aiohttp whole: a write that small never waits.
_WHOLE_BODY: Final = 64 * 1024

# aiohttp's exception -> the httpx exception the default transport raises for the same
# failure. First match wins: the connect-phase classes (nothing left) come first.
_MAPPED: Final[tuple[tuple[type[BaseException], type[httpx.TransportError]], ...]] = (
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (asyncio.TimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientError, httpx.ReadError),
)
_FAILURES: Final = (aiohttp.ClientError, asyncio.TimeoutError)


def _mapped(exc: BaseException) -> BaseException:
    """The httpx exception for what aiohttp raised."""
    for raised, mapped in _MAPPED:
        if isinstance(exc, raised):
            return mapped(f"{type(exc).__name__}: {_message(exc)}")
    return exc


def _message(exc: BaseException) -> str:
    # A ClientResponseError's str() ends with the request URL, whose query holds the
    # access token; a parser's message quotes the bytes it read: keep what went wrong.
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{exc.status}, {scrubbed(exc.message)}"
    return scrubbed(str(exc))


class _Proxy:
    """A proxy URL without its credentials, and the header that carries them."""

    def __init__(self, url: str) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in PROXY_SCHEMES:
            raise ValidationError("aiohttp supports http:// and https:// proxies only")
        self.url = URL(str(parsed.copy_with(username=None, password=None)), encoded=True)
        # aiohttp deprecates proxy_auth; the header is what httpx sends.
        self.headers: dict[str, str] = {}
        if parsed.username or parsed.password:
            pair = base64.b64encode(f"{parsed.username}:{parsed.password}".encode()).decode()
            self.headers["Proxy-Authorization"] = f"Basic {pair}"


class _WriteTimer:
    """Bounds each chunk of an upload by the write timeout, as httpx bounds each write.

    aiohttp writes the body in a task of its own and has no write timeout: a server that
    stops reading would hold the call until its exchange limit. The timer cancels that
    writer task, which makes aiohttp close the connection and fail the request.
    """

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        # The caller's own task is never the one cancelled, whoever iterates the body.
        self._caller = asyncio.current_task()
        self.fired = False

    async def chunks(self, body: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """``body``'s chunks; the time aiohttp takes to write each one is bounded."""
        loop = asyncio.get_running_loop()
        async for chunk in body:
            writer = asyncio.current_task()
            if self._seconds is None or writer is None or writer is self._caller:
                yield chunk
                continue
            timer = loop.call_later(self._seconds, self._fire, writer)
            try:
                yield chunk
            finally:
                timer.cancel()

    def _fire(self, writer: asyncio.Task[object]) -> None:
        self.fired = True
        writer.cancel()


class _Request(aiohttp.ClientRequest):
    """aiohttp's request, its connection aborted when the body's writer is cancelled.

    aiohttp then only closes the connection, and asyncio waits to flush what is left to
    write before it reports the connection lost: to a server that stopped reading, never.
    The caller would wait for its answer until the exchange limit.
    """

    async def write_bytes(
        self, writer: AbstractStreamWriter, conn: Connection, *args: Any, **kwargs: Any
    ) -> None:
        transport = conn.transport
        try:
            await super().write_bytes(writer, conn, *args, **kwargs)
        except asyncio.CancelledError:
            if transport is not None:
                transport.abort()
            raise


async def _pieces(content: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(content), _WHOLE_BODY):
        yield content[start : start + _WHOLE_BODY]


def _body(request: httpx.Request, timer: _WriteTimer) -> bytes | AsyncIterator[bytes] | None:
    """What aiohttp sends as ``request``'s body."""
    try:
        content = request.content
    except httpx.RequestNotRead:
        stream = request.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        return timer.chunks(stream)
    if not content:
        return None
    if len(content) <= _WHOLE_BODY:
        return content
    return timer.chunks(_pieces(content))


def _reason(response: aiohttp.ClientResponse) -> bytes:
    # aiohttp decodes the status line as UTF-8 with surrogateescape: this gives back the
    # bytes the server sent (GBK, Latin-1, ...), as h11 keeps them.
    return (response.reason or "").encode("utf-8", "surrogateescape")


def _leftover(response: aiohttp.ClientResponse) -> bool:
    """Whether aiohttp parsed bytes after the end of ``response`` (a second answer).

    aiohttp would only close the connection and keep the answer, where httpx, under the
    SDK's check, refuses it. The connection's protocol is private to aiohttp (and may
    already be handed back): if it moves, nothing is found (the tests then fail).
    """
    protocol = getattr(response, "_protocol", None)
    return bool(getattr(protocol, "_buffer", None)) or bool(getattr(protocol, "_tail", b""))


class _Body(httpx.AsyncByteStream):
    """The response body: read failures mapped, bytes after its end refused, and its
    connection slot handed back when closed."""

    def __init__(
        self, response: aiohttp.ClientResponse, done: Callable[[aiohttp.ClientResponse], None]
    ) -> None:
        self._response = response
        self._done: Callable[[aiohttp.ClientResponse], None] | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _FAILURES as exc:
            raise _mapped(exc) from None
        if _leftover(self._response):
            raise httpx.RemoteProtocolError("the server sent bytes after the end of its answer")

    async def aclose(self) -> None:
        # release() hands a fully read connection back and closes any other.
        self._response.release()
        done, self._done = self._done, None
        if done is not None:
            done(self._response)


class AioHttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport on one aiohttp session of at most ``connections`` connections.

    Args:
        connections: connections (and so requests in flight) at most; callers beyond
            wait, no longer than the pool timeout.
        proxy: an ``http://`` or ``https://`` proxy URL every request goes through.

    Raises:
        ValidationError: a proxy scheme aiohttp cannot use (``socks5://``).
    """

    def __init__(self, connections: int, proxy: str | None = None) -> None:
        self._connections = connections
        self._proxy = None if proxy is None else _Proxy(proxy)
        self._slots = Slots(connections)
        self._session: aiohttp.ClientSession | None = None
        # Answers whose body is being read: aclose() must wake their readers.
        self._open: set[aiohttp.ClientResponse] = set()

    def __repr__(self) -> str:
        return f"AioHttpTransport(connections={self._connections})"

    def _client(self) -> aiohttp.ClientSession:
        """The aiohttp session, made on first use (it needs the running loop)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                # The slots cap connections; a wait inside aiohttp's connector could
                # not be told apart from a cancellation when the transport closes.
                limit=0,
                ssl=shared_ssl_context(True),
                keepalive_timeout=_KEEPALIVE,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                request_class=_Request,
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
                auto_decompress=False,  # httpx decodes, under the SDK's body cap
                max_line_size=_HEAD_LIMIT,
                max_field_size=_HEAD_LIMIT,
                **_HEADER_COUNT,
            )
            # aiohttp resends a GET once when a reused connection breaks after sending;
            # httpx does not, and the SDK's retry rules decide whether to send again.
            self._session._retry_connection = False
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through aiohttp; failures raised as the default transport's.

        Raises:
            ValidationError: not running under asyncio (nothing is sent).
            TransportClosed: the transport was closed before the request could leave.
            httpx.TransportError: the exchange failed, as the default transport says it.
        """
        if sniffio.current_async_library() != "asyncio":
            raise ValidationError(
                "transport='aiohttp' runs on asyncio only; under trio use the default transport"
            )
        await self._slots.take(request)
        try:
            response = await self._send(request)
        except BaseException:
            self._slots.give()
            raise
        self._open.add(response)
        try:
            return httpx.Response(
                status_code=response.status,
                headers=response.raw_headers,
                stream=_Body(response, self._done),
                request=request,
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": _reason(response)},
            )
        except BaseException:
            response.close()
            self._done(response)
            raise

    def _done(self, response: aiohttp.ClientResponse) -> None:
        if response in self._open:
            self._open.discard(response)
            self._slots.give()

    async def _send(self, request: httpx.Request) -> aiohttp.ClientResponse:
        """The answer's head to ``request``, checked; on failure nothing stays open."""
        timer = _WriteTimer(request.extensions.get("timeout", {}).get("write"))
        try:
            response = await self._request(request, timer)
        except _FAILURES as exc:
            if timer.fired:
                raise httpx.WriteTimeout("the server stopped reading the request") from None
            raise _mapped(exc) from None
        try:
            problem = framing_problem(response.status, httpx.Headers(response.raw_headers))
            if problem is None and _leftover(response):
                problem = "the server sent bytes after the end of its answer"
        except BaseException:
            response.close()
            raise
        if problem is not None:
            response.close()
            raise httpx.RemoteProtocolError(problem)
        return response

    async def _request(self, request: httpx.Request, timer: _WriteTimer) -> aiohttp.ClientResponse:
        timeout = request.extensions.get("timeout", {})
        connect = timeout.get("connect")
        headers = request.headers.copy()
        data = _body(request, timer)
        if not isinstance(data, bytes | None):
            headers.pop("transfer-encoding", None)  # aiohttp chunks a body of unknown size
        proxy = self._proxy
        if proxy is not None and request.url.scheme == "http":
            # Through a plain-http proxy the request itself carries the credentials
            # (aiohttp sends proxy headers only on CONNECT).
            headers.update(proxy.headers)
        session = self._client()
        try:
            return await session.request(
                request.method,
                # As httpx encoded it: yarl must not re-quote the query.
                URL(str(request.url), encoded=True),
                headers=headers.multi_items(),
                data=data,
                allow_redirects=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=connect, sock_connect=connect, sock_read=timeout.get("read")
                ),
                server_hostname=request.extensions.get("sni_hostname"),
                proxy=None if proxy is None else proxy.url,
                proxy_headers=None if proxy is None else proxy.headers,
            )
        except asyncio.CancelledError:
            if self._slots.closed and not _cancelling():
                # aclose() cancelled aiohttp's own wait (a connect in progress): nobody
                # cancelled this caller.
                raise TransportClosed("the transport was closed before the request left") from None
            raise

    async def aclose(self) -> None:
        """Refuse new and waiting requests, fail those in flight, close every connection."""
        self._slots.close()
        for response in list(self._open):
            # aiohttp drops a body being read without waking its reader.
            response.content.set_exception(aiohttp.ClientConnectionError("the client was closed"))
            response.close()
        if self._session is not None:
            await self._session.close()


def _cancelling() -> bool:
    """Whether the current task is being cancelled (unknown before Python 3.11: yes)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return cancelling is None or bool(cancelling())
