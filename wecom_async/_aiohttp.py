"""``WeComClient(transport="aiohttp")``: httpx on aiohttp's HTTP/1.1 client (extra ``aiohttp``).

httpcore spends noticeably more CPU per request than aiohttp, so at high concurrency the
client's own HTTP layer, not WeCom, sets the pace. ``httpx-aiohttp`` puts aiohttp under
httpx's API, the way openai-python's ``DefaultAioHttpClient`` does; everything above the
transport (timeouts, the exchange limit, the body cap, gzip, proxies, retries) stays the
SDK's own. What this module adds on top of ``httpx_aiohttp.AiohttpTransport``:

* its own mapping of aiohttp's exceptions, so that each failure gives the httpx exception
  the default transport gives for it: above all, whether the request may have left
  (``ServerDisconnectedError`` after sending is a protocol error, not a connect timeout);
* the body read mapped the same way;
* no silent resend: aiohttp resends a GET whose reused connection broke, httpx does not;
* a clear refusal outside asyncio: aiohttp runs on asyncio only, never under trio.

Timeouts: ``connect`` bounds the TCP connect, ``pool`` the wait for a free connection plus
the connect (aiohttp has no separate pool wait), ``read`` each read. aiohttp has no write
timeout: a server that stops reading an upload is cut off by the exchange limit instead.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Final

import aiohttp
import httpx
import sniffio
from httpx_aiohttp import AiohttpTransport

from ._exceptions import ValidationError
from ._transport import shared_ssl_context

__all__ = ["PROXY_SCHEMES", "AioHttpTransport"]

#: Proxy URL schemes aiohttp can use (no SOCKS).
PROXY_SCHEMES: Final = ("http", "https")

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


def _mapped(exc: BaseException) -> BaseException:
    """The httpx exception for what aiohttp raised (directly, or as httpx-aiohttp's cause)."""
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) else exc
    for raised, mapped in _MAPPED:
        if isinstance(cause, raised):
            return mapped(f"{type(cause).__name__}: {_message(cause)}")
    return exc


def _message(cause: BaseException) -> str:
    # A ClientResponseError's str() ends with the request URL, whose query holds the
    # access token: keep only what went wrong.
    if isinstance(cause, aiohttp.ClientResponseError):
        return f"{cause.status}, {cause.message}"
    return str(cause)


def _proxy(url: httpx.URL) -> httpx.Proxy:
    """The proxy, its credentials sent as a header (aiohttp deprecates ``proxy_auth``)."""
    if not (url.username or url.password):
        return httpx.Proxy(url)
    pair = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
    return httpx.Proxy(
        url.copy_with(username=None, password=None),
        headers={"Proxy-Authorization": f"Basic {pair}"},
    )


class _Body(httpx.AsyncByteStream):
    """The response body, its read failures mapped like the request's."""

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except (httpx.TransportError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _mapped(exc) from None

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        except (httpx.TransportError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _mapped(exc) from None


class AioHttpTransport(AiohttpTransport):
    """An httpx transport on one aiohttp session of at most ``connections`` connections.

    Args:
        connections: connections (and so requests in flight) at most; callers beyond
            wait in aiohttp's connector, no longer than the pool timeout.
        proxy: an ``http://`` or ``https://`` proxy URL every request goes through.

    Raises:
        ValueError: a proxy scheme aiohttp cannot use (``socks5://``).
    """

    def __init__(self, connections: int, proxy: str | None = None) -> None:
        if proxy is not None and httpx.URL(proxy).scheme not in PROXY_SCHEMES:
            raise ValueError("aiohttp supports http:// and https:// proxies only")
        super().__init__(
            verify=shared_ssl_context(True),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            proxy=None if proxy is None else _proxy(httpx.URL(proxy)),
        )

    def __repr__(self) -> str:
        return f"AioHttpTransport(connections={self.limits.max_connections})"

    def get_client(self) -> aiohttp.ClientSession:
        """The aiohttp session, without its silent resend of an idempotent request.

        aiohttp resends a GET once when a reused connection breaks after sending; httpx
        does not, and the SDK's own retry rules decide whether a request is sent again.
        """
        session = super().get_client()
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through aiohttp; failures raised as the default transport's."""
        if sniffio.current_async_library() != "asyncio":
            raise ValidationError(
                "transport='aiohttp' runs on asyncio only; under trio use the default transport"
            )
        try:
            response = await super().handle_async_request(request)
        except (httpx.TransportError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _mapped(exc) from None
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _Body(stream)
        return response
