"""The in-process face: an httpx transport that hands requests straight to the fake."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import httpx

from ._dispatch import FakeRequest

if TYPE_CHECKING:
    from ._fake import FakeWeCom

__all__ = ["FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=fake.transport())``: no sockets, any host name.

    Injected faults become what httpx raises for them on a real network: a dropped
    connection raises ``httpx.RemoteProtocolError``; a delay longer than the request's read
    timeout raises ``httpx.ReadTimeout`` at once (the fake never sleeps for it), while a
    shorter delay is really slept with ``anyio.sleep``.
    """

    def __init__(self, fake: FakeWeCom) -> None:
        """Create a transport serving ``fake``."""
        self._fake = fake

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
        response = await self._fake.handle(fake_request)
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
        return httpx.Response(
            response.status,
            headers={"content-type": response.content_type},
            content=response.body,
            request=request,
        )
