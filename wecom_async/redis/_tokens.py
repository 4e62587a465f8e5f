"""``RedisTokenStore``: one access token for every process of a deployment.

Each :class:`~wecom_async.TokenStore` operation is one round trip, a Lua script run
through redis-py's ``register_script`` (``EVALSHA``, reloaded after a ``NOSCRIPT`` when
Redis restarted). Per key there are three Redis keys sharing one hash tag (one cluster
slot): ``:token`` holds ``"<fence>:<token>"`` with the token's TTL, ``:lease`` holds the
fence of the process fetching it with ``lease_ttl``, and ``:fence`` counts leases.

* The fence counter starts at Redis' clock in microseconds, so a Redis restarted empty
  never hands out a fence that a lease from before the restart still carries: a late
  ``put`` of that lease is refused.
* Processes keep a local copy of the token for its remaining TTL: the token manager's hot
  path (:meth:`RedisTokenStore.peek`) makes no round trip while the copy is fresh.
* A token WeCom refuses is deleted only if Redis still holds that very write (value and
  fence); the local copy is dropped in any case. The first process to see the refusal
  deletes it and fetches; every other process then finds a different write in Redis and
  takes it, so the fleet makes one ``gettoken``, not one per process.
* A caller waiting for another process's lease polls with a short backoff; the lease
  expires after ``lease_ttl``, so a killed fetcher delays the others by at most that.
* While Redis is unreachable, operations fall back to a per-process
  :class:`~wecom_async.MemoryTokenStore` through :class:`~wecom_async.redis.Outage`; a
  lease taken from the fallback is written to and released in the fallback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

import anyio
import attrs
from redis.asyncio import Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError

from .._exceptions import ValidationError
from .._logging import register_secret
from .._token import IssuedToken, Lease, MemoryTokenStore
from ._guard import Outage

__all__ = ["DEFAULT_LEASE_TTL", "RedisTokenStore"]

#: Seconds a lease holds: longer than a gettoken with its retries normally takes, short
#: enough that a killed fetcher does not stall the fleet for long.
DEFAULT_LEASE_TTL: Final = 15.0
#: First and longest pause between two looks at a lease another process holds.
POLL_FIRST: Final = 0.005
POLL_MAX: Final = 0.1

# KEYS: token, lease, fence. ARGV: lease TTL in ms, the "<fence>:<token>" this process
# saw refused ("" if none): deleted if still stored, as invalidate would.
# Reply: {1, "<fence>:<token>", token PTTL} | {2, new fence} | {3, lease PTTL}.
_GET_OR_LEASE = """
local stored = redis.call('GET', KEYS[1])
if stored then
  if stored ~= ARGV[2] and string.match(stored, '^%d+:.') then
    return {1, stored, redis.call('PTTL', KEYS[1])}
  end
  redis.call('DEL', KEYS[1])
end
local held = redis.call('PTTL', KEYS[2])
if held > 0 then
  return {3, held}
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local now = redis.call('TIME')
  redis.call('SET', KEYS[3], now[1] .. string.format('%06d', tonumber(now[2])))
end
local fence = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[2], fence, 'PX', ARGV[1])
return {2, fence}
"""

# KEYS: token, lease. ARGV: fence, token, TTL in ms. Reply: 1 written, 0 lease lost.
_PUT = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
return 1
"""

# KEYS: lease. ARGV: fence. Reply: 1 released, 0 not ours (expired or another's).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: token. ARGV: "<fence>:<token>". Reply: 1 deleted, 0 Redis holds another write.
_INVALIDATE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_TOKEN, _LEASE, _WAIT = 1, 2, 3


@attrs.frozen
class _FallbackLease(Lease):
    """A lease taken from the per-process fallback while Redis was unreachable."""


class RedisTokenStore:
    """A :class:`~wecom_async.TokenStore` on Redis, shared by every process that uses it.

    Pass it as ``WeComClient(..., token_store=store)`` in every process of a deployment:
    they then share one token per (corp, secret) and one ``gettoken`` for all of them.

    Args:
        redis: a ``redis.asyncio.Redis`` client (give it socket timeouts; see
            :meth:`from_url`). The store never closes a client it was given.
        prefix: the first part of every Redis key (to keep deployments apart).
        lease_ttl: seconds a process may take to fetch a token before another may.
        timeout: seconds one Redis operation may take before it counts as an outage.
        retry_after: seconds an outage lasts at least before Redis is tried again.
        clock: a monotonic clock (injectable for tests).

    Raises:
        ValidationError: ``lease_ttl`` is under a millisecond, infinite or not a number.

    While Redis is unreachable each process uses its own tokens (one warning per outage)
    and shares again once Redis answers; see :class:`~wecom_async.redis.Outage`.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "wecom_async",
        lease_ttl: float = DEFAULT_LEASE_TTL,
        timeout: float = 2.0,
        retry_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.001 <= lease_ttl < math.inf:
            raise ValidationError("lease_ttl must be at least a millisecond, and finite")
        self._redis = redis
        self._owns_redis = False
        self._prefix = prefix
        self._lease_ms = int(lease_ttl * 1000)
        self._clock = clock
        self._outage = Outage(
            "RedisTokenStore", timeout=timeout, retry_after=retry_after, clock=clock
        )
        self._fallback = MemoryTokenStore(clock=clock)
        self._copies: dict[str, tuple[IssuedToken, float]] = {}
        # Per key, the last write ("<fence>:<token>") WeCom refused in this process.
        self._refused: dict[str, str] = {}
        self._get_or_lease = redis.register_script(_GET_OR_LEASE)
        self._put = redis.register_script(_PUT)
        self._release = redis.register_script(_RELEASE)
        self._invalidate = redis.register_script(_INVALIDATE)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "wecom_async",
        lease_ttl: float = DEFAULT_LEASE_TTL,
        timeout: float = 2.0,
        retry_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> RedisTokenStore:
        """Connect to ``url`` (``redis://[:password@]host:port/db``) with socket timeouts.

        The password is masked in every log line and error message of the SDK, and the
        store closes this client in :meth:`aclose`.

        Args:
            url: the Redis URL, as redis-py's ``Redis.from_url`` reads it.
            prefix: see the class.
            lease_ttl: see the class.
            timeout: see the class; also the connect and read timeout of the sockets.
            retry_after: see the class.
            clock: see the class.

        Returns:
            A store that owns its Redis client.
        """
        password = parse_url(url).get("password")
        if isinstance(password, str):
            register_secret(password)  # in the userinfo or as ?password=
        # One immediate retry on a new connection: after a Redis restart the pooled
        # connections are dead, and that alone is no outage.
        redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        store = cls(
            redis,
            prefix=prefix,
            lease_ttl=lease_ttl,
            timeout=timeout,
            retry_after=retry_after,
            clock=clock,
        )
        store._owns_redis = True
        return store

    def __repr__(self) -> str:
        return (
            f"RedisTokenStore(prefix={self._prefix!r}, lease_ttl={self._lease_ms / 1000}, "
            f"redis_down={self._outage.down})"
        )

    async def aclose(self) -> None:
        """Close the Redis client if :meth:`from_url` created it; a given one stays open."""
        if self._owns_redis:
            await self._redis.aclose()

    def peek(self, key: str) -> IssuedToken | None:
        """Return this process's fresh copy of the token of ``key``, without a round trip."""
        entry = self._copies.get(key)
        if entry is not None and self._clock() < entry[1]:
            return entry[0]
        return None

    async def get_or_lease(self, key: str) -> IssuedToken | Lease:
        """See :meth:`wecom_async.TokenStore.get_or_lease`.

        Waits while another process holds the lease, at most ``lease_ttl`` after which
        its lease has expired and this caller takes it.
        """
        pause = POLL_FIRST
        while True:
            got = await self._outage.run(
                lambda: self._shared_get(key), lambda: self._local_get(key)
            )
            if not isinstance(got, float):
                return got
            await anyio.sleep(min(pause, got))
            pause = min(pause * 2, POLL_MAX)

    async def put(self, lease: Lease, token: str, ttl: float) -> bool:
        """See :meth:`wecom_async.TokenStore.put`."""
        if isinstance(lease, _FallbackLease):
            return await self._fallback.put(Lease(lease.key, lease.fence), token, ttl)

        async def shared() -> bool:
            ttl_ms = max(int(ttl * 1000), 1)
            keys = self._keys(lease.key)[:2]
            if not await self._put(keys, [lease.fence, token, ttl_ms]):
                return False
            self._copies[lease.key] = (IssuedToken(token, lease.fence), self._clock() + ttl)
            return True

        return await self._outage.run(shared, _false)

    async def release(self, lease: Lease) -> None:
        """See :meth:`wecom_async.TokenStore.release`."""
        if isinstance(lease, _FallbackLease):
            await self._fallback.release(Lease(lease.key, lease.fence))
            return

        async def shared() -> bool:
            return bool(await self._release([self._keys(lease.key)[1]], [lease.fence]))

        # Unreachable Redis: the lease expires there after lease_ttl by itself.
        await self._outage.run(shared, _false)

    async def invalidate(self, key: str, token: IssuedToken) -> bool:
        """See :meth:`wecom_async.TokenStore.invalidate`.

        This process's copy of ``token`` is dropped whatever Redis holds, so the next
        caller asks Redis and takes the write that replaced it, if there is one. Only the
        caller that drops the copy asks Redis to delete: the many callers of a process
        that sent the same refused token make one round trip, not one each.
        """
        stored = _stored(token)
        # Before any await: a caller of this process asking Redis from now on must not
        # take this token back (its get-or-lease deletes it instead, see the script).
        self._refused[key] = stored
        dropped = await self._fallback.invalidate(key, token)
        entry = self._copies.get(key)
        if entry is None or entry[0] != token:
            return dropped  # not from Redis, or another caller here already asked Redis
        del self._copies[key]

        async def shared() -> bool:
            return bool(await self._invalidate([self._keys(key)[0]], [stored]))

        return await self._outage.run(shared, _false)

    def _keys(self, key: str) -> list[str]:
        # One hash tag: a script's keys must live in one cluster slot.
        base = f"{self._prefix}:{{{key}}}"
        return [f"{base}:token", f"{base}:lease", f"{base}:fence"]

    async def _shared_get(self, key: str) -> IssuedToken | Lease | float:
        """One get-or-lease script: the token, a lease, or seconds until the lease ends."""
        reply = await self._get_or_lease(
            self._keys(key), [self._lease_ms, self._refused.get(key, "")]
        )
        kind, *rest = _reply(reply)
        if kind == _TOKEN and len(rest) == 2:
            stored = _text(rest[0])
            if stored == self._refused.get(key):
                return 0.0  # refused while the script ran: ask again, which deletes it
            fence, _, value = stored.partition(":")
            token = IssuedToken(value, int(fence))
            self._copies[key] = (token, self._clock() + int(rest[1]) / 1000)
            return token
        if kind == _LEASE and len(rest) == 1:
            return Lease(key, int(rest[0]))
        if kind == _WAIT and len(rest) == 1:
            return int(rest[0]) / 1000
        raise ResponseError("RedisTokenStore: unexpected reply from the get-or-lease script")

    async def _local_get(self, key: str) -> IssuedToken | Lease:
        got = await self._fallback.get_or_lease(key)
        return _FallbackLease(got.key, got.fence) if isinstance(got, Lease) else got


async def _false() -> bool:
    return False


def _reply(reply: object) -> list[int | str | bytes]:
    """The script's reply as a list whose first item is its kind."""
    if isinstance(reply, list) and reply and all(type(v) in (int, str, bytes) for v in reply):
        items: list[int | str | bytes] = reply
        if type(items[0]) is int:
            return items
    raise ResponseError("RedisTokenStore: unexpected reply from the get-or-lease script")


def _stored(token: IssuedToken) -> str:
    """How ``token`` is written under its Redis key."""
    return f"{token.fence}:{token.value}"


def _text(value: int | str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
