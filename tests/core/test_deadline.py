"""Deadlines: one per call (``deadline=`` option) or the client's default, on a virtual clock.

The deadline covers retries, rate-limit waits, the token fetch and the HTTP exchange. A wait
that cannot end before the deadline is not started: the error is raised at once.
"""

from __future__ import annotations

import math
from typing import Any

import anyio
import httpx
import pytest

from tests.core.scripted import ScriptedWeCom
from tests.core.virtual_time import run_virtual
from wecom_async import (
    APITimeoutError,
    RateLimitError,
    RetryPolicy,
    SystemBusyError,
    ValidationError,
    WeComClient,
)
from wecom_async._core import Endpoint
from wecom_async._options import RequestOptions
from wecom_async._retry import DEFAULT_DEADLINE

PATH = "externalcontact/get_follow_user_list"
READ = Endpoint("GET", PATH, retry_safe=True)
BUSY = {"errcode": -1, "errmsg": "system busy"}
LIMITED = {"errcode": 45009, "errmsg": "api freq out of limit"}
#: The default policy with its jitter off: backoffs 0.5, 1, 2 s; 45009 waits 60.5 s.
DEFAULT = RetryPolicy(jitter=0.0)


async def _call(client: WeComClient, **options: Any) -> dict[str, object]:
    return await client._core.call(READ, options=RequestOptions(**options))


async def _hang(request: httpx.Request) -> httpx.Response:
    await anyio.Event().wait()
    raise AssertionError("unreachable")


def _slow(seconds: float, body: dict[str, object]):  # type: ignore[no-untyped-def]
    async def answer(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(seconds)
        return httpx.Response(200, json=body)

    return answer


def _timed(server: ScriptedWeCom, call, **client_options: Any):  # type: ignore[no-untyped-def]
    """Run ``call(client)`` on the virtual clock; return (seconds taken, error or result)."""
    client_options.setdefault("retry", DEFAULT)

    async def main() -> tuple[float, object]:
        async with server.client(**client_options) as client:
            try:
                outcome: object = await call(client)
            except Exception as error:
                outcome = error
            return anyio.current_time(), outcome

    return run_virtual(main)


def test_virtual_clock_jumps_over_waits_and_deadlines() -> None:
    async def main() -> tuple[float, bool]:
        await anyio.sleep(100)
        with anyio.move_on_after(5) as scope:
            await anyio.Event().wait()
        return anyio.current_time(), scope.cancelled_caught

    assert run_virtual(main) == (105.0, True)


@pytest.mark.parametrize("deadline", [0, -1, 0.0, math.nan, True, "30", None])
async def test_a_deadline_that_is_not_positive_seconds_is_refused_before_sending(
    deadline: object,
) -> None:
    server = ScriptedWeCom()
    async with server.client() as client:
        with pytest.raises(ValidationError, match="deadline"):
            await client._core.call(READ, options={"deadline": deadline})  # type: ignore[typeddict-item]
    assert sum(server.calls.values()) == 0


@pytest.mark.parametrize("deadline", [0, -5.0, math.nan, False, "60"])
def test_client_refuses_a_deadline_that_is_not_positive_seconds(deadline: object) -> None:
    with pytest.raises(ValidationError, match="deadline"):
        WeComClient("wwcorp", "secret", deadline=deadline)  # type: ignore[arg-type]


def test_the_default_deadline_is_bounded() -> None:
    assert math.isfinite(DEFAULT_DEADLINE)
    # One 45009 wait with the default backoffs fits; the second one does not.
    assert 60.5 < DEFAULT_DEADLINE < 2 * 60.5


def test_a_hanging_answer_ends_at_the_deadline_as_a_timeout_that_may_have_been_sent() -> None:
    server = ScriptedWeCom()
    server.script(PATH, _hang)
    when, error = _timed(server, lambda client: _call(client, deadline=5))
    assert isinstance(error, APITimeoutError)
    assert error.sent is True
    assert "deadline of 5 s" in str(error)
    assert when == pytest.approx(5)
    assert server.calls[PATH] == 1


def test_a_hanging_gettoken_ends_at_the_deadline_and_nothing_was_sent() -> None:
    server = ScriptedWeCom()
    server.gettoken_script.append(_hang)
    when, error = _timed(server, lambda client: _call(client, deadline=5))
    assert isinstance(error, APITimeoutError)
    assert error.sent is False
    assert when == pytest.approx(5)
    assert (server.calls["gettoken"], server.calls[PATH]) == (1, 0)


def test_a_deadline_passing_while_waiting_for_a_free_slot_reports_not_sent() -> None:
    server = ScriptedWeCom()
    server.script(PATH, _hang)

    async def main() -> tuple[float, object]:
        async with server.client(retry=DEFAULT, max_in_flight=1) as client:
            await client.tokens.get()
            async with anyio.create_task_group() as tg:
                tg.start_soon(_call, client)  # holds the only slot, forever
                await anyio.sleep(1)
                try:
                    outcome: object = await _call(client, deadline=2)
                except APITimeoutError as error:
                    outcome = error
                tg.cancel_scope.cancel()
            return anyio.current_time(), outcome

    when, error = run_virtual(main)
    assert isinstance(error, APITimeoutError)
    assert error.sent is False
    assert when == pytest.approx(3)
    assert server.calls[PATH] == 1


def test_a_rate_limit_wait_the_deadline_cannot_cover_is_not_started() -> None:
    server = ScriptedWeCom()
    server.script(PATH, *[LIMITED] * 4)
    when, error = _timed(server, lambda client: _call(client, deadline=30))
    # The 60.5 s wait would end past the deadline: the 45009 is raised at once.
    assert isinstance(error, RateLimitError)
    assert error.errcode == 45009
    assert when == 0
    assert server.calls[PATH] == 1


def test_backoff_stops_at_the_first_wait_that_would_pass_the_deadline() -> None:
    server = ScriptedWeCom()
    server.script(PATH, *[BUSY] * 4)
    when, error = _timed(server, lambda client: _call(client, deadline=2))
    # Fails at 0, waits 0.5, fails at 0.5, waits 1, fails at 1.5: a 2 s wait does not fit.
    assert isinstance(error, SystemBusyError)
    assert when == pytest.approx(1.5)
    assert server.calls[PATH] == 3


def test_the_client_default_deadline_ends_a_rate_limit_storm_after_one_wait() -> None:
    server = ScriptedWeCom()
    server.script(PATH, *[LIMITED] * 4)
    when, error = _timed(server, lambda client: client.external_contact.get_follow_user_list())
    assert isinstance(error, RateLimitError)
    # The wait is the rate budget's block (60 s from the refusal), then a second block
    # would pass the 120 s deadline.
    assert when == pytest.approx(60.0)
    assert server.calls[PATH] == 2


def test_the_client_deadline_covers_slow_attempts_and_their_waits() -> None:
    server = ScriptedWeCom()
    server.script(PATH, *[_slow(4, BUSY)] * 4)
    when, error = _timed(
        server, lambda client: client.external_contact.get_follow_user_list(), deadline=10
    )
    # Busy at 4, wait 0.5, busy at 8.5, wait 1, the third attempt is cut off at 10.
    assert isinstance(error, APITimeoutError)
    assert error.sent is True
    assert when == pytest.approx(10)
    assert server.calls[PATH] == 3


def test_a_calls_deadline_overrides_the_client_default() -> None:
    server = ScriptedWeCom()
    server.script(PATH, _slow(4, {"errcode": 0, "errmsg": "ok", "follow_user": ["lisi"]}))
    when, data = _timed(server, lambda client: _call(client, deadline=100), deadline=1)
    assert isinstance(data, dict)
    assert data["follow_user"] == ["lisi"]
    assert when == pytest.approx(4)


def test_the_token_fetch_spends_the_same_deadline() -> None:
    server = ScriptedWeCom()
    server.gettoken_script.extend([BUSY, BUSY])  # 0 and 0.5 fail; the third succeeds at 1.5
    server.script(PATH, _hang)
    when, error = _timed(server, lambda client: _call(client, deadline=3))
    assert isinstance(error, APITimeoutError)
    assert error.sent is True
    assert when == pytest.approx(3)
    assert (server.calls["gettoken"], server.calls[PATH]) == (3, 1)


def test_a_waiter_outliving_a_fetcher_cut_off_by_its_deadline_fetches_itself() -> None:
    server = ScriptedWeCom()
    server.gettoken_script.append(_slow(10, BUSY))  # never answers within the first deadline

    async def main() -> tuple[object, object]:
        outcomes: dict[str, object] = {}

        async def call(name: str, deadline: float) -> None:
            try:
                outcomes[name] = await _call(client, deadline=deadline)
            except APITimeoutError as error:
                outcomes[name] = error

        async with server.client(retry=DEFAULT) as client, anyio.create_task_group() as tg:
            tg.start_soon(call, "short", 2)
            await anyio.sleep(0.1)
            tg.start_soon(call, "long", 60)
        return outcomes["short"], outcomes["long"]

    short, long = run_virtual(main)
    assert isinstance(short, APITimeoutError)
    assert isinstance(long, dict)
    assert long["follow_user"] == ["zhangsan"]
    assert server.calls["gettoken"] == 2
