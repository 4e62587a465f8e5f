"""What the request-rate benchmarks share: the request loop, limits, a throwaway redis-server.

``drive(n, callers, one)`` runs ``one`` ``n`` times from ``callers`` concurrent tasks and
returns (requests per second, CPU microseconds per request) of this process.
``UNPACED`` are rate limits far above any request rate: a budget with them decides at
once, so only its cost shows (the client's default budget would pace a benchmark at
WeCom's limits).
``redis_server()`` starts a redis-server on loopback with persistence off, in a temporary
directory, and yields its URL once it accepts connections.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator

import anyio
from _canned_server import free_port

__all__ = ["UNPACED", "drive", "redis_server"]

#: (calls, seconds) windows no benchmark reaches.
UNPACED: list[tuple[int, float]] = [(10**9, 60.0), (10**9, 3600.0)]

#: Seconds a fresh redis-server gets to accept connections.
_REDIS_START: float = 10.0


async def drive(n: int, callers: int, one: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Call ``one`` ``n`` times from ``callers`` tasks; (requests/s, CPU µs per request)."""
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    wall, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as group:
        for _ in range(callers):
            group.start_soon(worker)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, cpu / n * 1e6


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on 127.0.0.1 (a free port, no persistence); yields its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        argv = [executable, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        argv += ["--appendonly", "no", "--dir", folder]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        try:
            _wait_for(port, process)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait()


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    """Return once ``port`` accepts a connection (a fixed sleep is too short on a busy machine)."""
    deadline = time.monotonic() + _REDIS_START
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"redis-server exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise SystemExit(f"redis-server did not accept connections within {_REDIS_START:g} s")
