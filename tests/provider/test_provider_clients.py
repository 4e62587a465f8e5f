"""Every client an app hands out: closed with it, and the suite and provider clients that
authenticate the provider-level calls (a refused token replaced once)."""

from __future__ import annotations

import httpx
import pytest

from wecom_async import APIError, ClientClosedError, TokenError, ValidationError
from wecom_async.provider import ProviderApp
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes.id_convert import IdConvertState

from .helpers import CORPS, SUITE, play, provider_app, provider_fake

A, B, C = CORPS
UNIONID_3RD = "service/externalcontact/unionid_to_external_userid_3rd"
FINISH = "service/externalcontact/finish_external_userid_migration"


@pytest.fixture
def fake() -> FakeWeCom:
    return provider_fake()


async def _authorized(fake: FakeWeCom, app: ProviderApp, *corps: str) -> None:
    await play(app, fake.push_suite_ticket(SUITE))
    for corp_id in corps:
        await play(app, fake.authorize_corp(SUITE, corp_id))


def _staff(fake: FakeWeCom, corp_id: str) -> str:
    return next(iter(fake.corp(corp_id).state.staff))


async def test_aclose_closes_every_client_of_an_app_given_its_http_client(
    fake: FakeWeCom,
) -> None:
    http = httpx.AsyncClient(transport=fake.transport())
    app = provider_app(fake, http=http)
    await _authorized(fake, app, A)
    corp, suite, provider = app.client_for(A), app.suite_client(), app.provider_client()
    await corp.external_contact.list(_staff(fake, A))
    sent = len(fake.requests)
    await app.aclose()
    with pytest.raises(ClientClosedError):
        await corp.external_contact.list(_staff(fake, A))
    with pytest.raises(ClientClosedError):
        await suite.id_convert.unionid_to_external_userid_3rd("u", "o")
    with pytest.raises(ClientClosedError):
        await provider.id_convert.finish_external_userid_migration(A)
    for make in (lambda: app.client_for(B), app.suite_client, app.provider_client):
        with pytest.raises(ClientClosedError):
            make()
    assert len(fake.requests) == sent
    assert not http.is_closed  # the caller's client stays the caller's
    await http.aclose()


# -- provider-level calls ----------------------------------------------------------------


async def test_the_suite_client_finds_a_unionid_in_every_authorized_corp(
    fake: FakeWeCom,
) -> None:
    async with provider_app(fake) as app:
        await _authorized(fake, app, A, B)
        a = fake.corp(A).add_customer(followers=[_staff(fake, A)], unionid="ozShared")
        b = fake.corp(B).add_customer(followers=[_staff(fake, B)], unionid="ozShared")
        fake.corp(C).add_customer(followers=[_staff(fake, C)], unionid="ozShared")  # not ours
        client = app.suite_client()
        assert client is app.suite_client()
        found = await client.id_convert.unionid_to_external_userid_3rd("ozShared", "oOpen")
        assert sorted((i.corpid, i.external_userid) for i in found) == [(A, a), (B, b)]
        only_b = await client.id_convert.unionid_to_external_userid_3rd(
            "ozShared", "oOpen", corpid=B
        )
        assert [(i.corpid, i.external_userid) for i in only_b] == [(B, b)]
        sent = [r for r in fake.requests if r.path == UNIONID_3RD]
        assert [dict(r.query) for r in sent] == [{"suite_access_token": "***"}] * 2
        assert fake.calls("service/get_suite_token") == 1


async def test_a_refused_suite_token_is_replaced_once_for_a_provider_level_call(
    fake: FakeWeCom,
) -> None:
    async with provider_app(fake) as app:
        await _authorized(fake, app, A)
        fake.inject(UNIONID_3RD, errcode=42009)
        assert await app.suite_client().id_convert.unionid_to_external_userid_3rd("u", "o") == []
        assert fake.calls("service/get_suite_token") == 2
        fake.inject(UNIONID_3RD, errcode=40082, times=2)
        with pytest.raises(TokenError):
            await app.suite_client().id_convert.unionid_to_external_userid_3rd("u", "o")


async def test_the_provider_client_finishes_one_authorized_corps_migration(
    fake: FakeWeCom,
) -> None:
    async with provider_app(fake) as app:
        await _authorized(fake, app, A, B)
        await app.provider_client().id_convert.finish_external_userid_migration(B)
        flags = {c: fake.corp(c).state.ext(IdConvertState).migration_finished for c in CORPS}
        assert flags == {A: False, B: True, C: False}
        with pytest.raises(APIError) as caught:
            await app.provider_client().id_convert.finish_external_userid_migration(C)
        assert caught.value.errcode == 40013
        fake.inject(FINISH, errcode=40014)
        await app.provider_client().id_convert.finish_external_userid_migration(A)
        assert fake.calls("service/get_provider_token") == 2


async def test_a_provider_level_call_on_a_client_without_that_token_is_refused_locally(
    fake: FakeWeCom,
) -> None:
    async with provider_app(fake) as app:
        await _authorized(fake, app, A)
        corp = app.client_for(A)
        with pytest.raises(ValidationError, match="suite_access_token"):
            await corp.id_convert.unionid_to_external_userid_3rd("u", "o")
        with pytest.raises(ValidationError, match="provider_access_token"):
            await app.suite_client().id_convert.finish_external_userid_migration(A)
        assert fake.calls(UNIONID_3RD) == fake.calls(FINISH) == 0


@pytest.mark.parametrize(
    ("path", "errcode"), [(UNIONID_3RD, 40082), (FINISH, 40082)], ids=["suite", "provider"]
)
async def test_the_fake_refuses_a_token_it_never_issued(
    fake: FakeWeCom, path: str, errcode: int
) -> None:
    async with provider_app(fake) as app:
        await _authorized(fake, app, A)
        ids = app.client_for(A).id_convert
        call = (
            ids.unionid_to_external_userid_3rd("u", "o", suite_access_token="nope-0")
            if path == UNIONID_3RD
            else ids.finish_external_userid_migration(A, provider_access_token="nope-0")
        )
        with pytest.raises(APIError) as caught:
            await call
        assert caught.value.errcode == errcode
        assert fake.calls(path) == 1
