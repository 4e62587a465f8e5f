"""The ASGI face under a real uvicorn server on 127.0.0.1 answers like the in-process one."""

from __future__ import annotations

import httpx
import pytest

from tests.testing.wire import serve
from wecom_async.testing import FakeWeCom

Answer = tuple[int, str, bytes]


def _fake() -> FakeWeCom:
    fake = FakeWeCom()
    fake.seed(staff=4, customers_per_staff=20, seed=3, big_customer_followers=0)
    return fake


async def _scenario(fake: FakeWeCom, http: httpx.AsyncClient) -> list[Answer]:
    answers: list[Answer] = []

    async def call(method: str, path: str, **kwargs: object) -> httpx.Response:
        response = await http.request(method, f"/cgi-bin/{path}", **kwargs)  # type: ignore[arg-type]
        answers.append((response.status_code, response.headers["content-type"], response.content))
        return response

    await call("GET", "gettoken", params={"corpid": "wwfake", "corpsecret": "nope"})
    token = (
        await call("GET", "gettoken", params={"corpid": "wwfake", "corpsecret": "fake-secret"})
    ).json()["access_token"]
    auth = {"access_token": token}
    await call("GET", "externalcontact/get_follow_user_list")
    staff = (await call("GET", "externalcontact/get_follow_user_list", params=auth)).json()[
        "follow_user"
    ]
    customers = (
        await call("GET", "externalcontact/list", params={**auth, "userid": staff[0]})
    ).json()["external_userid"]
    await call("GET", "externalcontact/get", params={**auth, "external_userid": customers[0]})
    cursor = ""
    while True:
        body = {"userid_list": staff, "limit": 30, "cursor": cursor}
        page = await call("POST", "externalcontact/batch/get_by_user", params=auth, json=body)
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    remark = {"userid": staff[0], "external_userid": customers[0], "remark": "改过了"}
    await call("POST", "externalcontact/remark", params=auth, json=remark)
    await call("GET", "externalcontact/get", params={**auth, "external_userid": customers[0]})
    await call("GET", "externalcontact/remark", params=auth)
    await call("POST", "externalcontact/batch/get_by_user", params=auth, content=b"{oops")
    await call("POST", "externalcontact/contact_list", params=auth, json={"cursor": "x"})
    await call("POST", "externalcontact/contact_list", params=auth, json={"limit": 10})
    fake.inject("externalcontact/list", errcode=-1)
    fake.inject("externalcontact/list", status=503)
    fake.inject("externalcontact/list", truncated=True)
    for _ in range(4):
        await call("GET", "externalcontact/list", params={**auth, "userid": staff[1]})
    fake.clock.advance(7200)
    await call("GET", "externalcontact/get_follow_user_list", params=auth)
    await call("GET", "externalcontact/no_such_api", params=auth)
    return answers


async def test_asgi_under_uvicorn_answers_exactly_like_the_transport() -> None:
    in_process = _fake()
    async with httpx.AsyncClient(transport=in_process.transport(), base_url="http://x") as http:
        expected = await _scenario(in_process, http)

    served = _fake()
    with serve(served.app) as url:
        async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
            actual = await _scenario(served, http)

    assert actual == expected
    statuses = [status for status, _, _ in expected]
    assert statuses.count(503) == 1
    assert statuses.count(404) == 1
    errcodes = [b'"errcode":' + code for code in (b"40001", b"41001", b"40058", b"50100")]
    assert all(any(code in body for _, _, body in expected) for code in errcodes)
    assert served.requests == in_process.requests
    assert served.follow(*_remarked(served)) is not None


def _remarked(fake: FakeWeCom) -> tuple[str, str]:
    (request,) = [r for r in fake.requests if r.path == "externalcontact/remark" and r.json]
    assert request.json is not None
    follow = fake.follow(str(request.json["external_userid"]), str(request.json["userid"]))
    assert follow is not None
    assert follow.remark == "改过了"
    return follow.external_userid, follow.userid


async def test_asgi_drop_aborts_the_response_after_doing_the_work() -> None:
    fake = _fake()
    userid = next(iter(fake.state.staff))
    external_userid = fake.customers_of(userid)[0]
    token, _ = fake.tokens.issue("wwfake", "fake-secret", fake.clock.now())
    fake.inject("externalcontact/remark", drop=True)
    body = {"userid": userid, "external_userid": external_userid, "description": "已处理"}
    with serve(fake.app) as url:
        async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post(
                    "/cgi-bin/externalcontact/remark", params={"access_token": token}, json=body
                )
            again = await http.post(
                "/cgi-bin/externalcontact/remark", params={"access_token": token}, json=body
            )
    assert again.json()["errcode"] == 0
    follow = fake.follow(external_userid, userid)
    assert follow is not None
    assert follow.description == "已处理"
    assert fake.calls("externalcontact/remark") == 2


async def test_asgi_delay_is_slept_for_real() -> None:
    fake = _fake()
    token, _ = fake.tokens.issue("wwfake", "fake-secret", fake.clock.now())
    fake.inject("externalcontact/get_follow_user_list", delay=0.5)
    # Only the read is short: a busy machine may take a while to connect.
    timeout = httpx.Timeout(5.0, read=0.1)
    with serve(fake.app) as url:
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=timeout) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(
                    "/cgi-bin/externalcontact/get_follow_user_list",
                    params={"access_token": token},
                )
    assert fake.calls("externalcontact/get_follow_user_list") == 1
