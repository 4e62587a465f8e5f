"""The seeded demo corp: deterministic, realistic per customer type, extensible."""

from __future__ import annotations

import dataclasses
import random

import pytest

from tests.testing.wire import connect
from wecom_async.testing import CorpState, FakeWeCom, SeedContext, SeedReport
from wecom_async.testing._seed import seed_corp


def _snapshot(fake: FakeWeCom) -> tuple[object, ...]:
    state = fake.state
    return (
        [dataclasses.asdict(s) for s in state.staff.values()],
        [dataclasses.asdict(c) for c in state.customers.values()],
        [dataclasses.asdict(c) for c in state.contacts()],
        sorted(state.tags.tags),
    )


def test_same_seed_gives_the_same_corp_and_another_seed_does_not() -> None:
    one, two, other = FakeWeCom(), FakeWeCom(), FakeWeCom()
    report = one.seed(staff=8, customers_per_staff=25, seed=7)
    assert two.seed(staff=8, customers_per_staff=25, seed=7) == report
    assert _snapshot(one) == _snapshot(two)
    other.seed(staff=8, customers_per_staff=25, seed=8)
    assert _snapshot(other) != _snapshot(one)
    assert not set(other.state.customers) & set(one.state.customers)


async def test_same_seed_answers_byte_for_byte_the_same() -> None:
    bodies = []
    for _ in range(2):
        fake = FakeWeCom()
        report = fake.seed(staff=3, customers_per_staff=40, seed=21)
        async with connect(fake) as api:
            token = (await api.gettoken())["access_token"]
            response = await api.http.post(
                "/cgi-bin/externalcontact/batch/get_by_user",
                params={"access_token": str(token)},
                json={"userid_list": report.staff, "limit": 100},
            )
            bodies.append(response.content)
    assert bodies[0] == bodies[1]


def _core_seed(fake: FakeWeCom, **options: object) -> SeedReport:
    """Seed like ``fake.seed`` but without the route modules' seeders."""
    params: dict[str, object] = {
        "staff": 20,
        "customers_per_staff": 50,
        "seed": 0,
        "shared_ratio": 0.1,
        "wecom_ratio": 0.2,
        "big_customer_followers": 0,
        "non_customers_per_staff": 2,
        "unlicensed_staff": 0,
        **options,
    }
    return seed_corp(fake.state, now=fake.clock.now(), seeders=(), **params)  # type: ignore[arg-type]


def test_seeded_records_have_the_fields_of_their_type() -> None:
    fake = FakeWeCom()
    report = _core_seed(fake, staff=10, customers_per_staff=100, seed=7, wecom_ratio=0.3)
    customers = list(fake.state.customers.values())
    assert report.customers == len(customers) == 1000
    wechat = [c for c in customers if c.type == 1]
    wecom = [c for c in customers if c.type == 2]
    assert 200 < len(wecom) < 400
    for c in wechat:
        assert c.external_userid.startswith("wm")
        assert len(c.external_userid) == 32
        assert c.position is None
        assert c.corp_name is None
        assert c.external_profile is None
    for c in wecom:
        assert c.external_userid.startswith("wo")
        assert c.unionid is None
        assert c.corp_name
        assert c.corp_full_name
    assert any(c.unionid for c in wechat)
    assert any(c.unionid is None for c in wechat)
    profiles = [c.external_profile for c in wecom if c.external_profile]
    assert profiles
    kinds = {attr["type"] for p in profiles for attr in p["external_attr"]}  # type: ignore[attr-defined]
    assert kinds == {0, 1, 2}
    follows = [f for c in customers for f in c.followers]
    assert len(follows) == report.relations
    assert any(len(c.followers) > 1 for c in customers)  # shared customers
    for f in follows:
        assert (f.wechat_channels is not None) == (f.add_way == 10)
        if f.remark_corp_name is not None:
            assert fake.customer(f.external_userid).type == 1
        assert all(fake.state.tags.lookup(t) is not None for t in f.tag_ids)
    assert {fake.state.tags.lookup(t)[0].type for t in report.tag_ids} == {1, 3}  # type: ignore[index]
    assert any(f.personal_tags for f in follows)
    assert any(f.state for f in follows)


def test_unlicensed_staff_are_the_last_members() -> None:
    fake = FakeWeCom()
    report = fake.seed(staff=5, customers_per_staff=1, seed=1, unlicensed_staff=2)
    assert [fake.state.staff[u].licensed for u in report.staff] == [True, True, True, False, False]


def test_seed_runs_the_route_modules_seeders_after_the_core_data() -> None:
    full, core = FakeWeCom(), FakeWeCom()
    report = full.seed(staff=4, customers_per_staff=10, seed=2)
    core_report = _core_seed(core, staff=4, customers_per_staff=10, seed=2)
    assert report.staff == core_report.staff
    assert list(full.state.customers)[: core_report.customers] == list(core.state.customers)
    assert report.customers == len(full.state.customers) >= core_report.customers
    assert report.relations == full.state.relation_count() >= core_report.relations


def test_seed_refuses_a_corp_that_has_data(fake: FakeWeCom) -> None:
    fake.add_staff("zhangsan")
    with pytest.raises(ValueError, match="fresh"):
        fake.seed()


def test_seeders_get_their_own_random_stream() -> None:
    draws: dict[str, list[float]] = {"a": [], "b": []}
    staff_seen: list[list[str]] = []

    def seeder_a(ctx: SeedContext) -> None:
        draws["a"].append(ctx.rng.random())
        staff_seen.append(list(ctx.staff))

    def seeder_b(ctx: SeedContext) -> None:
        draws["b"].append(ctx.rng.random())

    def run(seeders: list[tuple[str, object]]) -> CorpState:
        state = CorpState("wwfake")
        seed_corp(
            state,
            now=1_700_000_000.0,
            staff=3,
            customers_per_staff=2,
            seed=9,
            shared_ratio=0.1,
            wecom_ratio=0.2,
            big_customer_followers=0,
            non_customers_per_staff=0,
            unlicensed_staff=0,
            seeders=seeders,  # type: ignore[arg-type]
        )
        return state

    alone = run([("a", seeder_a)])
    together = run([("a", seeder_a), ("b", seeder_b)])
    assert draws["a"][0] == draws["a"][1] == random.Random("9:a").random()
    assert draws["b"] == [random.Random("9:b").random()]
    assert staff_seen[0] == list(alone.staff) == list(together.staff)
    assert list(alone.customers) == list(together.customers)
