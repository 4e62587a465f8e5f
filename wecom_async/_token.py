"""Access tokens: the single-flight token manager and the stores behind it.

The store protocol is shaped for a store shared by many processes (Redis):

* :meth:`TokenStore.get_or_lease` is one atomic step: "give me the token, or make me the
  one who fetches it". Two separate calls (get, then lock) would let two processes both
  fetch on a cold start.
* :meth:`TokenStore.put` writes a fresh token only while the writer's lease still holds
  (fencing): a writer whose lease expired cannot overwrite a newer token.
* :meth:`TokenStore.invalidate` is compare-and-delete on the token *and* the fence of the
  write that stored it: a late failure from an old token never wipes a newer one, even
  when gettoken handed back the same string again (WeCom returns the same token until it
  expires, so a value alone cannot tell an old copy from a fresh one).

:class:`MemoryTokenStore` implements the protocol in-process with an ``anyio.Lock`` per key.

On top of the store, :class:`TokenManager` runs one *flight* at a time per manager: the
first caller that needs the token asks the store (and fetches when it gets the lease);
every caller arriving meanwhile joins that flight and gets its outcome, a token or the
fetch's error, at the same moment. A failure is therefore shared, not handed on: waiters
do not take the lease one after another and repeat the failing fetch. The next call after
the flight ends starts a new one. The store protocol is untouched by this, so a store
shared by many processes works the same way.

A store may offer two optional methods beyond the protocol: ``peek(key)``, a fresh token
without waiting (the hot path), and ``keep_lease(lease)``, which renews a lease until
cancelled: the manager runs it beside each fetch, so a fetch slower than the lease's TTL
keeps the lease (a Redis lease has a TTL so that a killed fetcher does not hold it long).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

import anyio
import attrs

from ._logging import logger, register_token

__all__ = ["IssuedToken", "Lease", "MemoryTokenStore", "TokenManager", "TokenStore", "token_key"]

#: Refresh this long before WeCom's expiry (capped at half the lifetime).
DEFAULT_REFRESH_MARGIN = 300.0


def token_key(corp_id: str, secret: str, *, kind: str = "token") -> str:
    """Return the store key for (corp_id, secret); the raw secret never appears in it.

    ``kind`` keeps the token kinds of one store apart: ``"token"`` for a corp access
    token, ``"suite_token"`` for a provider's suite access token (keyed by suite id and
    secret), ``"corp_token"`` for a corp token fetched by a provider app (keyed by corp id
    and suite id), ``"provider_token"`` for the provider access token.
    """
    digest = hashlib.sha256(f"{corp_id}\x00{secret}".encode()).hexdigest()[:24]
    return f"wecom_async:{kind}:{corp_id}:{digest}"


@attrs.frozen
class Lease:
    """The right to fetch and write the token of ``key``; ``fence`` orders the holders."""

    key: str
    fence: int


@attrs.frozen(repr=False)
class IssuedToken:
    """An access token as stored: its value and the fence of the write that stored it."""

    value: str
    fence: int

    def __attrs_post_init__(self) -> None:
        register_token(self.value)  # a token from any store, fetched here or not, is masked

    def __repr__(self) -> str:
        return f"IssuedToken(value=***, fence={self.fence})"


@runtime_checkable
class TokenStore(Protocol):
    """Where access tokens live; see the module docstring for the contract."""

    async def get_or_lease(self, key: str) -> IssuedToken | Lease:
        """Return the cached token of ``key``, or a lease that makes the caller the fetcher.

        While a lease is out, other callers wait (and then get the fresh token).
        """
        ...

    async def put(self, lease: Lease, token: str, ttl: float) -> bool:
        """Store ``token`` for ``ttl`` seconds if ``lease`` still holds; release the lease.

        Returns False when the lease had expired and the token was not written.
        """
        ...

    async def release(self, lease: Lease) -> None:
        """Give the lease back without writing (the fetch failed or was cancelled)."""
        ...

    async def invalidate(self, key: str, token: IssuedToken) -> bool:
        """Delete the token of ``key`` only if it is still ``token`` (value and fence)."""
        ...


class MemoryTokenStore:
    """A :class:`TokenStore` for one process: a dict, a monotonic clock, a lock per key."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[str, tuple[IssuedToken, float]] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._holders: dict[str, int] = {}
        self._fences = itertools.count(1)

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={len(self._tokens)})"

    def peek(self, key: str) -> IssuedToken | None:
        """Return the token of ``key`` if this process holds a fresh copy, without waiting.

        The token manager's hot path: a store whose tokens live elsewhere (Redis) answers
        from its local copy, so a call with a fresh token makes no round trip at all.
        """
        return self._fresh(key)

    def _fresh(self, key: str) -> IssuedToken | None:
        entry = self._tokens.get(key)
        if entry is not None and self._clock() < entry[1]:
            return entry[0]
        return None

    async def get_or_lease(self, key: str) -> IssuedToken | Lease:
        """See :meth:`TokenStore.get_or_lease`."""
        fresh = self._fresh(key)
        if fresh is not None:
            return fresh
        lock = self._locks.setdefault(key, anyio.Lock())
        await lock.acquire()
        fresh = self._fresh(key)
        if fresh is not None:
            lock.release()
            return fresh
        fence = next(self._fences)
        self._holders[key] = fence
        return Lease(key, fence)

    def _drop_lease(self, lease: Lease) -> bool:
        if self._holders.get(lease.key) != lease.fence:
            return False
        del self._holders[lease.key]
        self._locks[lease.key].release()
        return True

    async def put(self, lease: Lease, token: str, ttl: float) -> bool:
        """See :meth:`TokenStore.put`."""
        if self._holders.get(lease.key) != lease.fence:
            return False
        self._tokens[lease.key] = (IssuedToken(token, lease.fence), self._clock() + ttl)
        return self._drop_lease(lease)

    async def release(self, lease: Lease) -> None:
        """See :meth:`TokenStore.release`."""
        self._drop_lease(lease)

    async def invalidate(self, key: str, token: IssuedToken) -> bool:
        """See :meth:`TokenStore.invalidate`."""
        entry = self._tokens.get(key)
        if entry is None or entry[0] != token:
            return False
        del self._tokens[key]
        return True


Fetch = Callable[[], Awaitable[tuple[str, int]]]


class _Flight:
    """One trip to the store (and gettoken) that concurrent callers of a manager share."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.token: IssuedToken | None = None
        self.error: Exception | None = None


class TokenManager:
    """Hands out the access token of one (corp_id, secret), fetching it at most once at a time.

    Args:
        fetch: calls gettoken and returns ``(access_token, expires_in)``.
        store: where the token lives (shared by every manager with the same key).
        key: the store key, from :func:`token_key`.
        refresh_margin: refresh this many seconds before expiry, capped at half the lifetime.
    """

    def __init__(
        self,
        fetch: Fetch,
        store: TokenStore,
        key: str,
        *,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        self._fetch = fetch
        self._store = store
        self._key = key
        self._margin = refresh_margin
        self._flight: _Flight | None = None
        # Optional: a store that can tell at once whether it holds a fresh token.
        self._peek: Callable[[str], IssuedToken | None] | None = getattr(store, "peek", None)

    def __repr__(self) -> str:
        return f"TokenManager(store={self._store!r})"

    async def get(self) -> IssuedToken:
        """Return a valid access token (``.value``), fetching one if the store has none.

        Callers arriving while another caller asks the store or fetches wait for that
        outcome and share it: the token, or the error the fetch raised. A caller cancelled
        while it fetches gives its lease back, and the callers waiting on it try again
        (one of them fetching), so the manager stays usable for everyone else.

        Raises:
            WeComError: the fetch failed (the same error for every caller waiting on it).
        """
        if self._flight is None and self._peek is not None:
            fresh = self._peek(self._key)
            if fresh is not None:
                return fresh
        while True:
            flight = self._flight
            if flight is None:
                return await self._lead()
            await flight.done.wait()
            if flight.token is not None:
                return flight.token
            if flight.error is not None:
                raise flight.error
            # The caller that led the flight was cancelled: try again.

    async def _lead(self) -> IssuedToken:
        """Ask the store (and fetch) for every caller that joins while this runs."""
        flight = self._flight = _Flight()
        try:
            flight.token = await self._obtain()
            return flight.token
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            if self._flight is flight:
                self._flight = None
            flight.done.set()

    async def _obtain(self) -> IssuedToken:
        got = await self._store.get_or_lease(self._key)
        if isinstance(got, IssuedToken):
            return got
        written = False
        try:
            token, expires_in = await self._fetch_holding(got)
            ttl = max(expires_in - min(self._margin, expires_in / 2), 0.0)
            written = await self._store.put(got, token, ttl)
            if not written:
                logger.debug("token lease expired before the write; the newer token stays")
            return IssuedToken(token, got.fence)
        finally:
            if not written:
                with anyio.CancelScope(shield=True):
                    await self._store.release(got)

    async def _fetch_holding(self, lease: Lease) -> tuple[str, int]:
        """Fetch while the store keeps ``lease`` from expiring, if it can.

        A store shared by processes gives its lease a TTL, so that a killed fetcher does
        not hold up the others for long; its optional ``keep_lease(lease)`` renews the
        lease until cancelled, so that a gettoken slower than that TTL (WeCom slow,
        retries) keeps it and the others go on waiting instead of fetching too.
        """
        keep: Callable[[Lease], Awaitable[None]] | None = getattr(self._store, "keep_lease", None)
        if keep is None:
            return await self._fetch()
        outcome: tuple[str, int] | None = None
        error: Exception | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(_quietly, keep, lease)
            try:
                outcome = await self._fetch()
            except Exception as exc:  # raised below, not wrapped in an exception group
                error = exc
            group.cancel_scope.cancel()
        if error is not None:
            raise error
        assert outcome is not None
        return outcome

    async def invalidate(self, token: IssuedToken) -> None:
        """Forget ``token`` if it is still the stored one (compare-and-delete)."""
        if await self._store.invalidate(self._key, token):
            logger.debug("access token invalidated after WeCom refused it")
            # A flight under way may have read the refused token before it was deleted:
            # callers from now on start a new one (the store's lease still allows one fetch).
            self._flight = None


async def _quietly(keep: Callable[[Lease], Awaitable[None]], lease: Lease) -> None:
    """Run ``keep(lease)``; a failure to renew a lease never fails the fetch beside it."""
    try:
        await keep(lease)
    except Exception as exc:
        logger.debug("could not renew the token lease: %s", type(exc).__name__)
