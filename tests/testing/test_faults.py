"""Injected faults through the in-process face: errcodes, 5xx, truncated JSON, drops, delays."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from tests.testing.wire import Api
from wecom_async.testing import FakeWeCom

REMARK = "externalcontact/remark"


@pytest.fixture
def customer(fake: FakeWeCom) -> str:
    fake.add_staff("zhangsan")
    return fake.add_customer(followers=["zhangsan"])


async def _remark(api: Api, external_userid: str, text: str) -> httpx.Response:
    token = api.token or str((await api.gettoken())["access_token"])
    api.token = token
    return await api.http.post(
        f"/cgi-bin/{REMARK}",
        params={"access_token": token},
        json={"userid": "zhangsan", "external_userid": external_userid, "remark": text},
    )


def _remark_of(fake: FakeWeCom, external_userid: str) -> str:
    follow = fake.follow(external_userid, "zhangsan")
    assert follow is not None
    return follow.remark


async def test_errcode_fault_answers_without_running_the_handler(
    fake: FakeWeCom, api: Api, customer: str
) -> None:
    fault = fake.inject(REMARK, errcode=-1, times=2)
    for attempt in ("one", "two"):
        data = (await _remark(api, customer, attempt)).json()
        assert data["errcode"] == -1
        assert data["errmsg"].startswith("system busy, hint: [")
    assert _remark_of(fake, customer) == ""  # nothing happened
    assert fault.remaining == 0
    assert (await _remark(api, customer, "three")).json()["errcode"] == 0
    assert _remark_of(fake, customer) == "three"
    assert fake.calls(REMARK) == 3


async def test_errcode_fault_precedes_the_token_check_and_budget(
    fake: FakeWeCom, http: httpx.AsyncClient
) -> None:
    fake.set_rate_limit("externalcontact/get", 1)
    fake.inject("/cgi-bin/externalcontact/get", errcode=45035, errmsg="conflict", times=3)
    for _ in range(3):
        data = (await http.get("/cgi-bin/externalcontact/get")).json()
        assert data["errcode"] == 45035
        assert data["errmsg"].startswith("conflict, hint: [")
    assert (await http.get("/cgi-bin/externalcontact/get")).json()["errcode"] == 41001


async def test_faults_of_one_path_apply_in_order(fake: FakeWeCom, api: Api, customer: str) -> None:
    fake.inject(REMARK, errcode=45033)
    fake.inject(REMARK, status=503)
    fake.inject(REMARK, errcode=-1)
    assert len(fake.faults.pending()) == 3
    assert (await _remark(api, customer, "a")).json()["errcode"] == 45033
    assert (await _remark(api, customer, "b")).status_code == 503
    assert (await _remark(api, customer, "c")).json()["errcode"] == -1
    assert (await _remark(api, customer, "d")).json()["errcode"] == 0
    fake.inject(REMARK, errcode=-1)
    fake.clear_faults()
    assert (await _remark(api, customer, "e")).json()["errcode"] == 0


async def test_status_fault_sends_html_after_doing_the_work(
    fake: FakeWeCom, api: Api, customer: str
) -> None:
    fake.inject(REMARK, status=502)
    response = await _remark(api, customer, "done anyway")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in response.text
    assert _remark_of(fake, customer) == "done anyway"


async def test_truncated_fault_cuts_the_json_body(fake: FakeWeCom, api: Api, customer: str) -> None:
    fake.inject("externalcontact/get", truncated=True)
    token = str((await api.gettoken())["access_token"])
    params = {"access_token": token, "external_userid": customer}
    spoiled = await api.http.get("/cgi-bin/externalcontact/get", params=params)
    whole = await api.http.get("/cgi-bin/externalcontact/get", params=params)
    assert spoiled.status_code == 200
    assert whole.content.startswith(spoiled.content)
    assert len(spoiled.content) == len(whole.content) // 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(spoiled.content)
    assert whole.json()["errcode"] == 0


async def test_drop_fault_raises_remote_protocol_error_after_doing_the_work(
    fake: FakeWeCom, api: Api, customer: str
) -> None:
    fake.inject(REMARK, drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await _remark(api, customer, "dropped")
    assert _remark_of(fake, customer) == "dropped"
    assert fake.calls(REMARK) == 1


async def test_delay_past_read_timeout_raises_at_once_without_sleeping(
    fake: FakeWeCom, api: Api, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds}")

    await api.gettoken()
    monkeypatch.setattr(anyio, "sleep", no_sleep)
    fake.inject(REMARK, delay=30.0)
    api.http.timeout = httpx.Timeout(5.0)
    with pytest.raises(httpx.ReadTimeout):
        await _remark(api, customer, "slow")
    assert _remark_of(fake, customer) == "slow"  # the slow server still did the work


async def test_delay_within_read_timeout_is_slept(
    fake: FakeWeCom, api: Api, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    await api.gettoken()
    monkeypatch.setattr(anyio, "sleep", record)
    fake.inject(REMARK, delay=2.0)
    api.http.timeout = httpx.Timeout(5.0)
    response = await _remark(api, customer, "late")
    assert response.json()["errcode"] == 0
    assert slept == [2.0]
    api.http.timeout = httpx.Timeout(None)  # no read timeout: the delay is always slept
    fake.inject(REMARK, delay=60.0)
    assert (await _remark(api, customer, "later")).json()["errcode"] == 0
    assert slept == [2.0, 60.0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"errcode": -1, "drop": True},
        {"errcode": 0},
        {"status": 404},
        {"delay": -1.0},
        {"errcode": -1, "times": 0},
        {"status": 500, "errmsg": "x"},
    ],
)
def test_inject_refuses_nonsense(fake: FakeWeCom, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        fake.inject(REMARK, **kwargs)  # type: ignore[arg-type]


def test_inject_refuses_an_unknown_path(fake: FakeWeCom) -> None:
    with pytest.raises(ValueError, match="no route"):
        fake.inject("externalcontact/gett", errcode=-1)
