"""A framework-neutral receiver: verify, acknowledge once accepted, run handlers."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import time
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Final, Protocol, TypeVar, overload

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

from wecom_async._exceptions import ValidationError
from wecom_async._logging import logger
from wecom_async._validation import check_seconds, check_whole
from wecom_async.callback._backend import cancel_requested
from wecom_async.callback._codec import is_malformed, parse_event
from wecom_async.callback._crypto import CallbackCrypto
from wecom_async.callback._deliveries import Deliveries
from wecom_async.callback._errors import (
    BodyTooLargeError,
    CallbackError,
    ReceiverBusyError,
    SignatureError,
    SlowBodyError,
    StaleRequestError,
)
from wecom_async.callback._queue import LoopQueue
from wecom_async.callback._report import RefusalLog, describe
from wecom_async.callback._xml import check_size
from wecom_async.callback.events import Event

__all__ = ["CallbackReceiver", "EventSink", "Handler", "describe"]


E = TypeVar("E", bound=Event)
#: An event handler: an async function taking the event.
Handler = Callable[[E], Awaitable[None]]

#: Default number of events whose handlers run at the same time.
DEFAULT_MAX_CONCURRENCY: Final = 16
#: Default number of events accepted and not yet finished (running or waiting); one more
#: is answered 503 so that WeCom delivers it again later instead of it waiting in memory.
DEFAULT_MAX_PENDING: Final = 1000
#: Default freshness window: a push signed more than five minutes ago is refused.  WeCom
#: retries a push it got no 200 for (three tries, each given 5 s), well inside it, and it
#: leaves room for a few minutes of clock difference.
DEFAULT_MAX_AGE: Final = 300.0
#: Default tolerance for a push signed in the future (a receiver clock running behind).
DEFAULT_MAX_FUTURE: Final = 60.0
#: Default minimum time a delivery is remembered (it is always remembered for as long as a
#: replay of it would pass the freshness check).
DEFAULT_DEDUPE_WINDOW: Final = 300.0
#: At most this many deliveries are remembered; when every one of them is still needed to
#: refuse replays, a new event is answered 503 instead of forgetting one.
MAX_DEDUPE_ENTRIES: Final = 100_000
#: Default seconds :meth:`CallbackReceiver.aclose` waits for unfinished events.
DEFAULT_SHUTDOWN_TIMEOUT: Final = 20.0
#: Seconds a pushed body may take to arrive whole: WeCom sends its few KiB at once.
DEFAULT_BODY_TIMEOUT: Final = 10.0
#: Decrypted messages longer than this are parsed in a worker thread, off the event loop.
INLINE_PARSE_CHARS: Final = 8 * 1024

_Key = type[Event] | tuple[str, str | None]


class EventSink(Protocol):
    """Where a receiver hands each verified, de-duplicated event.

    The HTTP answer waits for :meth:`put`: WeCom is told "received" only once ``put``
    returned, so a sink that stores durably (a task queue, a database) makes every event
    answered 200 survive a crash; its worker runs the handlers with
    :meth:`CallbackReceiver.dispatch`.  Without a sink the receiver keeps a bounded
    in-process queue (see :class:`CallbackReceiver`).

    Example (a task queue)::

        class QueueSink:
            async def put(self, event: Event) -> None:
                await handle_event.kiq(event_to_xml(event))   # returns once stored

        # in the worker: await receiver.dispatch(parse_event(xml))
    """

    async def put(self, event: Event) -> None:
        """Store ``event``; return only once it is safe to acknowledge it.

        Raises:
            Exception: anything; the push is then answered 503 and WeCom retries it.
        """


class CallbackReceiver:
    """Receive WeCom callbacks in any web framework.

    ``handle_get`` answers the URL check; ``handle_post`` verifies, decrypts and parses a
    pushed event, drops a repeated delivery and hands the event over, returning as soon
    as it is accepted, so WeCom gets its answer well within its 5 s limit however long
    the handlers take.

    What a 200 means: the event passed every check and was accepted, either into the
    in-process queue (default) or by ``sink.put``.  The in-process queue holds at most
    ``max_pending`` events; beyond that, and while shutting down, a push is answered 503
    (:class:`ReceiverBusyError`) so that WeCom retries it.  On shutdown
    (:meth:`aclose`, the lifespan) unfinished events get ``shutdown_timeout`` seconds,
    then are cancelled and logged one by one with their ids.  A process killed
    outright loses the in-process queue: use a durable ``sink`` when that matters.

    A handler that raises (``CancelledError`` included) is logged on the ``wecom_async``
    logger with its traceback and the event's ids; the next handlers still run.

    Args:
        crypto: the callback configuration (token, EncodingAESKey, CorpID).
        max_concurrency: the most events whose handlers run at once; more wait.
        max_pending: the most events accepted and unfinished (running or waiting).
        dedupe_window: seconds a delivery is remembered at least; an equal message
            delivered again meanwhile is answered 200 and dropped.  Whatever this is,
            a delivery is remembered for as long as a replay of it would pass the
            freshness check, so no replay runs a handler twice in this process (the memory
            is per process: another worker or a restart does not share it).
        clock: monotonic seconds (``time.monotonic``), for rate-limiting refusal logs.
        max_age: refuse a push (GET or POST) signed more than this many seconds ago
            (default 300; :class:`StaleRequestError`, checked right after the signature).
            None turns freshness off, and with it the guarantee against old replays.
        max_future: refuse a push signed more than this many seconds in the future.
        wall_clock: Unix seconds now (``time.time``; tests inject one).
        shutdown_timeout: seconds :meth:`aclose` waits for unfinished events.
        body_timeout: seconds a request body may take to arrive whole (WeCom sends it at
            once); a slower one is refused, so it cannot hold a connection, and a server's
            graceful shutdown, open.
        sink: a durable :class:`EventSink`; None keeps the in-process queue.

    Raises:
        ValidationError: a limit is not a number (NaN included) or not positive
            (``dedupe_window``, ``max_future``, ``shutdown_timeout``: negative), or is
            infinite (``shutdown_timeout`` may be ``math.inf``: wait for every event).

    Example::

        receiver = CallbackReceiver(CallbackCrypto(token, aes_key, corp_id))

        @receiver.on(AddExternalContact)
        async def greet(event: AddExternalContact) -> None: ...

    See https://developer.work.weixin.qq.com/document/path/90930.
    """

    def __init__(
        self,
        crypto: CallbackCrypto,
        *,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_pending: int = DEFAULT_MAX_PENDING,
        dedupe_window: float = DEFAULT_DEDUPE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        max_age: float | None = DEFAULT_MAX_AGE,
        max_future: float = DEFAULT_MAX_FUTURE,
        wall_clock: Callable[[], float] = time.time,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        sink: EventSink | None = None,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        if max_age is not None:
            # NaN passed "max_age <= 0" and then every push was fresh: the check was off.
            check_seconds(max_age, "max_age (None turns the check off)")
        self.max_concurrency = check_whole(max_concurrency, "max_concurrency")
        self.max_pending = check_whole(max_pending, "max_pending")
        self.body_timeout = check_seconds(body_timeout, "body_timeout")
        self.dedupe_window = check_seconds(dedupe_window, "dedupe_window", zero=True)
        self.max_future = check_seconds(max_future, "max_future", zero=True)
        self.shutdown_timeout = check_seconds(
            shutdown_timeout, "shutdown_timeout", zero=True, infinite=True
        )
        self.crypto = crypto
        self.max_age = max_age
        self.sink = sink
        self._wall_clock = wall_clock
        self._handlers: list[tuple[_Key, Handler[Event]]] = []
        #: Handlers that run before a push is acknowledged (``on(..., before_ack=True)``).
        self._before_ack: list[tuple[_Key, Handler[Event]]] = []
        self._seen = Deliveries()
        #: Digests of deliveries being accepted right now (a retry of one gets a 503).
        self._handing_over: set[bytes] = set()
        self._refusals = RefusalLog(clock)
        # The queue of each event loop (anyio primitives belong to the loop they ran on).
        self._queue_var: RunVar[LoopQueue | None] = RunVar("wecom_async_callback_queue", None)
        self._queues: weakref.WeakSet[LoopQueue] = weakref.WeakSet()

    def __repr__(self) -> str:
        return (
            f"CallbackReceiver({self.crypto!r}, handlers={len(self._handlers)}, "
            f"running={self.running})"
        )

    @property
    def max_body_bytes(self) -> int:
        """The largest body accepted (from the crypto configuration)."""
        return self.crypto.max_body_bytes

    # -- registration -------------------------------------------------------------------

    @overload
    def on(
        self, event: type[E], /, *, before_ack: bool = False
    ) -> Callable[[Handler[E]], Handler[E]]: ...
    @overload
    def on(
        self, event: str, change_type: str | None = None, /, *, before_ack: bool = False
    ) -> Callable[[Handler[Event]], Handler[Event]]: ...
    def on(
        self,
        event: type[E] | str,
        change_type: str | None = None,
        /,
        *,
        before_ack: bool = False,
    ) -> Callable[[Handler[E]], Handler[E]]:
        """Register a handler, as a decorator.

        ``on(AddExternalContact)`` matches that class (a base such as
        ``ExternalContactEvent`` or ``Event`` matches all its subclasses);
        ``on("change_external_contact", "add_external_contact")`` matches the wire names
        (``change_type=None`` matches every change type of the event; a third-party
        push is matched by its ``InfoType``; works for events this release does not
        model).  The matching handlers of an event run one after another, in
        registration order.

        ``before_ack=True`` runs the handler inside :meth:`handle_post`, before the push
        is acknowledged and before every other handler, for work that must not be lost
        (a service provider's permanent code): if it raises, the push is answered 503
        and not remembered, so WeCom delivers it again (three tries in all), and the
        other handlers do not run.  Keep it short: WeCom waits about five seconds (a
        delivery of the same push meanwhile is answered 503 too).  With a ``sink``, it
        runs in the receiving process before ``sink.put``; :meth:`dispatch` never runs it.

        Returns:
            A decorator that registers the function and returns it unchanged.

        Raises:
            ValidationError: the arguments name no event, or the handler is not an ``async``
                function (blocking code belongs in ``anyio.to_thread.run_sync`` inside
                an async handler, never on the event loop).
        """
        key: _Key
        if isinstance(event, str):
            key = (event, change_type)
        elif isinstance(event, type) and issubclass(event, Event) and change_type is None:
            key = event
        else:
            raise ValidationError("on() takes an Event subclass, or the Event and ChangeType names")

        def register(handler: Handler[E]) -> Handler[E]:
            if not _is_async(handler):
                raise ValidationError(
                    f"callback handler {_name(handler)} must be an async function "
                    "(async def); run blocking work with anyio.to_thread.run_sync inside it"
                )
            handlers = self._before_ack if before_ack else self._handlers
            handlers.append((key, handler))  # type: ignore[arg-type]
            return handler

        return register

    def handlers_for(self, event: Event) -> list[Handler[Event]]:
        """Return the handlers that :meth:`dispatch` runs for ``event``, in order."""
        return _matching(event, self._handlers)

    # -- requests -----------------------------------------------------------------------

    async def handle_get(self, query: Mapping[str, str]) -> str:
        """Answer the URL check (GET ``?msg_signature&timestamp&nonce&echostr``).

        Returns:
            The plain echo to send back as the whole response body.

        Raises:
            CallbackError: a parameter is missing or the check fails (see
                :meth:`CallbackCrypto.verify_url`); :class:`StaleRequestError` when the
                timestamp is outside the freshness window.
        """
        signature, timestamp, nonce, echostr = _params(
            query, "msg_signature", "timestamp", "nonce", "echostr"
        )
        self.crypto.check_signature(signature, timestamp, nonce, echostr.replace(" ", "+"))
        self._check_age(timestamp)
        return self.crypto.verify_url(signature, timestamp, nonce, echostr)

    async def handle_post(self, query: Mapping[str, str], body: str | bytes) -> str:
        """Verify, decrypt and parse a pushed event, then hand it over and return.

        The signature is checked before anything is decrypted or parsed; the signed
        timestamp is checked against the freshness window; a message delivered before
        is answered and dropped; a new one is accepted by the sink or the in-process
        queue before this returns.

        Args:
            query: the URL query (``msg_signature``, ``timestamp``, ``nonce``).
            body: the raw request body (the encrypted XML envelope).

        Returns:
            The response body: always ``""`` (external-contact events take no reply).

        Raises:
            CallbackError: the request is missing a parameter, too large, badly signed,
                stale, undecryptable or not XML; :class:`ReceiverBusyError` when the
                event could not be accepted now (a ``before_ack`` handler failed
                included).  Nothing was acknowledged.
        """
        check_size(len(body), self.max_body_bytes)
        signature, timestamp, nonce = _params(query, "msg_signature", "timestamp", "nonce")
        encrypted = self.crypto.verify_envelope(signature, timestamp, nonce, body)
        signed_at = self._check_age(timestamp)
        xml = self.crypto.decrypt_message(encrypted)
        # The whole decrypted message identifies a delivery: O(1) to look up whatever
        # the event type, unlike hashing events whose fields may all look alike.
        digest = hashlib.sha256(xml.encode("utf-8", "surrogatepass")).digest()
        now = self._wall_clock()
        self._seen.forget_expired(now)
        if digest in self._seen:
            logger.info("dropped a repeated callback delivery signed at %d", signed_at)
            return ""
        if digest in self._handing_over:
            # The first delivery is still being accepted and may yet fail: a 200 here
            # would tell WeCom to stop retrying an event nobody has. Ask for a retry.
            raise ReceiverBusyError("the same delivery is still being accepted")
        if len(self._seen) >= MAX_DEDUPE_ENTRIES:
            raise ReceiverBusyError("the replay memory is full of deliveries still fresh")
        self._handing_over.add(digest)
        try:
            event = await self._parse(xml)
            if is_malformed(event):
                logger.warning(
                    "kept a %s push that does not match its class as a GenericEvent",
                    describe(event),
                )
            await self._before_acknowledging(event)
            await self._accept(event)
            if self.dedupe_window > 0 or self.max_age is not None:
                # Only once accepted: a delivery refused above must run again on retry.
                self._seen.remember(digest, self._remember_until(signed_at, self._wall_clock()))
        finally:
            self._handing_over.discard(digest)
        return ""

    def refusal(self, method: str, exc: CallbackError) -> tuple[int, str]:
        """Log a refused request (bounded, rate-limited) and return its HTTP answer.

        The adapters call this for every :class:`CallbackError`.  A log line holds the
        error class, code and a bounded message that never quotes the request; after
        10 lines a minute, one summary line counts the rest.

        Returns:
            ``(status, body)``: 413 for a body over the limit, 408 for one too slow, 503
            when the receiver is busy (WeCom retries), 400 otherwise; the body is the
            error's fixed reason.
        """
        self._refusals.record(method, exc)
        if isinstance(exc, BodyTooLargeError):
            status = 413
        elif isinstance(exc, ReceiverBusyError):
            status = 503
        elif isinstance(exc, SlowBodyError):
            status = 408
        else:
            status = 400
        return status, f"{exc.reason} ({exc.code})"

    async def read_body(
        self, chunks: AsyncIterable[bytes], *, content_length: str | int | None = None
    ) -> bytes:
        """Read a streamed request body, refusing it once it grows past ``max_body_bytes``.

        Args:
            chunks: the body as it arrives (e.g. Starlette's ``request.stream()``).
            content_length: the ``Content-Length`` header, if any: a larger declared
                length is refused before anything is read.

        Raises:
            BodyTooLargeError: the body is larger than the limit.
            SlowBodyError: the body did not arrive whole within ``body_timeout``.
        """
        if isinstance(content_length, int):
            check_size(content_length, self.max_body_bytes)
        elif content_length and content_length.isascii() and content_length.isdigit():
            check_size(
                int(content_length) if len(content_length) < 20 else 1 << 64,
                self.max_body_bytes,
            )
        body = bytearray()
        with anyio.move_on_after(self.body_timeout):
            async for chunk in chunks:
                body += chunk
                check_size(len(body), self.max_body_bytes)
            return bytes(body)
        raise SlowBodyError(f"the body did not arrive within {self.body_timeout:g} s")

    # -- handing events over ------------------------------------------------------------

    async def dispatch(self, event: Event) -> int:
        """Run every handler registered for ``event``, one after another.

        The in-process queue calls this for each accepted event; a durable sink's
        worker calls it for each stored one.  A handler that raises (``CancelledError``
        included, unless this task itself is being cancelled) is logged with the event's
        ids, and the next handler still runs.

        Returns:
            The number of handlers that failed.
        """
        failed = 0
        for handler in self.handlers_for(event):
            try:
                await handler(event)
            except anyio.get_cancelled_exc_class():
                if cancel_requested():
                    raise  # whoever cancels this task reports it (the shutdown deadline does)
                logger.error(
                    "callback handler %s was cancelled for %s",
                    _name(handler),
                    describe(event),
                    exc_info=True,
                )
                failed += 1
            except Exception:
                logger.exception(
                    "callback handler %s failed for %s", _name(handler), describe(event)
                )
                failed += 1
        return failed

    @property
    def running(self) -> int:
        """How many accepted events are unfinished in the in-process queue (waiting ones
        included)."""
        return sum(queue.unfinished for queue in self._queues)

    async def drain(self) -> None:
        """Wait until every accepted event of this event loop has finished."""
        queue = self._queue_var.get()
        if queue is not None:
            await queue.drain()

    async def aclose(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Stop accepting events and wait for the unfinished ones of this event loop.

        New pushes are answered 503 from now on (WeCom retries them).  After
        ``timeout`` seconds (``shutdown_timeout`` when None), each event still unfinished
        is logged at ERROR with its ids, then cancelled.
        """
        queue = self._queue_var.get()
        if queue is not None:
            await queue.close(self.shutdown_timeout if timeout is None else timeout)
        self._refusals.flush()

    async def __aenter__(self) -> CallbackReceiver:
        self._reopen()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        """A lifespan for ASGI apps (``FastAPI(lifespan=receiver.lifespan)``): on shutdown
        it waits for unfinished events, at most ``shutdown_timeout`` (see :meth:`aclose`)."""
        self._reopen()
        try:
            yield
        finally:
            await self.aclose()

    # -- internals ----------------------------------------------------------------------

    def _check_age(self, timestamp: str) -> int:
        """Return the signed timestamp; refuse it outside the freshness window."""
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise StaleRequestError("the timestamp is not Unix seconds")
        signed_at = int(timestamp)
        if self.max_age is None:
            return signed_at
        now = self._wall_clock()
        if now - signed_at > self.max_age:
            raise StaleRequestError(
                f"the request was signed {now - signed_at:.0f} s ago, "
                f"more than max_age={self.max_age:g} s"
            )
        if signed_at - now > self.max_future:
            raise StaleRequestError(
                f"the request was signed {signed_at - now:.0f} s in the future, "
                f"more than max_future={self.max_future:g} s"
            )
        return signed_at

    def _remember_until(self, signed_at: int, now: float) -> float:
        # A replay of this request passes the age check while now <= signed_at + max_age:
        # remembering it at least that long means no replay ever runs a handler twice.
        until = now + self.dedupe_window
        if self.max_age is not None:
            until = max(until, signed_at + self.max_age)
        return until

    async def _parse(self, xml: str) -> Event:
        if len(xml) <= INLINE_PARSE_CHARS:
            return parse_event(xml, max_bytes=self.max_body_bytes)
        return await anyio.to_thread.run_sync(
            lambda: parse_event(xml, max_bytes=self.max_body_bytes)
        )

    async def _before_acknowledging(self, event: Event) -> None:
        for handler in _matching(event, self._before_ack):
            try:
                await handler(event)
            except Exception:
                logger.warning(
                    "callback handler %s could not act on %s yet; answered 503 so that "
                    "WeCom delivers it again",
                    _name(handler),
                    describe(event),
                    exc_info=True,
                )
            else:
                continue
            # Raised outside the except clause: the handler's error (which may quote a
            # credential) must not become its hidden context.
            raise ReceiverBusyError("a handler could not act on the event yet")

    async def _accept(self, event: Event) -> None:
        if self.sink is None:
            self._queue().start(event)
            return
        try:
            await self.sink.put(event)
        except CallbackError:
            raise
        except Exception:
            logger.exception("the event sink did not store %s", describe(event))
        else:
            return
        # Outside the except clause: the sink's error must not become the hidden context.
        raise ReceiverBusyError("the event sink did not store the event")

    def _queue(self) -> LoopQueue:
        """The in-process queue of the running event loop, created on first use."""
        queue = self._queue_var.get()
        if queue is None:
            queue = LoopQueue(self.max_concurrency, self.max_pending, self.dispatch)
            self._queue_var.set(queue)
            self._queues.add(queue)
        return queue

    def _reopen(self) -> None:
        queue = self._queue_var.get()
        if queue is not None:
            queue.closed = False


def _is_async(handler: object) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - an object with async __call__
    )


def _name(handler: object) -> str:
    return str(getattr(handler, "__qualname__", type(handler).__qualname__))


def _matching(event: Event, handlers: list[tuple[_Key, Handler[Event]]]) -> list[Handler[Event]]:
    return [
        handler
        for key, handler in handlers
        if (isinstance(key, tuple) and _matches(event, key))
        or (isinstance(key, type) and isinstance(event, key))
    ]


def _matches(event: Event, key: tuple[str, str | None]) -> bool:
    return event.event == key[0] and (key[1] is None or event.change_type == key[1])


def _params(query: Mapping[str, str], *names: str) -> list[str]:
    values = []
    for name in names:
        value = query.get(name)
        if not value:
            raise SignatureError(f"missing query parameter {name!r}")
        values.append(value)
    return values
