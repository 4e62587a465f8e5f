"""A real, throwaway ``redis-server`` for tests that need Redis' own behaviour.

``redis_server`` (a fixture, registered in ``tests/conftest.py``) starts one on a free
loopback port in a temporary folder, with persistence off, and stops it after the test.
:meth:`RedisServer.kill` and :meth:`RedisServer.start` take it down and bring it back on
the same port, for outage tests.  A restarted server is empty (nothing is persisted).

Without ``redis-server`` on PATH the tests that use it are skipped, except under CI
(``CI`` set to ``true``/``1``), where a missing server fails them: ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RedisServer", "redis_server"]

#: Seconds a starting server gets to answer PING.
START_TIMEOUT = 10.0


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1, started and killed at will.

    Args:
        executable: the ``redis-server`` binary.
        folder: an empty folder for its log (nothing else is written: no RDB, no AOF).
        port: the port to listen on; a free one when 0.
    """

    def __init__(self, executable: str, folder: Path, port: int = 0) -> None:
        self.executable = executable
        self.folder = folder
        self.port = port or _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (on the same port as before) and wait until it answers PING."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("redis-server is already running")
        options = {
            "bind": "127.0.0.1",
            "port": str(self.port),
            "save": "",  # no RDB snapshots and no AOF: a restarted server is empty
            "appendonly": "no",
            "dir": str(self.folder),
            "logfile": str(self.folder / "redis.log"),
            "daemonize": "no",
        }
        argv = [self.executable]
        for name, value in options.items():
            argv += [f"--{name}", value]
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.folder / "redis.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                self.kill()
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{tail}")
            time.sleep(0.01)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL) and wait for it; its data is gone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        """Kill the server and start an empty one on the same port."""
        self.kill()
        self.start()

    def ping(self) -> bool:
        """Whether the server answers ``PING`` with ``+PONG`` right now."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def in_ci() -> bool:
    """Whether this run is CI, where a missing ``redis-server`` is an error, not a skip."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def redis_executable() -> str:
    """The ``redis-server`` to run; skips the test without one (fails it under CI)."""
    executable = shutil.which("redis-server")
    if executable is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if in_ci():
            pytest.fail(f"{reason}; CI must run these tests, .ci/run installs it")
        pytest.skip(reason)
    return executable


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A running, empty ``redis-server`` of this test only (see :class:`RedisServer`)."""
    server = RedisServer(redis_executable(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.kill()
