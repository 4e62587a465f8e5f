"""Memory per idle corp client of a provider app, for many corps in one process.

A :class:`~wecom_async.provider.ProviderApp` on the fake WeCom (in-process transport)
creates a client for each of ``--corps`` authorized corps, in two states:

* idle: created, never used (``app.client_for(corp_id)``);
* warm: each made one call (its corp token fetched and cached in the token store, its
  ``external_contact`` service built).

Memory is measured with ``tracemalloc`` (Python allocations, the token store's entries
and the permanent codes included) and, for the process as a whole, as the change of
RSS. Run::

    python benchmarks/provider_corps.py --corps 1000
"""

from __future__ import annotations

import argparse
import gc
import resource
import tracemalloc

import anyio
import httpx

from wecom_async import RetryPolicy, WeComClient
from wecom_async.callback import parse_event
from wecom_async.provider import MemoryPermanentCodeStore, ProviderApp
from wecom_async.testing import FakeWeCom

SUITE, SECRET = "wwbenchsuite", "bench-suite-secret"


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _measure(corps: int) -> None:
    fake = FakeWeCom(rate_limit_per_minute=None, record_limit=0)
    fake.add_suite(SUITE, SECRET)
    ids = [f"wwcorp{i:05d}" for i in range(corps)]
    app = ProviderApp(
        SUITE,
        SECRET,
        permanent_codes=MemoryPermanentCodeStore(),
        http_client=httpx.AsyncClient(transport=fake.transport()),
        retry=RetryPolicy.no_delay(),
    )
    await app.handle(parse_event(fake.push_suite_ticket(SUITE)))
    for corp_id in ids:
        fake.add_corp(corp_id).add_staff("zhangsan")
        await app.handle(parse_event(fake.authorize_corp(SUITE, corp_id)))

    gc.collect()
    tracemalloc.start()
    before, rss_before = tracemalloc.get_traced_memory()[0], _rss_kib()
    clients: list[WeComClient] = [app.client_for(corp_id) for corp_id in ids]
    gc.collect()
    idle = tracemalloc.get_traced_memory()[0] - before
    for client in clients:
        await client.external_contact.list("zhangsan")
    gc.collect()
    warm = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    rss = _rss_kib() - rss_before
    await app.aclose()
    print(f"corps: {corps}")
    print(f"idle clients: {idle / 1024:,.0f} KiB in all, {idle / corps:,.0f} bytes per corp")
    print(f"warm clients: {warm / 1024:,.0f} KiB in all, {warm / corps:,.0f} bytes per corp")
    print(f"RSS growth (max RSS, tracemalloc on): {rss:,} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corps", type=int, default=1000)
    anyio.run(_measure, parser.parse_args().corps)


if __name__ == "__main__":
    main()
