"""The Starlette/FastAPI adapter, driven by testing/push.py exactly as WeCom calls it."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Callable

import anyio
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette

from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver
from wecom_async.callback.starlette import callback_endpoint, callback_route, callback_router
from wecom_async.testing.push import (
    build_event_request,
    build_url_check,
    push_event,
    push_url_check,
)

from .adapter_contract import AdapterContract

with warnings.catch_warnings():  # this Starlette prefers httpx2 for its test client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from .callback_helpers import PATH, Greeter, new_customer


def fastapi_router_app(receiver: CallbackReceiver) -> FastAPI:
    app = FastAPI(lifespan=receiver.lifespan)
    app.include_router(callback_router(receiver, PATH))
    return app


def fastapi_add_route_app(receiver: CallbackReceiver) -> FastAPI:
    app = FastAPI()
    app.add_route(PATH, callback_endpoint(receiver), methods=["GET", "POST"])
    return app


def starlette_app(receiver: CallbackReceiver) -> Starlette:
    return Starlette(routes=[callback_route(receiver, PATH)], lifespan=receiver.lifespan)


AppFactory = Callable[[CallbackReceiver], Starlette]


@pytest.fixture(params=[fastapi_router_app, fastapi_add_route_app, starlette_app])
def app_factory(request: pytest.FixtureRequest) -> AppFactory:
    factory: AppFactory = request.param
    return factory


@pytest.fixture
async def http(
    receiver: CallbackReceiver, greeter: Greeter, app_factory: AppFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app whose add_external_contact handler is the greeter."""
    receiver.on(AddExternalContact)(greeter.greet)
    app = app_factory(receiver)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://wecom.test") as client:
        yield client
    await receiver.aclose()


async def test_url_check_and_new_customer_reach_the_handler(
    http: httpx.AsyncClient, receiver: CallbackReceiver, greeter: Greeter
) -> None:
    check = await push_url_check(http, PATH, receiver.crypto, echo="5927816535")
    assert check.status_code == 200
    assert check.text == "5927816535"
    head = await http.head(PATH, params=dict(build_url_check(receiver.crypto).params))
    assert head.status_code == 200
    response = await push_event(http, PATH, receiver.crypto, new_customer(1, welcome_code="W1"))
    assert response.status_code == 200
    assert response.text == ""
    await receiver.drain()
    assert [e.welcome_code for e in greeter.greeted] == ["W1"]
    assert greeter.greeted[0] == new_customer(1, welcome_code="W1")


@contextlib.asynccontextmanager
async def serve_on_loopback(app: FastAPI) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1, on a port the OS picks; yield its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    try:
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.shutdown()


async def test_real_uvicorn_server_on_loopback(
    receiver: CallbackReceiver, greeter: Greeter
) -> None:
    answered = anyio.Event()
    finished: list[str] = []

    @receiver.on(AddExternalContact)
    async def greet(event: AddExternalContact) -> None:
        await answered.wait()
        await greeter.greet(event)
        finished.append(event.external_userid)

    async with serve_on_loopback(fastapi_router_app(receiver)) as url:
        check = await push_url_check(url, PATH, receiver.crypto, echo="1234567890")
        assert (check.status_code, check.text) == (200, "1234567890")
        with anyio.fail_after(5):  # a receiver that awaited its handlers would hang here
            first = await push_event(url, PATH, receiver.crypto, new_customer(5, welcome_code="W5"))
            again = await push_event(url, PATH, receiver.crypto, new_customer(5, welcome_code="W5"))
        assert (first.status_code, again.status_code) == (200, 200)
        assert finished == []  # both answers came back while the handler waits
        answered.set()
    # Shutting the server down ran the lifespan, which waited for the handler.
    assert finished == [new_customer(5).external_userid]
    assert [e.welcome_code for e in greeter.greeted] == ["W5"]


class TestStarletteAdapters(AdapterContract):
    """The shared adapter behaviour (adapter_contract.py) on this module's ``http``."""


def test_a_second_test_client_session_loses_no_event(crypto: CallbackCrypto) -> None:
    receiver = CallbackReceiver(crypto, max_concurrency=1)
    gates: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}
    handled: list[str] = []

    def gate() -> asyncio.Event:
        return gates.setdefault(asyncio.get_running_loop(), asyncio.Event())

    @receiver.on(AddExternalContact)
    async def record(event: AddExternalContact) -> None:
        await gate().wait()  # the next events of the session wait on the concurrency limit
        handled.append(event.external_userid)

    app = fastapi_router_app(receiver)
    for session in range(2):  # each session runs its own event loop
        with TestClient(app) as client:
            for n in range(3):
                request = build_event_request(crypto, new_customer(10 * session + n))
                response = client.post(PATH, params=request.params, content=request.body)
                assert response.status_code == 200
            client.portal.call(lambda: gate().set())
        # Leaving the session ran the lifespan, which waited for its events.
    assert len(handled) == 6
