"""One MemoryRateBudget shared by clients on several event loops (threads): the callers
of each loop queue in their own loop, all of them share the budget's slots, and every one
returns (a caller queued in one loop behind another loop's caller hung: its turn was set
from the other loop's thread, which never wakes an idle asyncio loop).

Real time, kept short: the reserve-ahead horizon is cut to 20 ms so that a far slot (the
queue) is 20 ms away rather than a second, and one slot every 10 ms."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import anyio
import anyio.lowlevel
import pytest

import wecom_async._budget as budget_module
from wecom_async import MemoryRateBudget

KEY = "wwloops:/cgi-bin/x"
INTERVAL = 0.01
#: Seconds a caller may take at most: a hang fails the test, it does not stall the suite.
LIMIT = 5.0


def _run_in_thread(
    backend: str, main: Callable[[], object], errors: list[BaseException]
) -> threading.Thread:
    def run() -> None:
        try:
            anyio.run(main, backend=backend)
        except BaseException as error:  # the test reports it
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("other_backend", ["asyncio", "trio"])
def test_callers_of_two_loops_all_return_and_share_the_slots(
    monkeypatch: pytest.MonkeyPatch, other_backend: str
) -> None:
    """Loop A queues 8 callers (most of them behind a far slot); loop B's 8 callers come
    while A's queue waits. Every caller returns, and no two of the 16 sends share a slot:
    the k-th send comes no earlier than k intervals after the start."""
    monkeypatch.setattr(budget_module, "RESERVE_AHEAD", 2 * INTERVAL)
    # time.monotonic: trio's clock has an offset of its own, the loops must agree.
    budget = MemoryRateBudget([(1, INTERVAL)], burst=1, clock=time.monotonic)
    a_queued = threading.Event()
    sent: list[float] = []
    lock = threading.Lock()
    per_loop = 8

    async def callers(signal: threading.Event | None) -> None:
        async def one() -> None:
            await budget.acquire(KEY)
            with lock:
                sent.append(time.monotonic())

        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as group:
                for _ in range(per_loop):
                    group.start_soon(one)
                if signal is not None:
                    await anyio.lowlevel.checkpoint()  # every caller of A has asked or queued
                    signal.set()

    async def loop_b() -> None:
        await anyio.to_thread.run_sync(a_queued.wait, LIMIT)
        await callers(None)

    errors: list[BaseException] = []
    start = time.monotonic()
    threads = [
        _run_in_thread("asyncio", lambda: callers(a_queued), errors),
        _run_in_thread(other_backend, loop_b, errors),
    ]
    for thread in threads:
        thread.join(2 * LIMIT)
    assert errors == []
    assert len(sent) == 2 * per_loop
    for k, at in enumerate(sorted(sent)):
        assert at - start >= k * INTERVAL - 1e-6
    assert KEY not in budget._turns  # every loop's queue is gone once empty
