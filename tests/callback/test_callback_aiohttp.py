"""The aiohttp adapter on a real loopback server, driven by testing/push.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from wecom_async.callback import AddExternalContact, CallbackReceiver
from wecom_async.callback.aiohttp import add_callback_routes
from wecom_async.testing.push import (
    build_url_check,
    push_event,
    push_url_check,
)

from .adapter_contract import AdapterContract
from .callback_helpers import PATH, Greeter, new_customer


@pytest.fixture
async def server(receiver: CallbackReceiver, greeter: Greeter) -> AsyncIterator[BaseTestServer]:
    """An aiohttp app on 127.0.0.1 whose add_external_contact handler is the greeter."""
    receiver.on(AddExternalContact)(greeter.greet)
    app = web.Application()
    add_callback_routes(app, receiver, PATH)
    async with TestServer(app) as test_server:
        yield test_server


@pytest.fixture
async def http(server: BaseTestServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=str(server.make_url(""))) as client:
        yield client


async def test_url_check_and_new_customer_reach_the_handler(
    server: BaseTestServer, receiver: CallbackReceiver, greeter: Greeter
) -> None:
    url = str(server.make_url(""))
    check = await push_url_check(url, PATH, receiver.crypto, echo="7781")
    assert (check.status_code, check.text) == (200, "7781")
    async with httpx.AsyncClient() as client:
        head = await client.head(url + PATH, params=dict(build_url_check(receiver.crypto).params))
    assert head.status_code == 200
    response = await push_event(url, PATH, receiver.crypto, new_customer(1, welcome_code="W1"))
    assert (response.status_code, response.text) == (200, "")
    await receiver.drain()
    assert greeter.greeted == [new_customer(1, welcome_code="W1")]


async def test_app_cleanup_waits_for_running_handlers(receiver: CallbackReceiver) -> None:
    finished: list[str] = []
    release = anyio.Event()

    @receiver.on(AddExternalContact)
    async def handler(event: AddExternalContact) -> None:
        await release.wait()
        finished.append(event.external_userid)

    app = web.Application()
    add_callback_routes(app, receiver, PATH)
    test_server = TestServer(app)
    await test_server.start_server()
    url = str(test_server.make_url(""))
    assert (await push_event(url, PATH, receiver.crypto, new_customer(3))).status_code == 200
    closed = anyio.Event()

    async def close() -> None:
        await test_server.close()
        closed.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(close)
        await anyio.wait_all_tasks_blocked()
        assert not closed.is_set()  # cleanup is waiting for the handler
        assert finished == []
        release.set()
    assert closed.is_set()
    assert finished == [new_customer(3).external_userid]


class TestAiohttpAdapter(AdapterContract):
    """The shared adapter behaviour (adapter_contract.py) on this module's ``http``."""
