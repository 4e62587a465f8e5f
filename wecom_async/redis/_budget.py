"""``RedisRateBudget``: one rate budget for every process of a deployment, kept on Redis.

Same pacing as :class:`~wecom_async.MemoryRateBudget` (``wecom_async/_budget.py``): GCRA
for the shortest window, an exact sliding log for each longer one, a shared block after
45009. The state of each key (a corp and an API path) lives on Redis, and one Lua script
decides each request in one round trip: it reads the time with Redis' ``TIME``, so that
the callers' clocks never count (limiters on the callers' clocks admit 2-3x their limit
when those clocks disagree by a second or two), and answers "send in N µs, your slot is
counted" or "ask again in N µs".

Why a sliding log and not one GCRA per longer window: a GCRA that lets the whole window's
calls through at once (what lets a short job run at the minute's pace) admits up to
twice the limit in one stretch of the window, and one that does not paces every job at
the long window's average from its first call (37 calls a second instead of 150 for
WeCom's hour). The log is exact and costs 8 bytes per call of the window for each busy
key, stored as one Redis string used as a ring (about 1 MB for 135,000 calls an hour),
where a sorted set would cost about ten times as much.

Keys (one hash slot per budget key, so that the script runs on a cluster too)::

    <prefix>{<corp>:<path>}            hash: tat, last, and the ring positions
    <prefix>{<corp>:<path>}:block      set for the block after a 45009 (PX = its length)
    <prefix>{<corp>:<path>}:log:<calls>:<seconds>   the ring of one longer window

Every key expires once idle for the longest window. Give every process the same
limits: the logs are per window, so processes with other limits do not see each other's
sends in them.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import anyio
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from .._budget import DEFAULT_LIMITS, RESERVE_AHEAD, Limit, MemoryRateBudget, pace
from ._connect import client_from_url, register_password
from ._guard import Outage

__all__ = ["DEFAULT_PREFIX", "RedisRateBudget"]

#: What every key of the budget starts with by default.
DEFAULT_PREFIX: Final = "wecom:rate:"
_MICRO: Final = 1_000_000

# KEYS: state hash, block key, one log per longer window.
# ARGV: interval µs, tolerance µs, reserve-ahead µs, idle TTL ms, then (calls) per log.
# Returns {1 if the slot is reserved else 0, µs from now to the slot}.
_ACQUIRE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local ahead = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tat', 'last')
local tat = tonumber(state[1]) or now
local send_at = math.max(now, tat - tolerance, tonumber(state[2]) or now)
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  send_at = math.max(send_at, now + blocked * 1000)
end
local rings = {}
for i = 3, #KEYS do
  local size = tonumber(ARGV[2 + i])
  local length = redis.call('STRLEN', KEYS[i])
  if length > size * 8 or length % 8 ~= 0 then
    redis.call('DEL', KEYS[i])
    length = 0
  end
  local at = 0
  if length == size * 8 then
    at = tonumber(redis.call('HGET', KEYS[1], KEYS[i])) or 0
    if at >= size then
      at = 0
    end
    local oldest = struct.unpack('>d', redis.call('GETRANGE', KEYS[i], at * 8, at * 8 + 7))
    send_at = math.max(send_at, oldest + tonumber(ARGV[#KEYS + i]))
  end
  rings[i] = {size, length, at}
end
if send_at - now > ahead then
  return {0, math.ceil(send_at - now)}
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.17g', math.max(tat, send_at) + interval),
  'last', string.format('%.17g', send_at))
redis.call('PEXPIRE', KEYS[1], ttl)
for i = 3, #KEYS do
  local size, length, at = rings[i][1], rings[i][2], rings[i][3]
  local packed = struct.pack('>d', send_at)
  if length < size * 8 then
    redis.call('APPEND', KEYS[i], packed)
  else
    redis.call('SETRANGE', KEYS[i], at * 8, packed)
    redis.call('HSET', KEYS[1], KEYS[i], (at + 1) % size)
  end
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return {1, math.ceil(send_at - now)}
"""

# KEYS: block key. ARGV: block length in ms. Returns the ms until the key is open again.
_REFUSED: Final = """
local ms = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if ms > 0 and ms > left then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
  left = ms
end
return math.max(left, 0)
"""


class RedisRateBudget:
    """A rate budget shared through Redis by every process that uses the same keys.

    Implements the client's ``RateBudget`` protocol (``WeComClient(rate_budget=...)``,
    ``wecom-async export --redis-url``) with the pacing of
    :class:`~wecom_async.MemoryRateBudget`, on Redis' clock: one script call (one round
    trip) per request, and a 45009 seen by any process blocks the API for all of them.
    While Redis is unreachable, each process paces itself with ``fallback`` and logs one
    warning; shared pacing resumes when Redis answers again (see :class:`Outage`).

    Args:
        redis: a ``redis.asyncio.Redis`` client; the budget never closes a client it was
            given (:meth:`from_url` makes one it owns).
        limits: ``(calls, seconds)`` windows per corp and API (default 9,000 a minute and
            135,000 an hour). Give every process the same limits.
        burst: as for :class:`~wecom_async.MemoryRateBudget`.
        prefix: what every key starts with (several deployments may share one Redis).
        fallback: the per-process budget used during an outage (default: a
            ``MemoryRateBudget`` of the same limits; pass a smaller one when many
            processes run, since each of them then paces on its own).
        timeout: seconds a script call may take before Redis counts as unreachable.
        retry_after: seconds during an outage before Redis is tried again.
        sleep: how to wait (``anyio.sleep``; tests pass a recorder).

    Raises:
        ValueError: limits or burst as :class:`~wecom_async.MemoryRateBudget` refuses them.
        ValidationError: ``timeout`` is not above 0, or ``retry_after`` is negative.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        limits: Sequence[Limit] = DEFAULT_LIMITS,
        burst: int | None = None,
        prefix: str = DEFAULT_PREFIX,
        fallback: MemoryRateBudget | None = None,
        timeout: float = 2.0,
        retry_after: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.pace = pace(limits, burst)
        #: The limits, shortest window first.
        self.limits: tuple[Limit, ...] = self.pace.limits
        self.prefix = prefix
        self._redis = redis
        self._owns_redis = False
        self._fallback = (
            fallback if fallback is not None else MemoryRateBudget(self.limits, burst=burst)
        )
        self._sleep = sleep
        self._outage = Outage(
            "RedisRateBudget", timeout=timeout, retry_after=retry_after, probe=redis.ping
        )
        self._acquire = redis.register_script(_ACQUIRE)
        self._refused = redis.register_script(_REFUSED)
        longest = self.limits[-1][1]
        self._args: list[float | int] = [
            self.pace.interval * _MICRO,
            self.pace.tolerance * _MICRO,
            int(RESERVE_AHEAD * _MICRO),
            math.ceil(longest * 1000) + 1000,
            *(calls for calls, _ in self.pace.longer),
            *(seconds * _MICRO for _, seconds in self.pace.longer),
        ]
        self._logs = [f":log:{calls}:{seconds:g}" for calls, seconds in self.pace.longer]
        register_password(redis)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        limits: Sequence[Limit] = DEFAULT_LIMITS,
        burst: int | None = None,
        prefix: str = DEFAULT_PREFIX,
        fallback: MemoryRateBudget | None = None,
        timeout: float = 2.0,
        retry_after: float = 5.0,
    ) -> RedisRateBudget:
        """A budget on a Redis client of its own for ``url`` (``redis://[:password@]host:port/db``,
        ``rediss://`` for TLS, ``unix://``); :meth:`aclose` closes it. The other
        arguments are as for the class.

        Raises:
            ValidationError: the URL or the timeouts cannot be used.
            ValueError: the limits cannot be used.
        """
        redis = client_from_url(url, timeout=timeout)
        budget = cls(
            redis,
            limits=limits,
            burst=burst,
            prefix=prefix,
            fallback=fallback,
            timeout=timeout,
            retry_after=retry_after,
        )
        budget._owns_redis = True
        return budget

    def __repr__(self) -> str:
        return (
            f"RedisRateBudget(limits={list(self.limits)}, prefix={self.prefix!r}, "
            f"shared={not self._outage.down})"
        )

    async def aclose(self) -> None:
        """Close the Redis client if the budget made it (:meth:`from_url`)."""
        await self._outage.aclose()
        if self._owns_redis:
            await self._redis.aclose()

    async def acquire(self, key: str) -> None:
        """Wait until a request of ``key`` fits every limit and no block, and count it.

        One script call decides; a slot more than a second away is not reserved: the
        caller waits until it is near and asks again (see ``wecom_async/_budget.py``).
        """
        while True:
            reserved, wait = await self._outage.run(
                lambda: self._ask(key), lambda: self._acquire_locally(key)
            )
            if reserved:
                if wait > 0:
                    await self._sleep(wait)
                return
            await self._sleep(wait - RESERVE_AHEAD)

    async def refused(self, key: str, seconds: float) -> float:
        """Block ``key`` for every process for ``seconds`` (WeCom answered 45009).

        A block already longer stays. Returns the seconds until ``key`` is open again.
        """
        return await self._outage.run(
            lambda: self._block(key, seconds), lambda: self._fallback.refused(key, seconds)
        )

    def _keys(self, key: str) -> list[str]:
        state = f"{self.prefix}{{{key}}}"
        return [state, state + ":block", *(state + log for log in self._logs)]

    async def _ask(self, key: str) -> tuple[bool, float]:
        reply = await self._acquire(keys=self._keys(key), args=self._args)
        try:
            reserved, wait = (int(part) for part in reply)
        except (TypeError, ValueError):
            raise ResponseError(f"unexpected answer from the budget script: {reply!r}") from None
        return bool(reserved), max(0, wait) / _MICRO

    async def _acquire_locally(self, key: str) -> tuple[bool, float]:
        await self._fallback.acquire(key)
        return True, 0.0

    async def _block(self, key: str, seconds: float) -> float:
        state = f"{self.prefix}{{{key}}}"
        left = await self._refused(keys=[state + ":block"], args=[math.ceil(seconds * 1000)])
        if not isinstance(left, int):
            raise ResponseError(f"unexpected answer from the block script: {left!r}")
        return left / 1000
