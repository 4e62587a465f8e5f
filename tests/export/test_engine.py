"""The export engine in-process: exact output, faults mid-export, interruption and resume."""

from __future__ import annotations

import contextlib
import csv
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import httpx
import pytest

from tests.export.helpers import BATCH, expected_pairs, part_of, read_lines, read_pairs
from wecom_async import MemoryRateBudget, RateLimitError, RetryPolicy, WeComClient, WeComError
from wecom_async._retry import decide
from wecom_async.export import (
    Checkpoint,
    CheckpointError,
    CustomersJob,
    EngineOptions,
    OutputExistsError,
    TagsJob,
    Unit,
    run_export,
)
from wecom_async.export._writer import TableOptions
from wecom_async.testing import JSON, FakeWeCom, RequestContext, Route, WeComFault
from wecom_async.testing._render import render_external_contact, render_follow_info
from wecom_async.testing.routes.external_contact import batch_get_by_user

FAST = EngineOptions(concurrency=4, checkpoint_interval=0)


class Hook:
    """A progress display that runs ``action`` once, when ``pages`` pages are written."""

    def __init__(self, pages: int, action: Callable[[], None]) -> None:
        self.pages, self.action, self.fired = pages, action, False

    def start(self, *, title: str, unit_label: str, total: int, done: int, items: int) -> None:
        pass

    def update(self, *, done: int, items: int, pages: int) -> None:
        if not self.fired and pages >= self.pages:
            self.fired = True
            self.action()

    def close(self) -> None:
        pass


class Sleeps:
    """Stands in for ``anyio.sleep`` (the client's retry pauses): records each delay and,
    given a fake, moves its clock by it instead of waiting."""

    def __init__(self, fake: FakeWeCom | None = None) -> None:
        self.delays: list[float] = []
        self._fake = fake

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self._fake is not None:
            self._fake.clock.advance(delay)


#: The client's policy in the storm tests: WeCom's 60 s block, no jitter, so every pause is
#: known exactly.
POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0, rate_limit_delay=60.0, jitter=0)


@contextlib.asynccontextmanager
async def client_with(fake: FakeWeCom, policy: RetryPolicy) -> AsyncIterator[WeComClient]:
    """A client of ``fake`` (in-process) with the retry ``policy``, whose rate budget runs
    on the fake's clock and waits through ``anyio.sleep`` as the retry pauses do (the
    storm tests replace it with :class:`Sleeps`): a 45009 block ends when the fake's does."""

    async def sleep(seconds: float) -> None:
        await anyio.sleep(seconds)  # looked up per call: the tests' stand-in when patched

    budget = MemoryRateBudget(clock=fake.clock.now, sleep=sleep)
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=http,
            base_url=fake.base_url,
            retry=policy,
            rate_budget=budget,
        ) as client,
    ):
        yield client


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """8 members, ~1,050 (customer, member) pairs: 16 pages in chunks of one member."""
    wecom_fake.seed(staff=8, customers_per_staff=120, seed=5)
    return wecom_fake


async def test_every_pair_once_exactly_as_sent(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.jsonl"
    result = await run_export(CustomersJob(chunk_size=3), wecom_client, out, options=FAST)

    expected = {}
    for pair in expected_pairs(corp):
        customer = corp.customer(pair[0])
        follow = corp.follow(*pair)
        assert follow is not None
        expected[pair] = {
            "external_contact": render_external_contact(customer),
            "follow_info": render_follow_info(follow, customer.type, corp.state.tags),
        }
    records = [json.loads(line) for line in read_lines(out)]
    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert dict(zip(pairs, records, strict=True)) == expected  # the wire dicts, unchanged
    assert result.items == len(expected)
    assert result.pages == corp.calls(BATCH)
    assert (result.units, result.size, result.failures) == (3, 8, [])
    assert not Checkpoint.path_for(out).exists()


async def test_fields_unknown_to_this_release_are_kept(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    def newer_wecom(ctx: RequestContext) -> JSON:
        data = batch_get_by_user(ctx)
        for item in data["external_contact_list"]:
            item["external_contact"]["vip_level"] = 3
            item["follow_info"]["added_in_2030"] = {"nested": [1, 2]}
        return data

    corp.add_route(Route("POST", BATCH, newer_wecom))
    out = tmp_path / "c.jsonl"
    await run_export(CustomersJob(), wecom_client, out, options=FAST)

    records = [json.loads(line) for line in read_lines(out)]
    assert len(records) == len(expected_pairs(corp))
    assert all(r["external_contact"]["vip_level"] == 3 for r in records)
    assert all(r["follow_info"]["added_in_2030"] == {"nested": [1, 2]} for r in records)


FAULTS = {
    "45009": {"errcode": 45009},
    "-1": {"errcode": -1},
    "HTTP 503": {"status": 503},
    "dropped": {"drop": True},
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_page_that_keeps_failing_costs_exactly_the_clients_retries(
    corp: FakeWeCom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """One retry layer: the client's. A page failing for good makes ``max_attempts``
    requests and sleeps what the policy says, then the export stops, resumable."""
    sleeps = Sleeps(corp)  # the rate budget runs on the fake's clock
    monkeypatch.setattr(anyio, "sleep", sleeps)
    out = tmp_path / "c.jsonl"
    async with client_with(corp, POLICY) as client:
        await client.external_contact.get_follow_user_list()  # the token, before the storm
        corp.inject(BATCH, times=1_000, **FAULTS[fault])  # type: ignore[arg-type]
        with pytest.raises(WeComError) as caught:
            await run_export(CustomersJob(chunk_size=100), client, out, options=FAST)

    assert corp.calls(BATCH) == POLICY.max_attempts
    expected = [
        decide(caught.value, attempt, retry_safe=True, policy=POLICY)
        for attempt in range(1, POLICY.max_attempts)
    ]
    if fault == "45009":
        # The wait after a 45009 is the rate budget's block, WeCom's 60 s.
        expected = [POLICY.rate_limit_delay] * (POLICY.max_attempts - 1)
    assert sleeps.delays == expected
    if fault == "45009":
        assert isinstance(caught.value, RateLimitError)
        assert caught.value.errcode == 45009
        assert sum(sleeps.delays) == 3 * 60.0  # not the ~19 minutes of two stacked layers
    saved = Checkpoint.load(Checkpoint.path_for(out))
    assert (saved.pending(), saved.items, saved.failures) == ([0], 0, [])


async def test_a_storm_the_client_absorbs_completes_the_export(
    corp: FakeWeCom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = Sleeps(corp)  # the rate budget runs on the fake's clock
    monkeypatch.setattr(anyio, "sleep", sleeps)
    storm = Hook(2, lambda: corp.inject(BATCH, errcode=45009, times=POLICY.max_attempts - 1))
    options = EngineOptions(concurrency=1, checkpoint_interval=0)
    out = tmp_path / "c.jsonl"
    async with client_with(corp, POLICY) as client:
        result = await run_export(
            CustomersJob(chunk_size=1), client, out, progress=storm, options=options
        )

    pairs = read_pairs(out)
    assert storm.fired
    assert len(pairs) == len(set(pairs)) == len(expected_pairs(corp))
    assert set(pairs) == expected_pairs(corp)
    assert corp.calls(BATCH) == result.pages + POLICY.max_attempts - 1
    # The client's waits only: each the rate budget's 60 s block.
    assert sleeps.delays == [60.0] * (POLICY.max_attempts - 1)


async def test_a_storm_past_the_client_retries_stops_and_resumes_exactly(
    corp: FakeWeCom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anyio, "sleep", Sleeps(corp))  # the budget runs on the fake's clock
    storm = Hook(2, lambda: corp.inject(BATCH, errcode=45009, times=20))
    options = EngineOptions(concurrency=4, checkpoint_interval=0)
    out = tmp_path / "c.jsonl"
    async with client_with(corp, POLICY) as client:
        with pytest.raises(RateLimitError):
            await run_export(
                CustomersJob(chunk_size=1), client, out, progress=storm, options=options
            )
        corp.clear_faults()
        result = await run_export(CustomersJob(), client, out, resume=True, options=FAST)

    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(corp)
    assert result.failures == []


async def test_a_tiny_fake_budget_is_waited_out_by_the_client(
    corp: FakeWeCom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corp.set_rate_limit(BATCH, 3)
    sleeps = Sleeps(corp)  # each pause moves the fake clock
    monkeypatch.setattr(anyio, "sleep", sleeps)
    options = EngineOptions(concurrency=2, checkpoint_interval=0)
    out = tmp_path / "c.jsonl"
    policy = RetryPolicy(max_attempts=4, base_delay=0, rate_limit_delay=60.0, jitter=0)
    async with client_with(corp, policy) as client:
        result = await run_export(CustomersJob(chunk_size=1), client, out, options=options)

    assert set(read_pairs(out)) == expected_pairs(corp)
    assert result.items == len(expected_pairs(corp))
    assert corp.calls(BATCH) > result.pages  # 45009s were answered
    assert sleeps.delays
    assert set(sleeps.delays) == {60.0}


async def test_token_expiry_midway_is_refreshed_once(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    expiry = Hook(2, corp.expire_tokens)
    out = tmp_path / "c.jsonl"
    await run_export(CustomersJob(chunk_size=1), wecom_client, out, progress=expiry, options=FAST)

    assert expiry.fired
    assert set(read_pairs(out)) == expected_pairs(corp)
    assert len(read_pairs(out)) == len(expected_pairs(corp))
    assert corp.calls("gettoken") == 2


async def test_unlicensed_members_become_failures(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    staff = wecom_fake.seed(staff=10, customers_per_staff=5, seed=4, unlicensed_staff=3).staff
    out = tmp_path / "c.jsonl"
    result = await run_export(CustomersJob(chunk_size=2), wecom_client, out, options=FAST)

    assert set(read_pairs(out)) == expected_pairs(wecom_fake)
    by_reason = {f.reason: f for f in result.failures}
    assert set(by_reason) == {"unlicensed", "errcode 701008"}
    assert by_reason["unlicensed"].ids == (staff[7],)  # fail_info beside licensed members
    assert by_reason["errcode 701008"].ids == (staff[8], staff[9])  # the whole chunk
    assert by_reason["errcode 701008"].detail == "errcode 701008: no valid interop license"


async def _interrupted(
    client: WeComClient, out: Path, pages: int, *, interval: float = 0
) -> Checkpoint:
    """Run an export and cancel it (as Ctrl-C does) once ``pages`` pages are written."""
    with anyio.CancelScope() as scope:
        options = EngineOptions(concurrency=2, checkpoint_interval=interval)
        await run_export(
            CustomersJob(chunk_size=1),
            client,
            out,
            progress=Hook(pages, scope.cancel),
            options=options,
        )
    assert scope.cancelled_caught
    return Checkpoint.load(Checkpoint.path_for(out))


@pytest.mark.parametrize("interval", [0, 3600])
async def test_cancelled_export_resumes_exactly(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path, interval: float
) -> None:
    out = tmp_path / "c.jsonl"
    saved = await _interrupted(wecom_client, out, 3, interval=interval)

    assert saved.output_bytes == part_of(out).stat().st_size  # the shielded final commit
    assert saved.items == len(read_lines(part_of(out))) > 0
    assert not out.exists()  # only a complete export is put in place
    assert saved.pages >= 3
    assert saved.pending()
    assert saved.cursors or len(saved.done) < len(saved.units)
    calls_before = corp.calls(BATCH)
    result = await run_export(CustomersJob(), wecom_client, out, resume=True, options=FAST)

    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(corp)
    assert result.resumed
    assert result.items == len(pairs)
    assert corp.calls("externalcontact/get_follow_user_list") == 1  # the plan was kept
    # The resume fetches exactly the pages the checkpoint did not record, from their cursors.
    assert corp.calls(BATCH) - calls_before == result.pages - saved.pages


async def test_resume_cuts_a_torn_tail(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.jsonl"
    await _interrupted(wecom_client, out, 2)
    with part_of(out).open("ab") as handle:
        handle.write(b'{"external_contact":{"external_userid":"wm-torn')  # a crash mid-line

    await run_export(CustomersJob(), wecom_client, out, resume=True, options=FAST)

    assert set(read_pairs(out)) == expected_pairs(corp)
    assert len(read_pairs(out)) == len(expected_pairs(corp))


async def test_resume_refuses_what_it_cannot_continue(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.jsonl"
    with pytest.raises(CheckpointError, match="nothing to resume"):
        await run_export(CustomersJob(), wecom_client, out, resume=True)

    saved = await _interrupted(wecom_client, out, 2)
    with pytest.raises(CheckpointError, match="another export"):
        await run_export(TagsJob(), wecom_client, out, resume=True)
    with pytest.raises(CheckpointError, match="another export"):
        await run_export(CustomersJob(), wecom_client, out, format="csv", resume=True)
    part = part_of(out)
    whole = part.read_bytes()
    part.write_bytes(whole[: saved.output_bytes - 1])  # someone cut the file
    with pytest.raises(CheckpointError, match="was changed since"):
        await run_export(CustomersJob(), wecom_client, out, resume=True)
    part.write_bytes(whole.replace(b"wm", b"wM", 1))  # another file of the same length
    with pytest.raises(CheckpointError, match=r"content of .* is not what the checkpoint"):
        await run_export(CustomersJob(), wecom_client, out, resume=True)
    assert part.read_bytes() == whole.replace(b"wm", b"wM", 1)  # left for the user to see
    part.unlink()
    with pytest.raises(CheckpointError, match="is gone"):
        await run_export(CustomersJob(), wecom_client, out, resume=True)
    assert Checkpoint.path_for(out).exists()  # still there for a later attempt


async def test_an_older_file_is_replaced_only_when_allowed(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.jsonl"
    out.write_text("stale\n" * 1000)
    with pytest.raises(OutputExistsError, match="already exists"):
        await run_export(CustomersJob(), wecom_client, out, options=FAST)
    assert out.read_text() == "stale\n" * 1000
    assert corp.calls("externalcontact/get_follow_user_list") == 0  # refused before the plan

    await run_export(CustomersJob(), wecom_client, out, options=FAST, overwrite=True)

    assert set(read_pairs(out)) == expected_pairs(corp)
    assert len(read_pairs(out)) == len(expected_pairs(corp))


async def test_a_member_who_left_costs_only_themself(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    """WeCom refuses a whole batch chunk for one invalid userid (60111): the engine halves
    the chunk until the bad member stands alone, and exports everyone else exactly once."""

    class WithGhost(CustomersJob):
        async def plan(self, client: WeComClient) -> list[Unit]:
            units = await super().plan(client)
            ghost = {"userids": ["ghost-who-left", *units[0].spec["userids"]]}  # type: ignore[misc]
            return [Unit(ghost, units[0].size + 1), *units[1:]]

    out = tmp_path / "c.jsonl"
    result = await run_export(WithGhost(chunk_size=4), wecom_client, out, options=FAST)
    pairs = read_pairs(out)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_pairs(corp)
    assert [f.ids for f in result.failures] == [("ghost-who-left",)]
    assert not Checkpoint.path_for(out).exists()


async def test_a_cursor_cycle_fails_its_unit_instead_of_paging_forever(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    """A server whose cursors go '' -> A -> B -> A: the third page's cursor was followed
    already, so the unit ends there as a failure; its three pages are written once."""
    wecom_fake.seed(staff=1, customers_per_staff=450, seed=6)  # 5 pages of 100
    cursors: list[str] = []
    answers: list[str] = []

    def cycling(ctx: RequestContext) -> JSON:
        cursors.append(str(ctx.body.get("cursor") or ""))
        data = batch_get_by_user(ctx)
        answers.append(data["next_cursor"])
        if len(answers) == 3:
            data["next_cursor"] = answers[0]  # back to the second page's cursor
        if len(cursors) > 12:  # lets a looping engine end, so the test reports it
            data["next_cursor"] = ""
        return data

    wecom_fake.add_route(Route("POST", BATCH, cycling))
    out = tmp_path / "c.jsonl"
    result = await run_export(CustomersJob(), wecom_client, out, options=FAST)

    assert cursors == ["", answers[0], answers[1]]
    pairs = read_pairs(out)
    assert len(pairs) == len(set(pairs)) == 300
    assert set(pairs) < expected_pairs(wecom_fake)
    (failure,) = result.failures
    assert failure.reason == "ResponseError"
    assert "repeated page token" in failure.detail
    assert failure.ids == tuple(await wecom_client.external_contact.get_follow_user_list())
    assert not Checkpoint.path_for(out).exists()


# -- a cursor WeCom no longer accepts (50100) ---------------------------------------------


def written_pairs(out: Path, format: str) -> list[tuple[str, str]]:
    """The (external_userid, follow userid) of every record of a customers export."""
    if format == "jsonl":
        return read_pairs(out)
    with out.open(newline="", encoding="utf-8-sig") as handle:
        return [(row["external_userid"], row["follow_userid"]) for row in csv.DictReader(handle)]


async def _stopped(
    client: WeComClient, out: Path, pages: int, *, format: str = "jsonl", resume: bool = False
) -> Checkpoint:
    """Export customers in chunks of 4 members, cancelled once ``pages`` pages are written."""
    with anyio.CancelScope() as scope:
        await run_export(
            CustomersJob(chunk_size=4),
            client,
            out,
            format=format,  # type: ignore[arg-type]
            resume=resume,
            progress=Hook(pages, scope.cancel),
            options=EngineOptions(concurrency=2, checkpoint_interval=0),
        )
    assert scope.cancelled_caught
    return Checkpoint.load(Checkpoint.path_for(out))


def first_pages(fake: FakeWeCom) -> int:
    """batch/get_by_user requests that asked for a first page (no cursor)."""
    return sum(1 for r in fake.requests if r.path == BATCH and not (r.json or {}).get("cursor"))


@pytest.mark.parametrize("format", ["jsonl", "csv"])
async def test_a_unit_whose_cursor_expired_restarts_and_skips_what_it_wrote(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path, format: str
) -> None:
    out = tmp_path / f"c.{format}"
    saved = await _stopped(wecom_client, out, 3, format=format)
    assert len(saved.cursors) == 2  # both units stopped midway
    before = written_pairs(part_of(out), format)
    # Meanwhile a follow already exported goes away and a new one comes: the restarted
    # traversal differs from the first, so skipping "the first N" would lose a record.
    gone = before[0]
    corp.remove_follow(*gone)
    member = gone[1]
    followed = set(corp.customers_of(member))
    newcomer = next(c for c in corp.state.customers if c not in followed)
    corp.add_follow(newcomer, member)
    corp.expire_cursors()
    first_pages_before = first_pages(corp)

    result = await run_export(
        CustomersJob(), wecom_client, out, format=format, resume=True, options=FAST
    )

    pairs = written_pairs(out, format)
    assert Counter(pairs).most_common(1)[0][1] == 1  # nothing twice
    assert set(pairs) == expected_pairs(corp) | {gone}  # nothing lost, the old one kept
    assert (newcomer, member) in pairs
    assert result.failures == []
    assert first_pages(corp) - first_pages_before == 2  # each unit started over once
    assert result.items == len(pairs)
    assert not Checkpoint.path_for(out).exists()


@pytest.mark.parametrize("earlier_release", [False, True])
async def test_a_restart_interrupted_in_turn_still_resumes_exactly(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path, earlier_release: bool
) -> None:
    """The restart is in the checkpoint: a resume of a restarted unit keeps skipping, also
    from a checkpoint written before units' starts were recorded."""
    out = tmp_path / "c.jsonl"
    saved = await _stopped(wecom_client, out, 3)
    if earlier_release:
        path = Checkpoint.path_for(out)
        document = json.loads(path.read_bytes())
        del document["starts"], document["restarted"]
        path.write_text(json.dumps(document))
    corp.expire_cursors()
    again = await _stopped(wecom_client, out, saved.pages + 4, resume=True)
    assert again.restarted
    assert again.restarted <= set(again.cursors)  # re-paging, past the first page
    corp.expire_cursors()

    await run_export(CustomersJob(), wecom_client, out, resume=True, options=FAST)

    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(corp)


async def test_a_cursor_that_expires_midway_restarts_its_unit(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    """One unit of 11 pages; its cursor expires after a few: pages written, pages still on
    their way to the writer and pages fetched again all end up in the output once."""
    out = tmp_path / "c.jsonl"
    expiry = Hook(3, corp.expire_cursors)
    options = EngineOptions(concurrency=1, checkpoint_interval=0)
    result = await run_export(
        CustomersJob(chunk_size=100), wecom_client, out, progress=expiry, options=options
    )

    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(corp)
    assert result.failures == []
    assert corp.calls(BATCH) == result.pages + 1  # the one page refused with 50100
    assert first_pages(corp) == 2


async def test_a_server_refusing_every_cursor_fails_the_unit_after_one_restart(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    wecom_fake.seed(staff=1, customers_per_staff=250, seed=6)

    def no_second_page(ctx: RequestContext) -> JSON:
        if ctx.body.get("cursor"):
            raise WeComFault(50100)
        return batch_get_by_user(ctx)

    wecom_fake.add_route(Route("POST", BATCH, no_second_page))
    out = tmp_path / "c.jsonl"
    result = await run_export(CustomersJob(), wecom_client, out, options=FAST)

    pairs = read_pairs(out)
    assert len(pairs) == len(set(pairs)) == 100  # the first page, once
    assert wecom_fake.calls(BATCH) == 4  # page 1, 50100, page 1 again, 50100
    (failure,) = result.failures
    assert failure.reason == "errcode 50100"


async def test_a_csv_export_resumes_only_with_the_table_options_it_started_with(
    corp: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "c.csv"
    await _stopped(wecom_client, out, 2, format="csv")
    for other in (TableOptions(timezone="UTC"), TableOptions(bom=False)):
        with pytest.raises(CheckpointError, match="other table options"):
            await run_export(
                CustomersJob(), wecom_client, out, format="csv", resume=True, table=other
            )

    await run_export(CustomersJob(), wecom_client, out, format="csv", resume=True, options=FAST)

    pairs = written_pairs(out, "csv")
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_pairs(corp)
