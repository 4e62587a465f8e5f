"""A provider app on the fake WeCom, for the provider tests."""

from __future__ import annotations

import httpx

from wecom_async import RetryPolicy
from wecom_async.callback import parse_event
from wecom_async.provider import AppKind, MemoryPermanentCodeStore, ProviderApp
from wecom_async.testing import FakeWeCom

SUITE = "wwsuite0001"
SUITE_SECRET = "Suite-Secret-Vq83zK"
PROVIDER_CORP = "wwprovider01"
PROVIDER_SECRET = "Provider-Secret-Lm51xR"
CORPS = ("wwcorpa", "wwcorpb", "wwcorpc")


def provider_fake(*, custom: bool = False) -> FakeWeCom:
    """A fake with the suite registered and three seeded corps (not yet authorized)."""
    fake = FakeWeCom()
    fake.add_suite(SUITE, SUITE_SECRET, custom=custom)
    fake.add_provider(PROVIDER_CORP, PROVIDER_SECRET)
    for index, corp_id in enumerate(CORPS):
        fake.add_corp(corp_id).seed(staff=3, customers_per_staff=4, seed=index)
    return fake


def provider_app(
    fake: FakeWeCom, *, kind: AppKind = "third_party", retry: RetryPolicy | None = None
) -> ProviderApp:
    return ProviderApp(
        SUITE,
        SUITE_SECRET,
        kind=kind,
        permanent_codes=MemoryPermanentCodeStore(),
        provider_corp_id=PROVIDER_CORP,
        provider_secret=PROVIDER_SECRET,
        http_client=httpx.AsyncClient(transport=fake.transport()),
        retry=retry or RetryPolicy.no_delay(),
    )


async def play(app: ProviderApp, xml: str) -> None:
    """Hand a push of the fake to the app, as its receiver would."""
    await app.handle(parse_event(xml))
