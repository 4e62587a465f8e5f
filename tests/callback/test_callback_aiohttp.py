"""The aiohttp adapter on a real loopback server, driven by testing/push.py."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver
from wecom_async.callback.aiohttp import add_callback_routes
from wecom_async.testing.push import (
    build_event_request,
    build_url_check,
    push_event,
    push_url_check,
)

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


async def test_repeated_delivery_is_handled_once(
    http: httpx.AsyncClient, receiver: CallbackReceiver, greeter: Greeter
) -> None:
    for _ in range(3):
        assert (await push_event(http, PATH, receiver.crypto, new_customer(4))).status_code == 200
    await push_event(http, PATH, receiver.crypto, new_customer(5))
    await receiver.drain()
    assert [e.external_user_id[-1] for e in greeter.greeted] == ["4", "5"]


async def test_slow_handler_does_not_delay_the_answer(
    http: httpx.AsyncClient, receiver: CallbackReceiver
) -> None:
    answered, finished = anyio.Event(), anyio.Event()

    @receiver.on(AddExternalContact)
    async def slow(event: AddExternalContact) -> None:
        await answered.wait()  # set only once the HTTP answer is back
        finished.set()

    with anyio.fail_after(5):  # a receiver that awaited its handlers would hang here
        response = await push_event(http, PATH, receiver.crypto, new_customer(2))
    assert response.status_code == 200
    assert receiver.running >= 1
    answered.set()
    await receiver.drain()
    assert finished.is_set()


async def test_failing_handler_is_logged_and_does_not_break_later_events(
    http: httpx.AsyncClient,
    receiver: CallbackReceiver,
    greeter: Greeter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    @receiver.on(AddExternalContact)
    async def flaky(event: AddExternalContact) -> None:
        if event.create_time % 2:
            raise ZeroDivisionError("bad luck")

    with caplog.at_level(logging.ERROR, logger="wecom_async"):
        for n in (1, 2):
            assert (
                await push_event(http, PATH, receiver.crypto, new_customer(n))
            ).status_code == 200
        await receiver.drain()
    errors = [r for r in caplog.records if r.exc_info and r.name == "wecom_async"]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], ZeroDivisionError)
    assert len(greeter.greeted) == 2


async def test_bad_requests_get_400_or_413(
    http: httpx.AsyncClient, receiver: CallbackReceiver, greeter: Greeter
) -> None:
    request = build_event_request(receiver.crypto, new_customer(1))
    tampered = {**request.params, "timestamp": "1"}
    response = await http.post(PATH, params=tampered, content=request.body)
    assert (response.status_code, response.text) == (400, "invalid signature (-40001)")
    response = await http.post(PATH, params=request.params, content=b"\x00\x01")
    assert (response.status_code, response.text) == (400, "invalid xml (-40002)")
    response = await http.get(PATH)
    assert response.status_code == 400
    stranger = CallbackCrypto("Stranger", "D" * 43, "wwStranger")
    assert (await push_event(http, PATH, stranger, new_customer(1))).status_code == 400
    huge = request.body + " " * (1024 * 1024)
    response = await http.post(PATH, params=request.params, content=huge)
    assert (response.status_code, response.text) == (413, "body too large (-40002)")
    assert (await http.put(PATH)).status_code == 405
    await receiver.drain()
    assert greeter.greeted == []


async def test_app_cleanup_waits_for_running_handlers(receiver: CallbackReceiver) -> None:
    finished: list[str] = []
    release = anyio.Event()

    @receiver.on(AddExternalContact)
    async def handler(event: AddExternalContact) -> None:
        await release.wait()
        finished.append(event.external_user_id)

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
    assert finished == [new_customer(3).external_user_id]
