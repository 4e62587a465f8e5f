"""No access token or secret in log lines, exception messages, reprs or tracebacks."""

from __future__ import annotations

import traceback
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import exposed, leaked
from tests.core.scripted import SECRET, ScriptedWeCom
from wecom_async import (
    APIError,
    ResponseError,
    RetryPolicy,
    StructureError,
    TransportError,
    ValidationError,
    WeComClient,
    WeComError,
)
from wecom_async._logging import _Known, redact, register_secret, register_token

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


# -- the pattern net: every spelling of a credential key -------------------------------------

#: Keys whose value is a credential, as WeCom, its third-party flows and callbacks name them.
CREDENTIAL_KEYS = [
    "access_token",
    "suite_access_token",
    "provider_access_token",
    "corpsecret",
    "secret",
    "suite_secret",
    "provider_secret",
    "suite_ticket",
    "permanent_code",
    "auth_code",
    "encoding_aes_key",
    "EncodingAESKey",
    "password",
    "redis_password",
]

#: How a key and its value are written: query strings, prose, JSON, dict and tuple reprs,
#: a JSON string inside a repr, URL-encoded query and JSON.
SPELLINGS = [
    "{k}={v}",
    "{k}: {v}",
    "{k} = {v}",
    "{k}:{v}",
    '{k}="{v}"',
    "{k}='{v}'",
    '"{k}": "{v}"',
    '"{k}":"{v}"',
    "'{k}': '{v}'",
    "[('{k}', '{v}')]",
    "[(b'{k}', b'{v}')]",
    '\\"{k}\\": \\"{v}\\"',
    "{k}%3D{v}",
    "{k}%3d{v}",
    "%22{k}%22%3A%22{v}%22",
    "%27{k}%27%3A%20%27{v}%27",
]

# What a secret from a vault or a token may hold; URL-encoded where the spelling is. The
# leading 9 appears in no key, spelling or surrounding text, so the value is never a piece
# of them.
VALUES = st.text(
    alphabet=st.sampled_from(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/="
    ),
    min_size=0,
    max_size=60,
).map(lambda body: f"9{body}")
CONTEXT = st.sampled_from(["", "x ", "GET /cgi-bin/x?a=1&", "errmsg: ", "(", "{"])
AFTER = st.sampled_from(["", " tail", "&b=2", ", hint: [1-x]", ")", "}", "; more", "%26b%3D2"])


@given(
    key=st.sampled_from(CREDENTIAL_KEYS),
    spelling=st.sampled_from(SPELLINGS),
    value=VALUES,
    before=CONTEXT,
    after=AFTER,
    upper=st.booleans(),
)
def test_redact_masks_a_credential_however_it_is_spelled(
    key: str, spelling: str, value: str, before: str, after: str, upper: bool
) -> None:
    key = key.upper() if upper else key
    shown = quote(value, safe="") if "%" in spelling else value
    text = before + spelling.format(k=key, v=shown) + after
    redacted = redact(text)
    assert shown not in redacted
    assert value not in redacted
    # The key stays readable and the text around it survives.
    assert key in redacted
    assert redacted.startswith(before)
    assert redacted.endswith(after)
    assert redact(redacted) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "invalid secret, hint: [1-x]",
        "missing access_token, please check",
        "secretary=alice",
        "token=abc next_cursor=def",
        "the server repeated page token 'cursor-1'",
        "access_token",
    ],
)
def test_redact_leaves_plain_text_alone(text: str) -> None:
    assert redact(text) == text


def test_redact_masks_the_whole_quoted_value() -> None:
    assert redact('corpsecret="a b;c"') == 'corpsecret="***"'
    assert redact("access_token%3Dab%2Bc%26x%3D1") == "access_token%3D***%26x%3D1"


# -- the value net: what the process knows ---------------------------------------------------


def test_a_registered_secret_is_masked_without_any_key() -> None:
    secret = "vault+Secret/value=0042"
    register_secret(secret)
    text = f"echo {secret}, encoded {quote(secret, safe='')} and {quote(secret)}"
    assert redact(text) == "echo ***, encoded *** and ***"


def test_a_registered_token_is_masked_without_any_key() -> None:
    token = "registered-token-8d1f0c"
    register_token(token)
    assert redact(f"bad token {token}.") == "bad token ***."


def test_values_too_short_to_mean_anything_are_not_registered() -> None:
    # A client built with secret="secret" in someone's test must not garble every
    # "corpsecret=" key afterwards.
    register_secret("secret")
    register_token("cd34")
    assert redact("ab12 cd34 secret") == "ab12 cd34 secret"
    assert redact("corpsecret=S3cr3t") == "corpsecret=***"


def test_the_registry_keeps_only_the_newest_values() -> None:
    known = _Known(2, 3)
    for n in range(5):
        known.add(1, f"token-number-{n}-0123")
    known.add(0, "secret-number-one")
    assert set(known.forms) == {
        "secret-number-one",
        "token-number-2-0123",
        "token-number-3-0123",
        "token-number-4-0123",
    }
    # Longest first, so that a value containing another is masked whole.
    known.add(0, "token-number-4-and-more")
    assert known.forms[0] == "token-number-4-and-more"


def test_an_error_masks_a_value_registered_after_it_was_built() -> None:
    token = "late-token-77f1e2a9c3"
    error = APIError(40014, f"invalid token {token}")
    register_token(token)
    assert token not in str(error)
    assert token not in repr(error)
    assert token not in "".join(traceback.format_exception(error))


# -- every error class ----------------------------------------------------------------------


def _error_classes() -> list[type[WeComError]]:
    import wecom_async.callback  # noqa: F401  (its errors are WeComErrors too)

    found: list[type[WeComError]] = []
    stack: list[type[WeComError]] = [WeComError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack += cls.__subclasses__()
    return sorted(set(found), key=lambda cls: cls.__qualname__)


def _build(cls: type[WeComError], message: str) -> WeComError:
    if issubclass(cls, APIError):
        return cls(40014, message, request_line=f"GET /cgi-bin/x?{message}")
    if issubclass(cls, StructureError):
        return cls(message, errors=[message], raw={}, request_line=f"GET /cgi-bin/x?{message}")
    if issubclass(cls, TransportError | ResponseError):
        return cls(message, request_line=f"GET /cgi-bin/x?{message}")
    return cls(message)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_no_error_class_shows_an_echoed_credential(cls: type[WeComError]) -> None:
    message = "bad access_token=ECHOEDTOKEN1 or corpsecret: ECHOEDSECRET2"
    error = _build(cls, message)
    text = _everything_about(error) + repr(vars(error))
    assert "ECHOEDTOKEN1" not in text
    assert "ECHOEDSECRET2" not in text
    assert "access_token=***" in str(error)


async def test_an_errmsg_echoing_the_token_without_a_key_is_masked() -> None:
    server = ScriptedWeCom()

    async def echo(request: httpx.Request) -> httpx.Response:
        token = request.url.params["access_token"]
        return httpx.Response(200, json={"errcode": 60011, "errmsg": f"no privilege, {token}"})

    server.script(PATH, echo)
    async with server.client() as client:
        with pytest.raises(APIError) as caught:
            await client.external_contact.get_follow_user_list()
    assert server.seen_tokens == [server.token(1)]
    assert caught.value.errcode == 60011
    assert str(caught.value) == f"errcode 60011: no privilege, *** (GET /cgi-bin/{PATH})"
    assert not leaked(_everything_about(caught.value), (SECRET, *server.valid))


async def test_a_gettoken_errmsg_echoing_the_secret_without_a_key_is_masked() -> None:
    server = ScriptedWeCom()
    server.gettoken_script.append({"errcode": 40001, "errmsg": f"invalid credential {SECRET}"})
    async with server.client() as client:
        with pytest.raises(APIError) as caught:
            await client.external_contact.get_follow_user_list()
    assert caught.value.errmsg == "invalid credential ***"
    assert SECRET not in _everything_about(caught.value)


# -- secrets of the wrong type --------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (b"bytes-from-the-vault-Q9", "bytes"),
        (bytearray(b"bytes-from-the-vault-Q9"), "bytearray"),
        (4711081512, "int"),
        (None, "NoneType"),
        ("   ", "a blank one"),
    ],
)
def test_a_secret_of_the_wrong_type_is_named_not_echoed(secret: object, shown: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WeComClient("wwcorp", secret)  # type: ignore[arg-type]
    assert str(caught.value) == f"secret must be a non-empty string, got {shown}"
    assert "vault" not in _everything_about(caught.value)
    assert "4711081512" not in _everything_about(caught.value)


# -- what a raised error keeps --------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed"),
        httpx.WriteError("broken pipe"),
    ],
    ids=lambda f: type(f).__name__,
)
async def test_a_transport_error_keeps_no_httpx_error_holding_the_url(failure: Exception) -> None:
    server = ScriptedWeCom()
    server.script(PATH, failure)
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
        with pytest.raises(TransportError) as caught:
            await client.external_contact.get_follow_user_list()
    assert server.seen_tokens == [server.token(1)]  # the token was in the request URL
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    assert server.token(1) not in exposed(caught.value)


async def test_a_body_that_is_not_json_is_not_kept_as_context() -> None:
    server = ScriptedWeCom()

    async def proxy_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=f"<html>upstream failed for {request.url}</html>")

    server.script(PATH, proxy_page)
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
        with pytest.raises(ResponseError) as caught:
            await client.external_contact.get_follow_user_list()
    assert str(caught.value).startswith("the body is not valid JSON")
    assert caught.value.__context__ is None
    assert server.token(1) not in exposed(caught.value)
