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
trips).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["Ask", "Turns"]

#: Asks for a slot once: ``(True, seconds until the reserved slot)``, or ``(False,
#: seconds to wait before asking again)`` when the slot is too far to reserve.
Ask = Callable[[], Awaitable[tuple[bool, float]]]


class Turns:
    """One queue per key of the callers waiting for a slot too far to reserve."""

    def __init__(self) -> None:
        # Each line's first event is the caller asking now; the others wait for their turn.
        self._lines: dict[str, deque[anyio.Event]] = {}

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
        line = self._lines.get(key)
        wait = 0.0
        if line is None:
            reserved, wait = await ask()
            if reserved:
                await _until(sleep, wait)
                return
            line = self._lines.setdefault(key, deque())
        turn = anyio.Event()
        line.append(turn)
        try:
            if line[0] is turn:  # first to wait: what it was told still holds
                await sleep(wait)
            else:  # the one before has just reserved its slot: ask at once
                await turn.wait()
            while True:
                reserved, wait = await ask()
                if reserved:
                    break
                await sleep(wait)
        finally:
            self._leave(key, line, turn)
        await _until(sleep, wait)

    def _leave(self, key: str, line: deque[anyio.Event], turn: anyio.Event) -> None:
        """Take ``turn`` out of ``line``; if it was at the front, wake the next one."""
        if line[0] is not turn:
            line.remove(turn)  # cancelled while queued (rare: a linear search is fine)
            return
        line.popleft()
        if line:
            line[0].set()
        else:
            del self._lines[key]


async def _until(sleep: Callable[[float], Awaitable[None]], seconds: float) -> None:
    """Wait ``seconds`` for a reserved slot (nothing for a slot already due)."""
    if seconds > 0:
        await sleep(seconds)
