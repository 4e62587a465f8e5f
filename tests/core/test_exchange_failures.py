"""Whatever the HTTP layer raises or a proxy answers, only a WeComError leaves the core.

Each failure is mapped to the error a user can act on (ResponseError for an answer that
cannot be read, TransportError for an exchange that broke, ValidationError for a request
that cannot be built), is retried where a read may be resent, and carries no httpx
exception as its context: that exception's request URL holds the access token.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

import h11
import httpx
import pytest

from tests.conftest import leaked
from tests.core.scripted import ScriptedWeCom
from wecom_async import (
    APITimeoutError,
    ResponseError,
    RetryPolicy,
    TransportError,
    ValidationError,
    WeComClient,
    WeComError,
)

PATH = "externalcontact/get_follow_user_list"
WRITE = "externalcontact/add_contact_way"


def _raising(make: Callable[[httpx.Request], Exception]):  # type: ignore[no-untyped-def]
    async def answer(request: httpx.Request) -> httpx.Response:
        raise make(request)

    return answer


async def _mangled_gzip(request: httpx.Request) -> httpx.Response:
    # A proxy that re-compresses badly: the header says gzip, the bytes are not.
    return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"\x1f\x8bnot gzip")


async def _deeply_nested(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"[" * 200_000 + b"]" * 200_000)


def _url(request: httpx.Request) -> str:
    return str(request.url)  # holds the access token: must never reach the caller


# What a broken proxy, a custom transport or the protocol layer may raise, and the class
# the caller sees instead.
RAISED: dict[str, tuple[Callable[[httpx.Request], Exception], type[WeComError]]] = {
    "DecodingError": (
        lambda r: httpx.DecodingError(f"bad gzip from {_url(r)}", request=r),
        ResponseError,
    ),
    "TooManyRedirects": (
        lambda r: httpx.TooManyRedirects(f"loop at {_url(r)}", request=r),
        ResponseError,
    ),
    "InvalidURL": (lambda r: httpx.InvalidURL(f"bad redirect to {_url(r)}"), TransportError),
    "StreamClosed": (lambda r: httpx.StreamClosed(), TransportError),
    "CookieConflict": (lambda r: httpx.CookieConflict(_url(r)), TransportError),
    "h11.RemoteProtocolError": (
        lambda r: h11.RemoteProtocolError(f"illegal header from {_url(r)}"),
        TransportError,
    ),
    "OSError": (lambda r: ConnectionResetError(104, f"reset on {_url(r)}"), TransportError),
    "ReadError": (lambda r: httpx.ReadError(f"reset on {_url(r)}", request=r), TransportError),
    "ReadTimeout": (
        lambda r: httpx.ReadTimeout(f"slow {_url(r)}", request=r),
        APITimeoutError,
    ),
    "HTTPStatusError": (
        lambda r: httpx.HTTPStatusError(
            f"503 for {_url(r)}", request=r, response=httpx.Response(503, request=r)
        ),
        ResponseError,
    ),
}


@pytest.mark.parametrize("name", list(RAISED))
async def test_anything_the_http_layer_raises_becomes_a_wecom_error_and_a_read_is_retried(
    name: str,
) -> None:
    make, expected = RAISED[name]
    server = ScriptedWeCom()
    server.script(PATH, _raising(make))
    async with server.client() as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls[PATH] == 2

    server.script(PATH, *[_raising(make)] * 4)
    async with server.client() as client:
        with pytest.raises(WeComError) as caught:
            await client.external_contact.get_follow_user_list()
    assert type(caught.value) is expected
    assert server.calls[PATH] == 2 + 4


@pytest.mark.parametrize("name", list(RAISED))
async def test_the_error_keeps_no_httpx_exception_and_no_token(name: str) -> None:
    make, _ = RAISED[name]
    server = ScriptedWeCom()
    server.script(WRITE, _raising(make))
    async with server.client() as client:
        with pytest.raises(WeComError) as caught:
            await client.request("POST", WRITE, json={"type": 1})
    error = caught.value
    assert error.__context__ is None
    assert error.__cause__ is None
    assert "TOKEN-" not in repr(error.__context__)
    printed = "".join(traceback.format_exception(error)) + str(error) + repr(error)
    assert not leaked(printed)
    # A write that may have arrived is not resent (a connect-phase failure would be).
    assert server.calls[WRITE] == 1


async def test_a_mangled_gzip_body_is_a_response_error_and_a_read_is_retried() -> None:
    server = ScriptedWeCom()
    server.script(PATH, _mangled_gzip)
    async with server.client() as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls[PATH] == 2

    server.script(WRITE, _mangled_gzip)
    async with server.client() as client:
        with pytest.raises(ResponseError) as caught:
            await client.request("POST", WRITE, json={"type": 1})
    assert "DecodingError" in str(caught.value)
    assert caught.value.__context__ is None
    assert server.calls[WRITE] == 1


async def test_a_redirect_loop_through_a_following_client_is_a_response_error() -> None:
    server = ScriptedWeCom()

    async def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": str(request.url)})

    server.script(PATH, *[redirect] * 2)
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(server.handler), follow_redirects=True, max_redirects=1
    )
    async with WeComClient(
        "wwcoretest", "core-test-secret-Zq81xv", http_client=http, retry=RetryPolicy.no_delay()
    ) as client:
        # Attempt 1: two redirects exceed max_redirects; attempt 2 gets the envelope.
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    await http.aclose()
    assert server.calls[PATH] == 3


async def test_a_raise_for_status_event_hook_keeps_the_status_and_its_retry_rule() -> None:
    server = ScriptedWeCom()

    async def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="busy")

    async def raise_for_status(response: httpx.Response) -> None:
        response.raise_for_status()

    server.script(PATH, *[unavailable] * 4)
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(server.handler),
        event_hooks={"response": [raise_for_status]},
    )
    async with WeComClient(
        "wwcoretest", "core-test-secret-Zq81xv", http_client=http, retry=RetryPolicy.no_delay()
    ) as client:
        with pytest.raises(ResponseError) as caught:
            await client.external_contact.get_follow_user_list()
    await http.aclose()
    assert caught.value.status_code == 503
    assert server.calls[PATH] == 4


async def test_a_body_nested_deeper_than_the_parser_goes_is_a_response_error() -> None:
    server = ScriptedWeCom()
    server.script(PATH, *[_deeply_nested] * 4)
    async with server.client() as client:
        with pytest.raises(ResponseError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.status_code == 200
    assert server.calls[PATH] == 4


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"tags": {"a", "b"}}, "TypeError"),
        ({"score": float("nan")}, "ValueError"),
        ({"score": float("inf")}, "ValueError"),
        ({"remark": "\ud800"}, "UnicodeEncodeError"),
        ({"when": object()}, "TypeError"),
    ],
)
async def test_a_body_json_cannot_carry_is_refused_before_sending(
    body: dict[str, object], problem: str
) -> None:
    server = ScriptedWeCom()
    async with server.client() as client:
        with pytest.raises(ValidationError, match=problem) as caught:
            await client.request("POST", WRITE, json=body)
    assert caught.value.__context__ is None
    assert sum(server.calls.values()) == 0


async def test_a_circular_body_is_refused_before_sending() -> None:
    body: dict[str, object] = {}
    body["self"] = body
    server = ScriptedWeCom()
    async with server.client() as client:
        with pytest.raises(ValidationError, match="Circular"):
            await client.request("POST", WRITE, json=body)
    assert sum(server.calls.values()) == 0


async def test_a_query_httpx_cannot_encode_is_refused_before_sending() -> None:
    server = ScriptedWeCom()
    async with server.client() as client:
        with pytest.raises(ValidationError, match="UnicodeEncodeError") as caught:
            await client.request("GET", PATH, params={"userid": "\ud800"})
    assert caught.value.__context__ is None
    assert server.calls[PATH] == 0


async def test_a_base_url_httpx_cannot_parse_is_refused_before_sending() -> None:
    server = ScriptedWeCom()
    http = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
    async with WeComClient(
        "wwcoretest", "core-test-secret-Zq81xv", http_client=http, base_url="http://[::1"
    ) as client:
        with pytest.raises(ValidationError):
            await client.external_contact.get_follow_user_list()
    await http.aclose()
    assert sum(server.calls.values()) == 0
