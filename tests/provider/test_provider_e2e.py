"""A provider app with three fake corps, end to end through a real callback receiver.

The suite ticket arrives by the command callback, each corp authorizes, each corp's
client exports its customers, one corp cancels, and calls for it then fail clearly.
Run through the FastAPI receiver (in-process ASGI) and the aiohttp receiver (a server on
127.0.0.1).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from fastapi import FastAPI

from wecom_async import NotAuthorizedError
from wecom_async.callback import CallbackReceiver, CancelAuth, CreateAuth
from wecom_async.callback.aiohttp import add_callback_routes
from wecom_async.callback.starlette import callback_router
from wecom_async.export import CustomersJob, run_export
from wecom_async.testing.push import push_event, push_url_check

from .helpers import CORPS, SUITE, provider_app, provider_fake

PATH = "/suite/receive"
TOKEN = "T0kenForTests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

Serve = Callable[[CallbackReceiver], AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def fastapi_receiver(receiver: CallbackReceiver) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(callback_router(receiver, PATH))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vendor.test") as http:
        yield http


@asynccontextmanager
async def aiohttp_receiver(receiver: CallbackReceiver) -> AsyncIterator[httpx.AsyncClient]:
    app = web.Application()
    add_callback_routes(app, receiver, PATH)
    server = TestServer(app, host="127.0.0.1")
    async with server, httpx.AsyncClient(base_url=str(server.make_url(""))) as http:
        yield http


@pytest.mark.parametrize("serve", [fastapi_receiver, aiohttp_receiver], ids=["fastapi", "aiohttp"])
async def test_three_corps_authorize_export_and_one_cancels(serve: Serve, tmp_path: Path) -> None:
    fake = provider_fake()
    async with provider_app(fake) as app:
        receiver = CallbackReceiver(app.callback_crypto(TOKEN, AES_KEY))
        app.attach(receiver)
        seen: list[str] = []

        @receiver.on(CreateAuth)
        async def welcome(event: CreateAuth) -> None:
            # The app's own handler ran first: the corp's code is already stored.
            stored = await app.permanent_codes.get(CORPS[len(seen)])
            seen.append(f"create:{stored is not None}")

        @receiver.on(CancelAuth)
        async def goodbye(event: CancelAuth) -> None:
            seen.append(f"cancel:{event.auth_corp_id}")

        async with receiver, serve(receiver) as http:
            check = await push_url_check(http, PATH, receiver.crypto, echo="42")
            assert (check.status_code, check.text) == (200, "42")

            ticket = await push_event(http, PATH, receiver.crypto, fake.push_suite_ticket(SUITE))
            assert ticket.status_code == 200
            for corp_id in CORPS:
                pushed = await push_event(
                    http, PATH, receiver.crypto, fake.authorize_corp(SUITE, corp_id)
                )
                assert pushed.status_code == 200
                await receiver.drain()
            assert seen == ["create:True"] * 3
            for corp_id in CORPS:
                assert await app.permanent_codes.get(corp_id) is not None

            for corp_id in CORPS:
                output = tmp_path / f"{corp_id}.jsonl"
                result = await run_export(CustomersJob(), app.client_for(corp_id), output)
                rows = [json.loads(line) for line in output.read_text().splitlines()]
                exported = [row["external_contact"]["external_userid"] for row in rows]
                corp = fake.corp(corp_id)
                members = [
                    s.userid
                    for s in corp.state.staff.values()
                    if s.customer_contact and not s.resigned
                ]
                followed = {c for userid in members for c in corp.customers_of(userid)}
                expected = followed & set(corp.state.customers)
                assert len(expected) >= 12
                assert sorted(set(exported)) == sorted(expected)
                assert result.items == len(rows)
                assert not result.failures

            cancelled, kept = CORPS[1], CORPS[2]
            pushed = await push_event(
                http, PATH, receiver.crypto, fake.cancel_corp(SUITE, cancelled)
            )
            assert pushed.status_code == 200
            await receiver.drain()
            assert seen[-1] == f"cancel:{cancelled}"

            with pytest.raises(NotAuthorizedError) as caught:
                await app.client_for(cancelled).external_contact.get_follow_user_list()
            assert caught.value.corp_id == cancelled
            staff = await app.client_for(kept).external_contact.get_follow_user_list()
            assert staff
            assert set(staff) <= set(fake.corp(kept).state.staff)
    assert fake.calls("service/get_suite_token") == 1
    # One corp token per corp: the kept corp's later call reuses the one its export fetched.
    assert fake.calls("service/get_corp_token") == 3
