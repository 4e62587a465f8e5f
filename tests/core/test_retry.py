"""Retry decisions as a table, and the retry loop end to end against a scripted server."""

from __future__ import annotations

import httpx
import pytest

from tests.core.scripted import ScriptedWeCom
from wecom_async import (
    APIError,
    APITimeoutError,
    ConflictError,
    RateLimitError,
    ResponseError,
    RetryPolicy,
    StructureError,
    SystemBusyError,
    TransportError,
    WeComError,
)
from wecom_async._retry import RATE_LIMIT_WINDOW, decide

POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0, jitter=0.0)

CONNECT = TransportError("ConnectError", sent=False)
RESET = TransportError("ReadError", sent=True)
READ_TIMEOUT = APITimeoutError("ReadTimeout", sent=True)
CONNECT_TIMEOUT = APITimeoutError("ConnectTimeout", sent=False)
HTTP_502 = ResponseError("HTTP 502", status_code=502)
HTTP_404 = ResponseError("HTTP 404", status_code=404)
GARBLED = ResponseError("not JSON", status_code=200)
MISMATCH = StructureError("bad model")
BUSY = SystemBusyError(-1, "system busy")
FREQ = RateLimitError(45009, "api freq out of limit")
CONCURRENT = RateLimitError(45033, "api concurrent out of limit")
CONFLICT = ConflictError(45035, "data operation conflict")
INVALID = APIError(40058, "invalid Request Parameter")


@pytest.mark.parametrize(
    ("error", "retry_safe", "attempt", "expected"),
    [
        (CONNECT, False, 1, 1.0),
        (CONNECT, True, 2, 2.0),
        (CONNECT_TIMEOUT, False, 1, 1.0),
        (RESET, True, 1, 1.0),
        (RESET, False, 1, None),
        (READ_TIMEOUT, True, 3, 4.0),
        (READ_TIMEOUT, False, 1, None),
        (HTTP_502, True, 1, 1.0),
        (HTTP_502, False, 1, None),
        (HTTP_404, True, 1, None),
        (GARBLED, True, 1, 1.0),
        (GARBLED, False, 1, None),
        (MISMATCH, True, 1, None),
        (BUSY, True, 1, 1.0),
        (BUSY, False, 1, None),
        (FREQ, False, 1, RATE_LIMIT_WINDOW + 1.0),
        (CONCURRENT, False, 2, 2.0),
        (CONFLICT, False, 1, 1.0),
        (INVALID, True, 1, None),
        (BUSY, True, 4, None),  # attempts spent
        (CONNECT, False, 4, None),
    ],
)
def test_decision_table(
    error: WeComError, retry_safe: bool, attempt: int, expected: float | None
) -> None:
    assert decide(error, attempt, retry_safe=retry_safe, policy=POLICY) == expected


def test_backoff_is_capped_and_jittered_downwards() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=0.25)
    assert policy.backoff(10, rand=lambda: 0.0) == 8.0
    assert policy.backoff(10, rand=lambda: 0.999) == pytest.approx(8.0 * (1 - 0.25 * 0.999))
    assert RetryPolicy.no_delay().backoff(3) == 0


BUSY_BODY = {"errcode": -1, "errmsg": "system busy, hint: [1-a]"}
PATH = "externalcontact/get_follow_user_list"
REMARK = "externalcontact/remark"
REMARK_BODY = {"userid": "zhangsan", "external_userid": "wmA", "remark": "vip"}


async def test_system_busy_twice_then_success_on_a_retry_safe_call() -> None:
    server = ScriptedWeCom()
    server.script(PATH, BUSY_BODY, BUSY_BODY)
    async with server.client() as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls[PATH] == 3


async def test_system_busy_forever_ends_after_the_bounded_attempts() -> None:
    server = ScriptedWeCom()
    server.script(PATH, *[BUSY_BODY] * 10)
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=4)) as client:
        with pytest.raises(SystemBusyError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.errcode == -1
    assert caught.value.hint == "1-a"
    assert server.calls[PATH] == 4


async def test_read_timeout_on_a_non_retry_safe_post_is_sent_exactly_once() -> None:
    server = ScriptedWeCom()
    server.script("externalcontact/add_contact_way", httpx.ReadTimeout("slow"))
    async with server.client() as client:
        with pytest.raises(APITimeoutError):
            await client.request("POST", "externalcontact/add_contact_way", json={"type": 1})
    assert server.calls["externalcontact/add_contact_way"] == 1


async def test_connect_error_on_a_non_retry_safe_post_is_resent() -> None:
    server = ScriptedWeCom()
    server.script("externalcontact/add_contact_way", httpx.ConnectError("refused"))
    async with server.client() as client:
        data = await client.request("POST", "externalcontact/add_contact_way", json={"type": 1})
    assert data["errcode"] == 0
    assert server.calls["externalcontact/add_contact_way"] == 2


async def test_reset_after_sending_is_resent_only_when_retry_safe() -> None:
    server = ScriptedWeCom()
    server.script(REMARK, httpx.RemoteProtocolError("Server disconnected"))
    async with server.client() as client:
        await client.external_contact.remark(REMARK_BODY)  # remark is retry-safe (api-table.md)
    assert server.calls[REMARK] == 2
    server.script("externalcontact/del_contact_way", httpx.RemoteProtocolError("disconnected"))
    async with server.client() as client:
        with pytest.raises(TransportError) as caught:
            await client.request("POST", "externalcontact/del_contact_way", json={"config_id": "c"})
    assert caught.value.sent is True
    assert server.calls["externalcontact/del_contact_way"] == 1


async def test_http_5xx_html_page_is_retried_then_reported() -> None:
    server = ScriptedWeCom()

    async def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html><body>Bad Gateway</body></html>")

    server.script(PATH, *[html] * 4)
    async with server.client() as client:
        with pytest.raises(ResponseError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.status_code == 502
    assert server.calls[PATH] == 4


async def test_rate_limited_call_is_backed_off_and_succeeds() -> None:
    server = ScriptedWeCom()
    server.script(PATH, {"errcode": 45009, "errmsg": "api freq out of limit"})
    async with server.client() as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert server.calls[PATH] == 2


async def test_when_retries_run_out_the_caller_sees_the_original_errcode_and_hint() -> None:
    server = ScriptedWeCom()
    limited = {"errcode": 45009, "errmsg": "api freq out of limit, hint: [99-zz]"}
    server.script(PATH, *[limited] * 4)
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=2)) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.external_contact.get_follow_user_list()
    assert (caught.value.errcode, caught.value.hint) == (45009, "99-zz")
    assert server.calls[PATH] == 2
