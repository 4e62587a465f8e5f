"""contact_list (endpoints.md #7): customers and non-customers, tmp_openid, cursor, 4 h lifetime."""

from __future__ import annotations

from tests.testing.wire import Api, connect
from wecom_async.testing import FakeWeCom

CONTACT_LIST = "externalcontact/contact_list"


async def _traverse(api: Api, limit: int | None) -> tuple[list[dict[str, object]], int]:
    items: list[dict[str, object]] = []
    pages, cursor = 0, ""
    while True:
        body: dict[str, object] = {"cursor": cursor}
        if limit is not None:
            body["limit"] = limit
        data = await api.post(CONTACT_LIST, body)
        assert data["errcode"] == 0, data
        pages += 1
        page = data["info_list"]
        assert isinstance(page, list)
        items += page
        cursor = str(data["next_cursor"])
        if not cursor:
            return items, pages


async def test_contact_list_walks_every_contact_once() -> None:
    fake = FakeWeCom()
    report = fake.seed(staff=6, customers_per_staff=30, seed=5, non_customers_per_staff=4)
    async with connect(fake) as api:
        items, pages = await _traverse(api, 25)
        default, default_pages = await _traverse(api, None)
    customers = [i for i in items if i["is_customer"]]
    others = [i for i in items if not i["is_customer"]]
    assert len(customers) == report.relations
    assert {(i["external_userid"], i["follow_userid"]) for i in customers} == {
        (f.external_userid, f.userid) for c in fake.state.customers.values() for f in c.followers
    }
    seeded = [i for i in others if i["follow_userid"] in report.staff]
    assert len(seeded) == 6 * 4
    for item in others:
        assert "external_userid" not in item
        assert ("chat_id" in item) != ("chat_name" in item)
    assert all(str(item["name"]).endswith("*") for item in seeded)
    assert len({i["tmp_openid"] for i in items}) == len(items)
    assert pages == -(-len(items) // 25)
    assert default_pages == 1  # default limit 1000
    assert len(default) == len(items)
    # a new traversal regenerates every tmp_openid
    assert not {i["tmp_openid"] for i in items} & {i["tmp_openid"] for i in default}


async def test_contact_list_clamps_limit_to_1000() -> None:
    fake = FakeWeCom()
    fake.seed(staff=2, customers_per_staff=700, seed=1, shared_ratio=0)
    async with connect(fake) as api:
        data = await api.post(CONTACT_LIST, {"limit": 5000})
    assert len(data["info_list"]) == 1000
    assert data["next_cursor"]


async def test_contact_list_cursor_expires_after_4_hours(fake: FakeWeCom, api: Api) -> None:
    fake.add_staff("zhangsan")
    for _ in range(3):
        fake.add_customer(followers=["zhangsan"])
    first = await api.post(CONTACT_LIST, {"limit": 1})
    fake.clock.advance(4 * 3600)
    api.token = None  # the access token expired meanwhile
    second = await api.post(CONTACT_LIST, {"limit": 1, "cursor": first["next_cursor"]})
    assert second["errcode"] == 0
    fake.clock.advance(1)
    late = await api.post(CONTACT_LIST, {"limit": 1, "cursor": first["next_cursor"]})
    assert late["errcode"] == 50100
    assert (await api.post(CONTACT_LIST, {"cursor": "bogus"}))["errcode"] == 50100
    assert (await api.post(CONTACT_LIST, {"limit": -5}))["errcode"] == 40058
