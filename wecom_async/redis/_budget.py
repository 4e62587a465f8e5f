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
from .._logging import logger
from .._turns import Turns
from ._connect import client_from_url, register_password
from ._guard import Outage

__all__ = ["DEFAULT_PREFIX", "RedisRateBudget"]

#: What every key of the budget starts with by default.
DEFAULT_PREFIX: Final = "wecom:rate:"
_MICRO: Final = 1_000_000
#: Most calls a ring counts: a Redis string stops at 512 MB. A window of more calls is
#: counted over its last this many, which is stricter, never looser (and 256 MB a key).
_RING_MAX: Final = 2**25

# KEYS: state hash, block key, one log per longer window.
# ARGV: interval µs, tolerance µs, reserve-ahead µs, idle TTL ms, longest block ms, then
# (calls) per log, then (seconds µs) per log.
# Returns {1 if the slot is reserved else 0, µs from now to the slot}.
#
# Every write comes after every read and check, so that no error can stop the script
# half-way through its update. Whatever is stored is read as a hint, never trusted:
# - a key of another type (written by something else) is deleted, not failed on: a
#   WRONGTYPE error would leave every process on its own until someone cleaned up;
# - a stored time later than a slot can be (now + reserve-ahead; GCRA's time that plus
#   the tolerance and one interval, since a slot caught up from a burst leaves it
#   there) is ignored: it was written under a clock ahead of this one (a
#   failover to a replica whose clock is behind, an NTP step, a restored snapshot) and
#   would block the API for every process for as long as the skew. (Cut to the bound
#   instead, GCRA's time would stay ahead of every new "now" and never admit anyone.)
#   A ring entry so far ahead is skipped too, and overwritten as the ring turns; each
#   process's own log still holds its own sends (see ``RedisRateBudget.acquire``);
# - a ring position that is not a whole number in range makes the ring's order unknown:
#   the ring is dropped;
# - a block is never longer than the longest block.
_ACQUIRE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local ahead = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local longest = tonumber(ARGV[5])
local logs = #KEYS - 2
local function typed(key, kind)
  local found = redis.call('TYPE', key)['ok']
  if found ~= kind and found ~= 'none' then
    redis.call('DEL', key)
  end
end
local function stored(value, latest)
  value = tonumber(value)
  if value == nil or value ~= value or value > latest then
    return nil
  end
  return value
end
typed(KEYS[1], 'hash')
local state = redis.call('HMGET', KEYS[1], 'tat', 'last')
local tat = stored(state[1], now + ahead + tolerance + interval) or now
local send_at = math.max(now, tat - tolerance, stored(state[2], now + ahead) or now)
local blocked = redis.call('PTTL', KEYS[2])
if blocked > longest then
  redis.call('PEXPIRE', KEYS[2], longest)
  blocked = longest
end
if blocked > 0 then
  send_at = math.max(send_at, now + blocked * 1000)
end
local rings = {}
for i = 1, logs do
  local key = KEYS[2 + i]
  local size = tonumber(ARGV[5 + i])
  typed(key, 'string')
  local length = redis.call('STRLEN', key)
  local at = 0
  local broken = length > size * 8 or length % 8 ~= 0
  if length == size * 8 then
    local position = redis.call('HGET', KEYS[1], key)
    if position then
      at = tonumber(position)
      broken = at == nil or at ~= math.floor(at) or at < 0 or at >= size
    end
  end
  if broken then
    redis.call('DEL', key)
    length, at = 0, 0
  end
  if length == size * 8 then
    local oldest = struct.unpack('>d', redis.call('GETRANGE', key, at * 8, at * 8 + 7))
    if oldest == oldest and oldest <= now + ahead then
      send_at = math.max(send_at, oldest + tonumber(ARGV[5 + logs + i]))
    end
  end
  rings[i] = {size, length, at}
end
local wait = math.ceil(math.min(send_at - now, longest * 1000))
if wait > ahead then
  return {0, wait}
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.17g', math.max(tat, send_at) + interval),
  'last', string.format('%.17g', send_at))
redis.call('PEXPIRE', KEYS[1], ttl)
for i = 1, logs do
  local key = KEYS[2 + i]
  local size, length, at = rings[i][1], rings[i][2], rings[i][3]
  local packed = struct.pack('>d', send_at)
  if length < size * 8 then
    if length == 0 then
      redis.call('HDEL', KEYS[1], key)  -- a position left from a ring now gone
    end
    redis.call('APPEND', key, packed)
  else
    redis.call('SETRANGE', key, at * 8, packed)
    redis.call('HSET', KEYS[1], key, (at + 1) % size)
  end
  redis.call('PEXPIRE', key, ttl)
end
return {1, wait}
"""

# KEYS: block key. ARGV: block length in ms, longest block in ms.
# Returns the ms until the key is open again.
_REFUSED: Final = """
local ms = tonumber(ARGV[1])
local longest = tonumber(ARGV[2])
local left = redis.call('PTTL', KEYS[1])
if left > longest then
  redis.call('PEXPIRE', KEYS[1], longest)
  left = longest
end
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

    Each process also remembers its own sends (and the blocks and waits Redis told it
    of) in memory, with the same limits: the fallback starts from them when Redis goes
    away, and a Redis restarted empty cannot let one process send a longer window twice.
    The shortest window is held only within the reserve-ahead horizon
    (1 s): after such a restart a process may, for about a second, send the slots it had
    already reserved as well as the ones the empty Redis grants (twice the pace), so a
    window of a second or less can be exceeded then (WeCom's are a minute and an hour). That
    memory is the same as a ``MemoryRateBudget``'s: 8 bytes per call of each longer
    window for each busy key (about 1 MB for an API's hour), forgotten once idle.

    Args:
        redis: a ``redis.asyncio.Redis`` client; the budget never closes a client it was
            given (:meth:`from_url` makes one it owns).
        limits: ``(calls, seconds)`` windows per corp and API (default 9,000 a minute and
            135,000 an hour). Give every process the same limits.
        burst: as for :class:`~wecom_async.MemoryRateBudget`.
        prefix: what every key starts with (several deployments may share one Redis).
        fallback: the per-process budget used during an outage (default: a
            ``MemoryRateBudget`` of the same limits; pass a smaller one when many
            processes run, since each of them then paces on its own). It is told of
            every send this process makes while Redis answers.
        timeout: seconds a script call may take before Redis counts as unreachable.
        retry_after: seconds during an outage before Redis is tried again.
        sleep: how to wait (``anyio.sleep``; tests pass a recorder).

    Raises:
        ValidationError: limits or burst as :class:`~wecom_async.MemoryRateBudget`
            refuses them; ``timeout`` is not above 0, or ``retry_after`` is negative.
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
        #: This process's own sends, holds and blocks, under the shared limits.
        self._own = MemoryRateBudget(self.limits, burst=self.pace.burst)
        self._fallback = fallback if fallback is not None else self._own
        self._alone = False  # pacing with the fallback, and the operator told so
        #: This process's callers waiting for a slot, per key: a round trip awaits, so a
        #: caller queues before its first ask (a first wave asks one at a time, in order).
        self._turns = Turns(join_first=True)
        self._sleep = sleep
        self._outage = Outage(
            "RedisRateBudget", timeout=timeout, retry_after=retry_after, probe=redis.ping
        )
        self._acquire = redis.register_script(_ACQUIRE)
        self._refused = redis.register_script(_REFUSED)
        #: The longest block or wait, in ms: a longer answer makes no sense.
        self._longest_ms = math.ceil(self.pace.max_block * 1000)
        self._args: list[float | int] = [
            self.pace.interval * _MICRO,
            self.pace.tolerance * _MICRO,
            int(RESERVE_AHEAD * _MICRO),
            math.ceil(self.pace.longest * 1000) + 1000,
            self._longest_ms,
            *(min(calls, _RING_MAX) for calls, _ in self.pace.longer),
            *(seconds * _MICRO for _, seconds in self.pace.longer),
        ]
        self._logs = [f":log:{calls}:{_span(seconds)}" for calls, seconds in self.pace.longer]
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
            ValidationError: the URL, the timeouts or the limits cannot be used.
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
        The callers of this process for ``key`` queue in arrival order and ask Redis in
        turn, one round trip at a time: a caller that finds nobody waiting opens the queue
        before its round trip, so that the callers arriving meanwhile (a first wave) queue
        behind it rather than all asking at once. With nobody waiting, a call costs one
        round trip.
        A request is not asked for before this process's own sends allow it, whatever
        Redis remembers (a Redis restarted empty forgets the windows).
        """
        await self._turns.take(key, lambda: self._decide(key), self._sleep)

    async def _decide(self, key: str) -> tuple[bool, float]:
        """Ask once for a slot of ``key`` (``Turns``' question): ``(True, seconds until
        the reserved slot)`` or ``(False, seconds to wait before asking again)``."""
        # What this process alone knows first: a Redis restarted empty has forgotten
        # the window this process just spent. Its own longer windows must be open now
        # (a slot Redis grants cannot be put off: Redis counted it then); its pace
        # and the blocks it heard of may still be up to a second away.
        pace, windows = self._own._delays(key)
        if pace > RESERVE_AHEAD or windows > 0:
            return False, max(pace - RESERVE_AHEAD, windows)
        reserved, wait = await self._outage.run(
            lambda: self._ask(key), lambda: self._acquire_locally(key)
        )
        return reserved, wait if reserved else wait - RESERVE_AHEAD

    async def refused(self, key: str, seconds: float) -> float:
        """Block ``key`` for every process for ``seconds`` (WeCom answered 45009).

        A block already longer stays. ``seconds`` is cut to ``[0, pace.max_block]`` (an
        hour, or the longest window; NaN counts as 0). Returns the seconds until ``key``
        is open again.
        """
        return await self._outage.run(
            lambda: self._block(key, seconds), lambda: self._block_locally(key, seconds)
        )

    def _keys(self, key: str) -> list[str]:
        state = f"{self.prefix}{{{key}}}"
        return [state, state + ":block", *(state + log for log in self._logs)]

    async def _ask(self, key: str) -> tuple[bool, float]:
        reply = await self._acquire(keys=self._keys(key), args=self._args)
        reserved, wait = self._answer(reply)
        self._alone = False
        if reserved:
            self._count(key, wait)
        else:
            # Redis says nobody may send before then: if it goes away meanwhile, this
            # process still knows (a shared block, a full window).
            self._hold(key, wait)
        return reserved, wait

    def _answer(self, reply: object) -> tuple[bool, float]:
        """The script's answer, checked: a reply that makes no sense (another script at
        the same name, a proxy) is a ``ResponseError``, which the outage guard takes for
        an outage: the process paces itself and the warning tells the operator."""
        try:
            reserved, wait = (int(part) for part in reply)  # type: ignore[attr-defined]
        except (TypeError, ValueError):
            reserved, wait = -1, -1
        ahead = RESERVE_AHEAD * _MICRO
        if reserved not in (0, 1) or not 0 <= wait <= self._longest_ms * 1000:
            raise ResponseError(f"unexpected answer from the budget script: {reply!r}")
        if (wait <= ahead) != bool(reserved):
            raise ResponseError(f"unexpected answer from the budget script: {reply!r}")
        return bool(reserved), wait / _MICRO

    async def _acquire_locally(self, key: str) -> tuple[bool, float]:
        self._warn_alone()
        await self._fallback.acquire(key)
        if self._own is not self._fallback:
            self._own._record(key, 0.0)
        return True, 0.0

    async def _block(self, key: str, seconds: float) -> float:
        state = f"{self.prefix}{{{key}}}"
        ms = math.ceil(self.pace.block(seconds) * 1000)
        left = await self._refused(keys=[state + ":block"], args=[ms, self._longest_ms])
        if isinstance(left, bool) or not isinstance(left, int) or not 0 <= left <= self._longest_ms:
            raise ResponseError(f"unexpected answer from the block script: {left!r}")
        self._hold(key, left / 1000)
        self._alone = False
        return left / 1000

    async def _block_locally(self, key: str, seconds: float) -> float:
        self._warn_alone()
        left = await self._fallback.refused(key, seconds)
        self._hold(key, left)
        return left

    def _warn_alone(self) -> None:
        """Say once per outage what it means for the budget (the outage guard's warning
        says only that Redis is unreachable): the processes no longer share it."""
        if not self._alone:
            self._alone = True
            logger.warning(
                "RedisRateBudget: the rate budget is per process until Redis answers again "
                "(each process paces itself with %r, so together they may go past the "
                "limits; a smaller fallback= leaves room for the others)",
                self._fallback,
            )

    def _count(self, key: str, delay: float) -> None:
        """Note a send that Redis admitted in this process's memory (and the fallback's)."""
        self._own._record(key, delay)
        if self._fallback is not self._own:
            self._fallback._record(key, delay)

    def _hold(self, key: str, seconds: float) -> None:
        """Note in this process's memory (and the fallback's) that ``key`` is closed."""
        self._own._hold(key, seconds)
        if self._fallback is not self._own:
            self._fallback._hold(key, seconds)


def _span(seconds: float) -> str:
    """A window's seconds in a key name: ``60``, ``0.25``; two windows never share one."""
    return repr(seconds).removesuffix(".0")
