"""What the export reports of WeCom's rate limits: requests sent and 45009 refusals.

The pacing itself is the client's rate budget (``wecom_async._budget``; the command gives
its client a :class:`~wecom_async.MemoryRateBudget`, or a ``RedisRateBudget`` with
``--redis-url``), which waits its turn before an exchange's time limit starts. The
transport here only counts, so the progress line and the summary can say what the
export sent and what WeCom refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import httpx

__all__ = ["CountingTransport", "Refusals"]


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
