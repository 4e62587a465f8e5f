"""A short lock in Redis: one holder at a time across every process that shares it.

``SET key token NX PX lease`` takes it; a compare-and-delete script gives it back only
while it is still this holder's (a holder slower than its lease never frees another's).
A holder killed while holding it frees it when the lease runs out. Whoever cannot have
it within ``wait`` seconds gets :class:`LockBusy` and tries again later: the lock guards
a short read-merge-write (a corp's ``--since last`` manifest, see :mod:`._since_last`),
never a long job.

While held, the lease is renewed in the background every third of it (a
compare-and-extend script: only while the lock is still this holder's), so a write
slower than the lease (a stalled object store, a thread pool full of uploads) keeps it:
only a holder whose event loop stalls past the lease (SIGSTOP, a VM paused) can lose it.
A holder about to write calls :meth:`HeldLock.confirm` first: it extends the lease to a
whole one, or raises :class:`LockLost`. The write itself cannot be fenced (a store takes
no token), so one window is left: a process stalled for a whole lease between that
confirmation and the end of its write may still write after another took the lock.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ._ledger import LedgerError

__all__ = ["HeldLock", "LockBusy", "LockLost", "short_lock"]

logger: Final = logging.getLogger("wecom_async.export")

# KEYS: the lock. ARGV: the holder's token. Reply: 1 released | 0 not this holder's.
_UNLOCK: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# KEYS: the lock. ARGV: the holder's token, the lease in ms. Reply: 1 extended | 0 not ours.
_EXTEND: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
#: How often a waiter asks again, in seconds.
_RETRY: Final = 0.05


class LockBusy(LedgerError):
    """Raised when a short lock was held by another for longer than the wait."""


def lock_key(prefix: str, name: str) -> str:
    """The key of the lock ``name`` (a digest: ``name`` may be a long path or URL)."""
    return f"{prefix}lock:{hashlib.sha256(name.encode()).hexdigest()}"


class LockLost(LockBusy):
    """Raised when a short lock turned out not to be held any more (its lease ran out
    while its holder was stalled, and it may be another's now)."""


class HeldLock:
    """A short lock this holder has: renewed in the background while the block runs."""

    def __init__(self, redis: Redis, key: str, token: str, lease: float) -> None:
        self.redis, self.key, self.token, self.lease = redis, key, token, lease
        #: The lock was found another's (or gone): never written under it again.
        self.lost = False

    def __repr__(self) -> str:
        return f"HeldLock({self.key!r}, lost={self.lost})"

    async def confirm(self) -> None:
        """Check the lock is still ours and extend it to a whole lease: call right before
        a write it guards.

        Raises:
            LockLost: it is not ours any more (do not write).
            RedisError: Redis cannot be reached (it cannot be confirmed: do not write).
        """
        if self.lost or not await self._extend():
            self.lost = True
            raise LockLost(
                f"the lock {self.key} is not this holder's any more (its lease of "
                f"{self.lease:g} s ran out while the holder was stalled)"
            )

    async def _extend(self) -> bool:
        reply = await self.redis.eval(_EXTEND, 1, self.key, self.token, _ms(self.lease))
        return bool(reply)

    async def renew_forever(self) -> None:
        """Extend the lease every third of it until cancelled or found lost; an
        unreachable Redis is asked again at the next turn (:meth:`confirm` decides)."""
        while not self.lost:
            await anyio.sleep(self.lease / 3)
            try:
                if not await self._extend():
                    self.lost = True
            except RedisError:
                continue


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


@asynccontextmanager
async def short_lock(
    redis: Redis, key: str, *, wait: float, lease: float
) -> AsyncIterator[HeldLock]:
    """Hold the lock ``key`` for the block, renewed every ``lease / 3`` seconds (see the
    module docstring); a holder that dies frees it ``lease`` seconds later.

    Raises:
        LockBusy: another held it for all of ``wait`` seconds.
        RedisError: Redis cannot be reached (nothing is held).
    """
    token = secrets.token_hex(16)
    deadline = anyio.current_time() + wait
    while not await redis.set(key, token, nx=True, px=_ms(lease)):
        if anyio.current_time() >= deadline:
            raise LockBusy(f"the lock {key} is held by another (waited {wait:g} s)")
        await anyio.sleep(_RETRY)
    held = HeldLock(redis, key, token, lease)
    failed: Exception | None = None
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(held.renew_forever)
            try:
                yield held
            except Exception as error:  # raised as it is, not in the group's ExceptionGroup
                failed = error
            finally:
                group.cancel_scope.cancel()
        if failed is not None:
            raise failed
    finally:
        with anyio.CancelScope(shield=True):
            await _release(redis, key, token, lease)


async def _release(redis: Redis, key: str, token: str, lease: float) -> None:
    try:
        released = await redis.eval(_UNLOCK, 1, key, token)
    except RedisError:
        return  # it runs out with its lease; the block's own outcome is what counts
    if not released:
        logger.warning("the lock %s was held longer than its lease (%g s)", key, lease)
