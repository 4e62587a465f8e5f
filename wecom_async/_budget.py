"""The rate budget: requests to each WeCom API of each corp are paced below its limits.

WeCom limits each API per corp to 10,000 calls a minute and to 150,000 calls an hour, and
blocks the API for the rest of the window after the call that goes over (45009,
endpoints.md §5.3): an hour-long block for the hourly limit. A budget is therefore a list
of limits ``(calls, seconds)`` that all hold at once, per key (the corp id and the API
path): no stretch of ``seconds`` seconds, aligned anywhere, ever holds more than ``calls``
requests of one key.

* The shortest window is paced with GCRA (a token bucket kept as one timestamp):
  requests are spaced ``T`` apart on average, and a small burst of ``B`` requests may
  catch up slots that went unused (a busy event loop, a slow response). ``T`` is chosen
  so that any ``calls + 1`` requests span at least ``(calls + 1 - B) * T = seconds``.
  Pacing evenly, rather than spending the minute's budget at once and then waiting it
  out, keeps the rate flat for the server and keeps a latency-bound job busy.
* Every longer window is a sliding log of the last ``calls`` send times: a request waits
  until the ``calls``-th latest send is ``seconds`` old. That is exact, so the pace is
  never slower than the windows require: a short run goes at the minute's pace, and a
  long one spends the hour's budget at that pace, then waits for the oldest sends of the
  hour to age out, which keeps its average at the hourly limit. The log costs 8 bytes per
  call of the window, for each busy key (about 1 MB for 135,000 calls an hour).
* A caller reserves its slot only when it is at most :data:`RESERVE_AHEAD` seconds away;
  one further out (a full hour, an API blocked after a 45009) waits without reserving and
  asks again. A caller whose deadline ends while it waits so never holds a slot that
  nobody will use.
* ``refused(key, seconds)`` blocks the key for every caller of the budget: the client calls
  it when WeCom answers 45009, so that other callers wait with it instead of each finding
  out with a request of its own.

:class:`MemoryRateBudget` keeps this in one process's memory; ``wecom_async.redis``
keeps the same state on Redis for every process of a deployment.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import anyio
import attrs

__all__ = [
    "DEFAULT_HOURLY_RATE_LIMIT",
    "DEFAULT_LIMITS",
    "DEFAULT_RATE_LIMIT",
    "MAX_BURST",
    "RESERVE_AHEAD",
    "WECOM_HOURLY_RATE_LIMIT",
    "WECOM_RATE_LIMIT",
    "Limit",
    "MemoryRateBudget",
    "Pace",
    "budget_key",
    "pace",
    "wecom_limits",
]

#: ``(calls, seconds)``: at most ``calls`` requests of one key in any ``seconds`` seconds.
Limit = tuple[int, float]

#: WeCom's documented budget: calls per minute per corp to one API (endpoints.md §5.3, D:90312).
WECOM_RATE_LIMIT: Final = 10_000
#: WeCom's documented budget: calls per hour per corp to one API (same page).
WECOM_HOURLY_RATE_LIMIT: Final = 150_000
#: The default budgets, 10% below WeCom's so that a little traffic outside the budget
#: (another tool, a console) still fits.
DEFAULT_RATE_LIMIT: Final = 9_000
DEFAULT_HOURLY_RATE_LIMIT: Final = 135_000
#: Calls per (minute, hour) of one API of one corp by default: the client's and the export's.
DEFAULT_LIMITS: Final[tuple[Limit, ...]] = (
    (DEFAULT_RATE_LIMIT, 60.0),
    (DEFAULT_HOURLY_RATE_LIMIT, 3600.0),
)
#: Most requests that may catch up unused slots at once (fewer for small budgets).
MAX_BURST: Final = 32
#: Seconds ahead a caller may reserve its slot; one further out waits, then asks again.
RESERVE_AHEAD: Final = 1.0


def wecom_limits(
    per_minute: int = DEFAULT_RATE_LIMIT, per_hour: int = DEFAULT_HOURLY_RATE_LIMIT
) -> tuple[Limit, ...]:
    """WeCom's two windows with the given budgets: ``per_minute`` a minute, ``per_hour`` an hour."""
    return ((per_minute, 60.0), (per_hour, 3600.0))


def budget_key(scope: str, path: str) -> str:
    """The budget key of API ``path`` (``/cgi-bin/...``) for ``scope`` (a corp id)."""
    return f"{scope}:{path}" if scope else path


@attrs.frozen
class Pace:
    """The pacing that a list of limits comes to (see the module docstring)."""

    #: The limits, shortest window first.
    limits: tuple[Limit, ...]
    #: Calls that may catch up unused slots of the shortest window at once.
    burst: int
    #: Average seconds between two requests of one key, in the shortest window.
    interval: float

    @property
    def tolerance(self) -> float:
        """How far ahead of its theoretical time a request may go (GCRA's tau)."""
        return (self.burst - 1) * self.interval

    @property
    def longer(self) -> tuple[Limit, ...]:
        """The windows enforced by a sliding log."""
        return self.limits[1:]


def pace(limits: Sequence[Limit], burst: int | None = None) -> Pace:
    """Check ``limits`` and ``burst`` and work out their :class:`Pace`.

    Raises:
        ValueError: no limit, a limit of no call or no time, or a burst out of range.
    """
    if not limits:
        raise ValueError("a rate budget needs at least one limit")
    if any(
        isinstance(calls, bool) or calls < 1 or not 0 < seconds < math.inf
        for calls, seconds in limits
    ):
        raise ValueError("each limit needs at least 1 call over a finite time above 0 seconds")
    ordered = tuple(sorted(((int(c), float(s)) for c, s in limits), key=lambda limit: limit[1]))
    calls, seconds = ordered[0]
    burst = burst if burst is not None else max(1, min(MAX_BURST, calls // 300))
    if not 1 <= burst <= calls:
        raise ValueError("burst must be between 1 and the shortest window's calls")
    return Pace(ordered, burst, seconds / (calls + 1 - burst))


class _SendLog:
    """The last ``size`` send times of one key, oldest first, in a compact ring."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._times = array("d")
        self._next = 0  # where the next time goes once the ring is full

    def oldest_of_last(self) -> float:
        """The ``size``-th latest send time, or -inf while fewer were sent."""
        if len(self._times) < self._size:
            return -math.inf
        return self._times[self._next]

    def add(self, when: float) -> None:
        """Record a send at ``when`` (never earlier than the sends recorded before)."""
        if len(self._times) < self._size:
            self._times.append(when)
        else:
            self._times[self._next] = when
            self._next = (self._next + 1) % self._size


class MemoryRateBudget:
    """Paces calls per key (a corp and an API path) so that every limit holds; in memory.

    See the module docstring: the shortest window is paced evenly (GCRA), each longer one
    is enforced exactly over the last ``calls`` sends, and a 45009 blocks the key for
    every caller. The state lives in this process: clients of one process that share a
    corp should share one budget object (one object serves any number of corps, keyed
    by corp). For many processes, use ``wecom_async.redis.RedisRateBudget``.

    Args:
        limits: ``(calls, seconds)`` pairs, each at least one call over a positive span
            (default :data:`DEFAULT_LIMITS`: 9,000 a minute and 135,000 an hour, 10% below
            WeCom's limits).
        burst: calls that may catch up unused slots of the shortest window at once
            (default: its ``calls // 300``, between 1 and :data:`MAX_BURST`; 1 means
            strictly even spacing).
        clock: a monotonic clock in seconds; default the event loop's, the clock that
            ``sleep`` waits on (tests pass a fake one).
        sleep: how to wait (``anyio.sleep``; tests pass a recorder).

    Raises:
        ValueError: no limit, a limit of no call or no time, or a burst out of range.
    """

    def __init__(
        self,
        limits: Sequence[Limit] = DEFAULT_LIMITS,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.pace = pace(limits, burst)
        #: The limits, shortest window first.
        self.limits: tuple[Limit, ...] = self.pace.limits
        self.burst = self.pace.burst
        #: Average seconds between two requests of one key, in the shortest window.
        self.interval = self.pace.interval
        self._tolerance = self.pace.tolerance
        self._longer = self.pace.longer
        self._clock = clock
        self._sleep = sleep
        self._tat: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._logs: dict[str, list[_SendLog]] = {}
        self._blocked: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"MemoryRateBudget(limits={list(self.limits)}, burst={self.burst})"

    async def acquire(self, key: str) -> None:
        """Wait until a request of ``key`` fits every limit and no block, and count it.

        A slot at most :data:`RESERVE_AHEAD` seconds away is reserved before waiting, so
        concurrent callers queue in order (each sends no earlier than the one before); a
        caller cancelled in that short wait leaves its slot counted, which only makes the
        pace a little more careful. A slot further out is not reserved: the caller waits
        until it is near, then asks again.
        """
        while True:
            now = self._clock()
            send_at = self._earliest(key, now)
            if send_at - now <= RESERVE_AHEAD:
                self._reserve(key, send_at)
                if send_at > now:
                    await self._sleep(send_at - now)
                return
            await self._sleep(send_at - now - RESERVE_AHEAD)

    async def refused(self, key: str, seconds: float) -> float:
        """Block ``key`` for every caller for ``seconds`` (WeCom answered 45009).

        A block already longer stays. Returns the seconds until ``key`` is open again.
        """
        now = self._clock()
        until = max(self._blocked.get(key, now), now + max(0.0, seconds))
        self._blocked[key] = until
        return until - now

    def _earliest(self, key: str, now: float) -> float:
        """The earliest time a request of ``key`` fits, given every slot reserved so far."""
        send_at = max(now, self._tat.get(key, now) - self._tolerance, self._last.get(key, now))
        blocked = self._blocked.get(key)
        if blocked is not None:
            if blocked > now:
                send_at = max(send_at, blocked)
            else:
                del self._blocked[key]
        logs = self._logs.get(key)
        if logs is not None:
            for log, (_, seconds) in zip(logs, self._longer, strict=True):
                send_at = max(send_at, log.oldest_of_last() + seconds)
        return send_at

    def _reserve(self, key: str, send_at: float) -> None:
        self._tat[key] = max(self._tat.get(key, send_at), send_at) + self.interval
        self._last[key] = send_at
        logs = self._logs.get(key)
        if logs is None:
            logs = self._logs[key] = [_SendLog(calls) for calls, _ in self._longer]
        for log in logs:
            log.add(send_at)
