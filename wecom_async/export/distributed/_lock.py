"""A short lock in Redis: one holder at a time across every process that shares it.

``SET key token NX PX lease`` takes it; a compare-and-delete script gives it back only
while it is still this holder's (a holder slower than its lease never frees another's).
A holder killed while holding it frees it when the lease runs out. Whoever cannot have
it within ``wait`` seconds gets :class:`LockBusy` and tries again later: the lock guards
a short read-merge-write (a corp's ``--since last`` manifest, see :mod:`._since_last`),
never a long job.
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

__all__ = ["LockBusy", "short_lock"]

logger: Final = logging.getLogger("wecom_async.export")

# KEYS: the lock. ARGV: the holder's token. Reply: 1 released | 0 not this holder's.
_UNLOCK: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
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


@asynccontextmanager
async def short_lock(redis: Redis, key: str, *, wait: float, lease: float) -> AsyncIterator[None]:
    """Hold the lock ``key`` for the block (at most ``lease`` seconds).

    Raises:
        LockBusy: another held it for all of ``wait`` seconds.
        RedisError: Redis cannot be reached (nothing is held).
    """
    token = secrets.token_hex(16)
    lease_ms = max(1, round(lease * 1000))
    deadline = anyio.current_time() + wait
    while not await redis.set(key, token, nx=True, px=lease_ms):
        if anyio.current_time() >= deadline:
            raise LockBusy(f"the lock {key} is held by another (waited {wait:g} s)")
        await anyio.sleep(_RETRY)
    try:
        yield
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
