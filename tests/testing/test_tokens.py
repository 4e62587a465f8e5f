"""gettoken issuance and lifetime, and the token check of business calls."""

from __future__ import annotations

import httpx
import pytest

from tests.testing.wire import CORP_ID, ERRMSG_STYLE, SECRET, Api
from wecom_async.testing import FakeWeCom


async def _business(http: httpx.AsyncClient, token: str | None) -> dict[str, object]:
    params = {} if token is None else {"access_token": token}
    response = await http.get("/cgi-bin/externalcontact/get_follow_user_list", params=params)
    assert response.status_code == 200
    return dict(response.json())


async def test_same_token_until_expiry_with_remaining_lifetime(fake: FakeWeCom, api: Api) -> None:
    first = await api.gettoken()
    assert first["errcode"] == 0
    assert first["errmsg"] == "ok"
    assert first["expires_in"] == 7200
    token = first["access_token"]
    assert isinstance(token, str)
    assert 0 < len(token.encode()) <= 512

    fake.clock.advance(1000)
    again = await api.gettoken()
    assert again["access_token"] == token
    assert again["expires_in"] == 6200
    assert fake.tokens.issued == 1

    fake.clock.advance(6200)  # now exactly at expiry
    assert (await _business(api.http, token))["errcode"] == 42001
    fresh = await api.gettoken()
    assert fresh["access_token"] != token
    assert fresh["expires_in"] == 7200
    assert (await _business(api.http, str(fresh["access_token"])))["errcode"] == 0
    assert fake.calls("gettoken") == 3


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"corpsecret": SECRET}, 41002),
        ({"corpid": "", "corpsecret": SECRET}, 41002),
        ({"corpid": CORP_ID}, 41004),
        ({"corpid": "wwother", "corpsecret": SECRET}, 40013),
        ({"corpid": CORP_ID, "corpsecret": "wrong"}, 40001),
    ],
)
async def test_gettoken_errcodes(
    http: httpx.AsyncClient, params: dict[str, str], errcode: int
) -> None:
    response = await http.get("/cgi-bin/gettoken", params=params)
    assert response.status_code == 200
    data = response.json()
    assert data["errcode"] == errcode
    assert "access_token" not in data
    match = ERRMSG_STYLE.match(data["errmsg"])
    assert match is not None, data["errmsg"]
    assert int(match["code"]) == errcode
    assert int(match["ts"]) == 1_700_000_000


async def test_business_call_token_errcodes(fake: FakeWeCom, api: Api) -> None:
    assert (await _business(api.http, None))["errcode"] == 41001
    assert (await _business(api.http, "not-a-token"))["errcode"] == 40014
    token = str((await api.gettoken())["access_token"])
    assert (await _business(api.http, token))["errcode"] == 0


async def test_token_in_body_does_not_count(api: Api) -> None:
    token = str((await api.gettoken())["access_token"])
    response = await api.http.post(
        "/cgi-bin/externalcontact/batch/get_by_user",
        json={"access_token": token, "userid_list": ["x"]},
    )
    data = response.json()
    assert data["errcode"] == 41001
    assert data["errmsg"].startswith("access_token missing, hint: [")


async def test_expire_tokens_answers_42001_and_gettoken_issues_a_fresh_one(
    fake: FakeWeCom, api: Api
) -> None:
    old = str((await api.gettoken())["access_token"])
    fake.clock.advance(100)
    fake.expire_tokens()
    assert (await _business(api.http, old))["errcode"] == 42001
    fresh = await api.gettoken()
    assert fresh["access_token"] != old
    assert fresh["expires_in"] == 7200
    assert (await _business(api.http, str(fresh["access_token"])))["errcode"] == 0
    assert (await _business(api.http, old))["errcode"] == 42001


async def test_invalidate_tokens_answers_40014(fake: FakeWeCom, api: Api) -> None:
    old = str((await api.gettoken())["access_token"])
    fake.invalidate_tokens()
    assert (await _business(api.http, old))["errcode"] == 40014
    fresh = str((await api.gettoken())["access_token"])
    assert fresh != old
    assert (await _business(api.http, fresh))["errcode"] == 0


async def test_one_token_per_secret(fake: FakeWeCom, api: Api) -> None:
    fake.add_secret("second-app-secret")
    first = await api.gettoken()
    second = await api.gettoken(corpsecret="second-app-secret")
    assert first["access_token"] != second["access_token"]
    assert (await api.gettoken())["access_token"] == first["access_token"]
    assert fake.tokens.issued == 2
