"""A fleet of real OS processes sharing tokens through RedisTokenStore.

Each process (``tests/redis/token_worker.py``) runs its own WeComClient against the fake
WeCom served on loopback and a real ``redis-server``; the fake counts the gettoken calls
of the whole fleet.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.export.helpers import serve
from tests.redis_server import RedisServer
from wecom_async._token import token_key
from wecom_async.testing import FakeWeCom

from . import token_worker
from .token_worker import BUSINESS, CORP_ID, SECRET

#: Seconds a worker gets to answer; far above what a healthy run needs.
ANSWER_TIMEOUT = 60.0
#: Seconds a worker gets to exit after ``quit``.
STOP_TIMEOUT = 10.0

# Workers fork from a server that imported the SDK once: starting eight costs little.
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload([token_worker.__name__])


class Worker:
    """One worker process (a real OS process), driven over a pipe."""

    def __init__(
        self, base_url: str, redis_url: str, log: Path, lease_ttl: float, stall: bool
    ) -> None:
        self.log = log
        self.conn, theirs = CONTEXT.Pipe()
        self.process = CONTEXT.Process(
            target=token_worker.run,
            args=(theirs, base_url, redis_url, lease_ttl, stall, log),
            daemon=True,
        )
        self.process.start()
        theirs.close()

    def receive(self) -> object:
        assert self.conn.poll(ANSWER_TIMEOUT), f"no answer from the worker: {self.logged()}"
        return self.conn.recv()

    def expect(self, word: str) -> None:
        assert self.receive() == word

    def send(self, *command: object) -> None:
        self.conn.send(command)

    def result(self) -> object:
        return self.receive()

    def logged(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def warnings(self, text: str) -> int:
        return sum(text in line for line in self.logged().splitlines())

    def kill(self) -> None:
        """SIGKILL, by its process id."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(STOP_TIMEOUT)


class Fleet:
    """Workers started on demand; every one is stopped (or killed) at the end."""

    def __init__(self, base_url: str, redis_url: str, folder: Path) -> None:
        self.base_url, self.redis_url, self.folder = base_url, redis_url, folder
        self.workers: list[Worker] = []

    def start(self, count: int, *, lease_ttl: float = 15.0, stall: bool = False) -> list[Worker]:
        new = [
            Worker(
                self.base_url,
                self.redis_url,
                self.folder / f"worker-{len(self.workers) + i}.log",
                lease_ttl,
                stall,
            )
            for i in range(count)
        ]
        for worker in new:
            worker.expect("ready")
        self.workers += new
        return new

    def close(self) -> None:
        """Stop every worker that still runs, asserting a clean exit; kill the rest."""
        running = [worker for worker in self.workers if worker.process.is_alive()]
        try:
            for worker in running:
                worker.send("quit")
            for worker in running:
                worker.process.join(STOP_TIMEOUT)
                assert worker.process.exitcode == 0, worker.logged()
        finally:
            for worker in self.workers:
                worker.kill()


def call_all(workers: list[Worker], count: int) -> list[object]:
    """Send ``call count`` to every worker at once, then collect every answer."""
    for worker in workers:
        worker.send("call", count)
    return [worker.result() for worker in workers]


def all_ok(results: list[object], count: int) -> bool:
    return all(result == {"ok": count, "errors": []} for result in results)


@pytest.fixture
def fake() -> FakeWeCom:
    return FakeWeCom(CORP_ID, SECRET)


@pytest.fixture
def fleet(fake: FakeWeCom, redis_server: RedisServer, tmp_path: Path) -> Iterator[Fleet]:
    with serve(fake) as url:
        fleet = Fleet(url, redis_server.url, tmp_path)
        try:
            yield fleet
        finally:
            fleet.close()


def test_eight_processes_cold_start_one_gettoken_and_a_revoked_token_one_refresh(
    fake: FakeWeCom, fleet: Fleet
) -> None:
    workers = fleet.start(8)
    assert all_ok(call_all(workers, 50), 50)
    assert fake.calls("gettoken") == 1
    assert fake.calls(BUSINESS) == 400

    fake.invalidate_tokens()  # WeCom revokes the token every process holds a copy of
    assert all_ok(call_all(workers, 10), 10)
    assert fake.calls("gettoken") == 2
    # 80 calls, plus one resend for each call that had sent the revoked token.
    assert 400 + 80 + 8 <= fake.calls(BUSINESS) <= 400 + 160


def test_a_lease_holder_killed_mid_fetch_delays_the_others_only_until_its_lease_ends(
    fake: FakeWeCom, fleet: Fleet, redis_server: RedisServer
) -> None:
    [victim] = fleet.start(1, lease_ttl=2.0, stall=True)
    others = fleet.start(3, lease_ttl=2.0)
    victim.send("call", 1)
    victim.expect("fetching")  # it holds the lease, and its gettoken never returns
    lease = f"wecom_async:{{{token_key(CORP_ID, SECRET)}}}:lease"
    with redis.Redis.from_url(redis_server.url) as plain:
        for worker in others:
            worker.send("call", 20)
        assert plain.exists(lease) == 1  # still the victim's: the others wait on it
        victim.kill()
        results = [worker.result() for worker in others]
    assert all_ok(results, 20)
    assert fake.calls("gettoken") == 1  # the victim's never reached WeCom
    assert fake.calls(BUSINESS) == 60


def test_redis_killed_and_restarted_under_load_calls_go_on_and_sharing_resumes(
    fake: FakeWeCom, fleet: Fleet, redis_server: RedisServer
) -> None:
    workers = fleet.start(4)
    assert all_ok(call_all(workers, 5), 5)
    assert fake.calls("gettoken") == 1

    for worker in workers:
        worker.send("call", 100)
    redis_server.kill()
    fake.invalidate_tokens()  # every process must now get a new token without Redis
    in_flight = [worker.result() for worker in workers]
    assert all_ok(in_flight, 100)
    assert all_ok(call_all(workers, 20), 20)
    during = fake.calls("gettoken")
    assert 1 < during <= 1 + len(workers)  # each process fetched its own, at most once
    unreachable = "RedisTokenStore: Redis is unreachable"
    assert [worker.warnings(unreachable) for worker in workers] == [1] * len(workers)

    redis_server.start()  # empty: the shared token is gone
    fake.invalidate_tokens()
    assert all_ok(call_all(workers, 50), 50)
    assert fake.calls("gettoken") == during + 1  # shared again: one fetch for the fleet
    back = "RedisTokenStore: Redis answers again"
    assert [worker.warnings(back) for worker in workers] == [1] * len(workers)
