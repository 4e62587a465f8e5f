"""Running one leased shard: page its unit into a part, keep the lease, commit.

::

    claim (epoch e)                     the ledger granted the lease
      heartbeat every lease / 3         in the background; a refusal (taken over) or
                                        no answer for a whole lease cancels the run
      job.fetch pages -> part file      <export>-s<k>-e<e>-<owner>.jsonl.part, whole
                                        records (created exclusively; for a URL
                                        output a local temporary file)
      fsync, rename                     <export>-s<k>-e<e>-<owner>.jsonl (a URL: one
                                        whole upload; a failure gives the shard back)
      commit (fenced by e)              accepted: write the commit record
                                        refused:  a newer lease owns the shard; the part
                                                  is removed, nothing counted

A page WeCom refuses follows the single-process engine's rules
(:func:`~wecom_async.export._job.classify`): a ``unit`` error is a partial failure
committed with the shard (a unit refused on its first page is split when the kind
can); a cursor WeCom no longer accepts (50100) restarts the unit once, its records
written so far dropped from the part (the part is the shard's alone, so the restart
needs no identity skip); a ``stop`` error gives the shard back to the ledger, which
offers it again after a pause, or marks it failed after ``max_errors`` tries.

A commit whose answer is lost (Redis cut off after it ran) is asked again: the
script answers "already yours" for the same epoch and file. A part is removed only on
a refusal, never while the outcome is unknown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import anyio
from redis.exceptions import RedisError

from ..._client import WeComClient
from ..._exceptions import ResponseError, WeComError
from ..._logging import redact
from ..._validation import check_seconds, check_whole
from ...models._base import JsonObject
from ...pagination import SeenTokens
from .._checkpoint import Failure, merge_failures
from .._job import Job, classify, cursor_expired, unit_failure
from .._writer import JsonlEncoder
from ._ledger import Claim, Ledger
from ._parts import ExportFiles, PartFile

__all__ = ["LeaseOptions", "ShardLost", "give_back", "run_shard"]

logger: Final = logging.getLogger("wecom_async.export")

#: What a Redis call of the shard's lease may raise while Redis is away.
_REDIS_ERRORS: Final = (RedisError, OSError, TimeoutError)

#: Called at named points of a shard's run: "page" (a page written), "renamed" (the
#: part in place, not committed), "committed" (before the commit record).
StepHook = Callable[[str, Claim], None]


@dataclass(frozen=True, kw_only=True)
class LeaseOptions:
    """How long a lease lasts and what happens to a shard that fails.

    Attributes:
        lease: seconds a lease holds without a heartbeat (a killed worker's shard is
            offered again after this long).
        max_errors: tries of a shard that stops on an error before it is failed for good.
        retry_pause: seconds before a shard given back after an error is offered again.
        redis_timeout: seconds one ledger call may take.

    Raises:
        ValidationError: ``lease`` or ``redis_timeout`` is not a finite number of seconds
            above 0, ``retry_pause`` one of 0 or more, or ``max_errors`` is not a whole
            number of at least 1.
    """

    lease: float = 30.0
    max_errors: int = 5
    retry_pause: float = 10.0
    redis_timeout: float = 5.0

    def __post_init__(self) -> None:
        check_seconds(self.lease, "lease")
        check_whole(self.max_errors, "max_errors")
        check_seconds(self.retry_pause, "retry_pause", zero=True)
        check_seconds(self.redis_timeout, "redis_timeout")


class ShardLost(Exception):
    """Raised inside a run when its lease was taken over or could not be renewed."""


@dataclass
class _Written:
    items: int = 0
    failures: list[Failure] = field(default_factory=list)


async def run_shard(
    ledger: Ledger,
    claim: Claim,
    job: Job,
    client: WeComClient,
    files: ExportFiles,
    options: LeaseOptions,
    step: StepHook | None = None,
) -> bool:
    """Run the leased shard to its commit; see the module docstring.

    Returns:
        True when this run's part was committed, False when the ledger refused it or the
        lease was lost (the shard is then another lease's, or offered again).
    """
    # The store's calls block (an upload above all): run beside the event loop, so the
    # other shards of this worker keep their heartbeats.
    try:
        part = await anyio.to_thread.run_sync(
            files.open_part, claim.shard, claim.epoch, claim.owner
        )
    except OSError as error:  # the store cannot be used: counted against the shard
        await give_back(ledger, claim, options, error)
        return False
    run = _Run(ledger, claim, job, client, part, options, step)
    try:
        written = await run.fetch_with_lease()
    except ShardLost:
        await discard(part, claim)
        logger.warning(
            "shard %d of %s: lease lost; left to its new owner", claim.shard, claim.export_id
        )
        return False
    except Exception as error:  # a page refused, or the part not put in place
        # Given back even when the part cannot be removed (a store denying deletes
        # too): the error is counted, so the shard fails after max_errors rather than
        # wait for its lease to expire, forever.
        await discard(part, claim)
        await give_back(ledger, claim, options, error)
        return False
    return await run.commit(files, written)


async def discard(part: PartFile, claim: Claim) -> None:
    """Remove ``part``; one that cannot be removed is left as an orphan (the ledger never
    names it, so it is never read) and logged."""
    try:
        await anyio.to_thread.run_sync(part.discard)
    except Exception as error:  # whatever the store raised: cleanup never ends the run
        logger.warning(
            "shard %d of %s: its part %s could not be removed (%s); left, never read",
            claim.shard,
            claim.export_id,
            part.path.name,
            redact(f"{type(error).__name__}: {error}".splitlines()[0])[:300],
        )


class _Run:
    def __init__(
        self,
        ledger: Ledger,
        claim: Claim,
        job: Job,
        client: WeComClient,
        part: PartFile,
        options: LeaseOptions,
        step: StepHook | None,
    ) -> None:
        self.ledger, self.claim, self.job, self.client = ledger, claim, job, client
        self.part, self.options, self.step = part, options, step
        self.encoder = JsonlEncoder()
        self.written = _Written()
        self.size = 0
        self.lost = False

    def _step(self, name: str) -> None:
        if self.step is not None:
            self.step(name, self.claim)

    async def fetch_with_lease(self) -> _Written:
        failed: Exception | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(self._keep_lease, group.cancel_scope)
            try:
                await self._unit(self.claim.spec)
                # Put in place (uploaded, for a URL) while the lease is still renewed.
                await anyio.to_thread.run_sync(self.part.finish)
            except Exception as error:  # raised below, bare: not as an exception group
                failed = error
            group.cancel_scope.cancel()
        if self.lost:
            raise ShardLost
        if failed is not None:
            raise failed
        return self.written

    async def _keep_lease(self, scope: anyio.CancelScope) -> None:
        """Renew every lease / 3; cancel the run when refused or unrenewed for a lease."""
        lease = self.options.lease
        renewed = time.monotonic()
        while True:
            await anyio.sleep(lease / 3)
            try:
                with anyio.fail_after(self.options.redis_timeout):
                    held = await self.ledger.heartbeat(self.claim, lease)
            except _REDIS_ERRORS:
                held = time.monotonic() - renewed < lease
            else:
                renewed = time.monotonic()
            if not held:
                self.lost = True
                scope.cancel()
                return

    async def _unit(self, spec: JsonObject) -> None:
        """Write every page of one unit (or of its parts, when WeCom refused it whole)."""
        start, items = self.size, self.written.items
        cursor: str | None = None
        may_restart = True
        seen = SeenTokens(None, what=f"{self.job.name} shard {self.claim.shard}")
        while True:
            try:
                batch = await self.job.fetch(self.client, spec, cursor)
            except WeComError as error:
                if classify(error) == "stop":
                    raise
                if cursor is not None and may_restart and cursor_expired(error):
                    self.part.truncate(start)
                    self.size, self.written.items = start, items
                    cursor, may_restart = None, False
                    seen = SeenTokens(None, what=f"{self.job.name} shard {self.claim.shard}")
                    continue
                parts = self.job.split(spec, error) if cursor is None else []
                for part in parts:
                    await self._unit(part.spec)
                if not parts:
                    self.written.failures.append(unit_failure(error, self.job.ids(spec)))
                return
            self._write(batch.records)
            self.written.failures.extend(batch.failures)
            self._step("page")
            try:
                seen.follow(batch.next_cursor)
            except ResponseError as error:
                self.written.failures.append(unit_failure(error, self.job.ids(spec)))
                return
            if batch.next_cursor is None:
                return
            cursor = batch.next_cursor

    def _write(self, records: Sequence[JsonObject]) -> None:
        data = self.encoder.encode(records)
        self.part.write(data)
        self.size += len(data)
        self.written.items += len(records)

    async def commit(self, files: ExportFiles, written: _Written) -> bool:
        self._step("renamed")
        claim, name = self.claim, self.part.path.name
        failures = [f.to_json() for f in merge_failures(written.failures)]
        deadline = time.monotonic() + self.options.lease
        while True:
            try:
                with anyio.fail_after(self.options.redis_timeout):
                    accepted = await self.ledger.commit(claim, name, written.items, failures)
                break
            except _REDIS_ERRORS as error:
                if time.monotonic() > deadline:
                    # The outcome is unknown: the part stays; the ledger says if it counts.
                    logger.warning(
                        "shard %d of %s: commit unanswered (%s); the shard is left to the ledger",
                        claim.shard,
                        claim.export_id,
                        type(error).__name__,
                    )
                    return False
                await anyio.sleep(min(1.0, self.options.lease / 10))
        if not accepted:
            await discard(self.part, claim)
            logger.warning(
                "shard %d of %s: commit refused (epoch %d was taken over); its part is removed",
                claim.shard,
                claim.export_id,
                claim.epoch,
            )
            return False
        self._step("committed")
        try:
            await anyio.to_thread.run_sync(
                files.record_commit, claim.shard, name, written.items, failures
            )
        except OSError as error:  # committed all the same: only a rebuild runs it again
            logger.warning(
                "shard %d of %s: committed, but its commit record was not written (%s): "
                "a ledger rebuilt after a Redis loss would run it again",
                claim.shard,
                claim.export_id,
                redact(f"{type(error).__name__}: {error}".splitlines()[0])[:300],
            )
        return True


async def give_back(ledger: Ledger, claim: Claim, options: LeaseOptions, error: Exception) -> None:
    """Return the shard to the ledger after ``error``: offered again after a pause, or
    failed for good after ``options.max_errors`` tries."""
    reason = redact(f"{type(error).__name__}: {error}".splitlines()[0])[:500]
    try:
        with anyio.fail_after(options.redis_timeout):
            state = await ledger.release(
                claim, reason, max_errors=options.max_errors, pause=options.retry_pause
            )
    except _REDIS_ERRORS:
        state = None  # the lease expires by itself
    logger.warning(
        "shard %d of %s stopped (%s); %s",
        claim.shard,
        claim.export_id,
        reason,
        "failed for good" if state == "failed" else "it will be tried again",
    )
