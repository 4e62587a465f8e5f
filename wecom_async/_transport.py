"""``ShardedTransport``: many one-connection pools instead of one pool of many connections.

httpcore's connection pool does work in proportion to queued requests x connections on
every request, so one shared pool slows down as concurrency grows (measured on loopback:
raw httpx fell from ~1,200 to ~600 requests/s between 1 and 64 callers). Here each shard
is a pool of exactly one keep-alive connection; a request takes a free shard (waiting on
a semaphore when all are busy) and gives it back when its response is closed, so the work
per request stays constant. ``WeComClient`` uses it for the HTTP client it owns.

A caller waits for a free shard no longer than the request's pool timeout
(``httpx.Timeout(pool=...)``), as httpx's own pool does; then ``httpx.PoolTimeout``.

The pieces both of the owned client's HTTP layers share live here too, so that the two
fail alike: :class:`Slots` (the wait for a connection, refused once closed),
:func:`framing_problem` (answers whose framing the two parsers read differently) and
:func:`scrubbed` (no raw bytes of an answer in an error message).
"""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from http.cookiejar import CookieJar
from typing import Final, TypeVar

import anyio
import httpx

from ._validation import check_whole

__all__ = [
    "MAX_IN_FLIGHT",
    "OwnedClient",
    "ShardedTransport",
    "Slots",
    "TransportClosed",
    "framing_problem",
    "scrubbed",
    "shared_ssl_context",
]

_E = TypeVar("_E", bound=httpx.TransportError)

#: Most requests one client keeps in flight (the connections of a ``ShardedTransport``).
#: WeCom admits about 150 calls a second per API under the default budget, so even at
#: 6 s a response 1,000 requests in flight keep it busy; each is a socket (Linux's
#: default limit is 1,024 open files a process) and a transport built up front, so a
#: typo of a few more zeros would exhaust the process or build for minutes.
MAX_IN_FLIGHT: Final = 1_000

# Where a parser starts quoting what it read (``b'...'``, ``bytearray(b'...')``): an
# answer's raw bytes may hold a token, so nothing from there on is kept.
_RAW_BYTES: Final = re.compile(r"""\s*:?\s*(?:bytearray\()?\bb['"]""")


class TransportClosed(RuntimeError):
    """The transport was closed before this request went out: nothing was sent.

    A ``RuntimeError``, as httpx's own refusal to send on a closed client is: the core
    turns both into :class:`~wecom_async.ClientClosedError`.
    """


def scrubbed(message: str) -> str:
    """``message`` up to its first line break or quoted raw bytes."""
    return _RAW_BYTES.split(message.split("\n", 1)[0], 1)[0].rstrip(" :")


def scrubbed_error(exc: _E) -> _E:
    """A fresh exception of ``exc``'s class whose message quotes nothing of the answer."""
    return type(exc)(scrubbed(str(exc)))


def framing_problem(status: int, headers: httpx.Headers) -> str | None:
    """Why an answer's head frames its body ambiguously, or None when it does not.

    h11 and aiohttp's parser disagree on these (one reads the answer, the other refuses
    it, or reads a different body); both transports refuse them, as a protocol error.
    """
    if status == 101:
        return "the server switched protocols, which no request asked for"
    encoding = headers.get("transfer-encoding")
    if encoding is None:
        return None
    if "content-length" in headers:
        return "the answer has both Content-Length and Transfer-Encoding"
    if encoding.strip().lower() != "chunked":
        return "only Transfer-Encoding: chunked is supported"
    return None


class Slots:
    """At most ``n`` requests at once: the wait for a free connection.

    A caller waits no longer than the request's pool timeout (then
    ``httpx.PoolTimeout``). Once :meth:`close` runs, every waiter and every later caller
    gets :class:`TransportClosed`: a request queued behind a closing client never leaves.
    """

    def __init__(self, n: int) -> None:
        self._free = anyio.Semaphore(n)
        self.closed = False

    async def take(self, request: httpx.Request) -> None:
        """Wait for a free slot, no longer than ``request``'s pool timeout.

        Raises:
            TransportClosed: the transport is closed (or closed during the wait).
            httpx.PoolTimeout: no slot came free within the pool timeout.
        """
        if self.closed:
            raise TransportClosed("the transport is closed")
        try:
            self._free.acquire_nowait()
        except anyio.WouldBlock:
            await self._wait(request)
        if self.closed:
            self._free.release()
            raise TransportClosed("the transport was closed while the request waited")

    async def _wait(self, request: httpx.Request) -> None:
        timeout = request.extensions.get("timeout", {}).get("pool")
        if timeout is None:
            await self._free.acquire()
            return
        with anyio.move_on_after(timeout):
            await self._free.acquire()
            return
        raise httpx.PoolTimeout("no connection became free in time", request=request)

    def give(self) -> None:
        """Hand a slot back."""
        self._free.release()

    def close(self) -> None:
        """Refuse every later request and wake every waiter (to refuse it)."""
        self.closed = True
        for _ in range(self._free.statistics().tasks_waiting):
            self._free.release()


@functools.lru_cache(maxsize=4)
def shared_ssl_context(verify: object) -> ssl.SSLContext:
    """One TLS context per ``verify`` setting, shared by every transport of every client."""
    return httpx.create_ssl_context(verify=verify)  # type: ignore[arg-type]


def _h11_states(shard: httpx.AsyncHTTPTransport) -> list[object]:
    """The h11 state of each connection of ``shard`` (through a proxy's wrapper too).

    httpcore keeps them private; if that changes, no state is found and the leftover
    check below finds nothing (tests/core/test_transports.py then fails).
    """
    states = []
    for connection in shard._pool.connections:
        inner: object = connection
        for _ in range(3):
            state = getattr(inner, "_h11_state", None)
            if state is not None:
                states.append(state)
                break
            inner = getattr(inner, "_connection", None)
    return states


def _leftover(shard: httpx.AsyncHTTPTransport) -> bool:
    """Whether bytes came after the end of the answer just read on ``shard``.

    httpcore would read them as the answer to the next request on that connection: a
    second answer the server slipped in would be taken for the next call's.
    """
    return any(bool(getattr(state, "trailing_data", (b"",))[0]) for state in _h11_states(shard))


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that hands its shard back when it is closed.

    Bytes after the body's end are a protocol error, and the connection that carried
    them is closed rather than reused (aiohttp's parser refuses them as well).
    """

    def __init__(
        self,
        stream: httpx.AsyncByteStream,
        shard: httpx.AsyncHTTPTransport,
        release: Callable[[], None],
    ) -> None:
        self._stream = stream
        self._shard = shard
        self._release: Callable[[], None] | None = release
        self._poisoned = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except httpx.TransportError as exc:
            raise scrubbed_error(exc) from None
        if _leftover(self._shard):
            self._poisoned = True
            raise httpx.RemoteProtocolError("the server sent bytes after the end of its answer")

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
            if self._poisoned:
                for connection in self._shard._pool.connections:
                    await connection.aclose()
        except httpx.TransportError as exc:
            raise scrubbed_error(exc) from None
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class ShardedTransport(httpx.AsyncBaseTransport):
    """An async transport of ``shards`` independent one-connection pools.

    Args:
        shards: connections (and so requests in flight) at most, 1 to
            :data:`MAX_IN_FLIGHT` (1,000).
        **transport_options: passed to each ``httpx.AsyncHTTPTransport`` (``verify``,
            ``proxy``, ``retries``, ...); ``limits`` is set by the shard, and one TLS
            context serves every shard.

    Raises:
        ValidationError: ``shards`` not a whole number from 1 to :data:`MAX_IN_FLIGHT`
            (checked before any shard is built).
    """

    def __init__(self, shards: int = 16, **transport_options: object) -> None:
        check_whole(shards, "shards", high=MAX_IN_FLIGHT)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        verify = transport_options.get("verify", True)
        if not isinstance(verify, ssl.SSLContext):
            # Building a context costs ~40 ms; one per shard made a client take 0.6 s to create.
            transport_options["verify"] = shared_ssl_context(verify)
        self._shards = [
            httpx.AsyncHTTPTransport(limits=limits, **transport_options)  # type: ignore[arg-type]
            for _ in range(shards)
        ]
        self._free = list(self._shards)
        self._slots = Slots(shards)

    def __repr__(self) -> str:
        return f"ShardedTransport(shards={len(self._shards)})"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on a free shard; the shard is busy until the response closes.

        Raises:
            TransportClosed: the transport was closed before the request could leave.
            httpx.PoolTimeout: no shard came free within the pool timeout.
            httpx.TransportError: the exchange failed (its message quotes no raw bytes).
        """
        await self._slots.take(request)
        shard = self._free.pop()

        def release() -> None:
            self._free.append(shard)
            self._slots.give()

        try:
            response = await self._open(shard, request)
        except BaseException:
            release()
            raise
        if response.is_closed:
            # A body read in full when the response was built has nothing left to close.
            release()
            return response
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(stream, shard, release)
        return response

    @staticmethod
    async def _open(shard: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on ``shard`` and check the answer's head."""
        try:
            response = await shard.handle_async_request(request)
        except httpx.TransportError as exc:
            raise scrubbed_error(exc) from None
        problem = framing_problem(response.status_code, response.headers)
        if problem is not None:
            await response.aclose()
            raise httpx.RemoteProtocolError(problem)
        return response

    async def aclose(self) -> None:
        """Refuse new and waiting requests, then close every shard's connection."""
        self._slots.close()
        for shard in self._shards:
            await shard.aclose()


class _CookieJar(httpx.Cookies):
    """httpx's cookie jar, reading an answer's cookies only when the answer sets any.

    To show an answer to the jar, httpx builds a urllib request and an email message per
    answer, whether or not it sets a cookie: that cost more CPU than parsing the JSON of a
    1 KB answer. Answers with ``Set-Cookie`` are read exactly as before.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep the cookies ``response`` sets; an answer setting none is not parsed."""
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class OwnedClient(httpx.AsyncClient):
    """The ``httpx.AsyncClient`` the SDK creates for itself: httpx's, with a cheaper jar."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport,
        timeout: httpx.Timeout,
        mounts: Mapping[str, httpx.AsyncBaseTransport | None] | None = None,
        trust_env: bool = True,
    ) -> None:
        super().__init__(timeout=timeout, transport=transport, mounts=mounts, trust_env=trust_env)
        self.cookies = None

    @property
    def cookies(self) -> httpx.Cookies:
        """The client's cookies (see :class:`httpx.AsyncClient`)."""
        return self._jar

    @cookies.setter
    def cookies(
        self, cookies: httpx.Cookies | CookieJar | dict[str, str] | list[tuple[str, str]] | None
    ) -> None:
        self._jar = _CookieJar(cookies)
