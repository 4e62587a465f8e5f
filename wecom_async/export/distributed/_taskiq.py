"""The taskiq side of a distributed export: the broker, the kick, the worker's receiver.

Needs the ``taskiq`` extra (``pip install "wecom-async[taskiq]"``). Shards travel as
tasks ``wecom_async.export.shard(export_id, shard)`` on a Redis stream through
:class:`~wecom_async.callback.taskiq.EventStreamBroker` (taskiq-redis' stream broker,
with a dead worker's messages taken over while the queue is idle and handled messages
deleted). A message is only a hint: the worker claims the shard in the ledger first,
so a message delivered twice, or lost, changes nothing in the output (see
:mod:`._worker`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Final

import anyio
from redis.exceptions import RedisError
from taskiq import AsyncBroker
from taskiq.acks import AcknowledgeType
from taskiq.api import run_receiver_task
from taskiq.kicker import AsyncKicker

from ..._budget import DEFAULT_LIMITS, Limit
from ...callback.taskiq import EventStreamBroker
from ...redis._connect import client_from_url
from ._shard import LeaseOptions, StepHook
from ._worker import Corp, ShardWorker

__all__ = [
    "SHARD_QUEUE",
    "SHARD_TASK",
    "kick_shards",
    "run_worker",
    "serve_worker",
    "shard_broker",
]

#: The task that carries one shard: ``(export_id, shard)``.
SHARD_TASK: Final = "wecom_async.export.shard"
#: The Redis stream of shard tasks.
SHARD_QUEUE: Final = "wecom_async:export:shards"
_GROUP: Final = "wecom_async_export"

logger: Final = logging.getLogger("wecom_async.export")


def shard_broker(
    url: str, *, idle_timeout_ms: int = 30_000, xread_block_ms: int = 1000
) -> AsyncBroker:
    """The broker shard tasks go through, on the Redis at ``url``."""
    return EventStreamBroker(
        url,
        queue_name=SHARD_QUEUE,
        consumer_group_name=_GROUP,
        idle_timeout=idle_timeout_ms,
        xread_block=xread_block_ms,
        label="export shard tasks",
    )


async def kick_shards(broker: AsyncBroker, export_id: str, shards: Iterable[int]) -> None:
    """Send one shard task per shard (a hint to the workers; the ledger decides)."""
    kicker: AsyncKicker[[str, int], bool] = AsyncKicker(SHARD_TASK, broker, {})
    for shard in shards:
        await kicker.kiq(export_id, shard)


async def serve_worker(
    broker: AsyncBroker,
    worker: ShardWorker,
    *,
    startup_delay: float = 0.5,
    max_startup_delay: float = 30.0,
) -> None:
    """Run ``worker`` on ``broker`` until cancelled: shard tasks plus the ledger sweep.

    The broker must not have been started; it is started here (while its Redis cannot
    be reached, again after ``startup_delay`` seconds, doubled up to
    ``max_startup_delay``, with one log line; the ledger sweep runs meanwhile) and shut
    down on the way out.
    """

    async def run_export_shard(export_id: str, shard: int) -> bool:
        return await worker.run_task(export_id, shard)

    broker.register_task(
        run_export_shard, task_name=SHARD_TASK, ack_type=AcknowledgeType.WHEN_EXECUTED.value
    )
    async with worker.running():
        await _start(broker, startup_delay, max_startup_delay)
        try:
            await run_receiver_task(
                broker,
                max_async_tasks=worker.slots.total_tokens,  # type: ignore[arg-type]
                max_prefetch=0,
                run_startup=False,
            )
        finally:
            with anyio.CancelScope(shield=True):
                await broker.shutdown()


async def _start(broker: AsyncBroker, delay: float, max_delay: float) -> None:
    """Start ``broker``, waiting out a Redis that cannot be reached (a worker started
    before its Redis, or during an outage, serves once it is up instead of dying)."""
    unreachable = False
    while True:
        try:
            await broker.startup()
        except (RedisError, OSError) as error:
            if not unreachable:
                unreachable = True
                logger.warning(
                    "worker: cannot reach the Redis of the shard tasks (%s); retrying every "
                    "%.0f s at most (the ledger sweep runs meanwhile)",
                    type(error).__name__,
                    max_delay,
                )
        else:
            if unreachable:
                logger.warning("worker: the Redis of the shard tasks answers; serving")
            return
        await anyio.sleep(delay)
        delay = min(delay * 2, max_delay)


async def run_worker(
    redis_url: str,
    corps: Sequence[Corp],
    *,
    shards: int = 2,
    options: LeaseOptions | None = None,
    poll: float = 2.0,
    limits: Sequence[Limit] = DEFAULT_LIMITS,
    step: StepHook | None = None,
) -> None:
    """Run a shard worker for ``corps`` on the Redis at ``redis_url`` until cancelled.

    What ``wecom-async worker`` runs. The arguments are those of
    :class:`~wecom_async.export.distributed.ShardWorker`.

    Raises:
        ValidationError: the URL or an argument cannot be used.
    """
    options = options or LeaseOptions()
    redis = client_from_url(redis_url, timeout=options.redis_timeout)
    try:
        worker = ShardWorker(
            redis, corps, shards=shards, options=options, poll=poll, limits=limits, step=step
        )
        # A dead worker's message is taken over after a lease; the ledger fences any rerun.
        idle = max(1000, round(options.lease * 1000))
        await serve_worker(shard_broker(redis_url, idle_timeout_ms=idle), worker)
    finally:
        await redis.aclose()
