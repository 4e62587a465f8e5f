"""WeComClient lifecycle, options and the request() escape hatch."""

from __future__ import annotations

import anyio
import httpx
import hypothesis
import pytest
from hypothesis import strategies as st

from tests.core.scripted import CORP_ID, SECRET, ScriptedWeCom
from wecom_async import (
    APIError,
    ClientClosedError,
    ValidationError,
    WeComClient,
    WeComError,
)
from wecom_async._client import DEFAULT_TIMEOUT


async def test_owned_http_client_is_closed_and_a_given_one_is_not() -> None:
    owned = WeComClient(CORP_ID, SECRET)
    async with owned:
        assert owned._http.timeout == DEFAULT_TIMEOUT
        assert owned._http.timeout.read is not None
    assert owned._http.is_closed

    given = httpx.AsyncClient()
    async with WeComClient(CORP_ID, SECRET, http_client=given):
        pass
    assert not given.is_closed
    await given.aclose()


async def test_closed_client_cannot_be_reopened() -> None:
    client = WeComClient(CORP_ID, SECRET)
    await client.aclose()
    with pytest.raises(WeComError, match="closed"):
        async with client:
            pass


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValidationError):
        WeComClient("", SECRET)
    with pytest.raises(ValidationError):
        WeComClient(CORP_ID, SECRET, max_in_flight=0)


async def test_services_are_cached_attributes() -> None:
    async with WeComClient(CORP_ID, SECRET) as client:
        assert client.external_contact is client.external_contact
        assert SECRET not in repr(client)


async def test_request_escape_hatch_checks_the_envelope_and_adds_the_token() -> None:
    server = ScriptedWeCom()
    server.script(
        "externalcontact/opengid_to_chatid", {"errcode": 0, "errmsg": "ok", "chat_id": "wr1"}
    )
    server.script("externalcontact/customer_acquisition_quota", {"errcode": 60011, "errmsg": "no"})
    async with server.client() as client:
        data = await client.request(
            "POST", "/cgi-bin/externalcontact/opengid_to_chatid", json={"opengid": "o"}
        )
        assert data == {"errcode": 0, "errmsg": "ok", "chat_id": "wr1"}
        with pytest.raises(APIError) as caught:
            await client.request("GET", "externalcontact/customer_acquisition_quota")
    assert caught.value.errcode == 60011
    assert caught.value.request_line == "GET /cgi-bin/externalcontact/customer_acquisition_quota"
    assert server.seen_tokens == [server.token(1)] * 2


async def test_non_ascii_is_sent_as_utf8_not_escapes() -> None:
    bodies: list[bytes] = []

    async def capture(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    server = ScriptedWeCom()
    server.script("externalcontact/remark", capture)
    async with server.client() as client:
        await client.external_contact.remark(
            {"userid": "u", "external_userid": "wm1", "remark": "重要客户"}
        )
    assert "重要客户".encode() in bodies[0]
    assert b"\\u" not in bodies[0]


async def test_a_given_client_without_timeouts_still_gets_them() -> None:
    seen: list[dict[str, float | None]] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "access_token": "T"})

    for given, expected_read in ((None, DEFAULT_TIMEOUT.read), (30.0, 30.0)):
        http = httpx.AsyncClient(transport=httpx.MockTransport(record), timeout=given)
        async with http, WeComClient(CORP_ID, SECRET, http_client=http) as client:
            await client.request("GET", "gettoken")
        assert seen[-1]["read"] == expected_read


async def test_a_call_after_aclose_is_refused_whoever_owns_the_http_client() -> None:
    server = ScriptedWeCom()
    given = server.client()
    async with given as client:
        await client.external_contact.get_follow_user_list()
    before = sum(server.calls.values())
    with pytest.raises(ClientClosedError, match="closed"):
        await given.external_contact.get_follow_user_list()
    with pytest.raises(ClientClosedError):
        await given.request("GET", "externalcontact/get_follow_user_list")
    assert sum(server.calls.values()) == before  # nothing was sent

    owned = WeComClient(CORP_ID, SECRET, base_url="http://wecom.test")
    await owned.aclose()
    with pytest.raises(ClientClosedError) as caught:
        await owned.external_contact.get_follow_user_list()
    assert caught.value.request_line == "GET /cgi-bin/gettoken"


async def test_a_given_http_client_closed_by_its_owner_is_a_wecom_error() -> None:
    server = ScriptedWeCom()
    client = server.client()
    await client._http.aclose()
    with pytest.raises(ClientClosedError):
        await client.external_contact.get_follow_user_list()


async def test_aclose_between_two_attempts_stops_the_retries() -> None:
    server = ScriptedWeCom()
    client = server.client()

    async def busy_while_the_owner_closes(request: httpx.Request) -> httpx.Response:
        await client.aclose()
        return httpx.Response(200, json={"errcode": -1, "errmsg": "system busy"})

    server.script("externalcontact/get_follow_user_list", busy_while_the_owner_closes)
    await client.tokens.get()
    with pytest.raises(ClientClosedError):
        await client.external_contact.get_follow_user_list()
    # -1 on a read is retried, but not on a closed client.
    assert server.calls["externalcontact/get_follow_user_list"] == 1


_QUERY_VALUES = st.one_of(st.text(max_size=20), st.integers(), st.booleans())


@hypothesis.settings(deadline=None, max_examples=60)
@hypothesis.given(
    params=st.dictionaries(st.text(min_size=1, max_size=12), _QUERY_VALUES, max_size=4)
)
def test_the_url_sent_is_the_one_httpx_builds_from_the_params(
    params: dict[str, str | int],
) -> None:
    """The core encodes the query itself: byte for byte what httpx's params= would send."""
    params = {k: v for k, v in params.items() if k.lower() != "access_token"}
    sent: list[httpx.URL] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        if request.url.path.endswith("gettoken"):
            return httpx.Response(200, json={"errcode": 0, "access_token": "T" * 20})
        return httpx.Response(200, json={"errcode": 0})

    async def call() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with (
            http,
            WeComClient(CORP_ID, SECRET, http_client=http, base_url="http://w.test") as client,
        ):
            await client.request("GET", "externalcontact/get", params=params)

    anyio.run(call)
    expected = httpx.Request(
        "GET",
        "http://w.test/cgi-bin/externalcontact/get",
        params={**params, "access_token": "T" * 20},
    ).url
    assert (sent[-1].host, sent[-1].raw_path) == (expected.host, expected.raw_path)
