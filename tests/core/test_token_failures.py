"""gettoken under failure: one attempt budget per call, and one failed fetch for all waiters.

Figures are exact: the calls run on a virtual clock (``run_virtual``) with the default
policy's delays (jitter off), so the time a test reads is what a caller would wait.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.lowlevel
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.scripted import ScriptedWeCom
from tests.core.virtual_time import run_virtual
from wecom_async import (
    MemoryTokenStore,
    RateLimitError,
    ResponseError,
    RetryPolicy,
    SystemBusyError,
    TokenManager,
    TransportError,
    WeComError,
)
from wecom_async._token import IssuedToken, Lease

PATH = "externalcontact/get_follow_user_list"
#: The default policy with its jitter off, so that the waits are exact figures.
DEFAULT = RetryPolicy(jitter=0.0)
#: Backoffs after attempts 1, 2 and 3 of the default policy: 0.5 + 1 + 2 seconds.
BACKOFFS = 3.5


async def _503(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, text="<html>Service Unavailable</html>")


async def _garbage(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"<html>\x00\xff proxy error page")


def _connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


# failure type -> (gettoken answer, error class, errcode or status, gettoken requests, time)
FAILURES = {
    "connect error": (_connect_error, TransportError, None, 4, BACKOFFS),
    "HTTP 503": (lambda: _503, ResponseError, 503, 4, BACKOFFS),
    "errcode -1": (
        lambda: {"errcode": -1, "errmsg": "system busy"},
        SystemBusyError,
        -1,
        4,
        BACKOFFS,
    ),
    "garbage body": (lambda: _garbage, ResponseError, 200, 4, BACKOFFS),
    # 45009 waits for the rate budget's 60 s block; a second would pass the 120 s deadline.
    "45009": (
        lambda: {"errcode": 45009, "errmsg": "api freq out of limit"},
        RateLimitError,
        45009,
        2,
        60.0,
    ),
}


def _code(error: WeComError) -> int | None:
    code = getattr(error, "errcode", None)
    return code if code is not None else getattr(error, "status_code", None)


def _failing_gettoken(answer: Callable[[], object]) -> ScriptedWeCom:
    server = ScriptedWeCom()
    server.gettoken_script.extend(answer() for _ in range(1000))  # type: ignore[misc]
    return server


@pytest.mark.parametrize("callers", [1, 50])
@pytest.mark.parametrize("failure", list(FAILURES))
def test_failing_gettoken_is_bounded_by_the_calls_attempts_and_shared_by_waiters(
    failure: str, callers: int
) -> None:
    answer, error_class, code, gettokens, seconds = FAILURES[failure]
    server = _failing_gettoken(answer)

    async def main() -> list[tuple[float, WeComError]]:
        outcomes: list[tuple[float, WeComError]] = []

        async def one() -> None:
            try:
                await client.external_contact.get_follow_user_list()
            except WeComError as error:
                outcomes.append((anyio.current_time(), error))

        async with server.client(retry=DEFAULT) as client, anyio.create_task_group() as tg:
            for _ in range(callers):
                tg.start_soon(one)
        return outcomes

    outcomes = run_virtual(main)
    assert len(outcomes) == callers
    assert all(type(error) is error_class for _, error in outcomes)
    assert {_code(error) for _, error in outcomes} == {code}
    # Whatever the number of callers: the gettoken requests one call's attempts allow...
    assert server.calls["gettoken"] == gettokens
    assert server.calls[PATH] == 0
    # ... and every caller has its error at the moment the one shared fetch gave up.
    times = [when for when, _ in outcomes]
    assert (min(times), max(times)) == pytest.approx((seconds, seconds))


def test_connect_error_on_gettoken_is_reported_as_not_sent() -> None:
    server = _failing_gettoken(_connect_error)

    async def main() -> TransportError:
        async with server.client(retry=DEFAULT) as client:
            with pytest.raises(TransportError) as caught:
                await client.external_contact.get_follow_user_list()
        return caught.value

    error = run_virtual(main)
    assert error.sent is False
    assert error.request_line == "GET /cgi-bin/gettoken"


def test_next_call_after_a_shared_failure_fetches_again() -> None:
    server = _failing_gettoken(lambda: {"errcode": -1, "errmsg": "system busy"})

    async def main() -> list[str]:
        async with server.client(retry=DEFAULT) as client:
            with pytest.raises(SystemBusyError):
                await client.external_contact.get_follow_user_list()
            server.gettoken_script.clear()  # gettoken recovers
            return await client.external_contact.get_follow_user_list()

    assert run_virtual(main) == ["zhangsan"]
    assert server.calls["gettoken"] == 4 + 1
    assert server.calls[PATH] == 1


def test_gettoken_failures_and_business_failures_share_one_budget() -> None:
    busy = {"errcode": -1, "errmsg": "system busy"}
    server = ScriptedWeCom()
    server.gettoken_script.extend([busy, busy])  # attempts 1 and 2 fail in gettoken
    server.script(PATH, *[busy] * 10)  # attempts 3 and 4 fail in the call itself

    async def main() -> SystemBusyError:
        async with server.client(retry=DEFAULT) as client:
            with pytest.raises(SystemBusyError) as caught:
                await client.external_contact.get_follow_user_list()
        return caught.value

    error = run_virtual(main)
    assert error.request_line == f"GET /cgi-bin/{PATH}"
    assert (server.calls["gettoken"], server.calls[PATH]) == (3, 2)


def test_gettoken_recovering_within_the_budget_lets_the_same_attempt_send() -> None:
    busy = {"errcode": -1, "errmsg": "system busy"}
    server = ScriptedWeCom()
    server.gettoken_script.extend([busy, busy, busy])  # attempt 4's gettoken succeeds

    async def main() -> list[str]:
        async with server.client(retry=DEFAULT) as client:
            return await client.external_contact.get_follow_user_list()

    assert run_virtual(main) == ["zhangsan"]
    assert (server.calls["gettoken"], server.calls[PATH]) == (4, 1)


class _CountingStore(MemoryTokenStore):
    """A MemoryTokenStore that counts the round trips a shared store would see."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    async def get_or_lease(self, key: str) -> IssuedToken | Lease:
        self.asked += 1
        return await super().get_or_lease(key)


async def test_failed_fetch_reaches_every_waiter_at_once_and_the_next_get_fetches() -> None:
    store = _CountingStore()
    fetches = 0
    gate = anyio.Event()

    async def fetch() -> tuple[str, int]:
        nonlocal fetches
        fetches += 1
        if fetches == 1:
            await gate.wait()
            raise SystemBusyError(-1, "system busy")
        return "TOKEN-2-f3b9c2d1e8a7", 7200

    manager = TokenManager(fetch, store, "k")
    errors: list[WeComError] = []

    async def one() -> None:
        try:
            await manager.get()
        except WeComError as error:
            errors.append(error)

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(one)
        while fetches == 0:
            await anyio.lowlevel.checkpoint()
        for _ in range(10):
            await anyio.lowlevel.checkpoint()  # let every caller join the flight
        gate.set()
    assert len(errors) == 50
    assert all(isinstance(error, SystemBusyError) for error in errors)
    assert (fetches, store.asked) == (1, 1)
    assert (await manager.get()).value == "TOKEN-2-f3b9c2d1e8a7"
    assert (fetches, store.asked) == (2, 2)


class _LaggingStore(MemoryTokenStore):
    """A store whose first answer arrives late, like a remote store's reply in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.lag: anyio.Event | None = None

    async def get_or_lease(self, key: str) -> IssuedToken | Lease:
        got = await super().get_or_lease(key)
        lag, self.lag = self.lag, None
        if lag is not None:
            await lag.wait()
        return got


async def test_a_caller_that_refused_a_token_never_joins_a_read_of_that_token() -> None:
    store = _LaggingStore()
    serial = 0

    async def fetch() -> tuple[str, int]:
        nonlocal serial
        serial += 1
        return f"TOKEN-{serial}-f3b9c2d1e8a7", 7200

    manager = TokenManager(fetch, store, "k")
    refused = await manager.get()
    lag = store.lag = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(manager.get)  # its store read returns the old token, late
        await anyio.lowlevel.checkpoint()
        await manager.invalidate(refused)
        lag.set()
        fresh = await manager.get()
    assert fresh.value == "TOKEN-2-f3b9c2d1e8a7"
    assert serial == 2


def _answer(kind: str) -> object:
    """A fresh answer of ``kind`` for the scripted server."""
    if kind == "connect error":
        return httpx.ConnectError("refused")
    if kind == "reset":
        return httpx.ReadError("reset by peer")
    if kind == "mangled gzip":

        async def mangled(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"nope")

        return mangled
    return {"HTTP 503": _503, "garbage body": _garbage}.get(kind) or {
        "errcode -1": {"errcode": -1, "errmsg": "system busy"},
        "45009": {"errcode": 45009, "errmsg": "api freq out of limit"},
        "45033": {"errcode": 45033, "errmsg": "api concurrent out of limit"},
        "42001": {"errcode": 42001, "errmsg": "access_token expired"},
        "40058": {"errcode": 40058, "errmsg": "invalid Request Parameter"},
        "ok": {"errcode": 0, "errmsg": "ok", "follow_user": ["zhangsan"]},
    }[kind]


_GETTOKEN_FAILURES = [
    "connect error",
    "reset",
    "mangled gzip",
    "HTTP 503",
    "garbage body",
    "errcode -1",
    "45009",
    "45033",
]
_CALL_ANSWERS = [*_GETTOKEN_FAILURES, "42001", "40058", "ok"]


@settings(max_examples=60)
@given(
    max_attempts=st.integers(1, 5),
    deadline=st.sampled_from([1.0, 10.0, 61.0, 120.0, 500.0]),
    gettoken=st.lists(st.sampled_from(_GETTOKEN_FAILURES), max_size=12),
    answers=st.lists(st.sampled_from(_CALL_ANSWERS), max_size=12),
)
def test_any_mix_of_failures_stays_within_the_attempts_and_the_deadline(
    max_attempts: int, deadline: float, gettoken: list[str], answers: list[str]
) -> None:
    server = ScriptedWeCom()
    server.gettoken_script.extend(_answer(kind) for kind in gettoken)  # type: ignore[misc]
    server.script(PATH, *(_answer(kind) for kind in answers))  # type: ignore[arg-type]

    async def main() -> tuple[float, object]:
        policy = RetryPolicy(max_attempts=max_attempts, jitter=0.0)
        async with server.client(retry=policy, deadline=deadline) as client:
            try:
                outcome: object = await client.external_contact.get_follow_user_list()
            except WeComError as error:
                outcome = error
            return anyio.current_time(), outcome

    elapsed, outcome = run_virtual(main)
    assert outcome == ["zhangsan"] or isinstance(outcome, WeComError)
    assert elapsed <= deadline
    # An attempt sends at most one gettoken and one request, plus one refresh and resend.
    assert server.calls["gettoken"] <= 2 * max_attempts
    assert server.calls[PATH] <= 2 * max_attempts
