"""Answers no honest WeCom sends: each is refused as a WeComError, bounded and without leaks.

Found by attacking the hardened core as a hostile server or proxy would: a body dripped a
byte at a time, an errcode that is not a number, a gettoken lifetime of years, a gzip bomb,
a cursor of the wrong type, and tracebacks rendered with their frames' local variables.
"""

from __future__ import annotations

import json
import math
import traceback
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.scripted import CORP_ID, SECRET, ScriptedWeCom
from tests.core.virtual_time import run_virtual
from wecom_async import (
    APITimeoutError,
    ConfigurationError,
    ResponseError,
    RetryPolicy,
    SystemBusyError,
    WeComClient,
)
from wecom_async._wire import EXCHANGE_LIMIT, MAX_BODY_BYTES, Answer, decode

PATH = "externalcontact/get_follow_user_list"


class _Drip(httpx.AsyncByteStream):
    """A body that never ends: one byte a second, forever."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await anyio.sleep(1.0)


async def _dripping(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, stream=_Drip())


def test_a_dripped_answer_is_cut_off_by_the_exchange_limit_even_without_a_deadline() -> None:
    server = ScriptedWeCom()
    server.script(PATH, _dripping)

    async def main() -> tuple[float, BaseException]:
        async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
            await client.tokens.get()
            started = anyio.current_time()
            with pytest.raises(APITimeoutError) as caught:
                await client.external_contact.get_follow_user_list(deadline=math.inf)
            return anyio.current_time() - started, caught.value

    elapsed, error = run_virtual(main)
    # httpx's read timeout (per read) never fired: a byte came every second.
    assert elapsed == pytest.approx(EXCHANGE_LIMIT, abs=1.0)
    assert isinstance(error, APITimeoutError)
    assert error.sent is True
    assert "longer than 300 s in all" in str(error)


def test_waiting_in_the_rate_budget_does_not_count_towards_the_exchange_limit() -> None:
    server = ScriptedWeCom()
    waits: list[str] = []

    class SlowBudget:
        async def acquire(self, key: str) -> None:
            waits.append(key)
            await anyio.sleep(EXCHANGE_LIMIT * 2)  # far longer than any one exchange may take

    async def main() -> tuple[float, list[str]]:
        async with server.client(rate_budget=SlowBudget(), deadline=math.inf) as client:
            started = anyio.current_time()
            follow = await client.external_contact.get_follow_user_list()
            return anyio.current_time() - started, follow

    elapsed, follow = run_virtual(main)
    assert follow == ["zhangsan"]
    assert elapsed == pytest.approx(EXCHANGE_LIMIT * 4, abs=1.0)
    # Every exchange is paced, the token fetch too, keyed by its path.
    assert waits == [f"{CORP_ID}:/cgi-bin/gettoken", f"{CORP_ID}:/cgi-bin/{PATH}"]


async def test_the_rate_budget_paces_retries_too() -> None:
    server = ScriptedWeCom()
    server.script(PATH, {"errcode": -1, "errmsg": "busy"}, {"errcode": -1, "errmsg": "busy"})
    keys: list[str] = []

    class Recorder:
        async def acquire(self, key: str) -> None:
            keys.append(key)

    async with server.client(rate_budget=Recorder()) as client:
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]
    assert keys.count(f"{CORP_ID}:/cgi-bin/{PATH}") == 3 == server.calls[PATH]


@pytest.mark.parametrize("errcode", [[], {}, [40014], "0", "40014", None, True, 1.5])
async def test_an_errcode_that_is_not_an_integer_is_a_response_error(errcode: object) -> None:
    server = ScriptedWeCom()
    server.script(PATH, {"errcode": errcode, "errmsg": "ok", "follow_user": []})
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
        with pytest.raises(ResponseError, match="errcode is a"):
            await client.external_contact.get_follow_user_list()


@pytest.mark.parametrize("expires_in", [10**400, 0, -5, 7200.5, "7200", True, 10**6])
async def test_gettoken_with_an_absurd_lifetime_is_a_response_error(expires_in: object) -> None:
    server = ScriptedWeCom()
    server.gettoken_script.append(
        {"errcode": 0, "errmsg": "ok", "access_token": "T" * 40, "expires_in": expires_in}
    )
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
        with pytest.raises(ResponseError, match="expires_in"):
            await client.external_contact.get_follow_user_list()


async def test_a_deadline_too_large_for_a_float_means_no_deadline() -> None:
    server = ScriptedWeCom()
    async with server.client(deadline=10**400) as client:
        assert await client.external_contact.get_follow_user_list(deadline=10**400) == ["zhangsan"]


def _bomb(decoded: int) -> bytes:
    packer = zlib.compressobj(wbits=31)  # gzip framing
    chunk = b"\0" * (1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(decoded >> 20)) + packer.flush()


async def test_a_gzip_bomb_is_refused_past_the_body_limit() -> None:
    bomb = _bomb(MAX_BODY_BYTES + (1 << 20))
    assert len(bomb) < MAX_BODY_BYTES // 500

    async def inflate(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=bomb)

    server = ScriptedWeCom()
    server.script(PATH, inflate)
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
        with pytest.raises(ResponseError, match="larger than 67,108,864 bytes"):
            await client.external_contact.get_follow_user_list()


@pytest.mark.parametrize("cursor", [12345, ["c2"], {"c": 2}, True])
async def test_a_cursor_of_another_type_is_refused_not_taken_as_the_end(cursor: object) -> None:
    server = ScriptedWeCom()
    page = {"errcode": 0, "errmsg": "ok", "external_contact_list": [], "next_cursor": cursor}
    server.script("externalcontact/batch/get_by_user", page)
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
        pages = client.external_contact.batch_get_by_user(userid_list=["zhangsan"]).pages()
        with pytest.raises(ResponseError, match="next_cursor is a"):
            async for _ in pages:
                pass
    assert server.calls["externalcontact/batch/get_by_user"] == 1


async def test_a_fail_info_of_another_shape_is_kept_with_the_page() -> None:
    server = ScriptedWeCom()
    page = {"errcode": 0, "errmsg": "ok", "external_contact_list": [], "fail_info": ["u9"]}
    server.script("externalcontact/batch/get_by_user", page)
    async with server.client() as client:
        first = await client.external_contact.batch_get_by_user(userid_list=["zhangsan"])
    assert first.fail_info is None
    assert first.extra["fail_info"] == ["u9"]


def _rendered_with_locals(error: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())


async def test_tracebacks_rendered_with_locals_show_no_token() -> None:
    async def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="upstream down")

    busy_twice = ({"errcode": -1, "errmsg": "busy"},) * 2
    server = ScriptedWeCom()
    server.script(PATH, busy_twice[0], unavailable, *busy_twice)
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=2)) as client:
        token = (await client.tokens.get()).value
        with pytest.raises(ResponseError) as caught:
            await client.external_contact.get_follow_user_list()
        with pytest.raises(SystemBusyError) as busy:
            await client.external_contact.get_follow_user_list(extra_query={"x": 1})
    for error in (caught.value, busy.value):
        rendered = _rendered_with_locals(error)
        assert "query = " in rendered  # the frames' locals are there, redacted
        assert token not in rendered
        assert SECRET not in rendered


async def test_tracebacks_rendered_with_locals_show_no_secret() -> None:
    server = ScriptedWeCom()
    server.gettoken_script.append({"errcode": 40013, "errmsg": "invalid corpid"})
    async with server.client() as client:
        with pytest.raises(ConfigurationError) as caught:
            await client.external_contact.get_follow_user_list()
    rendered = _rendered_with_locals(caught.value)
    assert "secret = '***'" in rendered
    assert SECRET not in rendered
    assert CORP_ID in rendered


def test_a_proxy_httpx_cannot_use_is_a_validation_error_without_its_password() -> None:
    from wecom_async import ValidationError

    for url in ("ftp://user:proxy-pw-1@proxy:21", "gopher://user:proxy-pw-1@proxy:70"):
        with pytest.raises(ValidationError) as caught:
            WeComClient(CORP_ID, SECRET, proxy=url)
        assert "proxy-pw-1" not in str(caught.value)


def test_a_deadline_that_passes_while_waiting_in_the_rate_budget_sends_nothing() -> None:
    server = ScriptedWeCom()

    class FullBudget:
        async def acquire(self, key: str) -> None:
            if key.endswith(PATH):
                await anyio.sleep(3600)  # the hour's window is spent

    async def main() -> BaseException:
        async with server.client(rate_budget=FullBudget()) as client:
            with pytest.raises(APITimeoutError) as caught:
                await client.external_contact.get_follow_user_list(deadline=5)
            return caught.value

    error = run_virtual(main)
    assert isinstance(error, APITimeoutError)
    assert error.sent is False  # it never left the budget
    assert server.calls[PATH] == 0


async def test_a_caller_cancelled_while_waiting_in_the_rate_budget_sends_nothing() -> None:
    server = ScriptedWeCom()
    waiting = anyio.Event()

    class SlowBudget:
        async def acquire(self, key: str) -> None:
            if key.endswith(PATH):
                waiting.set()
                await anyio.sleep_forever()

    async with server.client(rate_budget=SlowBudget()) as client, anyio.create_task_group() as tg:
        tg.start_soon(client.external_contact.get_follow_user_list)
        await waiting.wait()
        tg.cancel_scope.cancel()
    assert server.calls[PATH] == 0


def _raw(body: bytes) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    return answer


@pytest.mark.parametrize(
    ("number", "named"),
    [
        ("NaN", "NaN, which is not a JSON number"),
        ("Infinity", "Infinity, which is not a JSON number"),
        ("-Infinity", "-Infinity, which is not a JSON number"),
        ("1e400", "the number 1e400, beyond the range of a float"),
        ("-1.5E+309", "the number -1.5E+309, beyond the range of a float"),
        ("1" + "0" * 400 + ".5", "the number " + "1" + "0" * 39 + "..., beyond the range"),
        ("1e-400", "the number 1e-400, too small for a float (it reads as 0)"),
        ("-2e-324", "the number -2e-324, too small for a float (it reads as 0)"),
        ("0.000001E-320", "the number 0.000001E-320, too small for a float"),
        ("0." + "0" * 400 + "1", "the number 0." + "0" * 38 + "..., too small for a float"),
    ],
)
async def test_a_number_no_float_holds_is_a_response_error_naming_it(
    number: str, named: str
) -> None:
    """Python reads NaN / Infinity (not JSON) and 1e400 (JSON, read as inf): kept, they
    would be written back as tokens no JSON reader takes. Refused, named, never kept."""
    server = ScriptedWeCom()
    body = '{"errcode":0,"errmsg":"ok","follow_user":["zhangsan"],"score":' + number + "}"
    server.script(PATH, _raw(body.encode()))
    async with server.client(retry=RetryPolicy.no_delay(max_attempts=1)) as client:
        with pytest.raises(ResponseError) as caught:
            await client.external_contact.get_follow_user_list()
    message = str(caught.value)
    assert named in message
    assert "cannot be read without changing it" in message
    assert len(message) < 200  # a megabyte of digits is not quoted back
    assert server.calls[PATH] == 1
    for secret in (SECRET, server.token(1)):
        assert secret not in message
        assert secret not in repr(caught.value)


@settings(deadline=None, max_examples=200)
@given(number=st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_is_read_exactly_as_sent(number: float) -> None:
    body = json.dumps({"errcode": 0, "value": number, "nested": [{"v": number}]}).encode()
    data = decode("GET /cgi-bin/x", Answer(200, body))
    assert data["value"] == number
    assert math.copysign(1, data["value"]) == math.copysign(1, number)  # -0.0 stays -0.0
    assert data["nested"] == [{"v": number}]


@settings(deadline=None)
@given(
    mantissa=st.integers(1, 9), exponent=st.integers(309, 100_000), sign=st.sampled_from(["", "-"])
)
def test_every_float_beyond_range_is_refused(mantissa: int, exponent: int, sign: str) -> None:
    body = f'{{"errcode":0,"value":{sign}{mantissa}.5e{exponent}}}'.encode()
    with pytest.raises(ResponseError, match="beyond the range of a float"):
        decode("GET /cgi-bin/x", Answer(200, body))


# -- float literals: kept exactly as Python reads them, or refused -------------------------

#: A request line carrying a token: what the error quotes of it must be masked.
_TOKEN = "TOKEN-float-9c1e77b2"
_LINE = f"GET /cgi-bin/x?access_token={_TOKEN}"


@st.composite
def _float_literals(draw: st.DrawFn) -> str:
    """JSON numbers with a fraction or an exponent (the ones the parser reads as floats),
    with digits and exponents that reach past both ends of a float's range."""
    sign = draw(st.sampled_from(["", "-"]))
    whole = draw(st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,25}", fullmatch=True)))
    fraction = draw(st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,40}", fullmatch=True)))
    exponent = draw(
        st.one_of(
            st.just(""),
            st.builds(
                "{}{}{}".format,
                st.sampled_from(["e", "E"]),
                st.sampled_from(["", "+", "-"]),
                st.integers(0, 2_000).map(str),
            ),
        )
    )
    if not fraction and not exponent:
        fraction = ".0"
    return f"{sign}{whole}{fraction}{exponent}"


def _is_zero(literal: str) -> bool:
    """Whether every digit of the literal's mantissa is 0 (the value is zero)."""
    mantissa = literal.lower().split("e")[0]
    return set(mantissa) <= {"-", "0", "."}


@settings(deadline=None, max_examples=500)
@given(literal=_float_literals())
def test_a_float_literal_is_kept_as_python_reads_it_or_refused(literal: str) -> None:
    """A finite non-zero reading is kept exactly; a zero literal stays a zero (its sign
    too); a non-zero literal that reads as 0.0 or inf is a ResponseError naming no secret."""
    body = f'{{"errcode":0,"value":{literal},"nested":[{{"v":{literal}}}]}}'.encode()
    expected = float(literal)
    if _is_zero(literal) or (expected != 0.0 and not math.isinf(expected)):
        data = decode(_LINE, Answer(200, body))
        for value in (data["value"], data["nested"][0]["v"]):
            assert type(value) is float
            assert value == expected
            assert math.copysign(1, value) == math.copysign(1, expected)
        return
    with pytest.raises(ResponseError) as caught:
        decode(_LINE, Answer(200, body))
    why = "too small for a float" if expected == 0.0 else "beyond the range of a float"
    assert why in str(caught.value)
    assert "cannot be read without changing it" in str(caught.value)
    assert _TOKEN not in str(caught.value)
    assert _TOKEN not in repr(caught.value)


@pytest.mark.parametrize(
    ("literal", "sign"),
    [("0.0", 1), ("-0.0", -1), ("0e5", 1), ("0E-400", 1), ("-0.000e+99999", -1), ("0.0E0", 1)],
)
def test_a_zero_written_with_an_exponent_is_a_real_zero(literal: str, sign: int) -> None:
    data = decode(_LINE, Answer(200, f'{{"errcode":0,"value":{literal}}}'.encode()))
    assert data["value"] == 0.0
    assert type(data["value"]) is float
    assert math.copysign(1, data["value"]) == sign


@pytest.mark.parametrize(
    ("literal", "value"),
    [("5e-324", 5e-324), ("3e-324", 5e-324), ("2.2250738585072014e-308", 2.2250738585072014e-308)],
)
def test_the_smallest_floats_are_read_as_python_reads_them(literal: str, value: float) -> None:
    """Subnormal floats are non-zero: rounded to the nearest one (as Python does), kept."""
    data = decode(_LINE, Answer(200, f'{{"errcode":0,"value":{literal}}}'.encode()))
    assert data["value"] == value
