"""Turns: the callers of one rate-budget key that wait for a far slot queue in order.

A slot more than :data:`~wecom_async._budget.RESERVE_AHEAD` away is not reserved: its
caller waits until it is near and asks again. If every such caller asked again on its
own, they would all wake at about the same moment, one would reserve, and the others
would work out a new time and sleep again: N waiting callers would cost N wake-ups per
slot, O(N²) in all (600 callers took 336,000 rounds). So only the first of a key's
waiting callers asks again; the others wait for their turn, in arrival order, and ask
when the one before them has reserved its slot. Each caller is woken a few times,
however many wait.

Both budgets use it: ``MemoryRateBudget`` asks its memory, ``RedisRateBudget`` asks
Redis (one round trip per question, so a herd there would also be a herd of round
trips). An ask that awaits (a round trip) would let every caller arriving meanwhile see
no queue and ask too: with ``join_first`` a caller finding no queue opens one before it
asks, so that a first wave of callers asks one at a time, in arrival order.

A queue belongs to one event loop: a budget object may serve clients running on several
loops (threads), and a turn is an ``anyio.Event`` that only its own loop can wake. So
the queues are kept per loop and key; callers of different loops share the budget's
slots (what ``ask`` reserves), each loop's first waiter asking for its own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

import anyio

__all__ = ["Ask", "Turns"]

#: Asks for a slot once: ``(True, seconds until the reserved slot)``, or ``(False,
#: seconds to wait before asking again)`` when the slot is too far to reserve.
Ask = Callable[[], Awaitable[tuple[bool, float]]]


class Turns:
    """One queue per key and event loop of the callers waiting for a slot too far to reserve.

    Args:
        join_first: a caller that finds no queue opens one before it asks (for an ask
            that awaits, so that callers arriving during it queue behind it).
    """

    def __init__(self, *, join_first: bool = False) -> None:
        self._join_first = join_first
        # Held only to add or drop a line: loops in other threads may do so at once.
        self._guard = threading.Lock()
        # Per key, per loop: each line's first event is the caller asking now; the others
        # wait for their turn. Empty lines and keys are dropped.
        self._lines: dict[str, dict[Hashable, deque[anyio.Event]]] = {}

    def __contains__(self, key: str) -> bool:
        """Whether callers of ``key`` are waiting (a key with waiters is not idle)."""
        return key in self._lines

    async def take(self, key: str, ask: Ask, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Wait for a slot of ``key`` with ``ask``, behind the callers already waiting.

        With nobody waiting, the caller asks at once and, given a slot, only waits for it
        (the common case costs no queue). Otherwise it queues; at the front, it asks,
        sleeps as told and asks again until it has a slot, then lets the next one ask, and
        waits for its own slot (at most ``RESERVE_AHEAD``) out of the queue. A caller
        cancelled while queued leaves the queue, and one cancelled at the front lets the
        next one ask: neither holds a slot, nor stalls the others.
        """
        loop = _current_loop()
        lines = self._lines.get(key)
        wait = 0.0
        if not self._join_first and (lines is None or loop not in lines):
            reserved, wait = await ask()
            if reserved:
                await _until(sleep, wait)
                return
        turn = anyio.Event()
        with self._guard:
            line = self._lines.setdefault(key, {}).setdefault(loop, deque())
            line.append(turn)
        try:
            if line[0] is turn:  # first to wait: what it was told still holds (0: nothing yet)
                await _until(sleep, wait)
            else:  # the one before has just reserved its slot: ask at once
                await turn.wait()
            while True:
                reserved, wait = await ask()
                if reserved:
                    break
                await sleep(wait)
        finally:
            self._leave(key, loop, line, turn)
        await _until(sleep, wait)

    def _leave(self, key: str, loop: Hashable, line: deque[anyio.Event], turn: anyio.Event) -> None:
        """Take ``turn`` out of ``line``; if it was at the front, wake the next one (of
        the same loop: the only one that may set it)."""
        with self._guard:
            if line[0] is not turn:
                line.remove(turn)  # cancelled while queued (rare: a linear search is fine)
                return
            line.popleft()
            if line:
                line[0].set()
                return
            lines = self._lines[key]
            del lines[loop]
            if not lines:
                del self._lines[key]


def _current_loop() -> Hashable:
    """The running event loop: asyncio's loop, or trio's token (anyio runs on either).

    The object itself, not its id: a queue holds it only while callers wait, and an id
    could be reused by a later loop while a dead loop's queue were still listed.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: anyio's other backend
        import trio  # only where anyio runs on trio (a test extra here)

        return trio.lowlevel.current_trio_token()


async def _until(sleep: Callable[[float], Awaitable[None]], seconds: float) -> None:
    """Wait ``seconds`` for a reserved slot (nothing for a slot already due)."""
    if seconds > 0:
        await sleep(seconds)
