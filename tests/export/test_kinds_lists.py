"""transfers and acquisition: every customer once, as the fake's records hold them."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from tests.export.kinds import FAST, World, build_world, records
from wecom_async import WeComClient
from wecom_async.export import AcquisitionJob, TransfersJob, Unit, run_export
from wecom_async.export._jobs_transfers import read_pairs
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._transfer_state import TransferState


@pytest.fixture
async def world(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> World:
    return await build_world(wecom_fake, wecom_client)


def _unassigned(fake: FakeWeCom) -> set[tuple[str, str]]:
    waiting = {t.external_userid for t in fake.state.ext(TransferState).transfers}
    return {
        (member.userid, follow.external_userid)
        for member in fake.state.staff.values()
        if member.resigned
        for follow in fake.state.follows_of(member.userid)
        if follow.external_userid not in waiting
    }


async def test_transfers_hold_the_unassigned_and_each_pairs_results(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "transfers.jsonl"
    job = TransfersJob(pairs=[*world.pairs, world.pairs[0]])  # a repeated pair counts once
    result = await run_export(job, wecom_client, out, options=FAST)

    found = records(out)
    kinds = Counter(r["transfer"] for r in found)
    unassigned = {
        (r["handover_userid"], r["customer"]["external_userid"])
        for r in found
        if r["transfer"] == "unassigned"
    }
    assert unassigned == _unassigned(world.fake)
    assert kinds["unassigned"] == len(unassigned) > 0
    state = world.fake.state.ext(TransferState)
    for kind, (handover, takeover) in zip(("onjob", "resigned"), world.pairs, strict=True):
        expected = {
            (t.external_userid, t.status) for t in state.latest_between(kind, handover, takeover)
        }
        got = {
            (r["customer"]["external_userid"], r["customer"]["status"])
            for r in found
            if (r["transfer"], r["handover_userid"], r["takeover_userid"])
            == (kind, handover, takeover)
        }
        assert got == expected
        assert expected
    assert kinds["onjob"] == 3
    assert kinds["resigned"] == 2
    assert (result.units, result.failures) == (5, [])  # the list, then 2 per pair


def test_a_pairs_file_is_read_strictly(tmp_path: Path) -> None:
    good = tmp_path / "pairs.csv"
    good.write_text("# handover,takeover\n\nzhangsan, lisi\nwangwu,lisi\nzhangsan,lisi\n")
    assert read_pairs(good) == [("zhangsan", "lisi"), ("wangwu", "lisi")]
    bad = tmp_path / "bad.csv"
    bad.write_text("zhangsan,lisi\nwangwu\n")
    with pytest.raises(ValueError, match="line 2: expected handover_userid,takeover_userid"):
        read_pairs(bad)


async def test_acquisition_holds_every_link_and_every_customer_it_brought(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "links.jsonl"
    result = await run_export(AcquisitionJob(), wecom_client, out, options=FAST)

    found = {r["link_id"]: r for r in records(out)}
    assert len(found) == len(records(out))
    assert set(found) == set(world.acquired)
    for link_id, customers in world.acquired.items():
        record = found[link_id]
        assert sorted(c["external_userid"] for c in record["customer_list"]) == sorted(customers)
        detail = await wecom_client.acquisition.get(link_id)
        assert record["detail"]["link"]["link_name"] == detail.link.link_name
    assert (result.units, result.failures) == (2, [])


async def test_acquisition_csv_has_a_row_per_customer_and_one_per_empty_link(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    out = tmp_path / "links.csv"
    await run_export(AcquisitionJob(), wecom_client, out, format="csv", options=FAST)

    text = out.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    per_link = Counter(row["link_id"] for row in rows)
    assert per_link == {k: max(1, len(v)) for k, v in world.acquired.items()}
    assert {row["external_userid"] for row in rows} - {""} == {
        c for customers in world.acquired.values() for c in customers
    }


async def test_a_link_deleted_after_the_plan_is_reported_not_fatal(
    world: World, wecom_client: WeComClient, tmp_path: Path
) -> None:
    empty = next(link for link, customers in world.acquired.items() if not customers)

    class DeletedAfterPlan(AcquisitionJob):
        async def plan(self, client: WeComClient) -> list[Unit]:
            units = await super().plan(client)
            await client.acquisition.delete_link(empty)
            return units

    out = tmp_path / "links.jsonl"
    result = await run_export(DeletedAfterPlan(), wecom_client, out, options=FAST)

    (failure,) = result.failures
    assert failure.ids == (empty,)
    assert {r["link_id"] for r in records(out)} == set(world.acquired) - {empty}
