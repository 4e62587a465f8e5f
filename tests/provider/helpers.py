"""A provider app on the fake WeCom, for the provider tests."""

from __future__ import annotations

import httpx

from wecom_async import RetryPolicy
from wecom_async.callback import parse_event
from wecom_async.provider import (
    AppKind,
    MemoryPermanentCodeStore,
    PermanentCodeStore,
    ProviderApp,
)
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
    fake: FakeWeCom,
    *,
    kind: AppKind = "third_party",
    retry: RetryPolicy | None = None,
    codes: PermanentCodeStore | None = None,
    http: httpx.AsyncClient | None = None,
) -> ProviderApp:
    return ProviderApp(
        SUITE,
        SUITE_SECRET,
        kind=kind,
        permanent_codes=codes if codes is not None else MemoryPermanentCodeStore(),
        provider_corp_id=PROVIDER_CORP,
        provider_secret=PROVIDER_SECRET,
        http_client=http or httpx.AsyncClient(transport=fake.transport()),
        retry=retry or RetryPolicy.no_delay(),
    )


async def play(app: ProviderApp, xml: str) -> None:
    """Hand a push of the fake to the app, as its receiver would."""
    await app.handle(parse_event(xml))


async def provider_tokens(fake: FakeWeCom) -> tuple[str, str]:
    """Make ``fake``'s own corp authorize a suite and return (suite token, provider
    token) the fake issued, for the provider-level calls given a token by hand."""
    fake.add_suite(SUITE, SUITE_SECRET)
    fake.add_provider(PROVIDER_CORP, PROVIDER_SECRET)
    async with httpx.AsyncClient(transport=fake.transport()) as http:
        app = ProviderApp(
            SUITE,
            SUITE_SECRET,
            permanent_codes=MemoryPermanentCodeStore(),
            provider_corp_id=PROVIDER_CORP,
            provider_secret=PROVIDER_SECRET,
            http_client=http,
            retry=RetryPolicy.no_delay(),
        )
        async with app:
            await play(app, fake.push_suite_ticket(SUITE))
            await play(app, fake.authorize_corp(SUITE, fake.corp_id))
            suite_token = (await app.suite_tokens.get()).value
            provider_token = (await app.provider_client().tokens.get()).value
    return suite_token, provider_token
