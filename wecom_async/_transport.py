"""``ShardedTransport``: many one-connection pools instead of one pool of many connections.

httpcore's connection pool does work in proportion to queued requests x connections on
every request, so one shared pool slows down as concurrency grows (measured on loopback:
raw httpx fell from ~1,200 to ~600 requests/s between 1 and 64 callers). Here each shard
is a pool of exactly one keep-alive connection; a request takes a free shard (waiting on
a semaphore when all are busy) and gives it back when its response is closed, so the work
per request stays constant. ``WeComClient`` uses it for the HTTP client it owns.

A caller waits for a free shard no longer than the request's pool timeout
(``httpx.Timeout(pool=...)``), as httpx's own pool does; then ``httpx.PoolTimeout``.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from http.cookiejar import CookieJar

import anyio
import httpx

__all__ = ["OwnedClient", "ShardedTransport", "shared_ssl_context"]


@functools.lru_cache(maxsize=4)
def shared_ssl_context(verify: object) -> ssl.SSLContext:
    """One TLS context per ``verify`` setting, shared by every transport of every client."""
    return httpx.create_ssl_context(verify=verify)  # type: ignore[arg-type]


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that hands its shard back when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    def __aiter__(self) -> AsyncIterator[bytes]:
        # The shard's own iterator, not a generator around it: one less frame per chunk.
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class ShardedTransport(httpx.AsyncBaseTransport):
    """An async transport of ``shards`` independent one-connection pools.

    Args:
        shards: connections (and so requests in flight) at most.
        **transport_options: passed to each ``httpx.AsyncHTTPTransport`` (``verify``,
            ``proxy``, ``retries``, ...); ``limits`` is set by the shard, and one TLS
            context serves every shard.
    """

    def __init__(self, shards: int = 16, **transport_options: object) -> None:
        if shards < 1:
            raise ValueError("shards must be at least 1")
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
        self._slots = anyio.Semaphore(shards)

    def __repr__(self) -> str:
        return f"ShardedTransport(shards={len(self._shards)})"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on a free shard; the shard is busy until the response closes."""
        await self._take_slot(request)
        shard = self._free.pop()

        def release() -> None:
            self._free.append(shard)
            self._slots.release()

        try:
            response = await shard.handle_async_request(request)
        except BaseException:
            release()
            raise
        if response.is_closed:
            # A body read in full when the response was built has nothing left to close.
            release()
            return response
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(stream, release)
        return response

    async def _take_slot(self, request: httpx.Request) -> None:
        """Wait for a free shard, no longer than the request's pool timeout."""
        try:
            self._slots.acquire_nowait()
            return
        except anyio.WouldBlock:
            pass
        timeout = request.extensions.get("timeout", {}).get("pool")
        if timeout is None:
            await self._slots.acquire()
            return
        with anyio.move_on_after(timeout):
            await self._slots.acquire()
            return
        raise httpx.PoolTimeout("no connection became free in time", request=request)

    async def aclose(self) -> None:
        """Close every shard's connection."""
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
