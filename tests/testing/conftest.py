"""Fixtures for the fake WeCom's own tests: plain httpx against the fake, no SDK client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.testing.wire import CORP_ID, SECRET, Api
from wecom_async.testing import FakeWeCom


@pytest.fixture
def fake() -> FakeWeCom:
    """An empty fake corp."""
    return FakeWeCom(CORP_ID, SECRET)


@pytest.fixture
async def http(fake: FakeWeCom) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to ``fake`` in-process."""
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    """Wire helper over the in-process client."""
    return Api(http)
