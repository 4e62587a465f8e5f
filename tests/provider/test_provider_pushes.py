"""Authorization pushes that fail part-way: nothing is lost, nothing stale wins, nothing leaks.

Through a real receiver (FastAPI, in-process): a push the app could not act on yet is
answered 503 and not remembered, so WeCom's next delivery of the same push runs again; a
push refused for good is answered 200 and logged. A late ``cancel_auth`` never deletes a
newer authorization's code; a store error quoting a permanent code never reaches a log.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from fastapi import FastAPI

from wecom_async import SystemBusyError, TransportError
from wecom_async.callback import CallbackReceiver, CreateAuth, parse_event
from wecom_async.callback.starlette import callback_router
from wecom_async.provider import MemoryPermanentCodeStore, ProviderApp
from wecom_async.testing import FakeWeCom
from wecom_async.testing.push import push_event
from wecom_async.testing.routes._provider_state import ProviderState

from .helpers import CORPS, SUITE, play, provider_app, provider_fake

A, B, _ = CORPS
PATH = "/suite/receive"
TOKEN = "T0kenForTests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
EXCHANGE = "service/v2/get_permanent_code"


class FlakyCodes(MemoryPermanentCodeStore):
    """A database that fails ``failures`` writes, with an error quoting its parameters
    (as SQLAlchemy's do), then works."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def put(self, corp_id: str, permanent_code: str) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError(
                "(psycopg.OperationalError) server closed the connection\n"
                f"[parameters: ({corp_id!r}, {permanent_code!r})]"
            )
        await super().put(corp_id, permanent_code)


@asynccontextmanager
async def served(app: ProviderApp) -> AsyncIterator[tuple[CallbackReceiver, httpx.AsyncClient]]:
    receiver = CallbackReceiver(app.callback_crypto(TOKEN, AES_KEY))
    app.attach(receiver)
    web = FastAPI()
    web.include_router(callback_router(receiver, PATH))
    transport = httpx.ASGITransport(app=web)
    async with receiver, httpx.AsyncClient(transport=transport, base_url="http://v.test") as http:
        yield receiver, http


async def _push(receiver: CallbackReceiver, http: httpx.AsyncClient, xml: str) -> int:
    status = (await push_event(http, PATH, receiver.crypto, xml)).status_code
    await receiver.drain()
    return status


@pytest.fixture
def fake() -> FakeWeCom:
    return provider_fake()


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 502, "processed": False},
        {"connect": True, "times": 10},
        {"errcode": -1, "times": 10},
    ],
    ids=["502-not-forwarded", "connect-refused", "system-busy"],
)
async def test_a_create_auth_that_failed_before_wecom_used_the_code_is_delivered_again(
    fake: FakeWeCom, fault: dict[str, object]
) -> None:
    async with provider_app(fake) as app, served(app) as (receiver, http):
        ran: list[str] = []

        @receiver.on(CreateAuth)
        async def onboard(event: CreateAuth) -> None:
            ran.append(str(await app.permanent_codes.get(A)))

        assert await _push(receiver, http, fake.push_suite_ticket(SUITE)) == 200
        xml = fake.authorize_corp(SUITE, A)
        fake.inject(EXCHANGE, **fault)  # type: ignore[arg-type]
        assert await _push(receiver, http, xml) == 503  # not acknowledged: WeCom resends
        assert await app.permanent_codes.get(A) is None
        assert ran == []  # the other handlers wait for the push that works
        fake.faults.clear()
        assert await _push(receiver, http, xml) == 200  # WeCom's next delivery, same XML
        code = await app.permanent_codes.get(A)
        assert code is not None
        assert ran == [code]
        assert await _push(receiver, http, xml) == 200  # a third delivery is a repeat
        assert ran == [code]
        staff = next(iter(fake.corp(A).state.staff))
        assert await app.client_for(A).external_contact.list(staff) == fake.corp(A).customers_of(
            staff
        )


async def test_a_store_failure_is_delivered_again_without_a_second_exchange(
    fake: FakeWeCom, caplog: pytest.LogCaptureFixture
) -> None:
    codes = FlakyCodes(failures=2)
    async with provider_app(fake, codes=codes) as app, served(app) as (receiver, http):
        await _push(receiver, http, fake.push_suite_ticket(SUITE))
        xml = fake.authorize_corp(SUITE, A)
        with caplog.at_level(logging.INFO, logger="wecom_async"):
            assert await _push(receiver, http, xml) == 503
            assert await _push(receiver, http, xml) == 503
            assert await _push(receiver, http, xml) == 200
    # The auth code works once: the code exchanged first is the one stored at last.
    assert fake.calls(EXCHANGE) == 1
    stored = await codes.get(A)
    assert stored is not None
    failures = [r for r in caplog.records if "could not be stored" in r.getMessage()]
    assert len(failures) == 2
    assert all(A in r.getMessage() and SUITE in r.getMessage() for r in failures)
    # The store's error quoted the permanent code; no log line or traceback shows it.
    assert "psycopg.OperationalError" in caplog.text
    assert stored not in caplog.text
    assert all(r.exc_info is None for r in failures)


async def test_a_store_error_quoting_the_code_never_reaches_a_formatted_log(
    fake: FakeWeCom, caplog: pytest.LogCaptureFixture
) -> None:
    codes = FlakyCodes(failures=10)
    async with provider_app(fake, codes=codes) as app, served(app) as (receiver, http):
        await _push(receiver, http, fake.push_suite_ticket(SUITE))
        with caplog.at_level(logging.DEBUG):
            assert await _push(receiver, http, fake.authorize_corp(SUITE, A)) == 503
    issued = fake.state.ext(ProviderState).suites[SUITE].authorized[A].permanent_code
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    out = "\n".join(formatter.format(r) for r in caplog.records)
    assert "server closed the connection" in out  # the traceback is there, redacted
    assert issued not in out


async def test_an_auth_code_refused_for_good_is_acknowledged_and_logged(
    fake: FakeWeCom, caplog: pytest.LogCaptureFixture
) -> None:
    async with provider_app(fake) as app, served(app) as (receiver, http):
        await _push(receiver, http, fake.push_suite_ticket(SUITE))
        xml = fake.authorize_corp(SUITE, A)
        await app.authorize(parse_event(xml).auth_code)  # type: ignore[attr-defined]
        await app.permanent_codes.delete(A)
        with caplog.at_level(logging.ERROR, logger="wecom_async"):
            assert await _push(receiver, http, xml) == 200  # another delivery cannot help
    [record] = [r for r in caplog.records if "failed for good" in r.getMessage()]
    assert SUITE in record.getMessage()
    assert "40078" in record.getMessage()
    assert fake.calls(EXCHANGE) == 2


async def test_no_suite_ticket_yet_asks_for_the_push_again(fake: FakeWeCom) -> None:
    async with provider_app(fake) as app, served(app) as (receiver, http):
        xml = fake.authorize_corp(SUITE, A)
        assert await _push(receiver, http, xml) == 503
        assert fake.requests == []
        await _push(receiver, http, fake.push_suite_ticket(SUITE))
        assert await _push(receiver, http, xml) == 200
        assert await app.permanent_codes.get(A) is not None


async def test_an_exchange_runs_to_its_end_when_the_caller_is_cancelled(
    fake: FakeWeCom,
) -> None:
    """Cancelled while get_permanent_code is in flight: the code WeCom spent is kept, and
    the next delivery stores it without exchanging the auth code again."""
    scope = anyio.CancelScope()
    inner = fake.transport()

    class CancelMidExchange(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith(EXCHANGE):
                scope.cancel()
            return await inner.handle_async_request(request)

    http = httpx.AsyncClient(transport=CancelMidExchange())
    async with provider_app(fake, http=http) as app:
        await play(app, fake.push_suite_ticket(SUITE))
        event = parse_event(fake.authorize_corp(SUITE, A))
        with scope:
            await app.handle(event)
        assert scope.cancelled_caught
        assert fake.calls(EXCHANGE) == 1
        assert await app.permanent_codes.get(A) is None  # cancelled before the store
        await app.handle(event)
        assert fake.calls(EXCHANGE) == 1
        assert await app.permanent_codes.get(A) is not None
    await http.aclose()


# -- cancel_auth -------------------------------------------------------------------------


async def test_a_late_cancel_never_deletes_a_newer_authorization(fake: FakeWeCom) -> None:
    async with provider_app(fake) as app, served(app) as (receiver, http):
        await _push(receiver, http, fake.push_suite_ticket(SUITE))
        await _push(receiver, http, fake.authorize_corp(SUITE, A))
        cancel = fake.cancel_corp(SUITE, A)
        fake.clock.advance(5)
        assert await _push(receiver, http, fake.authorize_corp(SUITE, A)) == 200
        fresh = await app.permanent_codes.get(A)
        assert await _push(receiver, http, cancel) == 200  # older, delivered last
        assert await app.permanent_codes.get(A) == fresh
        staff = next(iter(fake.corp(A).state.staff))
        assert await app.client_for(A).external_contact.list(staff) is not None


async def test_a_real_cancel_deletes_the_code(fake: FakeWeCom) -> None:
    async with provider_app(fake) as app:
        await play(app, fake.push_suite_ticket(SUITE))
        await play(app, fake.authorize_corp(SUITE, A))
        await play(app, fake.authorize_corp(SUITE, B))
        assert await app.cancel(A) is False  # WeCom still accepts A's code: nothing deleted
        await play(app, fake.cancel_corp(SUITE, A))
        assert await app.permanent_codes.get(A) is None
        assert await app.permanent_codes.get(B) is not None
        assert fake.calls("service/get_auth_info") == 2


async def test_a_cancel_that_cannot_be_checked_is_delivered_again(fake: FakeWeCom) -> None:
    async with provider_app(fake) as app, served(app) as (receiver, http):
        await _push(receiver, http, fake.push_suite_ticket(SUITE))
        await _push(receiver, http, fake.authorize_corp(SUITE, A))
        cancel = fake.cancel_corp(SUITE, A)
        fake.inject("service/get_auth_info", connect=True, times=10)
        assert await _push(receiver, http, cancel) == 503
        assert await app.permanent_codes.get(A) is not None
        fake.faults.clear()
        assert await _push(receiver, http, cancel) == 200
        assert await app.permanent_codes.get(A) is None
        await play(app, fake.authorize_corp(SUITE, B))
        fake.inject("service/get_auth_info", connect=True, times=10)
        with pytest.raises(TransportError):
            await app.cancel(B)
        fake.faults.clear()
        fake.inject("service/get_auth_info", errcode=-1, times=10)
        with pytest.raises(SystemBusyError):
            await app.cancel(B)
        assert await app.permanent_codes.get(B) is not None
