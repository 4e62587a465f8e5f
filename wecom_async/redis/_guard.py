"""Redis outages: shared state falls back to this process's own state, one warning per outage.

A Redis restart, a failover or a network cut must not take a service down: WeCom is still
there, only the coordination between processes is gone for a while. Each shared piece
(token store, rate budget) therefore runs its Redis operation through an :class:`Outage`,
which answers from the per-process fallback instead when Redis fails or is slow, and
does not try Redis again for ``retry_after`` seconds, so that callers don't each wait for
a timeout during a long outage.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from redis.exceptions import RedisError

from .._logging import logger, redact

__all__ = ["OUTAGE_ERRORS", "Outage"]

T = TypeVar("T")

#: What an unreachable, restarting, read-only or hung Redis raises (``TimeoutError``
#: comes from the guard's own time limit). A script error is a RedisError too: falling
#: back keeps the service up while the warning tells the operator.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class Outage:
    """Runs a Redis operation, or its per-process fallback while Redis is unreachable.

    Args:
        what: names the shared piece in the log lines (e.g. ``"RedisTokenStore"``).
        timeout: seconds one Redis operation may take before it counts as an outage
            (redis-py has no default socket timeout: a hung server would hang callers).
        retry_after: seconds after a failure during which calls go straight to the
            fallback; the first call after that tries Redis again.
        clock: a monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        what: str,
        *,
        timeout: float = 2.0,
        retry_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.timeout = timeout
        self.retry_after = retry_after
        self._clock = clock
        self._down = False
        self._retry_at = 0.0

    def __repr__(self) -> str:
        return f"Outage({self.what!r}, down={self._down})"

    @property
    def down(self) -> bool:
        """True from a failed Redis operation until the next one that succeeds."""
        return self._down

    async def run(
        self,
        shared: Callable[[], Awaitable[T]],
        local: Callable[[], Awaitable[T]],
    ) -> T:
        """Return ``await shared()``, or ``await local()`` when Redis fails or is resting.

        Errors other than :data:`OUTAGE_ERRORS` (and cancellation) propagate unchanged.
        """
        if self._down and self._clock() < self._retry_at:
            return await local()
        try:
            with anyio.fail_after(self.timeout):
                result = await shared()
        except OUTAGE_ERRORS as exc:
            self._fail(exc)
            return await local()
        self._recover()
        return result

    def _fail(self, exc: BaseException) -> None:
        self._retry_at = self._clock() + self.retry_after
        if not self._down:
            self._down = True
            logger.warning(
                "%s: Redis is unreachable (%s: %s); each process uses its own state "
                "until Redis answers again",
                self.what,
                type(exc).__name__,
                redact(str(exc)),
            )

    def _recover(self) -> None:
        if self._down:
            self._down = False
            logger.warning("%s: Redis answers again; shared state resumed", self.what)
