"""Whose budget a call without a corp token spends: the corp it is about, never a bystander.

``gettoken`` spends the budget of the corp it names; a provider's calls spend the budget
of the corp their body names (``auth_corpid``, ``corpid``) or whose auth code they
exchange; what concerns no corp of the fake (an unknown corp, no corp id, the provider's
own token calls) spends budgets of its own, never the fake's first corp's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.provider.helpers import (
    CORPS,
    PROVIDER_CORP,
    PROVIDER_SECRET,
    SUITE,
    SUITE_SECRET,
    play,
    provider_app,
    provider_fake,
)
from tests.testing.wire import CORP_ID, SECRET
from wecom_async import RateLimitError
from wecom_async.testing import FakeWeCom

OTHER, OTHER_SECRET = "wwothercorp", "other-secret"
A, B, C = CORPS
RATE_LIMITED = 45009


def _xml_value(xml: str, tag: str) -> str:
    return xml.split(f"<{tag}><![CDATA[")[1].split("]]>")[0]


class Wire:
    """Plain httpx calls to a fake."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def gettoken(self, **params: str) -> int:
        response = await self.http.get("/cgi-bin/gettoken", params=params)
        return int(response.json()["errcode"])

    async def post(self, path: str, body: dict[str, Any], **query: str) -> dict[str, Any]:
        response = await self.http.post(f"/cgi-bin/{path}", params=query, json=body)
        assert response.status_code == 200
        return dict(response.json())

    async def errcode(self, path: str, body: dict[str, Any], **query: str) -> int:
        return int((await self.post(path, body, **query)).get("errcode", 0))


@pytest.fixture
async def two_corps() -> AsyncIterator[tuple[FakeWeCom, Wire]]:
    fake = FakeWeCom(CORP_ID, SECRET)
    fake.add_corp(OTHER).tokens.add_secret(OTHER_SECRET)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        yield fake, Wire(http)


@pytest.mark.parametrize(
    "stranger",
    [{"corpid": "wwnosuchcorp", "corpsecret": "x"}, {"corpsecret": "x"}, {"corpid": ""}],
    ids=["unknown-corp", "no-corpid", "empty-corpid"],
)
async def test_gettoken_of_no_corp_of_the_fake_spends_no_corps_budget(
    two_corps: tuple[FakeWeCom, Wire], stranger: dict[str, str]
) -> None:
    fake, wire = two_corps
    fake.set_rate_limit("gettoken", 2)
    strangers = [await wire.gettoken(**stranger) for _ in range(3)]
    assert strangers[:2] in ([40013, 40013], [41002, 41002])
    assert strangers[2] == RATE_LIMITED  # they count: under a budget of their own
    mine = [await wire.gettoken(corpid=CORP_ID, corpsecret=SECRET) for _ in range(3)]
    other = [await wire.gettoken(corpid=OTHER, corpsecret=OTHER_SECRET) for _ in range(3)]
    assert mine == other == [0, 0, RATE_LIMITED]


async def test_a_corp_named_like_the_no_corp_budget_is_refused() -> None:
    from wecom_async.testing._dispatch import NO_CORP

    fake = FakeWeCom()
    with pytest.raises(ValueError, match="reserved"):
        fake.add_corp(NO_CORP)


@pytest.fixture
async def provider() -> AsyncIterator[tuple[FakeWeCom, Wire, str]]:
    """A provider fake with A, B and C authorized; yields it, the wire and a suite token."""
    fake = provider_fake()
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        wire = Wire(http)
        ticket = _xml_value(fake.push_suite_ticket(SUITE), "SuiteTicket")
        body = {"suite_id": SUITE, "suite_secret": SUITE_SECRET, "suite_ticket": ticket}
        token = str((await wire.post("service/get_suite_token", body))["suite_access_token"])
        yield fake, wire, token


async def _codes(fake: FakeWeCom, wire: Wire, token: str) -> dict[str, str]:
    codes = {}
    for corp in CORPS:
        auth_code = _xml_value(fake.authorize_corp(SUITE, corp), "AuthCode")
        answer = await wire.post(
            "service/v2/get_permanent_code", {"auth_code": auth_code}, suite_access_token=token
        )
        codes[corp] = str(answer["permanent_code"])
    return codes


@pytest.mark.parametrize("path", ["service/get_corp_token", "service/get_auth_info"])
async def test_a_provider_call_about_a_corp_spends_that_corps_budget(
    provider: tuple[FakeWeCom, Wire, str], path: str
) -> None:
    fake, wire, token = provider
    codes = await _codes(fake, wire, token)
    fake.set_rate_limit(path, 2)

    async def call(corp: str) -> int:
        body = {"auth_corpid": corp, "permanent_code": codes[corp]}
        return await wire.errcode(path, body, suite_access_token=token)

    assert [await call(A) for _ in range(3)] == [0, 0, RATE_LIMITED]
    assert [await call(B) for _ in range(2)] == [0, 0]  # A's overrun is A's alone
    assert [await call(C) for _ in range(3)] == [0, 0, RATE_LIMITED]
    # A corp the fake does not serve, or none named: budgets of their own.
    strangers = [
        await wire.errcode(path, body, suite_access_token=token)
        for body in ({"auth_corpid": "wwnosuch", "permanent_code": "x"}, {}, {"auth_corpid": 7})
    ]
    assert strangers == [40084, 41002, RATE_LIMITED]  # one budget of their own
    assert await call(B) == RATE_LIMITED  # B's own third call


async def test_an_auth_code_exchange_spends_the_budget_of_its_corp(
    provider: tuple[FakeWeCom, Wire, str],
) -> None:
    fake, wire, token = provider
    path = "service/v2/get_permanent_code"
    fake.set_rate_limit(path, 1)
    unknown = await wire.errcode(path, {"auth_code": "never-issued"}, suite_access_token=token)
    assert unknown == 40078
    exchanged = []
    for corp in CORPS:
        auth_code = _xml_value(fake.authorize_corp(SUITE, corp), "AuthCode")
        exchanged.append(
            await wire.errcode(path, {"auth_code": auth_code}, suite_access_token=token)
        )
    assert exchanged == [0, 0, 0]
    again = _xml_value(fake.reset_permanent_code(SUITE, A), "AuthCode")
    assert await wire.errcode(path, {"auth_code": again}, suite_access_token=token) == RATE_LIMITED


async def test_a_provider_id_call_spends_the_budget_of_the_corp_it_names(
    provider: tuple[FakeWeCom, Wire, str],
) -> None:
    fake, wire, suite_token = provider
    await _codes(fake, wire, suite_token)
    body = {"corpid": PROVIDER_CORP, "provider_secret": PROVIDER_SECRET}
    answer = await wire.post("service/get_provider_token", body)
    token = str(answer["provider_access_token"])
    path = "service/externalcontact/finish_external_userid_migration"
    fake.set_rate_limit(path, 1)

    async def finish(corp: object) -> int:
        return await wire.errcode(path, {"corpid": corp}, provider_access_token=token)

    assert [await finish(corp) for corp in CORPS] == [0, 0, 0]
    assert await finish(A) == RATE_LIMITED
    # Corps the fake does not serve, and oddly typed ids, share a budget of their own.
    assert [await finish("wwnosuch"), await finish(["x"])] == [40013, RATE_LIMITED]


async def test_a_provider_exporting_many_corps_spends_one_budget_per_corp() -> None:
    """Through the SDK: each corp's token comes from get_corp_token under a budget of 2
    calls per corp, which three corps do not share."""
    fake = provider_fake()
    fake.set_rate_limit("service/get_corp_token", 2)
    async with provider_app(fake) as app:
        await play(app, fake.push_suite_ticket(SUITE))
        for corp in CORPS:
            await play(app, fake.authorize_corp(SUITE, corp))
        for _ in range(2):  # each corp fetches its token twice: its whole budget
            for corp in CORPS:
                fake.corp(corp).tokens.expire_all()
                await app.client_for(corp).external_contact.get_follow_user_list()
        assert fake.calls("service/get_corp_token") == 6
        fake.corp(A).tokens.expire_all()
        with pytest.raises(RateLimitError) as caught:
            await app.client_for(A).external_contact.get_follow_user_list()
    assert caught.value.errcode == RATE_LIMITED
