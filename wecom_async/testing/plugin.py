"""pytest plugin (entry point ``pytest11``): the ``wecom_fake`` and ``wecom_client`` fixtures.

Installed with the SDK, so a user's suite needs no conftest::

    async def test_my_export(wecom_fake, wecom_client):
        wecom_fake.seed(staff=3, customers_per_staff=10, seed=1)
        assert len(await wecom_client.external_contact.get_follow_user_list()) == 3

``wecom_client`` is an async fixture for pytest-asyncio (auto or strict mode). It talks to
``wecom_fake`` in-process, with every retry delay set to zero and a rate budget that never
paces (:data:`UNPACED`), so that no test sleeps; build a client with a
``MemoryRateBudget`` of your own to test pacing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from .._budget import Limit, MemoryRateBudget
from .._client import WeComClient
from .._retry import RetryPolicy
from ._fake import FakeWeCom

__all__ = ["UNPACED", "wecom_client", "wecom_fake"]

#: The fixture client's budget: far above anything a test sends (the fake answers at
#: once; pacing at WeCom's rate would only make tests wait in real time).
UNPACED: tuple[Limit, ...] = ((10**9, 60.0),)


@pytest.fixture
def wecom_fake() -> FakeWeCom:
    """A fresh, empty fake WeCom corp (``wwfake`` / ``fake-secret``); seed it as you need."""
    return FakeWeCom()


async def _client_for(fake: FakeWeCom) -> AsyncIterator[WeComClient]:
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        WeComClient(
            fake.corp_id,
            fake.secret,
            http_client=http,
            base_url=fake.base_url,
            retry=RetryPolicy.no_delay(),
            rate_budget=MemoryRateBudget(UNPACED),
        ) as client,
    ):
        yield client


def _make_client_fixture() -> object:
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - only without pytest-asyncio installed

        @pytest.fixture(name="wecom_client")
        def unavailable() -> WeComClient:
            """Needs pytest-asyncio: ``pip install pytest-asyncio``."""
            raise pytest.UsageError("the wecom_client fixture needs pytest-asyncio installed")

        return unavailable

    @pytest_asyncio.fixture(name="wecom_client")
    async def client(wecom_fake: FakeWeCom) -> AsyncIterator[WeComClient]:
        """A :class:`~wecom_async.WeComClient` wired to ``wecom_fake`` in-process."""
        async for client in _client_for(wecom_fake):
            yield client

    return client


wecom_client = _make_client_fixture()
