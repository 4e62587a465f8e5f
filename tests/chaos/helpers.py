"""A client wired to a fake in-process, as the ``wecom_client`` fixture builds it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from wecom_async import RetryPolicy, WeComClient
from wecom_async.testing import FakeWeCom


@contextlib.asynccontextmanager
async def client_for(
    fake: FakeWeCom, *, base_url: str | None = None, timeout: float = 5.0
) -> AsyncIterator[WeComClient]:
    """A client of ``fake``: in-process, or over a real server at ``base_url``; no retry
    delays, ``timeout`` seconds per request."""
    if base_url is not None:
        async with WeComClient(
            fake.corp_id,
            fake.secret,
            base_url=base_url,
            retry=RetryPolicy.no_delay(),
            timeout=timeout,
        ) as client:
            yield client
        return
    async with (
        httpx.AsyncClient(transport=fake.transport(), timeout=timeout) as http,
        WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=http,
            base_url=fake.base_url,
            retry=RetryPolicy.no_delay(),
        ) as client,
    ):
        yield client
