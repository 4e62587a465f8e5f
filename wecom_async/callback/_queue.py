"""The in-process queue: accepted events handled in the background, a bounded number at once.

Each event loop has a queue of its own (:class:`anyio.lowlevel.RunVar`): a second
``asyncio.run`` or a second test-client session must not find primitives of a loop that
is gone.  A queue's events run in an anyio task group hosted by a runner task started on
the first event; the runner ends once closed and done, and the next event starts another.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Awaitable, Callable
from typing import Final

import anyio

from wecom_async._logging import logger
from wecom_async.callback._backend import spawn_system_task
from wecom_async.callback._errors import ReceiverBusyError
from wecom_async.callback._report import describe
from wecom_async.callback.events import Event

#: Seconds a cancelled handler gets to unwind at shutdown before it is abandoned.
CANCEL_GRACE: Final = 1.0

Dispatch = Callable[[Event], Awaitable[object]]


class LoopQueue:
    """The in-process queue of one event loop."""

    def __init__(self, max_concurrency: int, max_pending: int, dispatch: Dispatch) -> None:
        self._max_concurrency = max_concurrency
        self._max_pending = max_pending
        self._dispatch = dispatch
        self._runner: _Runner | None = None
        self.closed = False

    @property
    def unfinished(self) -> int:
        """Accepted events not finished yet (running or waiting)."""
        return 0 if self._runner is None else len(self._runner.pending)

    def start(self, event: Event) -> None:
        """Accept ``event``; its handlers run in the background.

        Raises:
            ReceiverBusyError: the queue is closed or holds ``max_pending`` events.
        """
        if self.closed:
            raise ReceiverBusyError("the receiver is shutting down")
        runner = self._runner
        if runner is None or runner.stopping:
            runner = _Runner(self._max_concurrency, self._max_pending, self._dispatch)
            spawn_system_task(runner.run)
            self._runner = runner
        runner.put(event)

    async def drain(self) -> None:
        """Wait until every accepted event has finished."""
        if self._runner is not None:
            await self._runner.drain()

    async def close(self, deadline: float) -> None:
        """Take no more events; give the unfinished ones ``deadline`` seconds, then log
        each one still unfinished and cancel it."""
        self.closed = True
        runner = self._runner
        if runner is None:
            return
        runner.stop()
        with anyio.move_on_after(deadline):
            await runner.done.wait()
        if runner.done.is_set():
            return
        for event in runner.pending.values():
            logger.error(
                "callback event not finished by the shutdown deadline (%g s), "
                "cancelled after WeCom was answered 200: %s",
                deadline,
                describe(event),
            )
        runner.cancel()
        with anyio.move_on_after(CANCEL_GRACE):
            await runner.done.wait()


class _Runner:
    """One task group running a queue's events, each under the concurrency limit."""

    def __init__(self, max_concurrency: int, max_pending: int, dispatch: Dispatch) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[tuple[int, Event]](math.inf)
        self._semaphore = anyio.Semaphore(max_concurrency)
        self._max_pending = max_pending
        self._dispatch = dispatch
        # Created now so that a close before the runner task first runs still cancels it.
        self._scope = anyio.CancelScope()
        self._keys = itertools.count()
        self._idle = anyio.Event()
        self._idle.set()
        self._cancelled_by_us = False
        self.pending: dict[int, Event] = {}
        self.stopping = False
        self.done = anyio.Event()

    def put(self, event: Event) -> None:
        if len(self.pending) >= self._max_pending:
            raise ReceiverBusyError(f"{len(self.pending)} events are already waiting")
        key = next(self._keys)
        try:
            self._send.send_nowait((key, event))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise ReceiverBusyError("the receiver is shutting down") from None
        if not self.pending:
            self._idle = anyio.Event()
        self.pending[key] = event

    async def drain(self) -> None:
        while self.pending:
            await self._idle.wait()

    def stop(self) -> None:
        """Take no more events; the runner ends once the accepted ones finished."""
        self.stopping = True
        self._send.close()

    def cancel(self) -> None:
        """Cancel every unfinished event (already logged by the caller)."""
        self._cancelled_by_us = True
        self._scope.cancel()

    async def run(self) -> None:
        try:
            with self._scope:
                async with anyio.create_task_group() as tg, self._receive:
                    async for key, event in self._receive:
                        # Taken here, not in the task: events start in the order accepted
                        # whatever order the event loop runs new tasks in.
                        await self._semaphore.acquire()
                        tg.start_soon(self._work, key, event)
        finally:
            self.stopping = True
            self._send.close()
            if not self._cancelled_by_us:
                # Cancelled from outside: the event loop is ending with events accepted.
                for event in self.pending.values():
                    logger.error(
                        "callback event lost: its event loop ended before it finished: %s",
                        describe(event),
                    )
            self.pending.clear()
            self._idle.set()
            self.done.set()

    async def _work(self, key: int, event: Event) -> None:
        await self._dispatch(event)
        # Not reached when cancelled: run() then accounts for the event.
        del self.pending[key]
        self._semaphore.release()
        if not self.pending:
            self._idle.set()
