"""The ASGI face: ``fake.app``, a plain ASGI 3 callable for uvicorn or any ASGI server.

Lifespan events are acknowledged.  Injected faults become real network events: a delay is
slept before the response starts; a lost response (dropped or reset connection) starts the
response (status and a Content-Length longer than what follows), sends half of the body and
returns without finishing it, which makes the server close the connection mid-body (uvicorn
logs "ASGI callable returned without completing response").  A refused connection cannot
be played once the server accepted it, so it is lost the same way (the request was not
processed).  A ``Content-Encoding`` fault sends the header over a body that does not match.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeAlias

import anyio

from ._dispatch import FakeRequest, Handle

__all__ = ["ASGIApp", "FakeASGIApp"]

#: An ASGI scope or message.
ASGIMessage: TypeAlias = Mapping[str, object]
ASGIReceive: TypeAlias = Callable[[], Awaitable[ASGIMessage]]
ASGISend: TypeAlias = Callable[[ASGIMessage], Awaitable[None]]
#: The ASGI 3 application signature.
ASGIApp: TypeAlias = Callable[[ASGIMessage, ASGIReceive, ASGISend], Awaitable[None]]


class FakeASGIApp:
    """``fake.app``: serves the fake over HTTP through any ASGI server."""

    def __init__(self, handle: Handle) -> None:
        """Create the app answering every request with ``handle`` (``FakeWeCom.handle``)."""
        self._handle = handle

    async def __call__(self, scope: ASGIMessage, receive: ASGIReceive, send: ASGISend) -> None:
        """Handle one ASGI connection scope (``http`` or ``lifespan``)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"fake WeCom serves HTTP only, not {scope['type']!r}")
        body = await _read_body(receive)
        if body is None:
            return
        response = await self._handle(_to_request(scope, body))
        if response.delay > 0:
            await anyio.sleep(response.delay)
        # A lost response promises more bytes than it sends, so that it cannot look whole.
        length = len(response.body) + (1 if response.lost else 0)
        headers = [
            (b"content-type", response.content_type.encode("latin-1")),
            (b"content-length", str(length).encode()),
        ]
        if response.content_encoding:
            headers.append((b"content-encoding", response.content_encoding.encode("latin-1")))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.lost:
            half = response.body[: len(response.body) // 2]
            await send({"type": "http.response.body", "body": half, "more_body": True})
            return
        response.mark_delivered()
        await send({"type": "http.response.body", "body": response.body})


async def _read_body(receive: ASGIReceive) -> bytes | None:
    """Return the whole request body, or None when the client went away."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if isinstance(chunk, bytes):
            body += chunk
        if not message.get("more_body", False):
            return bytes(body)


def _to_request(scope: ASGIMessage, body: bytes) -> FakeRequest:
    content_type = ""
    raw_headers = scope.get("headers", ())
    for pair in raw_headers if isinstance(raw_headers, (list, tuple)) else ():
        name, value = pair
        if bytes(name).lower() == b"content-type":
            content_type = bytes(value).decode("latin-1")
    client = scope.get("client")
    host = client[0] if isinstance(client, (list, tuple)) and client else "127.0.0.1"
    query = scope.get("query_string", b"")
    return FakeRequest(
        method=str(scope["method"]),
        path=str(scope["path"]),
        query=query if isinstance(query, bytes) else b"",
        body=body,
        content_type=content_type,
        client_host=str(host),
    )


async def _lifespan(receive: ASGIReceive, send: ASGISend) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
