"""client.tags (endpoints.md #8-#16) end to end against the fake WeCom."""

from __future__ import annotations

from typing import Any

import pytest

from wecom_async import APIError, SystemBusyError, ValidationError, WeComClient
from wecom_async.models.external_contact import TagType
from wecom_async.models.tags import AddCorpTagRequest, AddStrategyTagRequest, CorpTagGroup, NewTag
from wecom_async.testing import FakeWeCom, Follower

LIST = "externalcontact/get_corp_tag_list"
ADD = "externalcontact/add_corp_tag"
EDIT = "externalcontact/edit_corp_tag"
DELETE = "externalcontact/del_corp_tag"
MARK = "externalcontact/mark_tag"
LIST_ST = "externalcontact/get_strategy_tag_list"
ADD_ST = "externalcontact/add_strategy_tag"
EDIT_ST = "externalcontact/edit_strategy_tag"
DELETE_ST = "externalcontact/del_strategy_tag"
LEVELS: dict[str, Any] = {"group_name": "客户等级", "tag": [{"name": "重要"}, {"name": "普通"}]}


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """zhangsan and lisi; customer ``wmCustomerA`` is followed by zhangsan only."""
    wecom_fake.add_staff("zhangsan")
    wecom_fake.add_staff("lisi")
    wecom_fake.add_customer(followers=["zhangsan"], external_userid="wmCustomerA")
    return wecom_fake


async def _levels(client: WeComClient) -> CorpTagGroup:
    return await client.tags.add(LEVELS)


def _fill_registry(fake: FakeWeCom, count: int, *, strategy_id: int | None = None) -> list[str]:
    """Create ``count`` live tags straight in the fake (fast setup for the quota tests)."""
    group = fake.state.tags.add_group(
        "bulk", [f"t{i}" for i in range(count)], create_time=0, strategy_id=strategy_id
    )
    return list(group.tag_ids)


# -- the lifecycle ----------------------------------------------------------------------


async def test_a_new_tag_marked_on_a_customer_shows_in_get_and_batch(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    important = group.tag[0]

    await wecom_client.tags.mark("zhangsan", "wmCustomerA", add_tag=[important.id])

    detail = await wecom_client.external_contact.get("wmCustomerA")
    tags = detail.follow_user[0].tags or []
    assert [(t.group_name, t.tag_name, t.tag_id, t.type) for t in tags] == [
        ("客户等级", "重要", important.id, TagType.CORP)
    ]
    page = await wecom_client.external_contact.batch_get_by_user(["zhangsan"])
    assert page.items[0].follow_info.tag_id == [important.id]

    await wecom_client.tags.mark("zhangsan", "wmCustomerA", remove_tag=[important.id])
    detail = await wecom_client.external_contact.get("wmCustomerA")
    assert detail.follow_user[0].tags == []


# -- get_corp_tag_list ------------------------------------------------------------------


async def test_list_returns_every_live_group_higher_order_first(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    low = await wecom_client.tags.add({"group_name": "低", "order": 1, "tag": [{"name": "a"}]})
    high = await wecom_client.tags.add(
        {
            "group_name": "高",
            "order": 9,
            "tag": [{"name": "x", "order": 1}, {"name": "y", "order": 5}],
        }
    )

    groups = await wecom_client.tags.list()

    assert [g.group_id for g in groups] == [high.group_id, low.group_id]
    assert [t.name for t in groups[0].tag] == ["y", "x"]
    assert all(g.deleted is None and all(t.deleted is None for t in g.tag) for g in groups)
    request = corp.requests[-1]
    assert (request.method, request.path, request.json) == ("POST", LIST, {})


async def test_list_by_group_id_reports_deleted_tags_and_sends_only_that_filter(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    await wecom_client.tags.delete(tag_id=[group.tag[1].id])

    (found,) = await wecom_client.tags.list(group_id=[group.group_id], tag_id=None)

    assert [(t.name, t.deleted) for t in found.tag] == [("重要", False), ("普通", True)]
    assert corp.requests[-1].json == {"group_id": [group.group_id]}


async def test_list_by_tag_id_flags_deleted_groups(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    await wecom_client.tags.delete(group_id=[group.group_id])

    (found,) = await wecom_client.tags.list(tag_id=[group.tag[0].id])

    assert (found.group_id, found.deleted) == (group.group_id, True)
    assert [(t.id, t.deleted) for t in found.tag] == [(group.tag[0].id, True)]
    assert corp.requests[-1].json == {"tag_id": [group.tag[0].id]}
    assert await wecom_client.tags.list() == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tag_id": "etABC"}, "tag_id"),
        ({"group_id": ["etA", ""]}, "group_id"),
        ({"tag_id": ["etA"] * 10_001}, "tag_id"),
    ],
)
async def test_list_refuses_bad_filters_locally(
    corp: FakeWeCom, wecom_client: WeComClient, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.tags.list(**kwargs)
    assert corp.calls(LIST) == 0


async def test_list_is_retried_after_system_busy(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.inject(LIST, errcode=-1)
    assert await wecom_client.tags.list() == []
    assert corp.calls(LIST) == 2


# -- add_corp_tag -----------------------------------------------------------------------


async def test_add_creates_a_group_and_sends_the_exact_body(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    request = AddCorpTagRequest(
        group_name="来源", order=3, tag=[NewTag(name="线上", order=2), NewTag(name="线下")]
    )

    group = await wecom_client.tags.add(request)

    assert group.group_id.startswith("et")
    assert group.group_name == "来源"
    assert (group.order, group.create_time) == (3, int(corp.clock.now()))
    assert [(t.name, t.order) for t in group.tag] == [("线上", 2), ("线下", 0)]
    assert all(t.id.startswith("et") for t in group.tag)
    sent = corp.requests[-1]
    assert (sent.method, sent.path) == ("POST", ADD)
    assert sent.json == {
        "group_name": "来源",
        "order": 3,
        "tag": [{"name": "线上", "order": 2}, {"name": "线下"}],
    }


async def test_add_to_a_same_name_group_or_by_group_id_extends_that_group(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)

    by_name = await wecom_client.tags.add({"group_name": "客户等级", "tag": [{"name": "一般"}]})
    by_id = await wecom_client.tags.add(
        {"group_id": group.group_id, "tag": [{"name": "流失"}, {"name": "流失"}]}
    )

    assert by_name.group_id == by_id.group_id == group.group_id
    assert [t.name for t in by_id.tag] == ["流失"]  # same-name tags of one request: one tag
    (listed,) = await wecom_client.tags.list()
    assert [t.name for t in listed.tag] == ["重要", "普通", "一般", "流失"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"group_name": "g", "tag": []}, "at least one tag"),
        ({"tag": [{"name": "a"}]}, "group_id .* or group_name"),
        ({"group_name": "组" * 31, "tag": [{"name": "a"}]}, "group_name is 31 characters"),
        ({"group_name": "g", "tag": [{"name": "签" * 31}]}, "name is 31 characters"),
        ({"group_name": "g", "tag": [{"name": "  "}]}, "name must be a non-empty"),
        ({"group_name": "g", "order": 2**32, "tag": [{"name": "a"}]}, r"order .*\[0, 2\^32\)"),
        ({"group_name": "g", "tag": [{"name": "a", "order": -1}]}, "order"),
        ({"group_name": "g", "tag": [{"name": "a"}], "colour": "red"}, "colour"),
        ({"group_id": "", "tag": [{"name": "a"}]}, "group_id"),
    ],
)
async def test_add_refuses_bad_bodies_locally(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.tags.add(body)
    assert corp.calls(ADD) == 0


async def test_add_maps_an_unknown_group_id_to_40068(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.add({"group_id": "etNoSuchGroup", "tag": [{"name": "a"}]})
    assert type(caught.value) is APIError
    assert caught.value.errcode == 40068


async def test_add_maps_an_existing_tag_name_to_40071(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    await _levels(wecom_client)
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.add({"group_name": "客户等级", "tag": [{"name": "重要"}]})
    assert caught.value.errcode == 40071
    (group,) = await wecom_client.tags.list()
    assert len(group.tag) == 2


async def test_add_past_10000_corp_and_strategy_tags_answers_40126(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    _fill_registry(corp, 5_000)
    _fill_registry(corp, 4_999, strategy_id=1)

    await wecom_client.tags.add({"group_name": "g", "tag": [{"name": "last"}]})
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.add({"group_name": "g", "tag": [{"name": "one too many"}]})

    assert caught.value.errcode == 40126
    assert len(corp.state.tags.live_tag_ids()) == 10_000


async def test_add_is_not_retried_after_an_ambiguous_failure(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.inject(ADD, errcode=-1)
    with pytest.raises(SystemBusyError):
        await _levels(wecom_client)
    assert corp.calls(ADD) == 1


# -- edit_corp_tag ----------------------------------------------------------------------


async def test_edit_renames_a_tag_and_reorders_a_group(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)

    await wecom_client.tags.edit(group.tag[1].id, name="VIP")
    assert corp.requests[-1].json == {"id": group.tag[1].id, "name": "VIP"}
    await wecom_client.tags.edit(group.group_id, order=7)
    assert (corp.requests[-1].method, corp.requests[-1].path) == ("POST", EDIT)
    assert corp.requests[-1].json == {"id": group.group_id, "order": 7}

    (listed,) = await wecom_client.tags.list()
    assert listed.order == 7
    assert {t.name for t in listed.tag} == {"重要", "VIP"}


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("etA",), {}, "name or order"),
        (("",), {"name": "x"}, "id"),
        (("etA",), {"name": "名" * 31}, "at most 30"),
        (("etA",), {"name": ""}, "name"),
        (("etA",), {"order": 2**32}, "order"),
        (("etA",), {"order": True}, "order"),
    ],
)
async def test_edit_refuses_bad_arguments_locally(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    args: tuple[str],
    kwargs: dict[str, Any],
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.tags.edit(*args, **kwargs)
    assert corp.calls(EDIT) == 0


async def test_edit_maps_unknown_ids_and_taken_names(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    await wecom_client.tags.add({"group_name": "来源", "tag": [{"name": "线上"}]})

    with pytest.raises(APIError) as unknown:
        await wecom_client.tags.edit("etNoSuchTag", name="x")
    with pytest.raises(APIError) as group_clash:
        await wecom_client.tags.edit(group.group_id, name="来源")
    with pytest.raises(APIError) as tag_clash:
        await wecom_client.tags.edit(group.tag[0].id, name="普通")

    assert unknown.value.errcode == 40068
    assert group_clash.value.errcode == tag_clash.value.errcode == 40071


# -- del_corp_tag -----------------------------------------------------------------------


async def test_deleting_every_tag_of_a_group_deletes_the_group(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    await wecom_client.tags.mark("zhangsan", "wmCustomerA", add_tag=[group.tag[0].id])

    await wecom_client.tags.delete(tag_id=[t.id for t in group.tag])

    sent = corp.requests[-1]
    assert (sent.method, sent.path, sent.json) == (
        "POST",
        DELETE,
        {"tag_id": [t.id for t in group.tag]},
    )
    assert await wecom_client.tags.list() == []
    assert corp.state.tags.groups[group.group_id].deleted
    detail = await wecom_client.external_contact.get("wmCustomerA")
    assert detail.follow_user[0].tags == []


async def test_delete_by_group_id_removes_the_group_and_its_tags(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    other = await wecom_client.tags.add({"group_name": "来源", "tag": [{"name": "线上"}]})

    await wecom_client.tags.delete(group_id=[group.group_id])

    assert corp.requests[-1].json == {"group_id": [group.group_id]}
    assert [g.group_id for g in await wecom_client.tags.list()] == [other.group_id]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"tag_id": [], "group_id": []}, {"tag_id": ["etA", " "]}, {"group_id": "etA"}],
)
async def test_delete_refuses_empty_or_bad_lists_locally(
    corp: FakeWeCom, wecom_client: WeComClient, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.tags.delete(**kwargs)
    assert corp.calls(DELETE) == 0


async def test_delete_with_an_unknown_id_deletes_nothing_and_answers_40068(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.delete(tag_id=[group.tag[0].id, "etNoSuchTag"])
    assert caught.value.errcode == 40068
    (listed,) = await wecom_client.tags.list()
    assert len(listed.tag) == 2


async def test_delete_is_not_retried_after_an_ambiguous_failure(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    corp.inject(DELETE, errcode=-1)
    with pytest.raises(SystemBusyError):
        await wecom_client.tags.delete(group_id=[group.group_id])
    assert corp.calls(DELETE) == 1


# -- mark_tag ---------------------------------------------------------------------------


async def test_mark_sends_only_the_non_empty_lists_and_is_idempotent(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    ids = [t.id for t in group.tag]

    await wecom_client.tags.mark("zhangsan", "wmCustomerA", add_tag=ids)
    await wecom_client.tags.mark("zhangsan", "wmCustomerA", add_tag=ids[:1])

    sent = corp.requests[-1]
    assert (sent.method, sent.path) == ("POST", MARK)
    assert sent.json == {"userid": "zhangsan", "external_userid": "wmCustomerA", "add_tag": ids[:1]}
    follow = corp.follow("wmCustomerA", "zhangsan")
    assert follow is not None
    assert follow.tag_ids == ids

    await wecom_client.tags.mark("zhangsan", "wmCustomerA", add_tag=[], remove_tag=ids)
    assert corp.requests[-1].json == {
        "userid": "zhangsan",
        "external_userid": "wmCustomerA",
        "remove_tag": ids,
    }
    assert follow.tag_ids == []


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("zhangsan", "wmCustomerA"), {}, "must not both be empty"),
        (("", "wmCustomerA"), {"add_tag": ["etA"]}, "userid"),
        (("zhangsan", " "), {"add_tag": ["etA"]}, "external_userid"),
        (("zhangsan", "wmCustomerA"), {"add_tag": "etA"}, "add_tag"),
        (("zhangsan", "wmCustomerA"), {"remove_tag": ["etA"] * 3001}, "at most 3000"),
    ],
)
async def test_mark_refuses_bad_arguments_locally(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    args: tuple[str, str],
    kwargs: dict[str, Any],
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.tags.mark(*args, **kwargs)
    assert corp.calls(MARK) == 0


async def test_mark_on_another_members_customer_answers_84061(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.mark("lisi", "wmCustomerA", add_tag=[group.tag[0].id])
    assert caught.value.errcode == 84061


async def test_mark_with_an_unknown_tag_answers_40068_and_changes_nothing(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await _levels(wecom_client)
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.mark(
            "zhangsan", "wmCustomerA", add_tag=[group.tag[0].id, "etNoSuchTag"]
        )
    assert caught.value.errcode == 40068
    follow = corp.follow("wmCustomerA", "zhangsan")
    assert follow is not None
    assert follow.tag_ids == []


async def test_mark_past_3000_tags_on_one_customer_answers_40144(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    ids = _fill_registry(corp, 3_001)
    customer = corp.add_customer(followers=[Follower(userid="zhangsan", tag_ids=ids[:2_999])])

    await wecom_client.tags.mark("zhangsan", customer, add_tag=[ids[2_999]])
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.mark("zhangsan", customer, add_tag=[ids[3_000]])

    assert caught.value.errcode == 40144
    follow = corp.follow(customer, "zhangsan")
    assert follow is not None
    assert len(follow.tag_ids) == 3_000


# -- strategy tags ----------------------------------------------------------------------


async def test_strategy_tags_lifecycle(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    group = await wecom_client.tags.add_strategy(
        AddStrategyTagRequest(strategy_id=7, group_name="华东", tag=[NewTag(name="重点")])
    )
    assert corp.requests[-1].json == {
        "strategy_id": 7,
        "group_name": "华东",
        "tag": [{"name": "重点"}],
    }
    await wecom_client.tags.add_strategy(
        {"strategy_id": 8, "group_name": "华南", "tag": [{"name": "a"}]}
    )
    assert group.group_id.startswith("st")
    assert group.tag[0].id.startswith("st")

    (listed,) = await wecom_client.tags.list_strategy(strategy_id=7)
    assert (listed.group_id, listed.strategy_id) == (group.group_id, 7)
    assert (corp.requests[-1].path, corp.requests[-1].json) == (LIST_ST, {"strategy_id": 7})
    assert await wecom_client.tags.list() == []  # corp lists never show strategy groups

    await wecom_client.tags.edit_strategy(group.tag[0].id, name="重点客户", order=3)
    assert (corp.requests[-1].path, corp.requests[-1].json) == (
        EDIT_ST,
        {"id": group.tag[0].id, "name": "重点客户", "order": 3},
    )
    await wecom_client.tags.mark("zhangsan", "wmCustomerA", add_tag=[group.tag[0].id])
    detail = await wecom_client.external_contact.get("wmCustomerA")
    tags = detail.follow_user[0].tags or []
    assert [(t.tag_name, t.type) for t in tags] == [("重点客户", TagType.STRATEGY)]

    await wecom_client.tags.delete_strategy(group_id=[group.group_id])
    assert (corp.requests[-1].path, corp.requests[-1].json) == (
        DELETE_ST,
        {"group_id": [group.group_id]},
    )
    assert [g.strategy_id for g in await wecom_client.tags.list_strategy()] == [8]


async def test_corp_and_strategy_endpoints_do_not_touch_each_others_tags(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp_group = await _levels(wecom_client)
    strategy = await wecom_client.tags.add_strategy({"strategy_id": 1, **LEVELS})

    with pytest.raises(APIError) as edit:
        await wecom_client.tags.edit(strategy.tag[0].id, name="x")
    with pytest.raises(APIError) as delete:
        await wecom_client.tags.delete_strategy(tag_id=[corp_group.tag[0].id])

    assert edit.value.errcode == delete.value.errcode == 40068


async def test_strategy_tags_share_the_10000_tag_quota(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    _fill_registry(corp, 10_000)
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.add_strategy({"strategy_id": 1, **LEVELS})
    assert caught.value.errcode == 40126


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (LEVELS, "strategy_id"),
        ({**LEVELS, "strategy_id": -1}, "strategy_id"),
        ({"strategy_id": 1, "tag": [{"name": "a"}]}, "group_id"),
    ],
)
async def test_add_strategy_refuses_bad_bodies_locally(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.tags.add_strategy(body)
    assert corp.calls(ADD_ST) == 0


async def test_strategy_variants_validate_like_the_corp_ones(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(ValidationError, match="strategy_id"):
        await wecom_client.tags.list_strategy(strategy_id=True)
    with pytest.raises(ValidationError, match="name or order"):
        await wecom_client.tags.edit_strategy("stA")
    with pytest.raises(ValidationError, match="must not both be empty"):
        await wecom_client.tags.delete_strategy()
    assert corp.calls(LIST_ST) == corp.calls(EDIT_ST) == corp.calls(DELETE_ST) == 0


async def test_add_strategy_into_another_rule_groups_group_answers_40068(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = await wecom_client.tags.add_strategy({"strategy_id": 1, **LEVELS})
    with pytest.raises(APIError) as caught:
        await wecom_client.tags.add_strategy(
            {"strategy_id": 2, "group_id": group.group_id, "tag": [{"name": "a"}]}
        )
    assert caught.value.errcode == 40068


async def test_seeded_tags_are_listed(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    report = wecom_fake.seed(staff=2, customers_per_staff=3, seed=1)
    corp_ids = {t.id for g in await wecom_client.tags.list() for t in g.tag}
    strategy_ids = {t.id for g in await wecom_client.tags.list_strategy() for t in g.tag}
    assert corp_ids | strategy_ids == set(report.tag_ids)
    assert corp_ids
    assert strategy_ids
    assert not corp_ids & strategy_ids
