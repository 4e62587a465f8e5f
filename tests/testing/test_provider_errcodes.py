"""The errcodes of the fake's provider-level routes, on the wire (``_provider_state.py``
says which are verified against what WeCom answers and which are chosen by meaning)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.provider.helpers import (
    PROVIDER_CORP,
    PROVIDER_SECRET,
    SUITE,
    SUITE_SECRET,
    play,
    provider_fake,
)
from wecom_async import ConfigurationError, RetryPolicy
from wecom_async.provider import MemoryPermanentCodeStore, ProviderApp
from wecom_async.testing import FakeWeCom

CORP = "wwcorpa"
FINISH = "service/externalcontact/finish_external_userid_migration"


@dataclass
class Wire:
    """Plain httpx calls to the fake, with the suite's ticket and a corp's codes at hand."""

    fake: FakeWeCom
    http: httpx.AsyncClient
    ticket: str = ""
    auth_code: str = ""

    async def post(self, path: str, body: dict[str, Any], **query: str) -> int:
        response = await self.http.post(f"/cgi-bin/{path}", params=query, json=body)
        assert response.status_code == 200
        return int(response.json().get("errcode", 0))

    async def data(self, path: str, body: dict[str, Any], **query: str) -> dict[str, Any]:
        response = await self.http.post(f"/cgi-bin/{path}", params=query, json=body)
        return dict(response.json())

    async def suite_token(self) -> str:
        body = {"suite_id": SUITE, "suite_secret": SUITE_SECRET, "suite_ticket": self.ticket}
        return str((await self.data("service/get_suite_token", body))["suite_access_token"])

    async def provider_token(self) -> str:
        body = {"corpid": PROVIDER_CORP, "provider_secret": PROVIDER_SECRET}
        return str((await self.data("service/get_provider_token", body))["provider_access_token"])


def _xml_value(xml: str, tag: str) -> str:
    return xml.split(f"<{tag}><![CDATA[")[1].split("]]>")[0]


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    fake = provider_fake()
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        state = Wire(fake, http)
        state.ticket = _xml_value(fake.push_suite_ticket(SUITE), "SuiteTicket")
        state.auth_code = _xml_value(fake.authorize_corp(SUITE, CORP), "AuthCode")
        yield state


async def test_get_suite_token_errcodes(wire: Wire) -> None:
    good = {"suite_id": SUITE, "suite_secret": SUITE_SECRET, "suite_ticket": wire.ticket}
    other_suite_ticket = _xml_value(
        (wire.fake.add_suite("wwsuiteother", "other"), wire.fake.push_suite_ticket("wwsuiteother"))[
            1
        ],
        "SuiteTicket",
    )
    cases = {
        41021: {**good, "suite_id": ""},
        41024: {k: v for k, v in good.items() if k != "suite_secret"},
        41023: {**good, "suite_ticket": ""},
        40083: {**good, "suite_id": "wwnosuchsuite"},
        40080: {**good, "suite_secret": "not-the-secret"},
        40085: {**good, "suite_ticket": "never-pushed"},
    }
    for errcode, body in cases.items():
        assert await wire.post("service/get_suite_token", body) == errcode, errcode
    assert (
        await wire.post("service/get_suite_token", {**good, "suite_ticket": other_suite_ticket})
        == 40085
    )
    assert await wire.post("service/get_suite_token", good) == 0


async def test_suite_token_checks(wire: Wire) -> None:
    path = "service/v2/get_permanent_code"
    body = {"auth_code": wire.auth_code}
    assert await wire.post(path, body) == 41022
    assert await wire.post(path, body, suite_access_token="never-issued") == 40082
    token = await wire.suite_token()
    wire.fake.clock.advance(7200)
    assert await wire.post(path, body, suite_access_token=token) == 42009


async def test_auth_code_and_permanent_code_errcodes(wire: Wire) -> None:
    token = await wire.suite_token()
    path = "service/v2/get_permanent_code"
    assert await wire.post(path, {}, suite_access_token=token) == 41008
    assert await wire.post(path, {"auth_code": "unknown"}, suite_access_token=token) == 40078
    answer = await wire.data(path, {"auth_code": wire.auth_code}, suite_access_token=token)
    code = answer["permanent_code"]
    assert await wire.post(path, {"auth_code": wire.auth_code}, suite_access_token=token) == 40078
    for route in ("service/get_corp_token", "service/get_auth_info"):
        good = {"auth_corpid": CORP, "permanent_code": code}
        assert await wire.post(route, {"auth_corpid": CORP}, suite_access_token=token) == 41025
        assert await wire.post(route, {"permanent_code": code}, suite_access_token=token) == 41002
        wrong = {**good, "permanent_code": "wrong"}
        assert await wire.post(route, wrong, suite_access_token=token) == 40084
        assert await wire.post(route, good, suite_access_token=token) == 0
    wire.fake.cancel_corp(SUITE, CORP)
    assert await wire.post("service/get_corp_token", good, suite_access_token=token) == 40084


async def test_provider_token_errcodes(wire: Wire) -> None:
    path = "service/get_provider_token"
    good = {"corpid": PROVIDER_CORP, "provider_secret": PROVIDER_SECRET}
    assert await wire.post(path, {**good, "corpid": ""}) == 41002
    assert await wire.post(path, {"corpid": PROVIDER_CORP}) == 41004
    assert await wire.post(path, {**good, "corpid": "wwnosuchprovider"}) == 40013
    assert await wire.post(path, {**good, "provider_secret": "wrong"}) == 40001
    token = await wire.provider_token()
    body = {"corpid": CORP}
    assert await wire.post(FINISH, body) == 41001
    assert await wire.post(FINISH, body, provider_access_token="never-issued") == 40082
    assert await wire.post(FINISH, body, provider_access_token=token) == 0
    wire.fake.clock.advance(7200)
    assert await wire.post(FINISH, body, provider_access_token=token) == 42001


async def test_the_errmsg_is_wecoms_own_for_an_unknown_provider_level_token(wire: Wire) -> None:
    answer = await wire.data(FINISH, {"corpid": CORP}, provider_access_token="never-issued")
    assert answer["errmsg"].startswith("invalid suite_acccess_token or provider_access_token, hint")


async def test_a_wrong_suite_secret_is_a_configuration_error_sent_once() -> None:
    fake = provider_fake()
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        ProviderApp(
            SUITE,
            "Rotated-Suite-Secret-Wq83",
            permanent_codes=MemoryPermanentCodeStore(),
            http_client=http,
            retry=RetryPolicy.no_delay(),
        ) as app,
    ):
        await play(app, fake.push_suite_ticket(SUITE))
        with pytest.raises(ConfigurationError) as caught:
            await app.suite_tokens.get()
    assert caught.value.errcode == 40080
    assert fake.calls("service/get_suite_token") == 1
