"""Submitting an export whose id exists already is refused before anything changes:
plan.json is never overwritten (a later rebuild would run one plan's shards under the
other's commit records), and the ledger keeps the first export."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from taskiq import AsyncBroker

from tests.export.distributed.test_damaged import factory
from tests.export.helpers import SECRET
from wecom_async import MemoryRateBudget, MemoryTokenStore
from wecom_async.export.distributed import Ledger, LedgerError, submit_export
from wecom_async.testing import FakeWeCom


async def submit(ledger: Ledger, broker: AsyncBroker, kind: str, out: Path, export_id: str) -> str:
    fake = FakeWeCom("wwa", SECRET)
    fake.seed(staff=4, customers_per_staff=2, seed=1)
    return await submit_export(
        ledger,
        broker,
        kind,
        [("a", factory(fake))],
        out,
        chunk_size=1,
        export_id=export_id,
        token_store=MemoryTokenStore(),
        rate_budget=MemoryRateBudget(),
    )


async def test_an_export_id_that_exists_is_refused_and_its_plan_kept(
    redis: Redis, broker: AsyncBroker, tmp_path: Path
) -> None:
    ledger = Ledger(redis)
    assert await submit(ledger, broker, "customers", tmp_path / "out", "X") == "X"
    plan = (tmp_path / "out" / "X" / "plan.json").read_bytes()
    status = await ledger.status("X")
    assert status is not None
    with pytest.raises(LedgerError, match="export X exists already in"):
        await submit(ledger, broker, "tags", tmp_path / "out", "X")
    with pytest.raises(LedgerError, match="export X exists already in the ledger"):
        await submit(ledger, broker, "tags", tmp_path / "elsewhere", "X")
    assert (tmp_path / "out" / "X" / "plan.json").read_bytes() == plan
    assert not (tmp_path / "elsewhere" / "X" / "plan.json").exists()
    assert await ledger.status("X") == status
    assert sorted(p.name for p in (tmp_path / "out" / "X").iterdir()) == ["commits", "plan.json"]


@pytest.mark.parametrize("export_id", ["../up", "a/b", "..", ".hidden", "../"])
async def test_an_export_id_that_is_a_path_is_refused(
    redis: Redis, broker: AsyncBroker, tmp_path: Path, export_id: str
) -> None:
    with pytest.raises(ValueError, match="export id"):
        await submit(Ledger(redis), broker, "tags", tmp_path / "out", export_id)
    assert not (tmp_path / "up").exists()
