"""Durable callback events: each push is stored in Redis before WeCom is answered 200.

Needs the ``taskiq`` extra (``pip install "wecom-async[taskiq]"``).  The web process
hands every verified event to a :class:`TaskiqSink`; its ``put`` returns once the event
is in a Redis stream, and only then is the push acknowledged.  A taskiq worker process
(``taskiq worker yourapp.events:broker``) runs the handlers with
:meth:`CallbackReceiver.dispatch`; a stream entry is deleted only after its handlers
finished, so a crash or ``kill -9`` of either process loses nothing that was answered 200.

Delivery to handlers is at least once: an event whose worker died mid-handler runs again
on another worker after ``idle_timeout``.  Make handlers idempotent (for example keyed by
``external_userid`` and ``create_time``).

Example (``events.py``, imported by the web app and by ``taskiq worker events:broker``)::

    broker = EventStreamBroker("redis://localhost:6379/0")
    sink = TaskiqSink(broker)
    receiver = sink.bind(CallbackReceiver(crypto, sink=sink))

    @receiver.on(AddExternalContact)
    async def greet(event: AddExternalContact) -> None: ...

    app = FastAPI(lifespan=sink.lifespan)
    app.include_router(callback_router(receiver, "/wecom/callback"))

What "stored" survives is Redis' own persistence: run it with ``appendonly yes``.

Docs: https://developer.work.weixin.qq.com/document/path/90930 (callbacks).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Final, TypeAlias, cast

import anyio
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import StreamIdT
from taskiq import AckableMessage, AsyncBroker, AsyncTaskiqDecoratedTask, TaskiqEvents
from taskiq.acks import AcknowledgeType
from taskiq.state import TaskiqState
from taskiq_redis import RedisStreamBroker

from wecom_async._exceptions import ValidationError
from wecom_async._logging import logger
from wecom_async._validation import check_seconds, check_whole
from wecom_async.callback._codec import event_to_xml, parse_event
from wecom_async.callback._errors import CallbackError
from wecom_async.callback._receiver import CallbackReceiver, describe
from wecom_async.callback.events import Event

__all__ = [
    "DEFAULT_CONSUMER_GROUP",
    "DEFAULT_IDLE_TIMEOUT_MS",
    "DEFAULT_PUT_TIMEOUT",
    "DEFAULT_QUEUE",
    "EVENT_TASK_NAME",
    "EventStreamBroker",
    "TaskiqSink",
]


#: The taskiq task that carries one event; its only argument is the event's XML.
EVENT_TASK_NAME: Final = "wecom_async.callback.event"
#: The Redis stream holding stored, unfinished events.
DEFAULT_QUEUE: Final = "wecom_async:callback:events"
DEFAULT_CONSUMER_GROUP: Final = "wecom_async"
#: Milliseconds after which an event held by a worker that stopped renewing it (a dead
#: worker) is taken over by another.  A live worker renews its events every third of it,
#: so a long handler is not run twice.
DEFAULT_IDLE_TIMEOUT_MS: Final = 30_000
#: Seconds ``put`` may take: WeCom gives up on an answer after 5 s, so a slower Redis is
#: answered 503 (WeCom retries) rather than left to time out.
DEFAULT_PUT_TIMEOUT: Final = 3.0


#: A stream entry as redis-py returns it: its id and fields (None once deleted).
_Entry: TypeAlias = "tuple[bytes, dict[bytes, bytes] | None]"
_ReadReply: TypeAlias = "dict[bytes, list[_Entry]] | list[tuple[bytes, list[_Entry]]] | None"


class TaskiqSink:
    """An :class:`EventSink` that stores each event as a taskiq task.

    ``put`` kicks the task ``wecom_async.callback.event`` with the event's plaintext XML
    (:func:`event_to_xml`, WeCom's own format: a worker running a newer SDK reads what an
    older one stored, and nothing is stored beyond what the push itself held).  With
    :class:`EventStreamBroker` the kick returns once Redis holds the event, so the
    receiver answers 200 only then; a failure or ``put_timeout`` makes it answer 503 and
    WeCom retries the push.

    In the worker the task parses the XML and runs :meth:`CallbackReceiver.dispatch` of
    the receiver given to :meth:`bind`.  A handler that raises is logged with the
    event's ids and not run again (as with the in-process queue); the event is removed
    once every handler returned.  The task is labelled ``ack_type=when_executed``, so a
    worker started with another ``--ack-type`` still removes an event only after it ran.

    Args:
        broker: the taskiq broker (an :class:`EventStreamBroker` for durability;
            ``taskiq.InMemoryBroker`` runs the handlers in-process, for tests).
        put_timeout: seconds ``put`` may take before the push is answered 503.
        task_name: the task's name, when one broker carries events of several receivers.

    Raises:
        ValidationError: ``put_timeout`` is not positive.
    """

    def __init__(
        self,
        broker: AsyncBroker,
        *,
        put_timeout: float = DEFAULT_PUT_TIMEOUT,
        task_name: str = EVENT_TASK_NAME,
    ) -> None:
        self.broker = broker
        self.put_timeout = check_seconds(put_timeout, "put_timeout")
        self._receiver: CallbackReceiver | None = None
        self._task: AsyncTaskiqDecoratedTask[[str], Coroutine[Any, Any, None]]

        async def handle_callback_event(xml: str) -> None:
            # A plain function: taskiq renames what it registers, which a method refuses.
            await self._run(xml)

        self._task = broker.register_task(
            handle_callback_event, task_name=task_name, ack_type=AcknowledgeType.WHEN_EXECUTED.value
        )
        broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, self._check_bound)

    def __repr__(self) -> str:
        return f"TaskiqSink({type(self.broker).__name__}, task={self._task.task_name!r})"

    def bind(self, receiver: CallbackReceiver) -> CallbackReceiver:
        """Name the receiver whose handlers the worker runs; return it (for chaining).

        Call it in the module both processes import; a worker whose sink is not bound
        refuses to start rather than take events it cannot handle.
        """
        self._receiver = receiver
        return receiver

    @property
    def receiver(self) -> CallbackReceiver:
        """The receiver given to :meth:`bind`.

        Raises:
            ValidationError: :meth:`bind` was not called.
        """
        if self._receiver is None:
            raise ValidationError(
                "TaskiqSink.bind(receiver) was not called in the module the web app and "
                "the worker import"
            )
        return self._receiver

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        """A lifespan for the web app (``FastAPI(lifespan=sink.lifespan)``).

        Starts the broker, runs the bound receiver's lifespan, and shuts the broker down
        after it.

        Raises:
            ValidationError: :meth:`bind` was not called.
        """
        receiver = self.receiver
        await self.broker.startup()
        try:
            async with receiver.lifespan(app):
                yield
        finally:
            await self.broker.shutdown()

    async def put(self, event: Event) -> None:
        """Store ``event`` as a task; return once the broker has it.

        Raises:
            TimeoutError: the broker took longer than ``put_timeout``.
            ValueError: the event cannot be written as XML (never for a parsed event).
            Exception: whatever the broker raised (Redis unreachable...).  The receiver
                answers 503 for any of them, so WeCom retries the push.
        """
        try:
            xml = event_to_xml(event)
        except CallbackError as exc:
            # Not a refusal of the request (400): the push was genuine, keep it retried.
            raise ValueError(f"cannot store the event: {exc.reason}") from None
        with anyio.fail_after(self.put_timeout):
            await self._task.kiq(xml)

    async def _run(self, xml: str) -> None:
        receiver = self.receiver  # bound: _check_bound let the worker start
        try:
            # Accepted once already: the limit only has to hold its UTF-8 bytes.
            event = parse_event(xml, max_bytes=4 * len(xml) + 64)
        except CallbackError:
            logger.exception("a stored callback event could not be parsed; it is dropped")
            return
        failed = await receiver.dispatch(event)
        if failed:
            logger.warning("%d handler(s) failed for the stored event %s", failed, describe(event))

    def _check_bound(self, state: TaskiqState) -> None:
        # A worker that cannot run handlers must not take (and acknowledge) events.
        _ = self.receiver


class EventStreamBroker(RedisStreamBroker):
    """taskiq-redis' stream broker, made safe for events already answered 200.

    It differs from :class:`taskiq_redis.RedisStreamBroker` where an event could be lost
    or stuck:

    * An event held by a dead worker is taken over after ``idle_timeout`` ms even while
      no new event arrives (taskiq-redis 1.2 looks for such events only after reading
      new ones, so one killed mid-handler waited for the next push).
    * A live worker renews the events it holds every ``idle_timeout / 3``, so a handler
      running longer than ``idle_timeout`` is not taken over and run twice.
    * The consumer group starts at the beginning of the stream, so events stored before
      the first worker ever started are handled (``$`` would skip them).
    * A handled event is deleted with its acknowledgement, so the stream holds only
      unfinished events and needs no ``maxlen`` (trimming could drop unhandled ones).
    * Redis unreachable or restarted empty: the worker waits ``reconnect_delay`` and
      reads again (recreating its group) instead of stopping.

    Redis must persist what it stores (``appendonly yes``; ``appendfsync always`` loses
    nothing on a Redis crash, ``everysec`` up to a second) for "stored" to survive a
    Redis restart.

    Args:
        url: the Redis URL (``redis://[user:password@]host:port/db``, ``rediss://`` for TLS).
        queue_name: the stream key.
        consumer_group_name: the consumer group every worker joins.
        consumer_name: this worker's name in the group (a random UUID by default).
        idle_timeout: milliseconds after which a dead worker's events are taken over.
        xread_block: milliseconds one read waits for a new event; an idle worker looks
            for dead workers' events at least this often.
        xread_count: events read at once (1: a busy worker does not hoard events).
        reclaim_count: dead workers' events taken over at once.
        reconnect_delay: seconds between attempts while Redis is unreachable.
        max_connection_pool_size: the Redis connection pool's limit (None: unbounded).
        label: what the stream carries, in log lines ("callback events").

    Raises:
        ValidationError: a timing is not positive.
    """

    def __init__(
        self,
        url: str,
        *,
        queue_name: str = DEFAULT_QUEUE,
        consumer_group_name: str = DEFAULT_CONSUMER_GROUP,
        consumer_name: str | None = None,
        idle_timeout: int = DEFAULT_IDLE_TIMEOUT_MS,
        xread_block: int = 2000,
        xread_count: int = 1,
        reclaim_count: int = 10,
        reconnect_delay: float = 1.0,
        max_connection_pool_size: int | None = None,
        label: str = "callback events",
    ) -> None:
        for name, count in (
            ("idle_timeout", idle_timeout),
            ("xread_block", xread_block),
            ("xread_count", xread_count),
            ("reclaim_count", reclaim_count),
        ):
            check_whole(count, name)
        check_seconds(reconnect_delay, "reconnect_delay")
        super().__init__(
            url,
            queue_name=queue_name,
            max_connection_pool_size=max_connection_pool_size,
            consumer_group_name=consumer_group_name,
            consumer_name=consumer_name,
            consumer_id="0",
            mkstream=True,
            xread_block=xread_block,
            idle_timeout=idle_timeout,
            unacknowledged_batch_size=reclaim_count,
            xread_count=xread_count,
        )
        self.reconnect_delay = reconnect_delay
        self.label = label
        self._held: set[bytes] = set()

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Yield stored events: new ones, and those a dead worker held for too long.

        Each message's ``ack`` acknowledges and deletes its stream entry.
        """
        renewer = asyncio.get_running_loop().create_task(self._renew_forever())
        try:
            async with Redis(connection_pool=self.connection_pool) as redis:
                outage = _Outage(self.queue_name, self.label)
                while True:
                    try:
                        entries = await self._next_entries(redis)
                    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                        outage.started(exc)
                        await anyio.sleep(self.reconnect_delay)
                        continue
                    outage.ended()
                    for entry_id, data in entries:
                        self._held.add(entry_id)
                        yield AckableMessage(data=data, ack=self._acknowledger(entry_id))
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _next_entries(self, redis: Redis) -> list[tuple[bytes, bytes]]:
        try:
            # Dead workers' events first: they have waited longest.  This runs after every
            # read, and a read returns within xread_block even when nothing is new.
            reclaimed = await redis.xautoclaim(
                self.queue_name,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=self.idle_timeout,
                start_id="0-0",
                count=self.unacknowledged_batch_size,
            )
            read = await redis.xreadgroup(
                self.consumer_group_name,
                self.consumer_name,
                {self.queue_name: ">"},
                block=self.block,
                count=self.count,
            )
            fetched = cast("_ReadReply", read)  # redis-py types every reply shape at once
        except ResponseError as exc:
            if not str(exc).startswith("NOGROUP"):
                raise
            # The stream or its group is gone (a Redis restarted without its data).
            await self._create_group(redis)
            return []
        entries: list[_Entry] = list(reclaimed[1])
        streams = fetched.values() if isinstance(fetched, dict) else (s for _, s in fetched or ())
        for stream_entries in streams:  # a dict with RESP3, pairs with RESP2
            entries.extend(stream_entries)
        # An entry deleted meanwhile comes back without fields (Redis 6.2): skip it.
        return [(entry_id, fields[b"data"]) for entry_id, fields in entries if fields]

    async def _create_group(self, redis: Redis) -> None:
        try:
            await redis.xgroup_create(
                self.queue_name, self.consumer_group_name, id="0", mkstream=True
            )
        except ResponseError as exc:
            if not str(exc).startswith("BUSYGROUP"):  # another worker created it first
                raise

    def _acknowledger(self, entry_id: bytes) -> Callable[[], Awaitable[None]]:
        async def acknowledge() -> None:
            try:
                async with (
                    Redis(connection_pool=self.connection_pool) as redis,
                    redis.pipeline(transaction=True) as pipe,
                ):
                    pipe.xack(self.queue_name, self.consumer_group_name, entry_id)
                    pipe.xdel(self.queue_name, entry_id)
                    await pipe.execute()
            finally:
                # Renewed no more: an entry whose acknowledgement failed is taken over
                # and run again after idle_timeout rather than kept pending forever.
                self._held.discard(entry_id)

        return acknowledge

    async def _renew_forever(self) -> None:
        """Reset the idle time of the events this worker holds, every idle_timeout / 3."""
        interval = self.idle_timeout / 3000
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                await anyio.sleep(interval)
                held: list[StreamIdT] = list(self._held)
                if not held:
                    continue
                try:
                    # JUSTID: renews without counting a delivery; an entry acknowledged
                    # meanwhile is no longer pending and is left alone.
                    await redis.xclaim(
                        self.queue_name,
                        self.consumer_group_name,
                        self.consumer_name,
                        min_idle_time=0,
                        message_ids=held,
                        justid=True,
                    )
                except (RedisError, OSError) as exc:
                    logger.warning(
                        "could not renew %d held %s: %s", len(held), self.label, type(exc).__name__
                    )


class _Outage:
    """One warning when Redis becomes unreachable and one when it is back, not one a try."""

    def __init__(self, queue: str, label: str) -> None:
        self._queue = queue
        self._label = label
        self._since: float | None = None

    def started(self, exc: BaseException) -> None:
        if self._since is None:
            self._since = time.monotonic()
            logger.warning(
                "cannot read %s from Redis (%s): %s; retrying",
                self._label,
                self._queue,
                type(exc).__name__,
            )

    def ended(self) -> None:
        if self._since is not None:
            logger.warning(
                "reading %s from Redis again after %.0f s",
                self._label,
                time.monotonic() - self._since,
            )
            self._since = None
