"""Routing, verbs, body parsing, envelopes, recording and the route/state extension points."""

from __future__ import annotations

import httpx
import pytest

from tests.testing.wire import ERRMSG_STYLE, Api, connect
from wecom_async.testing import (
    JSON,
    FakeWeCom,
    RecordedRequest,
    RequestContext,
    Route,
    WeComFault,
)
from wecom_async.testing.routes import discover


def test_route_modules_are_discovered() -> None:
    routes, _, tickers = discover()
    expected = {
        "gettoken": "GET",
        "externalcontact/get_follow_user_list": "GET",
        "externalcontact/list": "GET",
        "externalcontact/get": "GET",
        "externalcontact/batch/get_by_user": "POST",
        "externalcontact/remark": "POST",
        "externalcontact/contact_list": "POST",
    }
    for path, method in expected.items():
        assert routes[path].method == method
    assert routes["gettoken"].auth is False
    assert routes["externalcontact/get"].auth is True
    # Time-driven groups (transfers completing after 24 h) register a ticker.
    assert any(t.__module__.endswith("routes.transfer") for t in tickers)


@pytest.mark.parametrize(
    ("method", "path", "verb"),
    [
        ("GET", "externalcontact/batch/get_by_user", "POST"),
        ("GET", "externalcontact/remark", "POST"),
        ("POST", "externalcontact/get", "GET"),
        ("POST", "gettoken", "GET"),
    ],
)
async def test_wrong_verb_answers_40058_naming_the_verb(
    api: Api, method: str, path: str, verb: str
) -> None:
    token = str((await api.gettoken())["access_token"])
    response = await api.http.request(method, f"/cgi-bin/{path}", params={"access_token": token})
    assert response.status_code == 200
    data = response.json()
    assert data["errcode"] == 40058
    match = ERRMSG_STYLE.match(data["errmsg"])
    assert match is not None
    assert match["message"] == f"Warning: wrong request method, {path} requires {verb}"


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b"[1, 2]", b'"text"'])
async def test_body_that_is_not_a_utf8_json_object_answers_40058(api: Api, body: bytes) -> None:
    token = str((await api.gettoken())["access_token"])
    response = await api.http.post(
        "/cgi-bin/externalcontact/batch/get_by_user",
        params={"access_token": token},
        content=body,
        headers={"content-type": "application/json"},
    )
    data = response.json()
    assert data["errcode"] == 40058
    assert data["errmsg"].startswith("Warning: wrong json format., hint: [")


async def test_unknown_paths_answer_http_404(http: httpx.AsyncClient) -> None:
    for path in ("/cgi-bin/externalcontact/no_such_api", "/other/gettoken"):
        response = await http.get(path)
        assert response.status_code == 404
        assert "fake WeCom has no route" in response.text


async def test_success_envelope_comes_first_and_keeps_utf8(fake: FakeWeCom, api: Api) -> None:
    fake.add_staff("zhangsan")
    external_userid = fake.add_customer(followers=["zhangsan"], name="李四")
    token = str((await api.gettoken())["access_token"])
    response = await api.http.get(
        "/cgi-bin/externalcontact/get",
        params={"access_token": token, "external_userid": external_userid},
    )
    assert response.headers["content-type"].startswith("application/json")
    assert response.content.startswith(b'{"errcode":0,"errmsg":"ok",')
    assert "李四".encode() in response.content  # real UTF-8, no \\u escapes


async def test_requests_are_recorded_with_secrets_redacted(fake: FakeWeCom, api: Api) -> None:
    await api.gettoken()
    await api.post("externalcontact/batch/get_by_user", {"userid_list": ["nobody"]})
    await api.get("externalcontact/list", userid="nobody")
    assert fake.requests == [
        RecordedRequest("GET", "gettoken", {"corpid": "wwfake", "corpsecret": "***"}, None),
        RecordedRequest("GET", "gettoken", {"corpid": "wwfake", "corpsecret": "***"}, None),
        RecordedRequest(
            "POST",
            "externalcontact/batch/get_by_user",
            {"access_token": "***"},
            {"userid_list": ["nobody"]},
        ),
        RecordedRequest(
            "GET", "externalcontact/list", {"access_token": "***", "userid": "nobody"}, None
        ),
    ]
    assert fake.calls("gettoken") == 2
    assert fake.calls("/cgi-bin/externalcontact/list") == 1
    assert fake.calls("externalcontact/get") == 0
    fake.clear_requests()
    assert fake.requests == []
    assert fake.calls("gettoken") == 0


class _Counter:
    """A group's own state, kept through the extension registry."""

    def __init__(self) -> None:
        self.hits = 0


def _echo(ctx: RequestContext) -> JSON:
    counter = ctx.state.ext(_Counter)
    counter.hits += 1
    if ctx.body.get("fail"):
        raise WeComFault(40068)
    return {
        "hits": counter.hits,
        "path": ctx.path,
        "query": dict(ctx.query),
        "body": ctx.body,
        "now": ctx.clock.now(),
    }


async def test_added_route_gets_context_and_group_state(fake: FakeWeCom, api: Api) -> None:
    fake.add_route(Route("POST", "externalcontact/echo", _echo))
    first = await api.post("externalcontact/echo", {"a": 1})
    assert first["errcode"] == 0
    assert first["hits"] == 1
    assert first["path"] == "externalcontact/echo"
    assert first["body"] == {"a": 1}
    assert first["now"] == 1_700_000_000.0
    assert isinstance(first["query"], dict)
    assert set(first["query"]) == {"access_token"}
    failed = await api.post("externalcontact/echo", {"fail": True})
    assert failed["errcode"] == 40068
    assert str(failed["errmsg"]).startswith("invalid tagid, hint: [")
    assert fake.state.ext(_Counter).hits == 2
    assert FakeWeCom().state.ext(_Counter).hits == 0  # state is per fake


async def test_multipart_body_reaches_the_handler_raw(fake: FakeWeCom, api: Api) -> None:
    seen: list[tuple[str, bytes, JSON]] = []

    def upload(ctx: RequestContext) -> JSON:
        seen.append((ctx.content_type, ctx.raw_body, ctx.body))
        return {"media_id": "m1"}

    fake.add_route(Route("POST", "media/upload", upload))
    token = str((await api.gettoken())["access_token"])
    response = await api.http.post(
        "/cgi-bin/media/upload",
        params={"access_token": token, "type": "file"},
        files={"media": ("a.txt", b"hello")},
    )
    assert response.json()["media_id"] == "m1"
    content_type, raw, body = seen[0]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert b"hello" in raw
    assert body == {}
    assert fake.requests[-1].json is None


async def test_recording_keeps_the_latest_requests_but_counts_all() -> None:
    fake = FakeWeCom(record_limit=3)
    async with connect(fake) as api:
        for userid in ("a", "b", "c", "d", "e"):
            await api.get("externalcontact/list", userid=userid)
    assert [r.query.get("userid") for r in fake.requests] == ["c", "d", "e"]
    assert fake.calls("externalcontact/list") == 5
    assert fake.calls("gettoken") == 1
