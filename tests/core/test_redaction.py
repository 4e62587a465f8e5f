"""No access token or secret in log lines, exception messages, reprs or tracebacks."""

from __future__ import annotations

import traceback

import httpx
import pytest

from tests.conftest import leaked
from tests.core.scripted import SECRET, ScriptedWeCom
from wecom_async import APIError, RetryPolicy, WeComError
from wecom_async._logging import redact

PATH = "externalcontact/get_follow_user_list"


def _everything_about(error: BaseException) -> str:
    return "\n".join(
        [
            str(error),
            repr(error),
            *traceback.format_exception(type(error), error, error.__traceback__),
        ]
    )


def test_redact_masks_token_and_secret_parameters() -> None:
    line = "GET /cgi-bin/gettoken?corpid=ww1&corpsecret=S3cr3t&x=1 access_token=abc.DEF-1"
    assert redact(line) == "GET /cgi-bin/gettoken?corpid=ww1&corpsecret=***&x=1 access_token=***"
    assert redact('{"access_token": "abc"}') == '{"access_token": "***"}'


FAILURES = [
    {"errcode": 40014, "errmsg": "invalid access_token"},
    {"errcode": -1, "errmsg": "system busy"},
    {"errcode": 48002, "errmsg": "api forbidden"},
    {"errcode": 45009, "errmsg": "api freq out of limit"},
    httpx.ReadTimeout("timed out"),
    httpx.ConnectError("refused"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: str(f)[:30])
async def test_failure_scenarios_leak_nothing(failure: object, log_records) -> None:
    server = ScriptedWeCom()
    server.script(PATH, *[failure] * 8)
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=3)) as client:
        with pytest.raises(WeComError) as caught:
            await client.external_contact.get_follow_user_list()
        text = _everything_about(caught.value) + repr(client) + repr(client.tokens)
    assert not leaked(text, (SECRET, *server.valid))
    # The requests did carry the token: the check above is not vacuous.
    assert server.seen_tokens
    assert all(t.startswith("TOKEN-") for t in server.seen_tokens)
    # DEBUG logging was on and the core logged its retries or exchanges.
    assert log_records.lines


async def test_configuration_error_does_not_echo_the_secret() -> None:
    server = ScriptedWeCom()
    server.gettoken_script.append(
        {"errcode": 40001, "errmsg": f"invalid secret corpsecret={SECRET}, hint: [1-x]"}
    )
    async with server.client() as client:
        with pytest.raises(APIError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.request_line == "GET /cgi-bin/gettoken"
    assert caught.value.errmsg.startswith("invalid secret corpsecret=***")
    assert not leaked(str(caught.value) + repr(caught.value), (SECRET,))
