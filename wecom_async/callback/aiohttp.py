"""Serve a :class:`CallbackReceiver` from aiohttp.

Needs the ``aiohttp`` extra (``pip install "wecom-async[aiohttp]"``).

Example::

    from aiohttp import web
    from wecom_async.callback import CallbackCrypto, CallbackReceiver
    from wecom_async.callback.aiohttp import add_callback_routes

    receiver = CallbackReceiver(CallbackCrypto(token, encoding_aes_key, corp_id))
    app = web.Application()
    add_callback_routes(app, receiver, "/wecom/callback")  # also waits for handlers on cleanup
    web.run_app(app)

A good request gets 200 with the echo (GET) or an empty body (POST) once the event is
accepted; a request that fails verification gets 400 (413 when too large) and one the
receiver cannot take now 503 (WeCom retries), with a short plain-text reason
(:meth:`CallbackReceiver.refusal`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from wecom_async.callback._errors import CallbackError
from wecom_async.callback._receiver import CallbackReceiver

__all__ = ["add_callback_routes", "callback_handler"]

_CHUNK = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def callback_handler(receiver: CallbackReceiver) -> Handler:
    """Return an aiohttp handler that serves ``receiver`` for GET and POST.

    Args:
        receiver: the receiver holding the crypto configuration and the handlers.

    Returns:
        ``async def handler(request) -> web.Response``; route it for GET and POST.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        try:
            if request.method in ("GET", "HEAD"):
                return web.Response(text=await receiver.handle_get(query))
            body = await receiver.read_body(_chunks(request), content_length=request.content_length)
            return web.Response(text=await receiver.handle_post(query, body))
        except CallbackError as exc:
            status, text = receiver.refusal(request.method, exc)
            return web.Response(text=text, status=status)

    return handler


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(_CHUNK):
        yield chunk


def add_callback_routes(
    app: web.Application,
    receiver: CallbackReceiver,
    path: str = "/wecom/callback",
    *,
    wait_on_cleanup: bool = True,
) -> None:
    """Route GET and POST on ``path`` of ``app`` to ``receiver``.

    Args:
        app: the application (not yet started).
        receiver: the receiver holding the crypto configuration and the handlers.
        path: where WeCom calls (the URL configured in the admin console).
        wait_on_cleanup: also wait for running handlers when the app shuts down
            (:meth:`CallbackReceiver.aclose` in ``app.on_cleanup``).
    """
    handler = callback_handler(receiver)
    app.router.add_get(path, handler)
    app.router.add_post(path, handler)
    if wait_on_cleanup:

        async def close_receiver(_: web.Application) -> None:
            await receiver.aclose()

        app.on_cleanup.append(close_receiver)
