"""The pytest plugin, used the way a user's suite uses it: no conftest, no setup."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TEST = """
import pytest

from wecom_async import APIError


@pytest.mark.asyncio
async def test_my_service_reads_customers(wecom_fake, wecom_client):
    wecom_fake.seed(staff=3, customers_per_staff=5, seed=1)
    staff = await wecom_client.external_contact.get_follow_user_list()
    assert len(staff) == 3
    assert await wecom_client.external_contact.list(staff[0]) == wecom_fake.customers_of(staff[0])


@pytest.mark.asyncio
async def test_my_service_handles_errors(wecom_fake, wecom_client):
    wecom_fake.inject("externalcontact/get", errcode=40096)
    with pytest.raises(APIError) as caught:
        await wecom_client.external_contact.get("wmUNKNOWN")
    assert caught.value.errcode == 40096
"""


def test_fixtures_work_in_a_plain_pytest_asyncio_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    # Strict mode, the pytest-asyncio default: the fixtures need no extra configuration.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=2)
