"""Distributed exports on real worker processes, a real redis-server and three fake corps
served on loopback: equal to the single-process export, under kills, pauses and a Redis
restart."""

from __future__ import annotations

import signal
from pathlib import Path

import anyio

from tests.export.distributed.cluster import (
    assert_equal_to_single_process,
    cluster,
    submit,
    wait,
    wait_until,
)
from tests.redis_server import RedisServer


def test_three_corps_on_three_workers_equal_the_single_process_export(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with cluster(redis_server.url, tmp_path) as running:
        for _ in range(3):
            running.start_worker()
        export_id = anyio.run(submit, running)
        status = anyio.run(wait, running, export_id)
        assert status.complete, running.logged()
        assert status.failed == 0
        assert all(s.state == "committed" and s.commits == 1 for s in status.shards)
        assert {s.corp for s in status.shards} == set(running.fakes)
        assert_equal_to_single_process(running, export_id, status)
        # Every worker ran shards: the work was spread, not done by one.
        assert len({s.epoch for s in status.shards}) == len(status.shards)


#: Where workers SIGKILL themselves, one after the other: mid-shard after a page, after
#: the part is renamed but before its commit, after the commit before its record.
KILL_POINTS = ("kill:page:2", "kill:renamed:1", "kill:committed:1", "kill:page:1")


def test_workers_killed_mid_shard_at_every_step_lose_and_repeat_nothing(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with cluster(redis_server.url, tmp_path) as running:
        for fake in running.fakes.values():
            fake.latency = 0.02  # pages long enough to be caught between steps
        killers = [running.start_worker(action=action) for action in KILL_POINTS[:2]]
        export_id = anyio.run(submit, running)
        pending = list(KILL_POINTS[2:])
        while pending:  # each killed worker is replaced by the next one that kills itself
            wait_until(lambda: any(p.poll() is not None for p in killers), "a kill")
            dead = next(p for p in killers if p.poll() is not None)
            killers.remove(dead)
            killers.append(running.start_worker(action=pending.pop(0)))
        wait_until(lambda: all(p.poll() is not None for p in killers), "every kill")
        killed = running.workers[:]
        running.start_worker()  # an honest one finishes the export
        status = anyio.run(wait, running, export_id)
        assert [p.returncode for p in killed] == [-9] * len(KILL_POINTS), running.logged()
        assert status.complete, running.logged()
        assert all(s.state == "committed" and s.commits == 1 for s in status.shards)
        assert_equal_to_single_process(running, export_id, status)
        # The part renamed before its killed commit is on disk, and is not what was read.
        folder = tmp_path / "out" / export_id
        committed = {s.file for s in status.shards}
        orphans = {p.name for p in folder.glob("*.jsonl")} - committed
        assert orphans, "the worker killed after its rename left its part behind"


def test_a_paused_worker_whose_lease_was_taken_over_cannot_commit(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with cluster(redis_server.url, tmp_path) as running:
        stale = running.start_worker(action="stop:renamed:1")
        export_id = anyio.run(submit, running)
        log = running.logs[0]
        wait_until(lambda: "stop at renamed" in log.read_text(), "the pause")
        shard = int(log.read_text().split("stop at renamed of shard ")[1].split()[0])
        running.start_worker()  # takes the shard over once the paused lease expires
        status = anyio.run(wait, running, export_id)
        stale.send_signal(signal.SIGCONT)
        wait_until(lambda: "commit refused" in log.read_text(), "the stale commit")
        status = anyio.run(wait, running, export_id)
        taken = status.shards[shard]
        epoch = int(log.read_text().split(f"shard {shard} epoch ")[1].split()[0])
        assert taken.epoch > epoch
        assert (taken.state, taken.commits, taken.refused) == ("committed", 1, 1)
        assert f"-e{epoch}." not in (taken.file or "")
        folder = tmp_path / "out" / export_id
        assert not list(folder.glob(f"*-e{epoch}.jsonl*")), "the refused part is removed"
        assert_equal_to_single_process(running, export_id, status)


def test_a_redis_restart_mid_export_is_rebuilt_from_the_folder_without_loss(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with cluster(redis_server.url, tmp_path) as running:
        for fake in running.fakes.values():
            fake.latency = 0.02
        for _ in range(2):
            running.start_worker()
        export_id = anyio.run(submit, running)
        commits = tmp_path / "out" / export_id / "commits"
        wait_until(lambda: len(list(commits.iterdir())) >= 3, "a few commits")
        redis_server.restart()  # empty: the ledger and the task stream are gone
        status = anyio.run(wait, running, export_id)
        assert status.complete, running.logged()
        kept = [s for s in status.shards if s.commits == 0]  # committed before, from disk
        assert len(kept) >= 3
        assert all(s.state == "committed" and s.commits <= 1 for s in status.shards)
        assert_equal_to_single_process(running, export_id, status)
