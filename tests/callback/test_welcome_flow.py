"""The whole welcome flow as a service runs it: WeCom pushes add_external_contact, the
receiver answers at once, and the handler greets the customer through the SDK with the
event's WelcomeCode on the fake WeCom (single use, 20 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from fastapi import FastAPI

from wecom_async import RetryPolicy, WeComClient
from wecom_async.callback import AddExternalContact, CallbackReceiver
from wecom_async.callback.aiohttp import add_callback_routes
from wecom_async.callback.starlette import callback_router
from wecom_async.testing import FakeWeCom
from wecom_async.testing.push import push_event, push_url_check

from .callback_helpers import PATH, new_customer

Served = Callable[[CallbackReceiver], AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def fastapi_app(receiver: CallbackReceiver) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(lifespan=receiver.lifespan)
    app.include_router(callback_router(receiver, PATH))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as http:
        yield http


@asynccontextmanager
async def aiohttp_app(receiver: CallbackReceiver) -> AsyncIterator[httpx.AsyncClient]:
    app = web.Application()
    add_callback_routes(app, receiver, PATH)
    async with (
        TestServer(app) as server,
        httpx.AsyncClient(base_url=str(server.make_url(""))) as http,
    ):
        yield http


@pytest.fixture
async def wecom() -> AsyncIterator[tuple[FakeWeCom, WeComClient]]:
    fake = FakeWeCom()
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        WeComClient(
            fake.corp_id, fake.secret, http_client=http, retry=RetryPolicy.no_delay()
        ) as client,
    ):
        yield fake, client


@pytest.mark.parametrize("served", [fastapi_app, aiohttp_app], ids=["fastapi", "aiohttp"])
async def test_new_customer_is_welcomed_once_with_the_events_code(
    served: Served, receiver: CallbackReceiver, wecom: tuple[FakeWeCom, WeComClient]
) -> None:
    fake, client = wecom
    event = new_customer(3)
    code = fake.issue_welcome_code(event.userid or "", event.external_userid or "")

    @receiver.on(AddExternalContact)
    async def greet(new: AddExternalContact) -> None:
        assert new.welcome_code is not None
        await client.messages.send_welcome_msg(
            {"welcome_code": new.welcome_code, "text": {"content": "您好，欢迎光临"}}
        )

    async with served(receiver) as http:
        check = await push_url_check(http, PATH, receiver.crypto, echo="1234567")
        assert (check.status_code, check.text) == (200, "1234567")
        delivered = new_customer(3, welcome_code=code)
        for _ in range(2):  # WeCom retries: the second delivery is a duplicate
            response = await push_event(http, PATH, receiver.crypto, delivered)
            assert (response.status_code, response.text) == (200, "")
        await receiver.drain()

    assert fake.calls("externalcontact/send_welcome_msg") == 1
    [sent] = fake.welcome_messages()
    assert (sent.userid, sent.external_userid) == (event.userid, event.external_userid)
    assert fake.requests[-1].json == {
        "welcome_code": code,
        "text": {"content": "您好，欢迎光临"},
    }
