"""client.external_contact end to end against the fake WeCom (endpoints.md #2-#7)."""

from __future__ import annotations

import anyio
import pytest

from wecom_async import (
    APIError,
    PermissionDeniedError,
    SystemBusyError,
    ValidationError,
    WeComClient,
    to_dict,
)
from wecom_async.models.external_contact import AddWay, CustomerType, FollowUser
from wecom_async.testing import FakeWeCom, Follower

BATCH = "externalcontact/batch/get_by_user"


async def test_empty_corp(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    assert await wecom_client.external_contact.get_follow_user_list() == []
    wecom_fake.add_staff("lonely")
    assert await wecom_client.external_contact.list("lonely") == []
    items = [i async for i in wecom_client.external_contact.batch_get_by_user(["lonely"])]
    assert items == []
    assert [i async for i in wecom_client.external_contact.contact_list()] == []


async def test_follow_users_and_their_customers(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=5, customers_per_staff=7, seed=3)
    staff = await wecom_client.external_contact.get_follow_user_list()
    assert len(staff) == 5
    for userid in staff:
        assert await wecom_client.external_contact.list(userid) == wecom_fake.customers_of(userid)


async def test_get_merges_1200_followers_over_three_pages(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    followers = [f"member{i:04d}" for i in range(1200)]
    for userid in followers:
        wecom_fake.add_staff(userid)
    customer = wecom_fake.add_customer(type=2, followers=followers, corp_name="腾讯")
    detail = await wecom_client.external_contact.get(customer)
    assert [f.userid for f in detail.follow_user] == followers
    assert detail.external_contact.type is CustomerType.WECOM
    assert detail.external_contact.corp_name == "腾讯"
    assert wecom_fake.calls("externalcontact/get") == 3  # 500 + 500 + 200


async def test_get_renders_relation_fields_and_tags(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=3, customers_per_staff=4, seed=11)
    userid = (await wecom_client.external_contact.get_follow_user_list())[0]
    external_userid = wecom_fake.customers_of(userid)[0]
    detail = await wecom_client.external_contact.get(external_userid)
    relation = next(f for f in detail.follow_user if f.userid == userid)
    stored = wecom_fake.follow(external_userid, userid)
    assert stored is not None
    assert relation.createtime == stored.createtime
    assert relation.remark == stored.remark
    assert isinstance(relation.add_way, AddWay | int)
    assert relation.tags is not None
    assert relation.tag_id is None
    # A WeChat customer has no WeCom-only fields.
    if detail.external_contact.type is CustomerType.WECHAT:
        assert detail.external_contact.corp_name is None
        assert detail.external_contact.external_profile is None


async def test_unknown_customer_is_the_wecom_errcode(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.external_contact.get("wmNOBODY000000000000000000000000")
    assert caught.value.errcode == 40096
    assert caught.value.request_line == "GET /cgi-bin/externalcontact/get"


async def test_unknown_member_is_the_wecom_errcode(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.external_contact.list("nobody")
    assert caught.value.errcode == 60111


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.external_contact.get(""), "external_userid"),
        (lambda c: c.external_contact.list(" "), "userid"),
        (lambda c: c.external_contact.batch_get_by_user([]), "at least 1"),
        (lambda c: c.external_contact.batch_get_by_user([f"u{i}" for i in range(101)]), "101"),
        (lambda c: c.external_contact.batch_get_by_user("zhangsan"), "list of ids"),
        (lambda c: c.external_contact.batch_get_by_user(["a", ""]), "non-empty"),
        (lambda c: c.external_contact.batch_get_by_user(["a"], limit=101), "limit"),
        (lambda c: c.external_contact.contact_list(limit=0), "limit"),
    ],
)
async def test_local_limits_are_refused_before_sending(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, call, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await _invoke(call, wecom_client)
    assert wecom_fake.requests == []


async def _invoke(call, client: WeComClient) -> object:
    """Call a method; await it when it is a coroutine (paged methods validate on call)."""
    result = call(client)
    return await result if hasattr(result, "__await__") else result


async def test_batch_pages_every_pair_exactly_once(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=12, customers_per_staff=40, seed=5, shared_ratio=0.3)
    staff = await wecom_client.external_contact.get_follow_user_list()
    pairs = [
        (item.external_contact.external_userid, item.follow_info.userid)
        async for item in wecom_client.external_contact.batch_get_by_user(staff, limit=7)
    ]
    expected = {(c, u) for u in staff for c in wecom_fake.customers_of(u)}
    assert len(pairs) == len(set(pairs)) == len(expected)
    assert set(pairs) == expected
    pages = wecom_fake.calls(BATCH)
    assert pages == -(-len(expected) // 7)
    sent = wecom_fake.requests[-1].json
    assert sent is not None
    assert set(sent) == {"userid_list", "limit", "cursor"}


async def test_batch_follow_info_carries_tag_ids_not_tags(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=2, customers_per_staff=30, seed=9)
    staff = await wecom_client.external_contact.get_follow_user_list()
    page = await wecom_client.external_contact.batch_get_by_user(staff, limit=100)
    assert all(isinstance(i.follow_info, FollowUser) for i in page.items)
    assert all(i.follow_info.tags is None for i in page.items)
    assert any(i.follow_info.tag_id for i in page.items)
    # Nothing the server sent is lost on the way to an export line.
    raw = to_dict(page.items[0])
    assert (
        raw["external_contact"]["external_userid"] == page.items[0].external_contact.external_userid
    )


async def test_unlicensed_members_are_reported_on_the_page(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.add_staff("licensed")
    wecom_fake.add_staff("unlicensed", licensed=False)
    wecom_fake.add_customer(followers=["licensed", "unlicensed"])
    page = await wecom_client.external_contact.batch_get_by_user(["licensed", "unlicensed"])
    assert [i.follow_info.userid for i in page.items] == ["licensed"]
    assert page.fail_info is not None
    assert page.fail_info.unlicensed_userid_list == ["unlicensed"]
    with pytest.raises(APIError) as caught:
        await wecom_client.external_contact.batch_get_by_user(["unlicensed"])
    assert caught.value.errcode == 701008


async def test_remark_updates_the_relation(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.add_staff("rocky")
    customer = wecom_fake.add_customer(followers=[Follower(userid="rocky", remark_mobiles=["1"])])
    await wecom_client.external_contact.remark(
        {"userid": "rocky", "external_userid": customer, "remark": "李部长", "description": "采购"}
    )
    detail = await wecom_client.external_contact.get(customer)
    assert (detail.follow_user[0].remark, detail.follow_user[0].description) == ("李部长", "采购")
    await wecom_client.external_contact.remark(
        {"userid": "rocky", "external_userid": customer, "remark_mobiles": [""]}
    )
    detail = await wecom_client.external_contact.get(customer)
    assert not detail.follow_user[0].remark_mobiles
    assert wecom_fake.requests[-2].json == {
        "userid": "rocky",
        "external_userid": customer,
        "remark_mobiles": [""],
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"userid": "rocky", "external_userid": "wm1"}, "at least one"),
        ({"userid": "rocky", "external_userid": "wm1", "remark": "x" * 21}, "remark is 21"),
        ({"userid": "rocky", "external_userid": "wm1", "description": "x" * 151}, "151"),
        ({"userid": "rocky", "external_userid": "wm1", "remark_company": "x" * 21}, "21"),
        ({"userid": "rocky", "external_userid": "wm1", "remark_mobiles": ["", "1"]}, "clear"),
        ({"userid": "", "external_userid": "wm1", "remark": "r"}, "userid"),
    ],
)
async def test_remark_limits_are_refused_locally(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, body, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await wecom_client.external_contact.remark(body)
    assert wecom_fake.calls("externalcontact/remark") == 0


async def test_remark_without_relation_is_84061(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.add_staff("rocky")
    wecom_fake.add_staff("tom")
    customer = wecom_fake.add_customer(followers=["tom"])
    with pytest.raises(APIError) as caught:
        await wecom_client.external_contact.remark(
            {"userid": "rocky", "external_userid": customer, "remark": "x"}
        )
    assert caught.value.errcode == 84061


async def test_contact_list_pages_customers_and_other_contacts(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    report = wecom_fake.seed(staff=4, customers_per_staff=10, seed=2, non_customers_per_staff=3)
    items = [i async for i in wecom_client.external_contact.contact_list(limit=9)]
    customers = [i for i in items if i.is_customer]
    others = [i for i in items if not i.is_customer]
    assert len(others) == 4 * 3
    assert all(i.external_userid for i in customers)
    assert all(i.name for i in others)
    assert len({i.tmp_openid for i in items}) == len(items)
    assert wecom_fake.calls("externalcontact/contact_list") == -(-len(items) // 9)
    assert report is not None


async def test_system_busy_is_retried_on_reads(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=2, customers_per_staff=3, seed=1)
    wecom_fake.inject("externalcontact/get_follow_user_list", errcode=-1, times=2)
    assert len(await wecom_client.external_contact.get_follow_user_list()) == 2
    assert wecom_fake.calls("externalcontact/get_follow_user_list") == 3
    wecom_fake.inject("externalcontact/get_follow_user_list", errcode=-1, times=10)
    with pytest.raises(SystemBusyError):
        await wecom_client.external_contact.get_follow_user_list()


async def test_permission_error_is_typed(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    wecom_fake.inject("externalcontact/get_follow_user_list", errcode=48002)
    with pytest.raises(PermissionDeniedError) as caught:
        await wecom_client.external_contact.get_follow_user_list()
    assert caught.value.errcode == 48002


async def _export(client: WeComClient, staff: list[str], ways: int) -> list[tuple[str, str]]:
    """A 'ways'-way concurrent export: one batch paginator per member, limit 10."""
    pairs: list[tuple[str, str]] = []

    async def one(userid: str) -> None:
        async for item in client.external_contact.batch_get_by_user([userid], limit=10):
            pairs.append((item.external_contact.external_userid, item.follow_info.userid))

    async with anyio.create_task_group() as tg:
        for userid in staff[:ways]:
            tg.start_soon(one, userid)
    return pairs


@pytest.mark.parametrize("expire_on_server", [False, True], ids=["injected", "expired"])
async def test_42001_burst_during_200_way_export_costs_one_gettoken(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, expire_on_server: bool
) -> None:
    wecom_fake.seed(staff=200, customers_per_staff=25, seed=4)
    staff = await wecom_client.external_contact.get_follow_user_list()
    assert wecom_fake.calls("gettoken") == 1
    # The first wave of 200 concurrent calls all meet 42001. Injected only, gettoken hands
    # back the same string; expired on the server, it hands out a new one.
    wecom_fake.inject(BATCH, errcode=42001, times=200)
    if expire_on_server:
        wecom_fake.expire_tokens()
    pairs = await _export(wecom_client, staff, 200)
    expected = {(c, u) for u in staff for c in wecom_fake.customers_of(u)}
    assert len(pairs) == len(set(pairs)) == len(expected)
    assert wecom_fake.calls("gettoken") == 2


async def test_rate_limit_is_backed_off_and_export_completes_exactly_once(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=30, customers_per_staff=20, seed=8)
    staff = await wecom_client.external_contact.get_follow_user_list()
    wecom_fake.inject(BATCH, errcode=45009, times=25)
    pairs = await _export(wecom_client, staff, 30)
    expected = {(c, u) for u in staff for c in wecom_fake.customers_of(u)}
    assert len(pairs) == len(set(pairs)) == len(expected)
    assert wecom_fake.calls(BATCH) == 25 + sum(
        -(-len(wecom_fake.customers_of(u)) // 10) for u in staff
    )


async def test_system_busy_during_export_is_retried(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=10, customers_per_staff=15, seed=6)
    staff = await wecom_client.external_contact.get_follow_user_list()
    wecom_fake.inject(BATCH, errcode=-1, times=3)
    pairs = await _export(wecom_client, staff, 10)
    assert len(pairs) == len(set(pairs)) == sum(len(wecom_fake.customers_of(u)) for u in staff)


async def test_request_shapes_match_the_endpoint_notes(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.add_staff("rocky")
    customer = wecom_fake.add_customer(followers=["rocky"])
    ec = wecom_client.external_contact
    await ec.get_follow_user_list()
    await ec.list("rocky")
    await ec.get(customer)
    await ec.batch_get_by_user(["rocky"], limit=50)
    await ec.remark({"userid": "rocky", "external_userid": customer, "description": "d"})
    await ec.contact_list(limit=10)
    shapes = [
        (r.method, r.path, sorted(r.query), sorted(r.json) if r.json is not None else None)
        for r in wecom_fake.requests
        if r.path != "gettoken"
    ]
    assert shapes == [
        ("GET", "externalcontact/get_follow_user_list", ["access_token"], None),
        ("GET", "externalcontact/list", ["access_token", "userid"], None),
        ("GET", "externalcontact/get", ["access_token", "external_userid"], None),
        ("POST", "externalcontact/batch/get_by_user", ["access_token"], ["limit", "userid_list"]),
        (
            "POST",
            "externalcontact/remark",
            ["access_token"],
            ["description", "external_userid", "userid"],
        ),
        ("POST", "externalcontact/contact_list", ["access_token"], ["limit"]),
    ]
