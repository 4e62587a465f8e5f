"""The client-side rate budget: requests to each WeCom API are paced below its limits.

WeCom limits each API per corp to 10,000 calls a minute and to 150,000 calls an hour, and
blocks the API for the rest of the window after the call that goes over (45009, endpoints.md
§5.3): an hour-long block for the hourly limit. The budget is therefore a list of windows
``(calls, seconds)`` that all hold at once, per API path: no stretch of ``seconds``
seconds, aligned anywhere, ever holds more than ``calls`` requests of one path.

* The shortest window is paced with GCRA (a token bucket kept as one timestamp):
  requests are spaced ``T`` apart on average, and a small burst of ``B`` requests may
  catch up slots that went unused (a busy event loop, a slow response). ``T`` is chosen
  so that any ``calls + 1`` requests span at least ``(calls + 1 - B) * T = seconds``.
  Pacing evenly, rather than spending the minute's budget at once and then waiting it
  out, keeps the rate flat for the server and keeps a latency-bound job busy.
* Every longer window is a sliding log of the last ``calls`` send times: a request waits
  until the ``calls``-th latest send is ``seconds`` old. That is exact, so the pace is
  never slower than the windows require: a short export runs at the minute's pace, and a
  long one spends the hour's budget at that pace, then waits for the oldest sends of the
  hour to age out, which keeps its average at the hourly limit. The log costs 8 bytes per
  call of the window, for each busy path (about 1 MB for 135,000 calls an hour).

The budget sits in an httpx transport, below the SDK's retry loop, so retries and token
fetches are paced too and nothing can bypass it.
"""

from __future__ import annotations

import math
import re
import time
from array import array
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import anyio
import httpx

__all__ = [
    "DEFAULT_HOURLY_RATE_LIMIT",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_WINDOWS",
    "MAX_BURST",
    "WECOM_HOURLY_RATE_LIMIT",
    "WECOM_RATE_LIMIT",
    "CountingTransport",
    "RateBudget",
    "Refusals",
    "Window",
    "wecom_windows",
]

#: ``(calls, seconds)``: at most ``calls`` requests of one key in any ``seconds`` seconds.
Window = tuple[int, float]

#: WeCom's documented budget: calls per minute per corp to one API (endpoints.md §5.3, D:90312).
WECOM_RATE_LIMIT: Final = 10_000
#: WeCom's documented budget: calls per hour per corp to one API (same page).
WECOM_HOURLY_RATE_LIMIT: Final = 150_000
#: The exporter's default budgets, 10% below WeCom's so that a little other traffic fits.
DEFAULT_RATE_LIMIT: Final = 9_000
DEFAULT_HOURLY_RATE_LIMIT: Final = 135_000
#: Calls per (minute, hour) of one API by default.
DEFAULT_WINDOWS: Final[tuple[Window, ...]] = (
    (DEFAULT_RATE_LIMIT, 60.0),
    (DEFAULT_HOURLY_RATE_LIMIT, 3600.0),
)
#: Most requests that may catch up unused slots at once (fewer for small budgets).
MAX_BURST: Final = 32


def wecom_windows(
    per_minute: int = DEFAULT_RATE_LIMIT, per_hour: int = DEFAULT_HOURLY_RATE_LIMIT
) -> tuple[Window, ...]:
    """WeCom's two windows with the given budgets: ``per_minute`` a minute, ``per_hour`` an hour."""
    return ((per_minute, 60.0), (per_hour, 3600.0))


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


class RateBudget:
    """Paces calls per key (an API path) so that every window of ``windows`` holds.

    See the module docstring: the shortest window is paced evenly (GCRA), each longer one
    is enforced exactly over the last ``calls`` sends. Kept in this process's memory.

    Args:
        windows: ``(calls, seconds)`` pairs, each at least one call over a positive span
            (default :data:`DEFAULT_WINDOWS`: 9,000 a minute and 135,000 an hour).
        burst: calls that may catch up unused slots of the shortest window at once
            (default: its ``calls // 300``, between 1 and :data:`MAX_BURST`; 1 means
            strictly even spacing).
        clock: a monotonic clock in seconds; default the event loop's, the clock that
            ``sleep`` waits on (tests pass a fake one).
        sleep: how to wait (``anyio.sleep``; tests pass a recorder).

    Raises:
        ValueError: no window, a window of no call or no time, or a burst out of range.
    """

    def __init__(
        self,
        windows: Sequence[Window] = DEFAULT_WINDOWS,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if not windows:
            raise ValueError("a rate budget needs at least one window")
        if any(calls < 1 or not seconds > 0 for calls, seconds in windows):
            raise ValueError("each window needs at least 1 call over more than 0 seconds")
        ordered = sorted(windows, key=lambda window: window[1])
        self.windows: tuple[Window, ...] = tuple(ordered)
        calls, seconds = ordered[0]
        self.burst = burst if burst is not None else max(1, min(MAX_BURST, calls // 300))
        if not 1 <= self.burst <= calls:
            raise ValueError("burst must be between 1 and the shortest window's calls")
        #: Average seconds between two requests of one key, in the shortest window.
        self.interval = seconds / (calls + 1 - self.burst)
        self._tolerance = (self.burst - 1) * self.interval
        self._longer = self.windows[1:]
        self._clock = clock
        self._sleep = sleep
        self._tat: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._logs: dict[str, list[_SendLog]] = {}

    def __repr__(self) -> str:
        return f"RateBudget(windows={list(self.windows)}, burst={self.burst})"

    async def acquire(self, key: str) -> None:
        """Wait until a request to ``key`` fits every window, and count it.

        The slot is reserved before waiting, so concurrent callers queue in order (each
        sends no earlier than the one before); a caller cancelled while waiting leaves
        its slot counted, which only makes the pace a little more careful.
        """
        now = self._clock()
        logs = self._logs.get(key)
        if logs is None:
            logs = self._logs[key] = [_SendLog(calls) for calls, _ in self._longer]
        theoretical = max(self._tat.get(key, now), now)
        send_at = max(now, theoretical - self._tolerance, self._last.get(key, now))
        for log, (_, seconds) in zip(logs, self._longer, strict=True):
            send_at = max(send_at, log.oldest_of_last() + seconds)
        self._tat[key] = max(theoretical, send_at) + self.interval
        self._last[key] = send_at
        for log in logs:
            log.add(send_at)
        if send_at > now:
            await self._sleep(send_at - now)


@dataclass
class Refusals:
    """WeCom's rate-limit refusals (45009) seen by a transport, and the time they cost.

    ``waited`` is measured from a refusal to the moment the same request (method, path
    and body) comes back to be sent again: the client's pause, and its turn in the budget.
    """

    count: int = 0
    waited: float = 0.0
    _pending: dict[tuple[str, str, bytes], float] = field(default_factory=dict, repr=False)

    def retried(self, key: tuple[str, str, bytes], now: float) -> None:
        """A request is about to be sent: if it was refused before, count the pause."""
        refused_at = self._pending.pop(key, None)
        if refused_at is not None:
            self.waited += max(0.0, now - refused_at)

    def refused(self, key: tuple[str, str, bytes], now: float) -> None:
        """WeCom answered the request 45009."""
        self.count += 1
        self._pending[key] = now


#: A WeCom envelope that says 45009, whatever the spacing of the JSON.
_RATE_LIMITED: Final = re.compile(rb'"errcode"\s*:\s*45009\b')
#: Largest declared body looked at for a 45009: the envelope is tens of bytes, and reading
#: more here would bypass the client's own bound on a decoded body.
_ENVELOPE_BYTES: Final = 4096


class CountingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that counts requests and 45009 refusals, then sends through ``inner``.

    The pacing itself is the client's (``WeComClient(rate_budget=...)``): it waits its
    turn before an exchange's time limit starts, so a long wait in the budget is never
    taken for a slow WeCom.

    Args:
        inner: the transport that really sends (a network transport or the fake's).
        sent: the per-path request counts to add to (default: a new one).
        refusals: the 45009 tally to add to (default: a new one).
        clock: a monotonic clock for the time 45009 cost.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        sent: dict[str, int] | None = None,
        refusals: Refusals | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: The transport that really sends.
        self.inner: Final = inner
        #: Requests sent so far, per URL path (the export summary reports them); transports
        #: of one client (one per proxy) may share it.
        self.sent: dict[str, int] = {} if sent is None else sent
        #: 45009 answers so far and the time they cost (shown in progress and summary).
        self.refusals: Final = Refusals() if refusals is None else refusals
        self._clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Count the request, hand it to the inner transport, and note a 45009 answer.

        WeCom blocks the API for the rest of its window after a 45009 and the client waits
        it out, which would otherwise look like a stall.
        """
        path = request.url.path
        try:
            body = request.content
        except httpx.RequestNotRead:  # a streamed body: told apart by path only
            body = b""
        key = (request.method, path, body)
        self.refusals.retried(key, self._clock())
        self.sent[path] = self.sent.get(path, 0) + 1
        response = await self.inner.handle_async_request(request)
        if _small(response):
            # Read here, the body stays cached on the response for the client.
            answer = await response.aread()
            if _RATE_LIMITED.search(answer[:256]):
                self.refusals.refused(key, self._clock())
        return response

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()


def _small(response: httpx.Response) -> bool:
    length = response.headers.get("content-length", "")
    return length.isdigit() and int(length) <= _ENVELOPE_BYTES
