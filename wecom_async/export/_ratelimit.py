"""The client-side rate budget: requests to each WeCom API are paced below its limit.

WeCom allows 10,000 calls per minute per corp to each API and blocks the API for the rest
of the window after the call that goes over (45009, catalog 5.3). The exporter therefore
paces its own requests per API path with GCRA (a token bucket kept as one timestamp):
requests are spaced ``T`` apart on average, and a small burst of ``B`` requests may catch
up slots that went unused (a busy event loop, a slow response). ``T`` is chosen so that no
60-second window, aligned anywhere, holds more than ``per_minute`` requests: any
``per_minute + 1`` requests span at least ``(per_minute + 1 - B) * T = 60`` seconds.
Pacing evenly, rather than spending the minute's budget at once and then waiting it out,
keeps the rate flat for the server and keeps a latency-bound job busy.

The budget sits in an httpx transport, below the SDK's retry loop, so retries and token
fetches are paced too and nothing can bypass it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Final

import anyio
import httpx

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "MAX_BURST",
    "WECOM_RATE_LIMIT",
    "RateBudget",
    "RateLimitedTransport",
]

#: WeCom's documented budget: calls per minute per corp to one API (catalog 5.3, D:90312).
WECOM_RATE_LIMIT: Final = 10_000
#: The exporter's default budget, below WeCom's so that a little other traffic still fits.
DEFAULT_RATE_LIMIT: Final = 9_000
#: Most requests that may catch up unused slots at once (fewer for small budgets).
MAX_BURST: Final = 32


class RateBudget:
    """Paces calls per key (an API path) to at most ``per_minute`` in any 60-second window.

    Args:
        per_minute: calls allowed per key per minute (at least 1).
        burst: calls that may catch up unused slots at once (default: ``per_minute //
            300``, between 1 and :data:`MAX_BURST`; 1 means strictly even spacing).
        clock: a monotonic clock in seconds (tests pass a fake one).
        sleep: how to wait (``anyio.sleep``; tests pass a recorder).
    """

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.burst = burst if burst is not None else max(1, min(MAX_BURST, per_minute // 300))
        if not 1 <= self.burst <= per_minute:
            raise ValueError("burst must be between 1 and per_minute")
        #: Average seconds between two requests of one key.
        self.interval = 60.0 / (per_minute + 1 - self.burst)
        self._tolerance = (self.burst - 1) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._tat: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"RateBudget(per_minute={self.per_minute}, burst={self.burst})"

    async def acquire(self, key: str) -> None:
        """Wait until a request to ``key`` fits the budget, and count it.

        The slot is reserved before waiting, so concurrent callers queue in order; a
        caller cancelled while waiting leaves its slot unused.
        """
        now = self._clock()
        theoretical = max(self._tat.get(key, now), now)
        send_at = max(now, theoretical - self._tolerance)
        self._tat[key] = theoretical + self.interval
        if send_at > now:
            await self._sleep(send_at - now)


class RateLimitedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that takes a :class:`RateBudget` slot per request path, then sends.

    Args:
        inner: the transport that really sends (a network transport or the fake's).
        budget: the pacing shared by every request of this transport.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, budget: RateBudget) -> None:
        self._inner = inner
        self._budget = budget
        #: Requests sent so far, per URL path (the export summary reports them).
        self.sent: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for the path's slot, count the request and hand it to the inner transport."""
        path = request.url.path
        await self._budget.acquire(path)
        self.sent[path] = self.sent.get(path, 0) + 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()
