"""ProviderApp against the fake WeCom: every way the provider's credentials can fail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from wecom_async import (
    ClientClosedError,
    ConfigurationError,
    NotAuthorizedError,
    SuiteTicketError,
    TokenError,
    TransportError,
    ValidationError,
)
from wecom_async.callback import parse_event
from wecom_async.provider import ProviderApp
from wecom_async.testing import JSON, FakeWeCom, RequestContext, Route

from .helpers import CORPS, SUITE, SUITE_SECRET, play, provider_app, provider_fake

A, B, C = CORPS


@pytest.fixture
def fake() -> FakeWeCom:
    return provider_fake()


@pytest.fixture
async def app(fake: FakeWeCom) -> AsyncIterator[ProviderApp]:
    async with provider_app(fake) as app:
        yield app


async def _authorized(fake: FakeWeCom, app: ProviderApp, *corps: str) -> None:
    await play(app, fake.push_suite_ticket(SUITE))
    for corp_id in corps:
        await play(app, fake.authorize_corp(SUITE, corp_id))


def _staff(fake: FakeWeCom, corp_id: str) -> str:
    return next(iter(fake.corp(corp_id).state.staff))


async def test_an_authorized_corps_client_reads_that_corps_own_records(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app, A, B)
    for corp_id in (A, B):
        userid = _staff(fake, corp_id)
        ids = await app.client_for(corp_id).external_contact.list(userid)
        assert ids == fake.corp(corp_id).customers_of(userid)
    assert fake.calls("service/get_suite_token") == 1
    assert fake.calls("service/get_corp_token") == 2
    assert fake.calls("service/v2/get_permanent_code") == 2
    assert fake.calls("gettoken") == 0


async def test_without_a_suite_ticket_nothing_is_sent(fake: FakeWeCom, app: ProviderApp) -> None:
    await app.permanent_codes.put(A, "fake-pc-000000000000000000000000")
    with pytest.raises(SuiteTicketError):
        await app.client_for(A).external_contact.list("zhangsan")
    with pytest.raises(SuiteTicketError):
        await app.get_permanent_code("fake-authcode-000000000000000000000000")
    assert fake.requests == []


async def test_a_refused_ticket_is_a_configuration_error_sent_once(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await app.put_ticket("fake-ticket-000000000000000000000000")  # never pushed by WeCom
    with pytest.raises(ConfigurationError) as caught:
        await app.get_permanent_code("fake-authcode-000000000000000000000000")
    assert caught.value.errcode == 40085
    assert fake.calls("service/get_suite_token") == 1


async def test_an_expired_ticket_is_refused_like_wecom(fake: FakeWeCom, app: ProviderApp) -> None:
    await play(app, fake.push_suite_ticket(SUITE))
    fake.clock.advance(1801)
    with pytest.raises(ConfigurationError) as caught:
        await app.suite_tokens.get()
    assert caught.value.errcode == 40085


async def test_a_refused_suite_token_is_replaced_once(fake: FakeWeCom, app: ProviderApp) -> None:
    await _authorized(fake, app, A)
    fake.inject("service/get_corp_token", errcode=42009)
    assert await app.client_for(A).external_contact.list(_staff(fake, A)) is not None
    assert fake.calls("service/get_suite_token") == 2
    assert fake.calls("service/get_corp_token") == 2


async def test_a_suite_token_refused_again_after_the_refresh_is_a_token_error(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app, A)
    fake.inject("service/get_corp_token", errcode=40082, times=2)
    with pytest.raises(TokenError) as caught:
        await app.client_for(A).external_contact.list(_staff(fake, A))
    assert caught.value.errcode == 40082
    assert fake.calls("service/get_suite_token") == 2
    assert fake.calls("externalcontact/list") == 0


async def test_many_corps_at_once_share_one_suite_token_fetch(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app, *CORPS)
    fake.clear_requests()
    app.suite_tokens  # noqa: B018  (built with the app)
    results: dict[str, list[str]] = {}

    async def read(corp_id: str) -> None:
        results[corp_id] = list(
            await app.client_for(corp_id).external_contact.list(_staff(fake, corp_id))
        )

    async with anyio.create_task_group() as tg:
        for corp_id in CORPS * 3:
            tg.start_soon(read, corp_id)
    assert fake.calls("service/get_suite_token") == 0  # fetched once, during authorization
    assert fake.calls("service/get_corp_token") == 3  # one per corp, shared by its clients
    assert {c: results[c] for c in CORPS} == {
        c: fake.corp(c).customers_of(_staff(fake, c)) for c in CORPS
    }


async def test_a_corp_with_no_permanent_code_fails_before_sending(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app)
    fake.clear_requests()
    with pytest.raises(NotAuthorizedError) as caught:
        await app.client_for(A).external_contact.list("zhangsan")
    assert caught.value.corp_id == A
    with pytest.raises(NotAuthorizedError):
        await app.get_auth_info(A)
    assert fake.requests == []


async def test_a_cancelled_corp_fails_clearly_and_the_others_go_on(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app, A, B)
    client_a, client_b = app.client_for(A), app.client_for(B)
    await client_a.external_contact.list(_staff(fake, A))
    await play(app, fake.cancel_corp(SUITE, A))
    assert await app.permanent_codes.get(A) is None
    with pytest.raises(NotAuthorizedError):
        await client_a.external_contact.list(_staff(fake, A))
    assert await client_b.external_contact.list(_staff(fake, B)) == fake.corp(B).customers_of(
        _staff(fake, B)
    )


async def test_a_cancellation_the_vendor_missed_is_wecoms_refusal(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app, A)
    client = app.client_for(A)
    await client.external_contact.list(_staff(fake, A))
    fake.cancel_corp(SUITE, A)  # the push never reached the vendor: the code is still stored
    with pytest.raises(ConfigurationError) as caught:
        await client.external_contact.list(_staff(fake, A))
    assert caught.value.errcode == 40084


async def test_a_get_corp_token_outage_is_retried_then_reported(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app, A, B)
    fake.inject("service/get_corp_token", status=502)
    assert await app.client_for(A).external_contact.list(_staff(fake, A)) is not None
    fake.inject("service/get_corp_token", connect=True, times=10)
    with pytest.raises(TransportError):
        await app.client_for(B).external_contact.list(_staff(fake, B))
    assert fake.calls("externalcontact/list") == 1


async def test_a_custom_app_gets_corp_tokens_from_gettoken_with_the_permanent_code() -> None:
    fake = provider_fake(custom=True)
    async with provider_app(fake, kind="custom") as app:
        await _authorized(fake, app, A)
        userid = _staff(fake, A)
        assert await app.client_for(A).external_contact.list(userid) == fake.corp(A).customers_of(
            userid
        )
        assert (fake.calls("gettoken"), fake.calls("service/get_corp_token")) == (1, 0)
        old = await app.permanent_codes.get(A)
        await play(app, fake.reset_permanent_code(SUITE, A))
        assert await app.permanent_codes.get(A) not in (None, old)
        assert await app.client_for(A).external_contact.list(userid) is not None
        assert fake.calls("gettoken") == 2
        fake.inject("gettoken", connect=True, times=10)
        await play(app, fake.reset_permanent_code(SUITE, A))
        with pytest.raises(TransportError):
            await app.client_for(A).external_contact.list(userid)


async def test_get_auth_info_reads_the_corps_authorization(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app, A)
    info = await app.get_auth_info(A)
    assert info.auth_corp_info.corpid == A
    assert info.auth_info is not None
    agent = info.auth_info.agent[0]
    assert agent.is_customized_app is False
    assert agent.privilege is not None
    assert agent.privilege.allow_user == list(fake.corp(A).state.staff)


async def test_an_auth_code_works_once(fake: FakeWeCom, app: ProviderApp) -> None:
    await play(app, fake.push_suite_ticket(SUITE))
    event = parse_event(fake.authorize_corp(SUITE, A))
    await app.handle(event)
    with pytest.raises(Exception) as caught:
        await app.authorize(event.auth_code)  # type: ignore[attr-defined]
    assert getattr(caught.value, "errcode", None) == 40078
    assert fake.calls("service/v2/get_permanent_code") == 2  # not resent: not retry-safe


async def test_another_suites_pushes_are_ignored(fake: FakeWeCom, app: ProviderApp) -> None:
    fake.add_suite("wwothersuite", SUITE_SECRET)
    await play(app, fake.push_suite_ticket("wwothersuite"))
    assert await app.tickets.get(SUITE) is None


async def test_closing_a_corp_client_leaves_the_shared_pool_open(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    await _authorized(fake, app, A, B)
    client_a = app.client_for(A)
    await client_a.aclose()
    with pytest.raises(ClientClosedError):
        await client_a.external_contact.list(_staff(fake, A))
    assert await app.client_for(B).external_contact.list(_staff(fake, B)) is not None
    await app.aclose()
    with pytest.raises(ClientClosedError):
        app.client_for(B)


async def test_provider_level_calls_carry_the_provider_token(
    fake: FakeWeCom, app: ProviderApp
) -> None:
    seen: list[str] = []

    def opencorpid(ctx: RequestContext) -> JSON:
        seen.append(ctx.query.get("provider_access_token", ""))
        return {"open_corpid": "wpXXXX"}

    fake.add_route(Route("POST", "service/corpid_to_opencorpid", opencorpid, auth=False))
    client = app.provider_client()
    assert client is app.provider_client()
    for _ in range(2):
        data = await client.request("POST", "service/corpid_to_opencorpid", json={"corpid": A})
        assert data["open_corpid"] == "wpXXXX"
    assert fake.calls("service/get_provider_token") == 1
    assert len(set(seen)) == 1
    assert seen[0]
    assert all(r.query.get("provider_access_token") == "***" for r in fake.requests[1:])


async def test_provider_credentials_never_show(fake: FakeWeCom, app: ProviderApp) -> None:
    await _authorized(fake, app, A)
    code = await app.permanent_codes.get(A)
    ticket = await app.tickets.get(SUITE)
    assert code
    assert ticket
    shown = repr(app) + repr(fake.requests) + repr(parse_event(fake.push_suite_ticket(SUITE)))
    shown += repr(parse_event(fake.authorize_corp(SUITE, B)))
    for secret in (code, ticket, SUITE_SECRET):
        assert secret not in shown
    assert all(
        body.get(key) in (None, "***")
        for body in (r.json or {} for r in fake.requests)
        for key in ("suite_secret", "suite_ticket", "permanent_code", "auth_code")
    )


async def test_arguments_are_checked() -> None:
    with pytest.raises(ValidationError):
        ProviderApp("", SUITE_SECRET, permanent_codes=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ProviderApp(SUITE, SUITE_SECRET, permanent_codes=None, kind="self")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ProviderApp(SUITE, SUITE_SECRET, permanent_codes=None, provider_secret="x")  # type: ignore[arg-type]
    app = ProviderApp(SUITE, SUITE_SECRET, permanent_codes=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        app.provider_client()
    with pytest.raises(ValidationError):
        app.client_for("")
    await app.aclose()
