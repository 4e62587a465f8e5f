"""Every new kind, interrupted midway and resumed, writes exactly what an uninterrupted run
writes: no record lost, none twice (also when WeCom no longer accepts the saved cursors)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import pytest

from tests.export.helpers import part_of, read_lines
from tests.export.kinds import FAST, CancelAfter, World, build_world, sorted_lines
from wecom_async import WeComClient
from wecom_async.export import (
    Checkpoint,
    EngineOptions,
    Job,
    _jobs_messages,
    _jobs_moments,
    make_job,
    run_export,
)
from wecom_async.testing import FakeWeCom

KINDS = ("group-messages", "moments", "behavior-stats", "transfers", "acquisition")


@pytest.fixture
async def world(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, monkeypatch: pytest.MonkeyPatch
) -> World:
    # One record per page: units of several pages, so an interruption falls inside one.
    monkeypatch.setattr(_jobs_messages, "GROUPMSG_PAGE", 1)
    monkeypatch.setattr(_jobs_moments, "MOMENT_PAGE", 1)
    return await build_world(wecom_fake, wecom_client)


def _job(kind: str, world: World) -> Job:
    if kind == "transfers":
        return make_job(kind, pairs=world.pairs)
    if kind == "acquisition":
        return make_job(kind)
    return make_job(kind, since=world.since, until=world.until)


async def _interrupted(job: Job, client: WeComClient, out: Path) -> Checkpoint:
    """Run ``job`` one unit at a time and cancel it (as Ctrl-C does) after its first record."""
    with anyio.CancelScope() as scope:
        hook = CancelAfter(1, scope.cancel)
        options = EngineOptions(concurrency=1, checkpoint_interval=0)
        await run_export(job, client, out, progress=hook, options=options)
    assert scope.cancelled_caught
    return Checkpoint.load(Checkpoint.path_for(out))


@pytest.mark.parametrize("expire", [False, True], ids=["cursors-kept", "cursors-expired"])
@pytest.mark.parametrize("kind", KINDS)
async def test_an_interrupted_export_resumes_to_exactly_the_full_one(
    world: World, wecom_client: WeComClient, tmp_path: Path, kind: str, expire: bool
) -> None:
    full = tmp_path / "full.jsonl"
    await run_export(_job(kind, world), wecom_client, full, options=FAST)
    expected = sorted_lines(full)
    assert len(expected) >= 2

    out = tmp_path / "resumed.jsonl"
    saved = await _interrupted(_job(kind, world), wecom_client, out)
    assert saved.pending()  # stopped midway: something was left to do
    assert 0 < saved.items == len(read_lines(part_of(out))) < len(expected)
    if kind in ("group-messages", "moments"):
        assert saved.cursors  # stopped inside a unit: it resumes from its cursor
    if expire:
        world.fake.expire_cursors()
    result = await run_export(_job(kind, world), wecom_client, out, resume=True, options=FAST)

    lines = read_lines(out)
    assert Counter(lines).most_common(1)[0][1] == 1
    assert sorted(lines) == expected
    assert result.items == len(expected)
    assert result.resumed
