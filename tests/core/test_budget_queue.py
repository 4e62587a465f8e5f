"""The callers of one key waiting for a far slot queue behind each other: the work is
linear in the callers (it was quadratic: every waiting caller woke for every slot), and
order, blocks, cancellation and the sweep of idle keys still hold."""

from __future__ import annotations

import anyio
import pytest

from tests.core.virtual_time import run_virtual
from wecom_async import MemoryRateBudget

KEY = "wwqueue:/cgi-bin/x"
OTHER = "wwqueue:/cgi-bin/other"
INTERVAL = 0.02  # 50 a second with no burst: a second ahead holds 50 slots


class Counted:
    """The event loop's clock and sleep, counting every read and every wait."""

    def __init__(self) -> None:
        self.reads = 0
        self.sleeps = 0

    def clock(self) -> float:
        self.reads += 1
        return anyio.current_time()

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        await anyio.sleep(seconds)


def _budget(counted: Counted, limits: list[tuple[int, float]] | None = None) -> MemoryRateBudget:
    return MemoryRateBudget(
        limits or [(50, 1.0)], burst=1, clock=counted.clock, sleep=counted.sleep
    )


async def _callers(
    budget: MemoryRateBudget, n: int, sent: list[tuple[int, float]], key: str = KEY
) -> None:
    """``n`` callers arriving in order at one instant; each notes (its number, send time)."""

    async def caller(number: int) -> None:
        await budget.acquire(key)
        sent.append((number, anyio.current_time()))

    async with anyio.create_task_group() as group:
        for number in range(n):
            group.start_soon(caller, number)


@pytest.mark.parametrize("n", [100, 1000])
def test_waiting_callers_cost_linear_work_and_go_in_arrival_order(n: int) -> None:
    """1,000 callers behind a budget of 50 a second: the old loop read the clock about
    N²/2 times (every waiting caller asked again at every slot); now each caller asks
    about twice, and they send in arrival order at exactly the budget's pace."""
    counted = Counted()
    sent: list[tuple[int, float]] = []

    async def main() -> None:
        await _callers(_budget(counted), n, sent)

    run_virtual(main)
    assert [number for number, _ in sent] == list(range(n))
    assert [at for _, at in sent] == pytest.approx([i * INTERVAL for i in range(n)])
    assert counted.reads <= 3 * n
    assert counted.sleeps <= 3 * n


@pytest.mark.parametrize(
    ("cancelled", "at", "sends"),
    [
        # Queued behind the first waiting caller: leaves the queue, holds no slot.
        (5, 0.5, [0, 2, 4, 6, 8, 10, 12, 14, 16]),
        # The first waiting caller, asleep until its slot is near: the next one asks in
        # its place and takes its slot.
        (1, 0.5, [0, 2, 4, 6, 8, 10, 12, 14, 16]),
        # Cancelled in the last second before its reserved slot: the slot stays counted
        # (the documented price of reserving a second ahead), and nothing else is lost.
        (1, 1.5, [0, 4, 6, 8, 10, 12, 14, 16, 18]),
    ],
)
def test_a_cancelled_waiter_neither_holds_a_slot_nor_stalls_the_others(
    cancelled: int, at: float, sends: list[float]
) -> None:
    """Ten callers of a budget of one call every 2 s; one is cancelled while it waits."""
    counted = Counted()
    sent: list[tuple[int, float]] = []

    async def main() -> float:
        budget = _budget(counted, [(30, 60.0)])  # one call every 2 s

        async def caller(number: int, scope: anyio.CancelScope) -> None:
            with scope:
                await budget.acquire(KEY)
                sent.append((number, anyio.current_time()))

        scopes = [anyio.CancelScope() for _ in range(10)]
        async with anyio.create_task_group() as group:
            for number, scope in enumerate(scopes):
                group.start_soon(caller, number, scope)
            await anyio.sleep(at)
            scopes[cancelled].cancel()
        # Nothing is left queued: a caller now waits for its far slot and gets it.
        with anyio.fail_after(60):
            await budget.acquire(KEY)
            await budget.acquire(KEY)
        return anyio.current_time()

    last = run_virtual(main)
    assert [number for number, _ in sent] == [i for i in range(10) if i != cancelled]
    assert [when for _, when in sent] == pytest.approx(sends)
    assert last == pytest.approx(sends[-1] + 4.0)


def test_a_45009_while_many_wait_holds_them_all_and_they_go_in_order_after() -> None:
    """500 callers queue; a 45009 blocks the key for 30 s: the slots already reserved (at
    most a second ahead) go, every other caller waits out the block, then they go in
    arrival order at the budget's pace, and the work stays linear."""
    counted = Counted()
    sent: list[tuple[int, float]] = []
    n = 500

    async def main() -> None:
        budget = _budget(counted)

        async def block() -> None:
            await anyio.sleep(0.5)
            await budget.refused(KEY, 30.0)

        async with anyio.create_task_group() as group:
            group.start_soon(_callers, budget, n, sent)
            group.start_soon(block)

    run_virtual(main)
    assert [number for number, _ in sent] == list(range(n))
    before = [at for _, at in sent if at <= 1.5 + 1e-9]
    after = [at for _, at in sent if at > 1.5 + 1e-9]
    assert before == pytest.approx([i * INTERVAL for i in range(len(before))])
    assert len(before) >= 50  # what was reserved a second ahead of the block
    assert after == pytest.approx([30.5 + i * INTERVAL for i in range(len(after))])
    assert counted.reads <= 3 * n
    assert counted.sleeps <= 3 * n


def test_the_sweep_of_idle_keys_never_splits_a_queue() -> None:
    """Callers wait out a 100 s block while the budget sweeps idle keys every 10 s (its
    longest window); callers that come later still queue behind the first ones, and all
    go after the block in arrival order, one at a time at the pace."""
    counted = Counted()
    sent: list[tuple[int, float]] = []

    async def main() -> None:
        budget = _budget(counted, [(50, 1.0), (1000, 10.0)])
        await budget.refused(KEY, 100.0)

        async def others() -> None:
            for _ in range(9):  # another key's calls make the sweeps run
                await anyio.sleep(10.0)
                await budget.acquire(OTHER)

        async def late() -> None:
            await anyio.sleep(55.0)  # after five sweeps
            await _callers(budget, 20, sent, KEY)

        async with anyio.create_task_group() as group:
            group.start_soon(_callers, budget, 30, sent, KEY)
            group.start_soon(others)
            group.start_soon(late)

    run_virtual(main)
    assert len(sent) == 50
    assert [at for _, at in sent] == pytest.approx([100.0 + i * INTERVAL for i in range(50)])
    # The first 30 go first, then the 20 that came at 55 s, each group in its order.
    assert [number for number, _ in sent] == [*range(30), *range(20)]
    assert counted.reads <= 3 * 60
