"""Serve a :class:`CallbackReceiver` from Starlette or FastAPI.

Needs the ``fastapi`` extra (``pip install "wecom-async[fastapi]"``); Starlette alone
is enough for :func:`callback_endpoint` and :func:`callback_route`.

Example (FastAPI)::

    from fastapi import FastAPI
    from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver
    from wecom_async.callback.starlette import callback_router

    receiver = CallbackReceiver(CallbackCrypto(token, encoding_aes_key, corp_id))

    @receiver.on(AddExternalContact)
    async def greet(event: AddExternalContact) -> None: ...

    app = FastAPI(lifespan=receiver.lifespan)  # waits for running handlers on shutdown
    app.include_router(callback_router(receiver, "/wecom/callback"))

A good request gets 200 with the echo (GET) or an empty body (POST) once the event is
accepted; a request that fails verification gets 400 (413 when too large) and one the
receiver cannot take now 503 (WeCom retries), with a short plain-text reason
(:meth:`CallbackReceiver.refusal`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from wecom_async.callback._errors import CallbackError
from wecom_async.callback._receiver import CallbackReceiver

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["callback_endpoint", "callback_route", "callback_router"]

Endpoint = Callable[[Request], Awaitable[Response]]


def callback_endpoint(receiver: CallbackReceiver) -> Endpoint:
    """Return a Starlette endpoint that serves ``receiver`` for GET and POST.

    Args:
        receiver: the receiver holding the crypto configuration and the handlers.

    Returns:
        ``async def endpoint(request) -> Response``; mount it for GET and POST.
    """

    async def endpoint(request: Request) -> Response:
        query = dict(request.query_params)
        try:
            if request.method in ("GET", "HEAD"):
                return PlainTextResponse(await receiver.handle_get(query))
            body = await receiver.read_body(
                request.stream(), content_length=request.headers.get("content-length")
            )
            return PlainTextResponse(await receiver.handle_post(query, body))
        except CallbackError as exc:
            status, text = receiver.refusal(request.method, exc)
            return PlainTextResponse(text, status_code=status)

    return endpoint


def callback_route(
    receiver: CallbackReceiver, path: str = "/wecom/callback", *, name: str | None = None
) -> Route:
    """Return a Starlette :class:`~starlette.routing.Route` for GET and POST on ``path``.

    Add it with ``Starlette(routes=[...])`` or ``app.router.routes.append(route)``.
    """
    return Route(path, callback_endpoint(receiver), methods=["GET", "POST"], name=name)


def callback_router(
    receiver: CallbackReceiver, path: str = "/wecom/callback", *, name: str | None = None
) -> APIRouter:
    """Return a FastAPI ``APIRouter`` serving ``receiver`` on ``path`` (GET and POST).

    Use ``app.include_router(callback_router(receiver, "/wecom/callback"))``; the route
    is left out of the OpenAPI schema.
    """
    from fastapi import APIRouter

    router = APIRouter()
    router.add_route(
        path,
        callback_endpoint(receiver),
        methods=["GET", "POST"],
        name=name,
        include_in_schema=False,
    )
    return router
