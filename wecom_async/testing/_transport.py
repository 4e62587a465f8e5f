"""The in-process face: an httpx transport that hands requests straight to the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx

from ._dispatch import FakeRequest, Handle

__all__ = ["FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=fake.transport())``: no sockets, any host name.

    Injected faults become what httpx raises for them on a real network: a refused
    connection raises ``httpx.ConnectError``, a reset one ``httpx.ReadError``, a dropped
    one ``httpx.RemoteProtocolError``; a body declared gzip that is not raises
    ``httpx.DecodingError`` when the client reads it; a delay longer than the request's
    read timeout raises ``httpx.ReadTimeout`` at once (the fake never sleeps for it),
    while a shorter delay is really slept with ``anyio.sleep`` (and cut short when the
    caller is cancelled).
    """

    def __init__(self, handle: Handle) -> None:
        """Create a transport answering every request with ``handle`` (``FakeWeCom.handle``)."""
        self._handle = handle

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request through :meth:`FakeWeCom.handle`."""
        body = await request.aread()
        fake_request = FakeRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            body=body,
            content_type=request.headers.get("content-type", ""),
        )
        response = await self._handle(fake_request)
        if response.connect:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if response.reset:
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if response.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if response.delay > 0:
            timeout = request.extensions.get("timeout", {})
            read = timeout.get("read") if isinstance(timeout, dict) else None
            if read is not None and response.delay > read:
                raise httpx.ReadTimeout("timed out", request=request)
            await anyio.sleep(response.delay)
        headers = {"content-type": response.content_type}
        if response.content_encoding:
            headers["content-encoding"] = response.content_encoding
        response.mark_delivered()
        # A stream, not ``content=``: httpx decodes the body when the client reads it,
        # as it does off a socket, so a bad Content-Encoding fails in the client.
        return httpx.Response(
            response.status, headers=headers, stream=_Body(response.body), request=request
        )


class _Body(httpx.AsyncByteStream):
    """A response body handed over in one chunk."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._body
