"""--since / --until: bounds read strictly, windows covering each second once, bad ranges
refused before any request, and --since last going on from the previous run's manifest."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import anyio
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.export.helpers import part_of, serve
from tests.export.kinds import DAY, CancelAfter, World, build_world, records
from wecom_async import RetryPolicy, WeComClient
from wecom_async._time import china_day, time_window
from wecom_async.export import EngineOptions, GroupMessagesJob, MomentsJob, make_job, run_export
from wecom_async.export._manifest import manifest_path
from wecom_async.export._range import day_windows, parse_bound, windows
from wecom_async.export._windowed import WindowedJob, inside
from wecom_async.export.cli import ExitStatus, main
from wecom_async.services.messages import MAX_GROUPMSG_LIST_SPAN
from wecom_async.services.moments import MAX_MOMENT_LIST_SPAN
from wecom_async.testing import FakeWeCom

#: 2024-03-01 00:00 Beijing time.
MARCH_1: Final = 1_709_222_400
SECONDS = st.integers(min_value=0, max_value=4_000_000_000)


def test_a_date_is_a_whole_beijing_day() -> None:
    assert parse_bound("2024-03-01", end=False) == MARCH_1
    assert parse_bound("2024-03-01", end=True) == MARCH_1 + DAY - 1
    assert parse_bound("2024-03-01T00:00:00+08:00", end=False) == MARCH_1
    assert parse_bound("2024-02-29T16:00:00Z", end=False) == MARCH_1
    assert parse_bound("2024-03-01T00:00:00.5+08:00", end=False) == MARCH_1 + 1
    assert parse_bound("2024-03-01T00:00:00.5+08:00", end=True) == MARCH_1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2024-03-01T08:00:00", "no UTC offset"),
        ("2024-03-01 08:00", "no UTC offset"),
        ("2024-02-30", "not a valid date"),
        ("yesterday", "neither a date"),
        ("1969-12-31T00:00:00Z", "before 1970"),
    ],
)
def test_a_bound_that_is_not_a_date_or_an_aware_datetime_is_refused(
    text: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_bound(text, end=False)


@given(SECONDS, st.integers(1, 40 * DAY), st.integers(0, 300))
def test_windows_cover_each_second_once_and_none_is_too_long(
    since: int, window: int, spread: int
) -> None:
    length = window * spread // 7  # up to ~40 windows, of any length
    until = since + length
    cut = windows(since, until, window)
    assert cut[0][0] == since
    assert cut[-1][1] == until
    for (_, end), (start, _) in itertools.pairwise(cut):
        assert start == end + 1  # no gap, no overlap
    assert all(0 <= last - first < window for first, last in cut)


@given(SECONDS, st.integers(0, 400 * DAY), st.integers(1, 31))
def test_day_windows_are_whole_beijing_days_covering_every_day_touched(
    since: int, length: int, days: int
) -> None:
    until = since + length
    cut = day_windows(since, until, days)
    assert cut[0][0] == china_day(since)
    assert cut[-1][1] == china_day(until) + DAY - 1
    for (_, end), (start, _) in itertools.pairwise(cut):
        assert start == end + 1
    for first, last in cut:
        assert china_day(first) == first
        assert china_day(last) == last - DAY + 1
        assert (last + 1 - first) // DAY <= days


@pytest.mark.parametrize(
    ("job", "limit"),
    [(GroupMessagesJob, MAX_GROUPMSG_LIST_SPAN), (MomentsJob, MAX_MOMENT_LIST_SPAN)],
)
@given(
    since=st.integers(1, 3_000_000_000),
    length=st.integers(0, 200 * DAY),
    times=st.lists(st.integers(-2, 200 * DAY), max_size=20),
    edges=st.lists(st.tuples(st.integers(0, 8), st.integers(-2, 2)), max_size=20),
    strict=st.booleans(),
)
def test_each_record_of_the_range_is_kept_by_exactly_one_window(
    job: type[WindowedJob],
    limit: int,
    since: int,
    length: int,
    times: list[int],
    edges: list[tuple[int, int]],
    strict: bool,
) -> None:
    """Whether WeCom lists [start, end] or only (start, end), every record created in
    the range is kept by one window and no other, and every call stays in WeCom's span."""
    until = since + length
    units = anyio.run(job(since=since, until=until).plan, None)  # type: ignore[arg-type]
    kept: Counter[int] = Counter()
    window = job.max_span - 2
    # Anywhere (before the range, in it, after it), and on or beside the windows' edges.
    created = [since + t for t in times] + [since + k * window + d for k, d in edges]
    for unit in units:
        start, end = job.asked(unit.spec)
        time_window(start, end, max_seconds=min(limit, 30 * DAY), allow_equal=False)
        listed = [t for t in created if (start < t < end if strict else start <= t <= end)]
        kept.update(t for t in listed if inside(t, unit.spec))
    per_list = len(job().lists())
    assert kept == Counter(t for t in created if since <= t <= until for _ in range(per_list))


# -- the command -----------------------------------------------------------------------


@dataclass
class Corp:
    world: World
    url: str


@contextlib.asynccontextmanager
async def _client(fake: FakeWeCom) -> AsyncIterator[WeComClient]:
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=http,
            base_url=fake.base_url,
            retry=RetryPolicy.no_delay(),
        ) as client,
    ):
        yield client


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> Iterator[Corp]:
    """The world's corp served on 127.0.0.1 (the command talks to it over HTTP)."""

    async def build() -> World:
        async with _client(wecom_fake) as client:
            return await build_world(wecom_fake, client)

    world = anyio.run(build)
    with serve(wecom_fake) as url:
        yield Corp(world, url)


@pytest.fixture
def export(
    corp: Corp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str]]:
    """Run ``wecom-async export`` in this process against the corp; (status, stderr)."""
    monkeypatch.setenv("WECOM_SECRET", corp.world.fake.secret)

    def run(*args: str) -> tuple[int, str]:
        base = ["export", *args[:1], "--base-url", corp.url, "--corp-id", "wwfake", "-q"]
        status = main([*base, *args[1:]])
        return status, capsys.readouterr().err

    return run


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["group-messages", "--since", "2024-03-01T08:00"], "has no UTC offset"),
        (["moments", "--since", "2024-03-02", "--until", "2024-03-01"], "is after --until"),
        (["behavior-stats", "--since", "2099-01-01"], "after the kind's default end"),
        (["customers", "--since", "2024-03-01"], "customers has no time range"),
        (["group-messages", "--since", "last"], "no previous export"),
        (["transfers", "--resume", "--transfer-pairs", "p.csv"], "cannot change on --resume"),
        (["tags", "--transfer-pairs", "pairs.csv"], "applies to transfers only"),
        (["transfers", "--transfer-pairs", "missing.csv"], "cannot read --transfer-pairs"),
    ],
)
def test_a_bad_range_is_refused_before_any_request(
    corp: Corp,
    export: Callable[..., tuple[int, str]],
    tmp_path: Path,
    args: list[str],
    problem: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    before = len(corp.world.fake.requests)
    status, err = export(*args, "-o", str(tmp_path / "out.jsonl"))

    assert status == ExitStatus.USAGE, err
    assert problem in err
    assert len(corp.world.fake.requests) == before  # not one request
    assert list(tmp_path.iterdir()) == []


def test_since_last_goes_on_where_the_previous_run_ended(
    corp: Corp, export: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    world, out = corp.world, tmp_path / "msgs.jsonl"
    fake = world.fake
    middle = fake.groupmsg(sorted(world.messages, key=lambda m: fake.groupmsg(m).create_time)[3])
    cut = middle.create_time - 1  # the first night ends just before the 4th message
    status, err = export(
        "group-messages", "--since", _iso(world.since), "--until", _iso(cut), "-o", str(out)
    )
    assert status == ExitStatus.OK, err
    first = {r["group_msg"]["msgid"] for r in records(out)}
    manifest = json.loads(manifest_path(out).read_text())
    assert (manifest["kind"], manifest["corp_id"]) == ("group-messages", "wwfake")
    assert (manifest["since"], manifest["until"], manifest["records"]) == (
        world.since,
        cut,
        len(first),
    )

    status, err = export(
        "group-messages", "--since", "last", "--until", _iso(world.until), "-o", str(out), "--force"
    )
    assert status == ExitStatus.OK, err
    second = {r["group_msg"]["msgid"] for r in records(out)}
    assert first | second == set(world.messages)
    assert not first & second  # the second night repeats nothing
    assert all(fake.groupmsg(m).create_time > cut for m in second)
    manifest = json.loads(manifest_path(out).read_text())
    assert (manifest["since"], manifest["until"]) == (cut + 1, world.until)

    status, err = export("moments", "--since", "last", "-o", str(out), "--force")
    assert status == ExitStatus.USAGE
    assert "was group-messages of corp wwfake, not moments" in err
    # Another kind replaces the output: the manifest no longer describes it and goes.
    status, err = export("tags", "-o", str(out), "--force")
    assert status == ExitStatus.OK, err
    assert not manifest_path(out).exists()
    status, err = export("group-messages", "--since", "last", "-o", str(out), "--force")
    assert status == ExitStatus.USAGE
    assert "no previous export" in err


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def test_a_resume_takes_the_same_range_and_refuses_another(
    corp: Corp, export: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    world, out = corp.world, tmp_path / "stats.jsonl"
    today = china_day(int(world.fake.clock.now()))
    job = make_job("behavior-stats", since=today - 40 * DAY, until=today - 1)

    async def interrupted() -> None:
        async with _client(world.fake) as client, anyio.create_task_group() as group:
            hook = CancelAfter(1, group.cancel_scope.cancel)
            options = EngineOptions(concurrency=1, checkpoint_interval=0)
            await run_export(job, client, out, progress=hook, options=options)

    anyio.run(interrupted)
    assert part_of(out).exists()
    # The days as given at the start, in another form: the same plan.
    same = ["--since", _iso(today - 40 * DAY + 3600), "--until", _iso(today - 1)]
    other = ["--since", _iso(today - 41 * DAY), "--until", _iso(today - 1)]
    status, err = export("behavior-stats", *other, "-o", str(out), "--resume")
    assert status == ExitStatus.USAGE
    assert "not the range the interrupted export started with" in err
    status, err = export("behavior-stats", *same, "-o", str(out), "--resume")
    assert status == ExitStatus.OK, err
    days = {r["data"]["stat_time"] for r in records(out) if r["stat"] == "user_behavior"}
    assert days == set(range(today - 40 * DAY, today, DAY))
