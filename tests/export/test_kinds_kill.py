"""A new kind's export killed with SIGKILL mid-run (a real process, the fake on loopback)
resumes to exactly what an uninterrupted run writes."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import pytest

from tests.export.helpers import cli_args, cli_env, part_of, read_lines, run_cli, serve
from tests.export.kinds import World, build_world
from wecom_async import RetryPolicy, WeComClient
from wecom_async.export.cli import ExitStatus
from wecom_async.testing import FakeWeCom


@pytest.fixture
def served(wecom_fake: FakeWeCom) -> Iterator[tuple[World, str]]:
    async def build() -> World:
        async with (
            httpx.AsyncClient(transport=wecom_fake.transport()) as http,
            WeComClient(
                wecom_fake.corp_id,
                wecom_fake.secret,
                http_client=http,
                base_url=wecom_fake.base_url,
                retry=RetryPolicy.no_delay(),
            ) as client,
        ):
            return await build_world(wecom_fake, client)

    world = anyio.run(build)
    with serve(wecom_fake) as url:
        yield world, url


def _args(world: World, url: str, out: Path, *more: str) -> list[str]:
    def iso(seconds: int) -> str:
        return datetime.fromtimestamp(seconds, UTC).isoformat()

    return [
        "export", "moments", "--base-url", url, "--corp-id", world.fake.corp_id,
        "--since", iso(world.since), "--until", iso(world.until), "-o", str(out),
        "--concurrency", "1", "-q", *more,
    ]  # fmt: skip


def test_a_killed_moments_export_resumes_exactly(served: tuple[World, str], tmp_path: Path) -> None:
    world, url = served
    env = cli_env(WECOM_SECRET=world.fake.secret)
    full = tmp_path / "full.jsonl"
    done = run_cli(*_args(world, url, full), cwd=tmp_path, env=env)
    assert done.returncode == ExitStatus.OK, done.stderr
    expected = sorted(read_lines(full))

    world.fake.latency = 0.1  # long enough to be caught midway
    out = tmp_path / "killed.jsonl"
    proc = subprocess.Popen(cli_args(*_args(world, url, out)), cwd=tmp_path, env=env)
    deadline = time.monotonic() + 30
    while not (part_of(out).exists() and part_of(out).read_bytes().count(b"\n") >= 1):
        assert proc.poll() is None, "the export ended before it could be killed"
        assert time.monotonic() < deadline, "the export made no progress"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not out.exists()
    world.fake.latency = 0.0

    resumed = run_cli(*_args(world, url, out, "--resume"), cwd=tmp_path, env=env)
    assert resumed.returncode == ExitStatus.OK, resumed.stderr
    lines = read_lines(out)
    assert Counter(lines).most_common(1)[0][1] == 1
    assert sorted(lines) == expected
    assert len(expected) >= 3
