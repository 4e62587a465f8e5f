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
  nobody will use. Only the first of a key's waiting callers asks again; the others
  queue behind it in arrival order and ask in turn (``_turns.py``), so that a thousand
  waiting callers are woken a few times each, not once per slot each.
* ``refused(key, seconds)`` blocks the key for every caller of the budget: the client calls
  it when WeCom answers 45009, so that other callers wait with it instead of each finding
  out with a request of its own. A block lasts at most :data:`MAX_BLOCK` (or the longest
  window, if longer): WeCom never blocks longer, and an infinite or absurd length from a
  configuration would otherwise close the API for good.
* A key idle for the longest window holds nothing any more, and is forgotten (one sweep
  over the keys per longest window), so that a process serving many corps does not keep
  every key it ever paced.

:class:`MemoryRateBudget` keeps this in one process's memory; ``wecom_async.redis``
keeps the same state on Redis for every process of a deployment.
"""

from __future__ import annotations

import math
import numbers
import threading
from array import array
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Final, TypeGuard

import anyio
import attrs

from ._exceptions import ValidationError
from ._turns import Turns

__all__ = [
    "DEFAULT_HOURLY_RATE_LIMIT",
    "DEFAULT_LIMITS",
    "DEFAULT_RATE_LIMIT",
    "MAX_BLOCK",
    "MAX_BURST",
    "MAX_CALLS",
    "MAX_WINDOW",
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
#: Seconds of float rounding: a caller that slept until its slot was RESERVE_AHEAD away
#: may find it a few ulps further, and reserves it rather than sleeping again.
_ROUNDING: Final = 1e-6
#: Longest block after a 45009, in seconds: WeCom's block past the hourly limit. A longer
#: one (an infinite ``rate_limit_delay``, a Redis key set by hand) is cut to this, or to
#: the budget's longest window when that is longer.
MAX_BLOCK: Final = 3600.0
#: Most calls of one limit (a billion: "unpaced", for tests and benchmarks). The sliding
#: log of a window grows by 8 bytes per call sent within the window.
MAX_CALLS: Final = 1_000_000_000
#: Longest window of one limit, in seconds (a week; WeCom's are a minute and an hour).
MAX_WINDOW: Final = 7 * 24 * 3600.0


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

    @property
    def longest(self) -> float:
        """The longest window in seconds: a key idle that long holds nothing any more."""
        return self.limits[-1][1]

    @property
    def max_block(self) -> float:
        """The longest block a 45009 may cause, in seconds (see :data:`MAX_BLOCK`)."""
        return max(MAX_BLOCK, self.longest)

    def block(self, seconds: float) -> float:
        """The length of a block asked for ``seconds``: within ``[0, max_block]``, NaN as 0."""
        return min(seconds, self.max_block) if seconds > 0 else 0.0


def pace(limits: Iterable[Limit], burst: int | None = None) -> Pace:
    """Check ``limits`` and ``burst`` and work out their :class:`Pace`.

    Raises:
        ValidationError: no limit, a limit that is not a pair of a whole number of calls
            (1 to :data:`MAX_CALLS`) and a finite span above 0 seconds (at most
            :data:`MAX_WINDOW`), two limits of the same span, or a burst that is not a
            whole number between 1 and the shortest window's calls.
    """
    ordered = _checked_limits(limits)
    calls, seconds = ordered[0]
    if burst is None:
        burst = max(1, min(MAX_BURST, calls // 300))
    elif isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= calls:
        raise ValidationError(
            f"burst must be a whole number between 1 and the shortest window's {calls} calls, "
            f"got {burst!r}"
        )
    return Pace(ordered, burst, seconds / (calls + 1 - burst))


def _checked_limits(limits: Iterable[Limit]) -> tuple[Limit, ...]:
    """``limits`` as ``(int, float)`` pairs, shortest window first, or ValidationError."""
    if isinstance(limits, str | bytes) or not isinstance(limits, Iterable):
        raise ValidationError(f"limits must be a list of (calls, seconds) pairs, got {limits!r}")
    checked = [_checked_limit(limit) for limit in limits]
    if not checked:
        raise ValidationError("a rate budget needs at least one limit")
    if len({seconds for _, seconds in checked}) < len(checked):
        raise ValidationError(f"two limits of the same window: {checked}")
    return tuple(sorted(checked, key=lambda limit: limit[1]))


def _checked_limit(limit: object) -> Limit:
    calls: object
    seconds: object
    try:
        calls, seconds = limit  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValidationError(f"a limit is a (calls, seconds) pair, got {limit!r}") from None
    if not _whole(calls) or not 1 <= calls <= MAX_CALLS:
        raise ValidationError(
            f"a limit's calls must be a whole number from 1 to {MAX_CALLS}, got {calls!r}"
        )
    if not _real(seconds) or not 0 < seconds <= MAX_WINDOW:
        raise ValidationError(
            f"a limit's seconds must be a number above 0 and at most {MAX_WINDOW:g}, "
            f"got {seconds!r}"
        )
    return int(calls), float(seconds)


def _real(value: object) -> TypeGuard[float]:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _whole(value: object) -> TypeGuard[float]:
    """An int, or a float with no fraction (9e3); never a bool, NaN or infinity."""
    if isinstance(value, numbers.Integral):
        return not isinstance(value, bool)
    return isinstance(value, float) and value.is_integer()


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


class _Key:
    """What one key holds: GCRA's theoretical arrival time, the latest slot, the block,
    and the sliding log of each longer window."""

    __slots__ = ("blocked", "last", "logs", "tat")

    def __init__(self, logs: list[_SendLog]) -> None:
        self.tat = -math.inf
        self.last = -math.inf
        self.blocked = -math.inf
        self.logs = logs


class MemoryRateBudget:
    """Paces calls per key (a corp and an API path) so that every limit holds; in memory.

    See the module docstring: the shortest window is paced evenly (GCRA), each longer one
    is enforced exactly over the last ``calls`` sends, and a 45009 blocks the key for
    every caller. With the default limits that is about 150 calls a second per API after
    a burst of 30: a fan-out of 2,000 calls of one API takes about 13 s, although WeCom
    would take 10,000 in a minute at once (pass ``burst=`` to trade pace for burst).
    The state lives in this process: clients of one process that share a
    corp should share one budget object (one object serves any number of corps, keyed
    by corp, and clients on several event loops or threads: the callers of each loop
    queue in that loop and all share the slots). For many processes, use
    ``wecom_async.redis.RedisRateBudget``.

    Args:
        limits: ``(calls, seconds)`` pairs, each a whole number of calls (an ``int``, or
            a ``float`` with no fraction) over a positive, finite span of seconds (an
            ``int`` or ``float``; ``Decimal`` is refused), no two of the same span
            (default :data:`DEFAULT_LIMITS`: 9,000
            a minute and 135,000 an hour, 10% below WeCom's limits).
        burst: calls that may catch up unused slots of the shortest window at once
            (default: its ``calls // 300``, between 1 and :data:`MAX_BURST`; 1 means
            strictly even spacing). A larger burst never breaks a window: the even pace
            slows to make room for it (``seconds / (calls + 1 - burst)`` apart).
        clock: a monotonic clock in seconds; default the event loop's, the clock that
            ``sleep`` waits on (tests pass a fake one).
        sleep: how to wait (``anyio.sleep``; tests pass a recorder).

    Raises:
        ValidationError: limits or burst out of range (see :func:`pace`).
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
        self._keys: dict[str, _Key] = {}
        self._sweep_at = -math.inf
        #: The callers waiting for a far slot, per key (and event loop).
        self._turns = Turns()
        # Clients on other threads may share the budget: a slot is read and taken at once.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryRateBudget(limits={list(self.limits)}, burst={self.burst})"

    async def acquire(self, key: str) -> None:
        """Wait until a request of ``key`` fits every limit and no block, and count it.

        A slot at most :data:`RESERVE_AHEAD` seconds away is reserved before waiting, so
        concurrent callers queue in order (each sends no earlier than the one before); a
        caller cancelled in that short wait leaves its slot counted, which only makes the
        pace a little more careful. A slot further out is not reserved: the caller waits
        until it is near, then asks again, and the callers that come meanwhile queue
        behind it in arrival order, each asking once the one before has its slot. A
        caller cancelled in that queue holds no slot and leaves the queue.
        """
        await self._turns.take(key, lambda: self._ask(key), self._sleep)

    async def _ask(self, key: str) -> tuple[bool, float]:
        """Reserve the slot of ``key`` if it is near: ``(True, seconds until it)``; else
        ``(False, seconds until it is near)``."""
        with self._lock:
            now = self._now()
            state = self._state(key)
            send_at = self._earliest(state, now)
            if send_at - now <= RESERVE_AHEAD + _ROUNDING:
                self._reserve(state, send_at)
                return True, send_at - now
            return False, send_at - now - RESERVE_AHEAD

    async def refused(self, key: str, seconds: float) -> float:
        """Block ``key`` for every caller for ``seconds`` (WeCom answered 45009).

        A block already longer stays. ``seconds`` is cut to ``[0, pace.max_block]`` (an
        hour, or the longest window; NaN counts as 0). Returns the seconds until ``key``
        is open again.
        """
        return self._hold(key, seconds)

    def _hold(self, key: str, seconds: float) -> float:
        """Let no request of ``key`` go for ``seconds``; the seconds until it is open."""
        with self._lock:
            now = self._now()
            state = self._state(key)
            state.blocked = max(state.blocked, now + self.pace.block(seconds))
            return max(0.0, state.blocked - now)

    def _delays(self, key: str) -> tuple[float, float]:
        """Seconds until a request of ``key`` fits, counting nothing: as to the pace and
        the blocks, and as to the longer windows' logs ((0, 0) for a key unknown)."""
        with self._lock:
            state = self._keys.get(key)
            if state is None:
                return 0.0, 0.0
            now = self._clock()
            windows = self._windows(state)
            return max(0.0, self._earliest(state, now) - now), max(0.0, windows - now)

    def _record(self, key: str, delay: float) -> None:
        """Count a request of ``key`` sent ``delay`` seconds from now, admitted elsewhere
        (by a shared budget), so that this budget knows it if it has to take over."""
        with self._lock:
            now = self._now()
            state = self._state(key)
            # A log takes its sends in order: a send decided elsewhere is noted no earlier
            # than the latest one known, which only makes this budget more careful.
            self._reserve(state, max(now + max(0.0, delay), state.last))

    def _now(self) -> float:
        """The clock, sweeping idle keys away when a sweep is due."""
        now = self._clock()
        if now >= self._sweep_at:
            self._sweep(now)
        return now

    def _state(self, key: str) -> _Key:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _Key([_SendLog(calls) for calls, _ in self._longer])
        return state

    def _earliest(self, state: _Key, now: float) -> float:
        """The earliest time a request of the key fits, given every slot reserved so far."""
        return max(
            now, state.tat - self._tolerance, state.last, state.blocked, self._windows(state)
        )

    def _windows(self, state: _Key) -> float:
        """The earliest time the longer windows' logs let a request of the key go."""
        earliest = -math.inf
        for log, (_, seconds) in zip(state.logs, self._longer, strict=True):
            earliest = max(earliest, log.oldest_of_last() + seconds)
        return earliest

    def _reserve(self, state: _Key, send_at: float) -> None:
        state.tat = max(state.tat, send_at) + self.interval
        state.last = send_at
        for log in state.logs:
            log.add(send_at)

    def _sweep(self, now: float) -> None:
        """Forget the keys that hold nothing any more: no block, no slot within the
        longest window (every log entry and GCRA's time are then in the past too, since
        the interval is never longer than the shortest window), and no caller waiting.
        Once per longest window, so that the sweep costs little per call however many
        keys there are."""
        longest = self.pace.longest
        self._sweep_at = now + longest
        # A new dict rather than deletions: a dict never shrinks its table.
        self._keys = {
            key: state
            for key, state in self._keys.items()
            if state.last + longest > now or state.blocked > now or key in self._turns
        }
