"""Cost of structuring one 100-item ``batch/get_by_user`` page, next to ``json.loads``.

The page comes from the fake WeCom's seeded corp, so it has the shapes WeCom sends
(both customer types, tags, WeCom-only fields). Medians over repeated runs, side by side,
in CPU time (``time.process_time``), so that other work on the machine weighs less. The
repository's ``wecom_async`` is the one measured, wherever the script runs from.

Run:  python benchmarks/converter_cost.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import timeit
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wecom_async import RetryPolicy, WeComClient
from wecom_async._converter import structure
from wecom_async.models.external_contact import CustomerWithFollowInfo
from wecom_async.testing import FakeWeCom


async def _page_bytes() -> bytes:
    fake = FakeWeCom()
    fake.seed(staff=5, customers_per_staff=100, seed=1)
    raw: list[bytes] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        raw.append(response.content)

    transport = fake.transport()
    async with (
        httpx.AsyncClient(transport=transport, event_hooks={"response": [keep]}) as http,
        WeComClient("wwfake", "fake-secret", http_client=http, retry=RetryPolicy.no_delay()) as c,
    ):
        staff = await c.external_contact.get_follow_user_list()
        await c.external_contact.batch_get_by_user(staff, limit=100)
    return raw[-1]


def main() -> None:
    body = asyncio.run(_page_bytes())
    items = json.loads(body)["external_contact_list"]
    assert len(items) == 100
    number, repeat, timer = 200, 9, time.process_time
    loads = timeit.repeat(lambda: json.loads(body), number=number, repeat=repeat, timer=timer)
    both = timeit.repeat(
        lambda: structure(json.loads(body)["external_contact_list"], list[CustomerWithFollowInfo]),
        number=number,
        repeat=repeat,
        timer=timer,
    )
    per = 1e3 / number
    print(f"page: {len(body):,} bytes, 100 items")
    print(f"json.loads                 median {statistics.median(loads) * per:.3f} ms")
    print(f"json.loads + structuring   median {statistics.median(both) * per:.3f} ms")
    alone = (statistics.median(both) - statistics.median(loads)) * per
    print(f"structuring alone          {alone:.3f} ms")


if __name__ == "__main__":
    main()
