"""The worker: runs shards delivered by taskiq, and shards nobody runs, from the ledger.

How a shard gets run, and why it is run exactly once in the output:

* The submitter kicks one taskiq task per shard (``wecom_async.export.shard``, on the
  stream ``wecom_async:export:shards``). A worker that receives it claims the shard in
  the ledger; a claim refused (committed, or leased by a live worker) ends the task.
* Every worker also looks at the ledger every ``poll`` seconds, while it has a free
  slot, and claims any shard of an active export that is pending or whose lease
  expired: the shard of a worker killed with SIGKILL is taken over one lease later
  even if the broker never redelivers its message (taskiq-redis was observed not to
  while the queue is idle), and after Redis lost the stream. The broker only speeds
  the start up; completion rests on the ledger.
* A worker runs at most ``shards`` shards at once, whichever way they came.
* The worker whose commit completes an export (or whose sweep finds it complete)
  finishes it: its manifests, then out of the active set (see :mod:`._finish`), so an
  export submitted without waiting is finished all the same.

Each worker keeps one :class:`~wecom_async.WeComClient` per corp for its lifetime,
built by the corp's factory with the worker's :class:`~wecom_async.redis.RedisTokenStore`
and :class:`~wecom_async.redis.RedisRateBudget`: every worker of a corp shares its
token and its rate budget, so N workers stay under the corp's limits. A worker needs
the credentials of the corps it serves (they never go through Redis) and claims only
their shards.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import secrets
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Final, Protocol

import anyio
import anyio.abc
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import ResponseError as RedisReplyError

from ..._budget import DEFAULT_LIMITS, Limit
from ..._client import WeComClient
from ..._exceptions import ValidationError
from ..._logging import redact
from ..._token import TokenStore
from ..._validation import check_seconds, check_whole
from ..._wire import RateBudget
from .._job import Job
from .._since import JobRequest
from ._finish import finish_if_complete
from ._ledger import Claim, ExportInfo, Ledger, LedgerError
from ._parts import ExportFiles
from ._shard import LeaseOptions, StepHook, give_back, run_shard

__all__ = ["ClientFactory", "Corp", "ShardWorker"]

logger: Final = logging.getLogger("wecom_async.export")


class ClientFactory(Protocol):
    """Builds the client of one corp on the shared token store and rate budget."""

    def __call__(self, *, token_store: TokenStore, rate_budget: RateBudget) -> WeComClient:
        """Return a new client of the corp (the caller closes it)."""


#: A corp of a distributed export: its label in the ledger, and how to build its client.
Corp = tuple[str, ClientFactory]


class ShardWorker:
    """Claims and runs shards of the corps it serves; see the module docstring.

    Args:
        redis: the ledger's Redis (never closed by the worker).
        corps: the corps this worker serves (label, client factory).
        shards: shards run at once.
        options: lease length and error handling.
        poll: seconds between two looks at the ledger for shards nobody runs.
        limits: the rate budget's windows per corp and API, the same in every worker.
        prefix: the ledger's key prefix.
        step: called at named points of each shard's run (tests kill the process there).

    Raises:
        ValidationError: ``shards`` is not a whole number of at least 1, or ``poll`` not
            a finite number of seconds above 0.
    """

    def __init__(
        self,
        redis: Redis,
        corps: Sequence[Corp],
        *,
        shards: int = 2,
        options: LeaseOptions | None = None,
        poll: float = 2.0,
        limits: Sequence[Limit] = DEFAULT_LIMITS,
        prefix: str | None = None,
        step: StepHook | None = None,
    ) -> None:
        from ...redis import RedisRateBudget, RedisTokenStore

        check_whole(shards, "shards")
        check_seconds(poll, "poll")
        self.ledger = Ledger(redis) if prefix is None else Ledger(redis, prefix=prefix)
        self.factories = dict(corps)
        self.options = options or LeaseOptions()
        self.poll = poll
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.tokens = RedisTokenStore(redis)
        self.budget = RedisRateBudget(redis, limits=limits)
        self.slots = anyio.CapacityLimiter(shards)
        self.step = step
        self._clients: dict[str, WeComClient] = {}
        self._exports: dict[str, tuple[ExportInfo, Job, ExportFiles]] = {}
        self._group: anyio.abc.TaskGroup | None = None
        self._redis_down = False
        self._warned: set[tuple[str, str]] = set()
        self._noted: set[str] = set()

    def __repr__(self) -> str:
        return f"ShardWorker(corps={sorted(self.factories)}, owner={self.owner!r})"

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ShardWorker]:
        """Run the ledger sweep in the background; close every client on the way out."""
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                group.start_soon(self._sweep_forever)
                try:
                    yield self
                finally:
                    group.cancel_scope.cancel()
        finally:
            self._group = None
            with anyio.CancelScope(shield=True):
                for client in self._clients.values():
                    await client.aclose()
                self._clients.clear()

    async def run_task(self, export_id: str, shard: int) -> bool:
        """The taskiq task: run ``shard`` of ``export_id`` if the ledger lets us claim it.

        Returns:
            True when this worker committed the shard.
        """
        if not await self._reaches_files(export_id):
            return False
        async with self.slots:
            claim = await self._claim(export_id, shard)
            return await self._run(claim) if isinstance(claim, Claim) else False

    async def _claim(self, export_id: str, shard: int | None) -> Claim | float | None:
        return await self.ledger.claim(
            export_id, list(self.factories), self.owner, self.options.lease, shard
        )

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self._sweep()
                self._up()
            except (RedisError, OSError) as error:
                self._down(error)
            except Exception as error:  # never the end of the worker: logged, swept again
                self._warn_once("(sweep)", error)
            await anyio.sleep(self.poll)

    async def _sweep(self) -> None:
        """Claim what nobody runs, while a slot is free (see the module docstring).

        An export whose ledger data is damaged costs its own shards (a shard that cannot
        be read is marked failed), never the other exports this worker serves.
        """
        for export_id in await self.ledger.active():
            try:
                await self._sweep_export(export_id)
            except (LedgerError, RedisReplyError) as error:
                self._warn_once(export_id, error)

    async def _sweep_export(self, export_id: str) -> None:
        if not await self._reaches_files(export_id):
            return
        while self.slots.available_tokens >= 1:
            # The slot is released by the task that runs the shard, so it is held on
            # behalf of a token of its own rather than of this task.
            slot = object()
            await self.slots.acquire_on_behalf_of(slot)
            try:
                claim = await self._claim(export_id, None)
            except BaseException:
                self.slots.release_on_behalf_of(slot)
                raise
            if not isinstance(claim, Claim):
                self.slots.release_on_behalf_of(slot)
                if claim == math.inf:  # nothing left for us: maybe nothing left at all
                    await finish_if_complete(self.ledger, export_id, self._warn_once)
                return
            assert self._group is not None
            self._group.start_soon(self._run_holding, claim, slot)

    async def _reaches_files(self, export_id: str) -> bool:
        """This worker can use the export's files (a URL export needs the 'fsspec' extra
        and its protocol's package, configured). One that cannot never claims its shards:
        they wait for a worker that can, as a corp's wait for a worker holding its
        credentials (logged once per export, and noted in the ledger for ``export
        status``)."""
        try:
            await self._export(export_id)
        except ValidationError as error:
            self._warn_once(export_id, error)
            await self._note_waiting(export_id, error)
            return False
        except Exception:  # the ledger's errors: met again, and counted, by the run
            return True
        return True

    async def _note_waiting(self, export_id: str, error: Exception) -> None:
        """Tell ``export status`` why this worker leaves the export's shards pending (once
        per export; a Redis that cannot take it now is asked at the next sweep)."""
        if export_id in self._noted:
            return
        note = f"worker {self.owner} cannot use the export's files: {error}"
        with contextlib.suppress(RedisError):
            await self.ledger.note_waiting(export_id, note)
            self._noted.add(export_id)

    def _warn_once(self, export_id: str, error: Exception) -> None:
        """Log an export's error once (a damaged ledger, a manifest that cannot be
        written: the sweep meets it again every poll)."""
        text = redact(f"{type(error).__name__}: {error}")
        if (export_id, text) not in self._warned:
            self._warned.add((export_id, text))
            logger.error("export %s: %s", export_id, text)

    async def _run_holding(self, claim: Claim, slot: object) -> None:
        try:
            await self._run(claim)
        finally:
            self.slots.release_on_behalf_of(slot)

    async def _run(self, claim: Claim) -> bool:
        try:
            _info, job, files = await self._export(claim.export_id)
            client = self._client(claim.corp)
        except LedgerError as error:  # counted against the shard: failed after max_errors
            self._warn_once(claim.export_id, error)
            await give_back(self.ledger, claim, self.options, error)
            return False
        except Exception as error:  # the lease expires; the shard is offered again
            logger.warning(
                "shard %d of %s cannot run here: %s",
                claim.shard,
                claim.export_id,
                redact(str(error)),
            )
            return False
        try:
            done = await run_shard(self.ledger, claim, job, client, files, self.options, self.step)
        except Exception as error:  # Redis, or anything unforeseen: the worker goes on
            logger.warning(
                "shard %d of %s: %s",
                claim.shard,
                claim.export_id,
                redact(f"{type(error).__name__}: {error}"),
            )
            return False
        try:
            await finish_if_complete(self.ledger, claim.export_id, self._warn_once)  # the last
        except Exception as error:  # the next sweep finishes it
            self._warn_once(claim.export_id, error)
        return done

    async def _export(self, export_id: str) -> tuple[ExportInfo, Job, ExportFiles]:
        known = self._exports.get(export_id)
        if known is None:
            info = await self.ledger.info(export_id)
            if info is None:
                raise LookupError(f"the ledger has no export {export_id}")
            known = (info, job_of(info), ExportFiles(info.directory, export_id))
            self._exports[export_id] = known
        return known

    def _client(self, corp: str) -> WeComClient:
        client = self._clients.get(corp)
        if client is None:
            client = self.factories[corp](token_store=self.tokens, rate_budget=self.budget)
            self._clients[corp] = client
        return client

    def _down(self, error: BaseException) -> None:
        if not self._redis_down:
            self._redis_down = True
            logger.warning(
                "worker: the ledger's Redis is unreachable (%s); retrying", type(error).__name__
            )

    def _up(self) -> None:
        if self._redis_down:
            self._redis_down = False
            logger.warning("worker: the ledger's Redis answers again")


def job_of(info: ExportInfo) -> Job:
    """The export kind of ``info``, with the range, pairs and chunk size it was planned with."""
    request = info.request
    since, until = request.get("since"), request.get("until")
    chunk = request.get("chunk_size")
    pairs = request.get("pairs") or []
    assert isinstance(pairs, list)
    return JobRequest(
        since=since if isinstance(since, int) else None,
        until=until if isinstance(until, int) else None,
        pairs=tuple((str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2),
    ).build(info.kind, chunk_size=chunk if isinstance(chunk, int) else None, concurrency=1)
