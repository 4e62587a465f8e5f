"""``RedisTokenStore``: one access token for every process of a deployment.

Each :class:`~wecom_async.TokenStore` operation is one round trip, a Lua script run
through redis-py's ``register_script`` (``EVALSHA``, reloaded after a ``NOSCRIPT`` when
Redis restarted). Per key there are three Redis keys sharing one hash tag (one cluster
slot): ``:token`` holds ``"<fence>:<token>"`` with the token's TTL, ``:lease`` holds
``"<fence>:<owner>"`` of the process fetching it with ``lease_ttl``, and ``:fence``
counts leases.

* The fence counter starts at Redis' clock in microseconds, so a Redis restarted empty
  never hands out a fence that a lease from before the restart still carries: a late
  ``put`` of that lease is refused.
* Each lease carries a random owner, drawn by the caller before its round trip. A caller
  cancelled (or timed out) while its get-or-lease is on the wire cannot know whether it
  got the lease: the round trip goes on in the background and a lease it brings is
  released at once, and the next get-or-lease of this process takes back a lease its
  owner still marks (a Redis that answered only after the caller gave up).
* While the fetch runs, the lease is renewed every third of ``lease_ttl``
  (:meth:`RedisTokenStore.keep_lease`): a slow ``gettoken`` keeps its lease, and only a
  fetcher that died stops renewing and delays the others by at most ``lease_ttl``.
* Processes keep a local copy of the token for its remaining TTL: the token manager's hot
  path (:meth:`RedisTokenStore.peek`) makes no round trip while the copy is fresh. A
  token this process fetched but could not write to Redis (Redis failed, or the lease
  was lost to a restart) is kept as the local copy too: it is not fetched again.
* A token WeCom refuses is deleted only if Redis still holds that very write (value and
  fence); the local copy is dropped in any case. The first process to see the refusal
  deletes it and fetches; every other process then finds a different write in Redis and
  takes it, so the fleet makes one ``gettoken``, not one per process.
* What the store did not write is repaired, not trusted: a token key holding something
  else than ``"<fence>:<printable token>"`` with a TTL counts as no token and is deleted;
  a fence key that is no number of at most 18 digits starts again from Redis' clock; a
  key of another type is replaced.
* A caller waiting for another process's lease polls with a short backoff.
* While Redis is unreachable, operations fall back to a per-process
  :class:`~wecom_async.MemoryTokenStore` through :class:`~wecom_async.redis.Outage`; a
  lease taken from the fallback is written to and released in the fallback, and the
  token fetched then serves this process until it expires or WeCom refuses it.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Final

import anyio
import attrs
from redis.asyncio import Redis
from redis.exceptions import MaxConnectionsError, ResponseError

from .._exceptions import ValidationError
from .._token import IssuedToken, Lease, MemoryTokenStore
from .._validation import check_seconds
from ._connect import client_from_url, register_password
from ._guard import Outage

__all__ = ["DEFAULT_LEASE_TTL", "RedisTokenStore"]

#: Seconds a lease holds without renewal: how long a killed fetcher delays the others.
#: A live fetcher renews it every third of this while gettoken runs, however long.
DEFAULT_LEASE_TTL: Final = 15.0
#: First and longest pause between two looks at a lease another process holds.
POLL_FIRST: Final = 0.005
POLL_MAX: Final = 0.1

# A stored token the scripts read back: "<fence>:<token>", the fence at most 18 digits
# (an INCR counter below 2**63), the token printable ASCII (what WeCom hands out).
_READABLE = """
local function readable(v)
  if type(v) ~= 'string' then
    return false
  end
  local fence = string.match(v, '^(%d+):[!-~]+$')
  return fence ~= nil and #fence <= 18
end
"""

# KEYS: token, lease, fence. ARGV: lease TTL in ms, the "<fence>:<token>" this process
# saw refused ("" if none): deleted if still stored, as invalidate would; the owner of
# the lease if one is granted; the owner of a lease this process may have orphaned ("").
# Reply: {1, "<fence>:<token>", token PTTL} | {2, new fence} | {3, lease PTTL}.
_GET_OR_LEASE = (
    _READABLE
    + """
local stored = redis.pcall('GET', KEYS[1])
if stored then
  if stored ~= ARGV[2] and readable(stored) then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > 0 then
      return {1, stored, ttl}
    end
  end
  redis.call('DEL', KEYS[1])
end
local held = redis.call('PTTL', KEYS[2])
if held > 0 then
  local holder = redis.pcall('GET', KEYS[2])
  if type(holder) == 'string' then
    local mine = ARGV[4] ~= '' and string.sub(holder, -#ARGV[4] - 1) == ':' .. ARGV[4]
    if not mine then
      return {3, held}
    end
  end
end
local last = redis.pcall('GET', KEYS[3])
if type(last) ~= 'string' or not string.match(last, '^%d+$') or #last > 18 then
  local now = redis.call('TIME')
  redis.call('SET', KEYS[3], now[1] .. string.format('%06d', tonumber(now[2])))
end
local fence = redis.call('INCR', KEYS[3])
-- '%d': Lua's own number-to-text (..) would write 1.7962968748982e+15.
redis.call('SET', KEYS[2], string.format('%d', fence) .. ':' .. ARGV[3], 'PX', ARGV[1])
return {2, fence}
"""
)

# KEYS: token, lease. ARGV: "<fence>:<owner>", fence, token, TTL in ms.
# Reply: 1 written, 0 lease lost.
_PUT = """
if redis.pcall('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2] .. ':' .. ARGV[3], 'PX', ARGV[4])
redis.call('DEL', KEYS[2])
return 1
"""

# KEYS: lease. ARGV: "<fence>:<owner>", lease TTL in ms. Reply: 1 renewed, 0 lost.
_RENEW = """
if redis.pcall('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lease. ARGV: owner. Reply: 1 released, 0 not ours (expired or another's).
_RELEASE = """
local holder = redis.pcall('GET', KEYS[1])
if type(holder) == 'string' and string.sub(holder, -#ARGV[1] - 1) == ':' .. ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: token. ARGV: "<fence>:<token>". Reply: 1 deleted, 0 Redis holds another write.
_INVALIDATE = """
if redis.pcall('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_TOKEN, _LEASE, _WAIT = 1, 2, 3
#: A token the scripts read back (see ``_READABLE``); another is kept by this process only.
_SHAREABLE: Final = re.compile(r"[!-~]+")


@attrs.frozen
class _FallbackLease(Lease):
    """A lease taken from the per-process fallback while Redis was unreachable."""


@attrs.frozen
class _RedisLease(Lease):
    """A lease held in Redis; ``owner`` tells it from every other lease of the key."""

    owner: str = attrs.field(repr=False)

    @property
    def held(self) -> str:
        """The lease key's value while this lease holds."""
        return f"{self.fence}:{self.owner}"


class RedisTokenStore:
    """A :class:`~wecom_async.TokenStore` on Redis, shared by every process that uses it.

    Pass it as ``WeComClient(..., token_store=store)`` in every process of a deployment:
    they then share one token per (corp, secret) and one ``gettoken`` for all of them.

    Args:
        redis: a ``redis.asyncio.Redis`` client (give it socket timeouts and a
            ``BlockingConnectionPool``; see :meth:`from_url`). The store never closes a
            client it was given.
        prefix: the first part of every Redis key (to keep deployments apart).
        lease_ttl: seconds a fetcher that stopped renewing its lease (a killed process)
            holds up the others; a live fetcher renews it every ``lease_ttl / 3``.
        timeout: seconds one Redis operation may take before it counts as an outage (less
            when the caller's deadline is nearer, see :class:`~wecom_async.redis.Outage`).
        retry_after: seconds between two probes of an unreachable Redis.
        clock: a monotonic clock (injectable for tests).

    Raises:
        ValidationError: ``lease_ttl`` is under a millisecond, ``timeout`` is not above
            0, ``retry_after`` is negative, or one of them is infinite or not a number.

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
        if check_seconds(lease_ttl, "lease_ttl") < 0.001:
            raise ValidationError("lease_ttl must be at least a millisecond")
        self._outage = Outage(
            "RedisTokenStore",
            timeout=timeout,
            retry_after=retry_after,
            clock=clock,
            probe=redis.ping,
        )
        self._redis = redis
        self._owns_redis = False
        self._prefix = prefix
        self._lease_ms = int(lease_ttl * 1000)
        self._clock = clock
        self._fallback = MemoryTokenStore(clock=clock)
        self._copies: dict[str, tuple[IssuedToken, float]] = {}
        # Per key, the last write ("<fence>:<token>") WeCom refused in this process.
        self._refused: dict[str, str] = {}
        # Per key, the owner of a lease a cancelled get-or-lease may have left in Redis.
        self._orphans: dict[str, str] = {}
        self._settling: set[asyncio.Task[None]] = set()
        self._get_or_lease = redis.register_script(_GET_OR_LEASE)
        self._put = redis.register_script(_PUT)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._invalidate = redis.register_script(_INVALIDATE)
        register_password(redis)

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
        """Connect to ``url`` (``redis://[[user]:password@]host:port/db``) with socket timeouts.

        The client has a blocking pool of 50 connections (callers beyond wait for one
        instead of failing), one immediate retry on a new connection (a Redis restart
        leaves dead pooled connections), and the store closes it in :meth:`aclose`. The
        password is masked wherever the URL shows in a message of the SDK, and anywhere
        when it is 16 characters or longer.

        Args:
            url: the Redis URL, as redis-py's ``Redis.from_url`` reads it.
            prefix: see the class.
            lease_ttl: see the class.
            timeout: see the class; also the connect and read timeout of the sockets.
            retry_after: see the class.
            clock: see the class.

        Returns:
            A store that owns its Redis client.

        Raises:
            ValidationError: ``url`` is no Redis URL, or an argument as the class refuses it.
        """
        redis = client_from_url(url, timeout=timeout)
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
        """Stop the background work, and close the Redis client if :meth:`from_url` made it.

        Leases that cancelled callers may have left get ``timeout`` seconds to be released.
        """
        with anyio.move_on_after(self._outage.timeout, shield=True):
            while self._settling:
                await asyncio.wait(set(self._settling))
        for task in self._settling:
            task.cancel()
        await self._outage.aclose()
        if self._owns_redis:
            await self._redis.aclose()

    def peek(self, key: str) -> IssuedToken | None:
        """Return this process's fresh token of ``key``, without a round trip.

        The local copy of Redis' token, or else a token this process fetched on its own
        while Redis was unreachable.
        """
        entry = self._copies.get(key)
        if entry is not None and self._clock() < entry[1]:
            return entry[0]
        return self._fallback.peek(key)

    async def get_or_lease(self, key: str) -> IssuedToken | Lease:
        """See :meth:`wecom_async.TokenStore.get_or_lease`.

        Waits while another process holds the lease: until it writes the token or gives
        the lease back, or until the lease expires (``lease_ttl`` after its holder last
        renewed it) and this caller takes it.
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
        """See :meth:`wecom_async.TokenStore.put`.

        Written or not, this process keeps ``token`` as its copy for ``ttl``: a token
        fetched under a lease that Redis lost (a failure, a restart) is not fetched again.
        """
        if isinstance(lease, _FallbackLease):
            return await self._fallback.put(Lease(lease.key, lease.fence), token, ttl)
        expires = self._clock() + ttl

        async def shared() -> bool:
            if not isinstance(lease, _RedisLease) or not _SHAREABLE.fullmatch(token):
                return False  # not this store's lease, or a token the scripts would not read
            ttl_ms = max(int(ttl * 1000), 1)
            keys = self._keys(lease.key)[:2]
            return bool(await self._put(keys, [lease.held, lease.fence, token, ttl_ms]))

        written = await self._outage.run(shared, _false)
        self._copies[lease.key] = (IssuedToken(token, lease.fence), expires)
        return written

    async def keep_lease(self, lease: Lease) -> None:
        """Renew ``lease`` every ``lease_ttl / 3`` until cancelled (the fetch ended).

        Stops early when the lease is lost or Redis fails: a fetch never fails for it.
        The token manager runs this beside a fetch.
        """
        if not isinstance(lease, _RedisLease):
            return
        period = self._lease_ms / 3000
        keys, args = [self._keys(lease.key)[1]], [lease.held, str(self._lease_ms)]

        async def shared() -> bool:
            return bool(await self._renew(keys, args))

        while True:
            await anyio.sleep(period)
            if not await self._outage.run(shared, _false):
                return

    async def release(self, lease: Lease) -> None:
        """See :meth:`wecom_async.TokenStore.release`."""
        if isinstance(lease, _FallbackLease):
            await self._fallback.release(Lease(lease.key, lease.fence))
            return
        if not isinstance(lease, _RedisLease):
            return  # not this store's: it holds nothing in Redis

        async def shared() -> bool:
            return bool(await self._release([self._keys(lease.key)[1]], [lease.owner]))

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
        owner = secrets.token_hex(16)
        orphan = self._orphans.get(key, "")
        args = [str(self._lease_ms), self._refused.get(key, ""), owner, orphan]
        # A task of its own: if this caller is cancelled or times out mid-trip, the trip
        # still ends, and a lease it brings back is released (see _settle).
        trip = asyncio.ensure_future(self._get_or_lease(self._keys(key), args))
        try:
            reply = await asyncio.shield(trip)
        except MaxConnectionsError:
            raise  # nothing was sent: no lease to settle
        except BaseException:
            self._abandon(key, owner, trip)
            raise
        self._orphans.pop(key, None)
        return self._read_reply(key, owner, reply)

    def _read_reply(self, key: str, owner: str, reply: object) -> IssuedToken | Lease | float:
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
            return _RedisLease(key, int(rest[0]), owner)
        if kind == _WAIT and len(rest) == 1:
            return int(rest[0]) / 1000
        raise ResponseError("RedisTokenStore: unexpected reply from the get-or-lease script")

    def _abandon(self, key: str, owner: str, trip: asyncio.Future[object]) -> None:
        """Settle in the background a get-or-lease whose caller is gone."""
        self._orphans[key] = owner  # taken back by this process's next get-or-lease
        task = asyncio.get_running_loop().create_task(self._settle(key, owner, trip))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, key: str, owner: str, trip: Awaitable[object]) -> None:
        """Release the lease an abandoned get-or-lease may have taken.

        After ``lease_ttl`` the lease has expired by itself: no need to wait longer.
        """
        with anyio.move_on_after(self._lease_ms / 1000):
            try:
                reply = await trip
            except MaxConnectionsError:
                return  # never sent
            except Exception:  # sent or not, unknown: release by owner
                reply = None
            if reply is not None and _reply_kind(reply) != _LEASE:
                return
            try:
                released = await self._release([self._keys(key)[1]], [owner])
            except Exception:  # the lease expires after lease_ttl anyway
                return
            if released and self._orphans.get(key) == owner:
                del self._orphans[key]

    async def _local_get(self, key: str) -> IssuedToken | Lease:
        fresh = self.peek(key)
        if fresh is not None:
            return fresh
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


def _reply_kind(reply: object) -> int | None:
    try:
        kind = _reply(reply)[0]
    except ResponseError:
        return None
    return kind if isinstance(kind, int) else None


def _stored(token: IssuedToken) -> str:
    """How ``token`` is written under its Redis key."""
    return f"{token.fence}:{token.value}"


def _text(value: int | str | bytes) -> str:
    """A reply item as text; the scripts return printable ASCII only."""
    try:
        return value.decode("ascii") if isinstance(value, bytes) else str(value)
    except UnicodeDecodeError:
        raise ResponseError("RedisTokenStore: a reply that is not ASCII") from None
