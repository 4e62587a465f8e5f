"""A framework-neutral receiver: verify, answer at once, run handlers in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Final, TypeVar, overload

from wecom_async.callback._codec import parse_event
from wecom_async.callback._crypto import CallbackCrypto
from wecom_async.callback._errors import SignatureError, StaleRequestError
from wecom_async.callback._xml import check_size
from wecom_async.callback.events import Event

__all__ = ["CallbackReceiver", "Handler"]

logger = logging.getLogger("wecom_async")

E = TypeVar("E", bound=Event)
#: An event handler: an async function taking the event.
Handler = Callable[[E], Awaitable[None]]

#: Default number of handler calls allowed to run at the same time.
DEFAULT_MAX_CONCURRENCY: Final = 16
#: Default de-duplication window: WeCom retries within seconds; five minutes is ample.
DEFAULT_DEDUPE_WINDOW: Final = 300.0
#: At most this many recent deliveries are remembered, whatever the window.
MAX_DEDUPE_ENTRIES: Final = 100_000

_Key = type[Event] | tuple[str, str | None]


class CallbackReceiver:
    """Receive WeCom callbacks in any web framework.

    ``handle_get`` answers the URL check; ``handle_post`` verifies, decrypts and parses a
    pushed event, drops a repeated delivery, starts the matching handlers as background
    tasks and returns at once, so WeCom gets its answer well within its 5 s limit
    however long the handlers take.  A handler that raises is logged on the
    ``wecom_async`` logger with its traceback; later events are not affected.

    Args:
        crypto: the callback configuration (token, EncodingAESKey, CorpID).
        max_concurrency: the most handler calls running at once; more wait their turn.
        dedupe_window: seconds during which an equal event (same FromUserName,
            CreateTime and fields) is dropped as a repeated delivery; 0 turns it off.
        clock: monotonic seconds for the window (``time.monotonic``; tests inject one).
        max_age: refuse a push (GET or POST) whose signed ``timestamp`` is more than this
            many seconds away from ``wall_clock`` (replay protection, checked after the
            signature); None (the default) does not check, since a receiver whose clock
            drifts would refuse genuine pushes. WeCom retries within seconds, so a few
            minutes is a safe value.
        wall_clock: Unix seconds now (``time.time``; tests inject one).

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
        dedupe_window: float = DEFAULT_DEDUPE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        max_age: float | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if max_age is not None and max_age <= 0:
            raise ValueError("max_age must be positive (or None to turn the check off)")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if dedupe_window < 0:
            raise ValueError("dedupe_window must not be negative")
        self.crypto = crypto
        self.max_concurrency = max_concurrency
        self.dedupe_window = dedupe_window
        self._clock = clock
        self.max_age = max_age
        self._wall_clock = wall_clock
        self._handlers: list[tuple[_Key, Handler[Event]]] = []
        self._seen: OrderedDict[Event, float] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._semaphore: asyncio.Semaphore | None = None

    def __repr__(self) -> str:
        return (
            f"CallbackReceiver({self.crypto!r}, handlers={len(self._handlers)}, "
            f"running={len(self._tasks)})"
        )

    @property
    def max_body_bytes(self) -> int:
        """The largest body accepted (from the crypto configuration)."""
        return self.crypto.max_body_bytes

    # -- registration -------------------------------------------------------------------

    @overload
    def on(self, event: type[E], /) -> Callable[[Handler[E]], Handler[E]]: ...
    @overload
    def on(
        self, event: str, change_type: str | None = None, /
    ) -> Callable[[Handler[Event]], Handler[Event]]: ...
    def on(
        self, event: type[E] | str, change_type: str | None = None, /
    ) -> Callable[[Handler[E]], Handler[E]]:
        """Register a handler, as a decorator.

        ``on(AddExternalContact)`` matches that class (a base such as
        ``ExternalContactEvent`` or ``Event`` matches all its subclasses);
        ``on("change_external_contact", "add_external_contact")`` matches the wire names
        (``change_type=None`` matches every change type of the event, and works for
        events this release does not model).  Every matching handler runs, each in
        its own background task, started in registration order.

        Returns:
            A decorator that registers the function and returns it unchanged.
        """
        key: _Key
        if isinstance(event, str):
            key = (event, change_type)
        elif isinstance(event, type) and issubclass(event, Event) and change_type is None:
            key = event
        else:
            raise TypeError("on() takes an Event subclass, or the Event and ChangeType names")

        def register(handler: Handler[E]) -> Handler[E]:
            self._handlers.append((key, handler))  # type: ignore[arg-type]
            return handler

        return register

    def handlers_for(self, event: Event) -> list[Handler[Event]]:
        """Return the handlers that :meth:`handle_post` would run for ``event``."""
        return [
            handler
            for key, handler in self._handlers
            if (isinstance(key, tuple) and _matches(event, key))
            or (isinstance(key, type) and isinstance(event, key))
        ]

    # -- requests -----------------------------------------------------------------------

    async def handle_get(self, query: Mapping[str, str]) -> str:
        """Answer the URL check (GET ``?msg_signature&timestamp&nonce&echostr``).

        Returns:
            The plain echo to send back as the whole response body.

        Raises:
            CallbackError: a parameter is missing or the check fails (see
                :meth:`CallbackCrypto.verify_url`); :class:`StaleRequestError` when the
                timestamp is outside ``max_age``.
        """
        signature, timestamp, nonce, echostr = _params(
            query, "msg_signature", "timestamp", "nonce", "echostr"
        )
        echo = self.crypto.verify_url(signature, timestamp, nonce, echostr)
        self._check_age(timestamp)
        return echo

    def _check_age(self, timestamp: str) -> None:
        """Refuse a signed timestamp further than ``max_age`` from now (if set)."""
        if self.max_age is not None and _age(timestamp, self._wall_clock()) > self.max_age:
            raise StaleRequestError(
                f"the request was signed at {timestamp}, more than {self.max_age:g} s from now"
            )

    async def handle_post(self, query: Mapping[str, str], body: str | bytes) -> str:
        """Verify, decrypt and parse a pushed event, then start its handlers and return.

        A repeated delivery within ``dedupe_window`` is verified and answered but
        starts no handler.

        Args:
            query: the URL query (``msg_signature``, ``timestamp``, ``nonce``).
            body: the raw request body (the encrypted XML envelope).

        Returns:
            The response body: always ``""`` (external-contact events take no reply).

        Raises:
            CallbackError: the request is missing a parameter, too large, badly signed,
                undecryptable or not a valid event; no handler was started.
        """
        check_size(len(body), self.max_body_bytes)
        signature, timestamp, nonce = _params(query, "msg_signature", "timestamp", "nonce")
        xml = self.crypto.decrypt(signature, timestamp, nonce, body)
        self._check_age(timestamp)
        event = parse_event(xml, max_bytes=self.max_body_bytes)
        if self._is_duplicate(event):
            logger.info("dropped a repeated %s delivery", _describe(event))
            return ""
        for handler in self.handlers_for(event):
            task = asyncio.get_running_loop().create_task(self._run(handler, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return ""

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
        """
        if isinstance(content_length, int) or (content_length or "").isdigit():
            check_size(int(content_length or 0), self.max_body_bytes)
        body = bytearray()
        async for chunk in chunks:
            body += chunk
            check_size(len(body), self.max_body_bytes)
        return bytes(body)

    # -- background work ----------------------------------------------------------------

    @property
    def running(self) -> int:
        """How many handler calls are started and not finished (waiting ones included)."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every started handler call has finished (new ones included)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def aclose(self, *, timeout: float | None = None) -> None:
        """Wait for the running handlers; after ``timeout`` seconds cancel the rest."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        for task in list(self._tasks):
            task.cancel()
        await self.drain()

    async def __aenter__(self) -> CallbackReceiver:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        """A lifespan for ASGI apps (``FastAPI(lifespan=receiver.lifespan)``): on shutdown
        it waits for the running handlers (see :meth:`aclose`)."""
        try:
            yield
        finally:
            await self.aclose()

    def _is_duplicate(self, event: Event) -> bool:
        if not self.dedupe_window:
            return False
        now = self._clock()
        seen = self._seen
        while seen and (next(iter(seen.values())) <= now or len(seen) >= MAX_DEDUPE_ENTRIES):
            seen.popitem(last=False)
        if event in seen:
            return True
        seen[event] = now + self.dedupe_window
        return False

    async def _run(self, handler: Handler[Event], event: Event) -> None:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
        async with self._semaphore:
            try:
                await handler(event)
            except Exception:
                logger.exception(
                    "callback handler %s failed for %s",
                    getattr(handler, "__qualname__", repr(handler)),
                    _describe(event),
                )


def _matches(event: Event, key: tuple[str, str | None]) -> bool:
    return event.event == key[0] and (key[1] is None or event.change_type == key[1])


def _describe(event: Event) -> str:
    return f"{event.event or event.msg_type}/{event.change_type} event of {event.create_time}"


def _age(timestamp: str, now: float) -> float:
    try:
        return abs(now - int(timestamp))
    except ValueError:
        raise StaleRequestError("the timestamp is not Unix seconds") from None


def _params(query: Mapping[str, str], *names: str) -> list[str]:
    values = []
    for name in names:
        value = query.get(name)
        if not value:
            raise SignatureError(f"missing query parameter {name!r}")
        values.append(value)
    return values
