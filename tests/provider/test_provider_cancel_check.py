"""A ``cancel_auth`` deletes a corp's permanent code on WeCom's word alone that the code is
void (40084 from ``service/get_auth_info``); when the check cannot be made (the suite
token cannot be had, whatever its errcode; the network; a 5xx; any other errcode) the code
is kept and the push is answered 503, so that WeCom delivers it again.

A fresh process (no suite token cached) receives a late ``cancel_auth``: the corp has
authorized again since, so deleting its code would lose a corp that is still authorized.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from wecom_async import (
    APIError,
    ConfigurationError,
    MemoryTokenStore,
    RetryPolicy,
    TokenError,
    WeComError,
)
from wecom_async.callback import CallbackReceiver
from wecom_async.callback.starlette import callback_router
from wecom_async.provider import MemoryPermanentCodeStore, MemorySuiteTicketStore, ProviderApp
from wecom_async.testing import FakeWeCom
from wecom_async.testing.push import push_event
from wecom_async.testing.routes._provider_state import ProviderState

from .helpers import CORPS, SUITE, SUITE_SECRET, play, provider_fake

A, B, _ = CORPS
PATH = "/suite/receive"
TOKEN = "T0kenForTests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
AUTH_INFO = "service/get_auth_info"
SUITE_TOKEN = "service/get_suite_token"
ROTATED_SECRET = "Rotated-Suite-Secret-Zz99"


@dataclass
class World:
    """One provider's stores, shared by the processes (apps) that receive its pushes."""

    fake: FakeWeCom
    codes: MemoryPermanentCodeStore
    tickets: MemorySuiteTicketStore

    def app(self, secret: str = SUITE_SECRET) -> ProviderApp:
        """A fresh receiver process: no suite token cached."""
        return ProviderApp(
            SUITE,
            secret,
            permanent_codes=self.codes,
            tickets=self.tickets,
            token_store=MemoryTokenStore(),
            http_client=httpx.AsyncClient(transport=self.fake.transport()),
            retry=RetryPolicy.no_delay(),
        )


@asynccontextmanager
async def served(app: ProviderApp) -> AsyncIterator[Callable[[str], Awaitable[int]]]:
    """``app`` behind a real receiver; yields ``push(xml) -> HTTP status``."""
    receiver = CallbackReceiver(app.callback_crypto(TOKEN, AES_KEY))
    app.attach(receiver)
    web = FastAPI()
    web.include_router(callback_router(receiver, PATH))
    transport = httpx.ASGITransport(app=web)
    http = httpx.AsyncClient(transport=transport, base_url="http://v.test")
    async with app, receiver, http:

        async def push(xml: str) -> int:
            status = (await push_event(http, PATH, receiver.crypto, xml)).status_code
            await receiver.drain()
            return status

        yield push


async def _late_cancel() -> tuple[World, str, str]:
    """A authorizes, cancels, authorizes again; returns the first cancel, not delivered
    yet, and A's current code."""
    world = World(provider_fake(), MemoryPermanentCodeStore(), MemorySuiteTicketStore())
    async with world.app() as app:
        await play(app, world.fake.push_suite_ticket(SUITE))
        await play(app, world.fake.authorize_corp(SUITE, A))
        late = world.fake.cancel_corp(SUITE, A)
        await play(app, world.fake.authorize_corp(SUITE, A))
    current = await world.codes.get(A)
    assert current is not None
    return world, late, current


def _issued(world: World, corp_id: str) -> str:
    return world.fake.state.ext(ProviderState).suite(SUITE).authorized[corp_id].permanent_code


def _stale_ticket(world: World) -> str:
    world.fake.clock.advance(31 * 60)  # the receivers were down: the ticket is stale
    return SUITE_SECRET


def _rotated_secret(world: World) -> str:
    return ROTATED_SECRET  # rotated in the console, not yet in the deployment


def _injected(path: str, **fault: object) -> Callable[[World], str]:
    def breakage(world: World) -> str:
        world.fake.inject(path, **fault)  # type: ignore[arg-type]
        return SUITE_SECRET

    return breakage


BREAKAGES: dict[str, tuple[Callable[[World], str], type[WeComError], int | None]] = {
    "ticket-stale-40085": (_stale_ticket, ConfigurationError, 40085),
    "suite-secret-rotated-40080": (_rotated_secret, ConfigurationError, 40080),
    # A hostile answer: the code that means "void" from get_auth_info, sent by the token call.
    "suite-token-answers-40084": (
        _injected(SUITE_TOKEN, errcode=40084, times=10),
        ConfigurationError,
        40084,
    ),
    "suite-token-unknown-errcode": (
        _injected(SUITE_TOKEN, errcode=40086, times=10),
        ConfigurationError,
        40086,
    ),
    "suite-token-refused-twice-40082": (
        _injected(AUTH_INFO, errcode=40082, times=2),
        TokenError,
        40082,
    ),
    "suite-token-expired-twice-42009": (
        _injected(AUTH_INFO, errcode=42009, times=2),
        TokenError,
        42009,
    ),
    "auth-info-api-forbidden-48002": (_injected(AUTH_INFO, errcode=48002), APIError, 48002),
    "auth-info-unknown-errcode": (_injected(AUTH_INFO, errcode=93000), APIError, 93000),
    "auth-info-502": (_injected(AUTH_INFO, status=502, times=10), WeComError, None),
    "auth-info-html": (_injected(AUTH_INFO, html=True, times=10), WeComError, None),
    "auth-info-reset": (_injected(AUTH_INFO, reset=True, times=10), WeComError, None),
    "suite-token-connect": (_injected(SUITE_TOKEN, connect=True, times=10), WeComError, None),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
async def test_a_late_cancel_checked_in_vain_keeps_the_code_and_is_delivered_again(
    name: str,
) -> None:
    breakage, error, errcode = BREAKAGES[name]
    world, late, current = await _late_cancel()
    secret = breakage(world)
    async with world.app(secret) as app:
        with pytest.raises(error) as caught:
            await app.cancel(A)
    if errcode is not None:
        assert isinstance(caught.value, APIError)
        assert caught.value.errcode == errcode
    assert await world.codes.get(A) == current
    world.fake.clear_faults()
    breakage(world)
    async with served(world.app(secret)) as push:
        assert await push(late) == 503  # not acknowledged: WeCom delivers it again
    assert await world.codes.get(A) == current
    world.fake.clear_faults()
    assert _issued(world, A) == current  # WeCom still holds A's authorization, that code
    async with world.app() as app:
        staff = next(iter(world.fake.corp(A).state.staff))
        await play(app, world.fake.push_suite_ticket(SUITE))
        assert await app.client_for(A).external_contact.list(staff) == world.fake.corp(
            A
        ).customers_of(staff)


async def test_the_redelivered_late_cancel_is_ignored_once_the_check_can_be_made() -> None:
    world, late, current = await _late_cancel()
    _stale_ticket(world)
    async with served(world.app()) as push:
        assert await push(late) == 503
        assert await push(world.fake.push_suite_ticket(SUITE)) == 200
        assert await push(late) == 200  # WeCom still accepts the code: ignored
    assert await world.codes.get(A) == current
    assert world.fake.calls(AUTH_INFO) == 1  # the first delivery never got that far


async def test_a_real_cancel_waits_for_a_check_that_can_be_made_then_deletes() -> None:
    world = World(provider_fake(), MemoryPermanentCodeStore(), MemorySuiteTicketStore())
    async with world.app() as app:
        await play(app, world.fake.push_suite_ticket(SUITE))
        await play(app, world.fake.authorize_corp(SUITE, A))
        await play(app, world.fake.authorize_corp(SUITE, B))
    cancel = world.fake.cancel_corp(SUITE, A)
    _stale_ticket(world)
    async with served(world.app()) as push:  # another process: no suite token cached
        assert await push(cancel) == 503
        assert await world.codes.get(A) is not None
        assert await push(world.fake.push_suite_ticket(SUITE)) == 200
        assert await push(cancel) == 200
    assert await world.codes.get(A) is None  # WeCom answered 40084: void, deleted
    assert await world.codes.get(B) == _issued(world, B)


async def test_a_create_auth_whose_suite_token_failed_is_delivered_again() -> None:
    """The same class on ``create_auth``: a stale ticket is no refusal of the auth code,
    which stays unused; the next delivery after a fresh ticket stores the code."""
    world = World(provider_fake(), MemoryPermanentCodeStore(), MemorySuiteTicketStore())
    async with served(world.app()) as push:
        assert await push(world.fake.push_suite_ticket(SUITE)) == 200
        world.fake.clock.advance(31 * 60)
        create = world.fake.authorize_corp(SUITE, A)
        assert await push(create) == 503
        assert await world.codes.get(A) is None
        assert await push(world.fake.push_suite_ticket(SUITE)) == 200
        assert await push(create) == 200
    assert await world.codes.get(A) == _issued(world, A)
    assert world.fake.calls("service/v2/get_permanent_code") == 1
