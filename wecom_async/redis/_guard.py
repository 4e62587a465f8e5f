"""Redis outages: shared state falls back to this process's own state, one warning per outage.

A Redis restart, a failover or a network cut must not take a service down: WeCom is still
there, only the coordination between processes is gone for a while. Each shared piece
(token store, rate budget) therefore runs its Redis operation through an :class:`Outage`,
which answers from the per-process fallback instead when Redis fails or is slow.

* A Redis operation waits at most ``timeout``, and at most half of what is left of the
  caller's deadline (the innermost cancel scope's): a call with a short deadline falls
  back in time instead of failing with its own timeout while Redis hangs.
* Once Redis is down, calls go to the fallback. Whether Redis is back is found out by a
  probe (``PING``) every ``retry_after`` seconds, run as a task of its own: the callers
  that arrive in its first quarter of ``timeout`` wait for it and use Redis at once if it
  answers; after that, calls go on with the fallback while the probe waits for a hung
  Redis. A hung Redis so costs the process a quarter of ``timeout`` per ``retry_after``
  (the token store's callers with a token in hand, nothing at all).
* A connection pool with no free connection is no outage: the operation is tried again
  (it never reached Redis) until a connection frees up or the wait is over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import anyio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .._logging import logger, redact
from .._validation import check_seconds

__all__ = ["OUTAGE_ERRORS", "Outage"]

T = TypeVar("T")

#: What an unreachable, restarting, read-only or hung Redis raises (``TimeoutError``
#: comes from the guard's own time limit). A script error is a RedisError too: falling
#: back keeps the service up while the warning tells the operator.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
#: Share of the caller's remaining deadline a Redis operation may take: the rest is left
#: for the fallback (a token fetch, the call itself).
DEADLINE_SHARE: Final = 0.5
#: First and longest pause before asking an exhausted connection pool again.
POOL_PAUSE_FIRST: Final = 0.001
POOL_PAUSE_MAX: Final = 0.05
#: Share of ``timeout`` the callers that start (or meet) a probe wait for it: a Redis
#: that is back answers a PING in far less, a hung one does not stall them longer.
PROBE_SHARE: Final = 0.25


class Outage:
    """Runs a Redis operation, or its per-process fallback while Redis is unreachable.

    Args:
        what: names the shared piece in the log lines (e.g. ``"RedisTokenStore"``).
        timeout: seconds one Redis operation may take before it counts as an outage
            (redis-py has no default socket timeout: a hung server would hang callers).
        retry_after: seconds after a failure before Redis is tried again.
        clock: a monotonic clock (injectable for tests).
        probe: a cheap Redis operation without side effects (``redis.ping``). Given, it
            tells in the background whether Redis is back, and calls never wait for Redis
            while it is down. Without it, the first call after ``retry_after`` tries its own
            operation on Redis.

    Raises:
        ValidationError: ``timeout`` is not above 0 or ``retry_after`` is negative (or
            either is infinite or not a number).
    """

    def __init__(
        self,
        what: str,
        *,
        timeout: float = 2.0,
        retry_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        probe: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.what = what
        self.timeout = check_seconds(timeout, "timeout")
        self.retry_after = check_seconds(retry_after, "retry_after", zero=True)
        self._clock = clock
        self._probe = probe
        self._probing: asyncio.Task[None] | None = None
        self._probe_wait_until = 0.0  # on anyio's clock
        self._down = False
        self._retry_at = 0.0

    def __repr__(self) -> str:
        return f"Outage({self.what!r}, down={self._down})"

    @property
    def down(self) -> bool:
        """True from a failed Redis operation until Redis answers again."""
        return self._down

    async def run(
        self,
        shared: Callable[[], Awaitable[T]],
        local: Callable[[], Awaitable[T]],
    ) -> T:
        """Return ``await shared()``, or ``await local()`` when Redis fails, is slow or down.

        Errors other than :data:`OUTAGE_ERRORS` (and cancellation) propagate unchanged.
        """
        if self._down:
            if self._probe is not None:
                await self._probed()
                if self._down:
                    return await local()
            elif self._clock() < self._retry_at:
                return await local()
        wait = self._wait()
        try:
            with anyio.fail_after(wait):
                result = await _through_busy_pool(shared)
        except OUTAGE_ERRORS as exc:
            if isinstance(exc, TimeoutError) and wait < self.timeout and self._probe is not None:
                # Cut short by the caller's deadline, not by ``timeout``: a slow answer
                # is no outage yet; the probe finds out, and this call goes on without Redis.
                self._probe_soon(now=True)
            else:
                self._fail(exc)
            return await local()
        self._recover()
        return result

    async def aclose(self) -> None:
        """Stop a probe under way (the owner's ``aclose`` calls this)."""
        probing, self._probing = self._probing, None
        if probing is not None and not probing.done():
            probing.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait([probing])

    def _wait(self) -> float:
        """``timeout``, or less: half of what is left of the caller's deadline."""
        left = anyio.current_effective_deadline() - anyio.current_time()
        return max(min(self.timeout, left * DEADLINE_SHARE), 0.0)

    async def _probed(self) -> None:
        """Start a probe if one is due; wait for it while it is young."""
        self._probe_soon()
        probing = self._probing
        if probing is None or probing.done():
            return
        left = min(self._probe_wait_until - anyio.current_time(), self._wait())
        if left > 0:
            await asyncio.wait([probing], timeout=left)  # never cancels the probe

    def _probe_soon(self, *, now: bool = False) -> None:
        """Start a background probe if one is due and none is running."""
        if self._probing is not None and not self._probing.done():
            return
        if not now and self._clock() < self._retry_at:
            return
        self._probe_wait_until = anyio.current_time() + self.timeout * PROBE_SHARE
        self._probing = asyncio.get_running_loop().create_task(self._run_probe())

    async def _run_probe(self) -> None:
        assert self._probe is not None
        try:
            with anyio.fail_after(self.timeout):
                await self._probe()
        except Exception as exc:  # whatever it is, Redis is not usable yet
            self._fail(exc)
        else:
            self._recover()

    def _fail(self, exc: BaseException) -> None:
        self._retry_at = self._clock() + self.retry_after
        if not self._down:
            self._down = True
            logger.warning(
                "%s: %s (%s: %s); each process uses its own state until Redis answers again",
                self.what,
                _what_failed(exc),
                type(exc).__name__,
                redact(str(exc)),
            )

    def _recover(self) -> None:
        if self._down:
            self._down = False
            logger.warning("%s: Redis answers again; shared state resumed", self.what)


def _what_failed(exc: BaseException) -> str:
    """ "unreachable" only for what is one: a connection failure or no answer in time."""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)):
        return "Redis is unreachable"
    return "Redis error"


async def _through_busy_pool(shared: Callable[[], Awaitable[T]]) -> T:
    """``await shared()``, asked again while the client's pool has no free connection.

    redis-py's default pool raises at once when all its connections are in use; nothing
    was sent then, so asking again is safe, and a busy pool is no outage of Redis.
    """
    pause = POOL_PAUSE_FIRST
    while True:
        try:
            return await shared()
        except MaxConnectionsError:
            await anyio.sleep(pause)
            pause = min(pause * 2, POOL_PAUSE_MAX)
