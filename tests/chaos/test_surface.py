"""The chaos suite's table covers every public method, and every case succeeds without chaos."""

from __future__ import annotations

from tests.chaos.helpers import client_for
from tests.chaos.surface import CASES, invoke, prepare, public_methods
from tests.test_api_surface import API
from wecom_async import WeComClient
from wecom_async.testing import FakeWeCom


def test_the_table_has_one_case_per_public_method() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert set(names) == public_methods(WeComClient("wwfake", "fake-secret"))
    assert set(names) == {f"{row[0]}.{row[1]}" for row in API}


async def test_every_case_succeeds_on_the_prepared_corp() -> None:
    fake = FakeWeCom()
    async with client_for(fake) as client:
        corp = await prepare(fake, client)
        failures = {}
        for case in CASES:
            try:
                await invoke(client, case, corp)
            except Exception as exc:  # collect all, so one run shows every bad row
                failures[case.name] = repr(exc)
    assert failures == {}
