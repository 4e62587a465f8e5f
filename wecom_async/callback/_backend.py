"""The two things anyio has no public API for, one function each per event-loop library.

Everything else in the receiver is plain anyio; these run under asyncio and trio alike.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Callable

import anyio
import sniffio

#: Strong references to the background tasks on asyncio (its loop keeps only weak ones).
_ASYNCIO_TASKS: set[object] = set()


def spawn_system_task(run: Callable[[], Awaitable[None]]) -> None:
    """Start ``run()`` as a task of the running event loop that outlives its caller.

    The receiver answers WeCom before the handlers run, so they need a host task that
    the request's own task does not own; anyio only starts tasks inside a task group
    that its opener waits for.  The host must not raise: on trio an error in a system
    task ends the whole run.
    """
    if sniffio.current_async_library() == "trio":
        import trio

        trio.lowlevel.spawn_system_task(run)
        return
    import asyncio

    async def main() -> None:
        await run()

    task = asyncio.get_running_loop().create_task(main())
    _ASYNCIO_TASKS.add(task)
    task.add_done_callback(_ASYNCIO_TASKS.discard)


def cancel_requested() -> bool:
    """True when the current task is being cancelled (rather than a callee raising the
    cancellation exception of its own accord)."""
    if anyio.current_effective_deadline() == -math.inf:
        return True  # an enclosing cancel scope was cancelled: anyio and trio alike
    asyncio = sys.modules.get("asyncio")
    if asyncio is None or sniffio.current_async_library() != "asyncio":
        return False
    # A plain Task.cancel() (asyncio.run at exit, a framework's own timeout) is no cancel
    # scope; Python 3.11+ counts it on the task.
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return cancelling is not None and bool(cancelling())
