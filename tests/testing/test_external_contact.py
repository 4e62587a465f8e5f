"""Customer endpoints (endpoints.md #2-#6) against precise setups and a seeded corp."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.testing.wire import Api, connect
from wecom_async.testing import FakeWeCom, Follower

BATCH = "externalcontact/batch/get_by_user"


@pytest.fixture
def corp(fake: FakeWeCom) -> FakeWeCom:
    """Two members with the feature, one without, one unlicensed, one resigned."""
    fake.add_staff("zhangsan", name="张三")
    fake.add_staff("lisi")
    fake.add_staff("nofeature", customer_contact=False)
    fake.add_staff("unlicensed", licensed=False)
    fake.add_staff("gone", resigned=True)
    return fake


# -- get_follow_user_list / list ------------------------------------------------------------


async def test_get_follow_user_list_lists_active_members_with_the_feature(
    corp: FakeWeCom, api: Api
) -> None:
    data = await api.get("externalcontact/get_follow_user_list")
    assert data == {
        "errcode": 0,
        "errmsg": "ok",
        "follow_user": ["zhangsan", "lisi", "unlicensed"],
    }


async def test_list_returns_the_members_customers_in_order(corp: FakeWeCom, api: Api) -> None:
    first = corp.add_customer(followers=["zhangsan"])
    corp.add_customer(followers=["lisi"])
    third = corp.add_customer(type=2, followers=["lisi", "zhangsan"])
    data = await api.get("externalcontact/list", userid="zhangsan")
    assert data["external_userid"] == [first, third]
    assert corp.customers_of("zhangsan") == [first, third]
    assert (await api.get("externalcontact/list", userid="lisi"))["external_userid"] == [
        corp.customers_of("lisi")[0],
        third,
    ]


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({}, 40063),
        ({"userid": "nobody"}, 60111),
        ({"userid": "gone"}, 60111),
        ({"userid": "nofeature"}, 84074),
        ({"userid": "unlicensed"}, 701008),
    ],
)
async def test_list_errcodes(
    corp: FakeWeCom, api: Api, params: dict[str, str], errcode: int
) -> None:
    assert (await api.get("externalcontact/list", **params))["errcode"] == errcode


# -- get ---------------------------------------------------------------------------------------


async def test_get_renders_a_wechat_customer(corp: FakeWeCom, api: Api) -> None:
    tags = corp.state.tags
    level = tags.add_group("客户等级", ["重要"], create_time=1)
    rule = tags.add_group("规则组标签", ["华东"], create_time=1, strategy_id=7)
    corp_tag, strategy_tag = level.tag_ids[0], rule.tag_ids[0]
    external_userid = corp.add_customer(
        name="小鱼",
        gender=2,
        unionid="ozynqsulJFCZ2z1aYeS8h-nuasdAAA",
        followers=[
            Follower(
                userid="zhangsan",
                remark="李部长",
                description="对接采购事务",
                createtime=1525779812,
                tag_ids=[corp_tag, strategy_tag],
                personal_tags=[("个人", "老客户")],
                remark_corp_name="腾讯科技",
                remark_mobiles=["13800000001"],
                add_way=10,
                wechat_channels=("视频号A", 2),
                oper_userid=None,
                state="外联二维码1",
            ),
            "lisi",
        ],
    )
    assert external_userid.startswith("wm")
    assert len(external_userid) == 32
    data = await api.get("externalcontact/get", external_userid=external_userid)
    assert "next_cursor" not in data
    assert data["external_contact"] == {
        "external_userid": external_userid,
        "name": "小鱼",
        "type": 1,
        "gender": 2,
        "avatar": f"http://wx.qlogo.cn/mmhead/{external_userid}/0",
        "unionid": "ozynqsulJFCZ2z1aYeS8h-nuasdAAA",
    }
    first, second = data["follow_user"]
    assert first == {
        "userid": "zhangsan",
        "remark": "李部长",
        "description": "对接采购事务",
        "createtime": 1525779812,
        "remark_corp_name": "腾讯科技",
        "remark_mobiles": ["13800000001"],
        "add_way": 10,
        "wechat_channels": {"nickname": "视频号A", "source": 2},
        "oper_userid": "zhangsan",
        "state": "外联二维码1",
        "tags": [
            {"group_name": "客户等级", "tag_name": "重要", "tag_id": corp_tag, "type": 1},
            {"group_name": "规则组标签", "tag_name": "华东", "tag_id": strategy_tag, "type": 3},
            {"group_name": "个人", "tag_name": "老客户", "type": 2},
        ],
    }
    assert second == {
        "userid": "lisi",
        "remark": "",
        "description": "",
        "createtime": 1_700_000_000,
        "add_way": 1,
        "oper_userid": "lisi",
        "tags": [],
    }


async def test_get_renders_a_wecom_customer_with_its_profile(corp: FakeWeCom, api: Api) -> None:
    profile = {
        "external_attr": [
            {"type": 0, "name": "文本名称", "text": {"value": "文本"}},
            {"type": 1, "name": "网页名称", "web": {"url": "http://www.test.com", "title": "标题"}},
            {
                "type": 2,
                "name": "测试app",
                "miniprogram": {"appid": "wx8bd8", "pagepath": "/index", "title": "my mp"},
            },
        ]
    }
    external_userid = corp.add_customer(
        type=2,
        name="李四",
        position="Manager",
        corp_name="腾讯",
        corp_full_name="腾讯科技有限公司",
        external_profile=profile,
        followers=["zhangsan"],
    )
    assert external_userid.startswith("wo")
    data = await api.get("externalcontact/get", external_userid=external_userid)
    contact = data["external_contact"]
    assert isinstance(contact, dict)
    assert contact["type"] == 2
    assert contact["position"] == "Manager"
    assert contact["corp_name"] == "腾讯"
    assert contact["corp_full_name"] == "腾讯科技有限公司"
    assert contact["external_profile"] == profile
    assert "unionid" not in contact


def test_impossible_setups_are_refused(corp: FakeWeCom) -> None:
    with pytest.raises(ValueError):
        corp.add_customer(type=1, position="Manager")
    with pytest.raises(ValueError):
        corp.add_customer(type=2, unionid="o123")
    with pytest.raises(ValueError):
        corp.add_customer(type=3)
    wecom = corp.add_customer(type=2)
    with pytest.raises(ValueError):
        corp.add_follow(wecom, Follower(userid="zhangsan", remark_corp_name="x"))
    with pytest.raises(ValueError):
        corp.add_follow(wecom, Follower(userid="zhangsan", wechat_channels=("n", 1)))
    with pytest.raises(ValueError):
        corp.add_follow(wecom, Follower(userid="zhangsan", tag_ids=["etNOPE"]))
    with pytest.raises(ValueError):
        corp.add_follow(wecom, "nobody")
    corp.add_follow(wecom, "zhangsan")
    with pytest.raises(ValueError):
        corp.add_follow(wecom, "zhangsan")
    with pytest.raises(ValueError):
        corp.add_staff("zhangsan")


async def test_get_errcodes(corp: FakeWeCom, api: Api) -> None:
    assert (await api.get("externalcontact/get"))["errcode"] == 41035
    assert (await api.get("externalcontact/get", external_userid=""))["errcode"] == 41035
    assert (await api.get("externalcontact/get", external_userid="wmNOPE"))["errcode"] == 40096
    external_userid = corp.add_customer(followers=["zhangsan"])
    corp.remove_follow(external_userid, "zhangsan")
    assert (await api.get("externalcontact/get", external_userid=external_userid))[
        "errcode"
    ] == 84061


async def test_get_pages_1200_followers_by_500() -> None:
    fake = FakeWeCom()
    report = fake.seed(staff=5, customers_per_staff=2, seed=3, big_customer_followers=1200)
    assert report.big_customer is not None
    assert len(report.staff) == 1200
    async with connect(fake) as api:
        await _page_followers(api, report.big_customer, report.staff)


async def _page_followers(api: Api, external_userid: str, staff: list[str]) -> None:
    seen: list[str] = []
    pages: list[int] = []
    cursor: str | None = None
    while True:
        params = {"external_userid": external_userid}
        if cursor is not None:
            params["cursor"] = cursor
        data = await api.get("externalcontact/get", **params)
        assert data["errcode"] == 0
        followers = data["follow_user"]
        assert isinstance(followers, list)
        pages.append(len(followers))
        seen += [f["userid"] for f in followers]
        if "next_cursor" not in data:
            break
        cursor = str(data["next_cursor"])
        assert cursor
    assert pages == [500, 500, 200]
    assert seen == staff  # every follower once, in order


async def test_get_refuses_foreign_and_forged_cursors(corp: FakeWeCom, api: Api) -> None:
    big = corp.add_customer(followers=["zhangsan"])
    other = corp.add_customer(followers=["zhangsan"])
    cursor = corp.cursors.encode("get", c="whatever", s=1)
    for external_userid, bad in [
        (big, "garbage!"),
        (big, ""),
        (big, cursor),
        (other, corp.cursors.encode("batch/get_by_user", u="x", m=0, s=0)),
        (big, corp.cursors.encode("get", c="x", s=1)[:-2] + "AA"),
    ]:
        params = {"external_userid": external_userid, "cursor": bad}
        data = await api.get("externalcontact/get", **params)
        assert data["errcode"] == (0 if bad == "" else 50100), bad


# -- batch/get_by_user ------------------------------------------------------------------------


async def _batch_all(api: Api, body: dict[str, object]) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    cursor = ""
    while True:
        data = await api.post(BATCH, {**body, "cursor": cursor})
        assert data["errcode"] == 0, data
        pages += 1
        page = data["external_contact_list"]
        assert isinstance(page, list)
        items += page
        cursor = str(data["next_cursor"])
        if not cursor:
            return items, pages


async def test_batch_pages_every_pair_exactly_once() -> None:
    fake = FakeWeCom()
    report = fake.seed(staff=12, customers_per_staff=40, seed=11, shared_ratio=0.5)
    members = report.staff[:10]
    expected = {(e, m) for m in members for e in fake.customers_of(m)}
    assert len(expected) > 400
    async with connect(fake) as api:
        items, pages = await _batch_all(api, {"userid_list": members, "limit": 7})
    pairs = [(i["external_contact"]["external_userid"], i["follow_info"]["userid"]) for i in items]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected
    assert pages == -(-len(expected) // 7)  # no empty trailing page
    shared = Counter(e for e, _ in pairs)
    assert max(shared.values()) > 1  # a customer of two listed members appears twice


async def test_batch_items_carry_tag_ids_not_tags(fake: FakeWeCom, api: Api) -> None:
    fake.add_staff("zhangsan")
    group = fake.state.tags.add_group("等级", ["A", "B"], create_time=1)
    external_userid = fake.add_customer(
        followers=[Follower(userid="zhangsan", tag_ids=group.tag_ids, personal_tags=[("", "p")])]
    )
    data = await api.post(BATCH, {"userid_list": ["zhangsan"]})
    (item,) = data["external_contact_list"]
    assert item["external_contact"]["external_userid"] == external_userid
    assert item["follow_info"]["tag_id"] == group.tag_ids
    assert "tags" not in item["follow_info"]
    assert data["next_cursor"] == ""
    assert "fail_info" not in data


async def test_batch_limit_default_and_clamp() -> None:
    fake = FakeWeCom()
    (userid,) = fake.seed(staff=1, customers_per_staff=150, seed=1).staff
    sizes = {}
    async with connect(fake) as api:
        for limit in (None, 0, 30, 100, 150, 10_000):
            body: dict[str, object] = {"userid_list": [userid]}
            if limit is not None:
                body["limit"] = limit
            page = (await api.post(BATCH, body))["external_contact_list"]
            assert isinstance(page, list)
            sizes[limit] = len(page)
        invalid = await api.post(BATCH, {"userid_list": [userid], "limit": -1})
    assert sizes == {None: 50, 0: 50, 30: 30, 100: 100, 150: 100, 10_000: 100}
    assert invalid["errcode"] == 40058


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({}, 40063),
        ({"userid_list": []}, 40063),
        ({"userid_list": "zhangsan"}, 40058),
        ({"userid_list": [f"u{i}" for i in range(101)]}, 40058),
        ({"userid_list": ["zhangsan", "nobody"]}, 60111),
        ({"userid_list": ["unlicensed"]}, 701008),
        ({"userid_list": ["zhangsan"], "limit": "many"}, 40058),
        ({"userid_list": ["zhangsan"], "cursor": "forged"}, 50100),
    ],
)
async def test_batch_errcodes(
    corp: FakeWeCom, api: Api, body: dict[str, object], errcode: int
) -> None:
    assert (await api.post(BATCH, body))["errcode"] == errcode


async def test_batch_accepts_100_members_and_the_legacy_userid_field(
    corp: FakeWeCom, api: Api
) -> None:
    for i in range(98):
        corp.add_staff(f"member{i:03d}")
    external_userid = corp.add_customer(followers=["zhangsan", "member097"])
    members = ["zhangsan", "lisi", *(f"member{i:03d}" for i in range(98))]
    data = await api.post(BATCH, {"userid_list": members})
    assert [i["follow_info"]["userid"] for i in data["external_contact_list"]] == [
        "zhangsan",
        "member097",
    ]
    legacy = await api.post(BATCH, {"userid": "zhangsan"})
    (item,) = legacy["external_contact_list"]
    assert item["external_contact"]["external_userid"] == external_userid


async def test_batch_reports_unlicensed_members(corp: FakeWeCom, api: Api) -> None:
    corp.add_customer(followers=["zhangsan", "unlicensed"])
    data = await api.post(BATCH, {"userid_list": ["unlicensed", "zhangsan"]})
    assert data["errcode"] == 0
    assert data["fail_info"] == {"unlicensed_userid_list": ["unlicensed"]}
    assert [i["follow_info"]["userid"] for i in data["external_contact_list"]] == ["zhangsan"]


async def test_batch_cursor_is_bound_to_its_member_list(corp: FakeWeCom, api: Api) -> None:
    for _ in range(3):
        corp.add_customer(followers=["zhangsan", "lisi"])
    first = await api.post(BATCH, {"userid_list": ["zhangsan", "lisi"], "limit": 2})
    cursor = first["next_cursor"]
    assert isinstance(cursor, str)
    assert cursor
    other = await api.post(BATCH, {"userid_list": ["lisi"], "limit": 2, "cursor": cursor})
    assert other["errcode"] == 50100


async def test_batch_cursor_survives_changes_between_pages(corp: FakeWeCom, api: Api) -> None:
    before = [corp.add_customer(followers=["zhangsan"]) for _ in range(6)]
    first = await api.post(BATCH, {"userid_list": ["zhangsan"], "limit": 3})
    corp.remove_follow(before[0], "zhangsan")  # already returned
    added = corp.add_customer(followers=["zhangsan"])  # created mid-traversal
    rest = await api.post(
        BATCH, {"userid_list": ["zhangsan"], "limit": 10, "cursor": first["next_cursor"]}
    )
    ids = [
        i["external_contact"]["external_userid"]
        for page in (first, rest)
        for i in page["external_contact_list"]
    ]
    assert ids == [*before, added]
    assert rest["next_cursor"] == ""


# -- remark ------------------------------------------------------------------------------------


async def test_remark_updates_what_get_shows(corp: FakeWeCom, api: Api) -> None:
    external_userid = corp.add_customer(
        followers=[Follower(userid="zhangsan", remark_mobiles=["13800000001"])]
    )
    body = {
        "userid": "zhangsan",
        "external_userid": external_userid,
        "remark": "二十个字" * 5,
        "description": "描" * 150,
        "remark_company": "腾讯科技",
        "remark_mobiles": ["13800000002", "13800000003"],
        "remark_pic_mediaid": "MEDIAID",
    }
    assert (await api.post("externalcontact/remark", body))["errcode"] == 0
    data = await api.get("externalcontact/get", external_userid=external_userid)
    (follow,) = data["follow_user"]
    assert follow["remark"] == "二十个字" * 5
    assert follow["description"] == "描" * 150
    assert follow["remark_corp_name"] == "腾讯科技"
    assert follow["remark_mobiles"] == ["13800000002", "13800000003"]
    clear = {"userid": "zhangsan", "external_userid": external_userid, "remark_mobiles": [""]}
    assert (await api.post("externalcontact/remark", clear))["errcode"] == 0
    data = await api.get("externalcontact/get", external_userid=external_userid)
    (follow,) = data["follow_user"]
    assert "remark_mobiles" not in follow
    assert follow["remark"] == "二十个字" * 5  # untouched fields stay


async def test_remark_company_is_ignored_for_wecom_customers(corp: FakeWeCom, api: Api) -> None:
    external_userid = corp.add_customer(type=2, followers=["zhangsan"])
    body = {"userid": "zhangsan", "external_userid": external_userid, "remark_company": "X"}
    assert (await api.post("externalcontact/remark", body))["errcode"] == 0
    follow = corp.follow(external_userid, "zhangsan")
    assert follow is not None
    assert follow.remark_corp_name is None


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"remark": "x" * 21}, 40058),
        ({"description": "x" * 151}, 40058),
        ({"remark_company": "x" * 21}, 40058),
        ({"remark_mobiles": "13800000000"}, 40058),
        ({}, 40063),
        ({"userid": None, "remark": "a"}, 40063),
        ({"external_userid": None, "remark": "a"}, 41035),
        ({"userid": "nobody", "remark": "a"}, 60111),
        ({"external_userid": "wmNOPE", "remark": "a"}, 40096),
        ({"userid": "lisi", "remark": "a"}, 84061),
    ],
)
async def test_remark_errcodes(
    corp: FakeWeCom, api: Api, change: dict[str, object], errcode: int
) -> None:
    external_userid = corp.add_customer(followers=["zhangsan"])
    body = {"userid": "zhangsan", "external_userid": external_userid, **change}
    body = {k: v for k, v in body.items() if v is not None}
    assert (await api.post("externalcontact/remark", body))["errcode"] == errcode
    follow = corp.follow(external_userid, "zhangsan")
    assert follow is not None
    assert follow.remark == ""
