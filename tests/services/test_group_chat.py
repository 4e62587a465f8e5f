"""client.group_chat (endpoints.md #32-#34) end to end against the fake WeCom."""

from __future__ import annotations

from typing import Any

import pytest

from wecom_async import WeComClient
from wecom_async._exceptions import APIError, SystemBusyError, ValidationError
from wecom_async.models.group_chat import (
    GroupChatStatus,
    GroupMemberType,
    JoinScene,
)
from wecom_async.pagination import NumberedPage
from wecom_async.testing import FakeWeCom, GroupMember

LIST = "externalcontact/groupchat/list"
GET = "externalcontact/groupchat/get"
OPENGID = "externalcontact/opengid_to_chatid"


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """Owners zhangsan and lisi (on the job) and gone (resigned)."""
    wecom_fake.add_staff("zhangsan", name="张三")
    wecom_fake.add_staff("lisi", name="李四")
    wecom_fake.add_staff("gone", resigned=True)
    return wecom_fake


def _groups(fake: FakeWeCom, owner: str, count: int) -> list[str]:
    return [fake.add_group_chat(owner, name=f"{owner}-{n}").chat_id for n in range(count)]


# -- groupchat/get ----------------------------------------------------------------------


async def test_get_returns_the_group_without_names_by_default(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.add_customer(followers=["zhangsan"], name="王语嫣", unionid="ozyn-AAA")
    group = corp.add_group_chat(
        "zhangsan",
        members=["lisi", customer],
        name="销售客服群",
        notice="文明沟通",
        admins=["lisi"],
        create_time=1572505490,
    )

    chat = await wecom_client.group_chat.get(group.chat_id)

    assert (chat.chat_id, chat.name, chat.owner) == (group.chat_id, "销售客服群", "zhangsan")
    assert (chat.create_time, chat.notice) == (1572505490, "文明沟通")
    assert [(m.userid, m.type) for m in chat.member_list] == [
        ("zhangsan", GroupMemberType.CORP_MEMBER),
        ("lisi", GroupMemberType.CORP_MEMBER),
        (customer, GroupMemberType.EXTERNAL_CONTACT),
    ]
    assert all(m.name is None for m in chat.member_list)
    assert chat.member_list[2].unionid == "ozyn-AAA"
    assert [a.userid for a in chat.admin_list] == ["lisi"]
    assert chat.member_version == group.member_version
    assert len(group.member_version) == 32
    request = corp.requests[-1]
    assert (request.method, request.path) == ("POST", GET)
    assert request.json == {"chat_id": group.chat_id, "need_name": 0}


async def test_get_with_need_name_returns_member_names_invitor_and_state(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.add_customer(followers=["zhangsan"], name="王语嫣")
    joined = GroupMember(
        userid=customer,
        type=2,
        join_time=1700000100,
        join_scene=3,
        invitor="lisi",
        group_nickname="顾客老王",
        name="王语嫣",
        state="teststate",
    )
    group = corp.add_group_chat("zhangsan", members=[joined])

    chat = await wecom_client.group_chat.get(group.chat_id, need_name=True)

    assert [m.name for m in chat.member_list] == ["张三", "王语嫣"]
    member = chat.member_list[1]
    assert member.join_scene is JoinScene.GROUP_QR_CODE
    assert member.invitor is not None
    assert member.invitor.userid == "lisi"
    assert (member.group_nickname, member.state, member.join_time) == (
        "顾客老王",
        "teststate",
        1700000100,
    )
    assert corp.requests[-1].json == {"chat_id": group.chat_id, "need_name": 1}


@pytest.mark.parametrize("chat_id", ["", "  "])
async def test_get_refuses_an_empty_chat_id_locally(
    corp: FakeWeCom, wecom_client: WeComClient, chat_id: str
) -> None:
    with pytest.raises(ValidationError, match="chat_id"):
        await wecom_client.group_chat.get(chat_id)
    assert corp.calls(GET) == 0


async def test_get_maps_unknown_and_internal_groups_to_api_errors(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    internal = corp.add_group_chat("zhangsan", customer_group=False)
    with pytest.raises(APIError) as unknown:
        await wecom_client.group_chat.get("wrNoSuchGroup")
    assert type(unknown.value) is APIError
    assert unknown.value.errcode == 86003
    with pytest.raises(APIError) as not_customer:
        await wecom_client.group_chat.get(internal.chat_id)
    assert not_customer.value.errcode == 90501


async def test_get_is_resent_after_system_busy(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    group = corp.add_group_chat("zhangsan")
    corp.inject(GET, errcode=-1)
    assert (await wecom_client.group_chat.get(group.chat_id)).chat_id == group.chat_id
    assert corp.calls(GET) == 2


# -- groupchat/list ---------------------------------------------------------------------


async def test_list_pages_by_cursor_and_yields_each_group_once(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    expected = _groups(corp, "zhangsan", 4) + _groups(corp, "lisi", 3)

    seen = [g.chat_id async for g in wecom_client.group_chat.list(limit=3)]

    assert seen == expected
    bodies = [r.json for r in corp.requests if r.path == LIST]
    assert len(bodies) == 3
    assert bodies[0] == {"status_filter": 0, "limit": 3}
    assert all(b is not None and set(b) == {"status_filter", "limit", "cursor"} for b in bodies[1:])


async def test_list_first_page_and_resume_from_its_cursor(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    expected = _groups(corp, "zhangsan", 5)
    first = await wecom_client.group_chat.list(limit=2)
    assert [g.chat_id for g in first.items] == expected[:2]
    assert first.next_cursor
    rest = [
        g.chat_id async for g in wecom_client.group_chat.list(limit=2, cursor=first.next_cursor)
    ]
    assert rest == expected[2:]


async def test_list_filters_by_owner_and_sends_owner_filter(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    _groups(corp, "zhangsan", 2)
    mine = _groups(corp, "lisi", 2)

    page = await wecom_client.group_chat.list(owner_userid_list=["lisi"], limit=10)

    assert [(g.chat_id, g.status) for g in page.items] == [
        (c, GroupChatStatus.NORMAL) for c in mine
    ]
    assert page.next_cursor == ""
    assert corp.requests[-1].json == {
        "status_filter": 0,
        "limit": 10,
        "owner_filter": {"userid_list": ["lisi"]},
    }


async def test_groups_of_resigned_owners_are_listed_only_when_named(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    active = _groups(corp, "zhangsan", 1)
    orphaned = _groups(corp, "gone", 2)

    everyone = [g.chat_id async for g in wecom_client.group_chat.list()]
    named = [g async for g in wecom_client.group_chat.list(owner_userid_list=["gone"])]

    assert everyone == active
    assert [(g.chat_id, g.status) for g in named] == [
        (c, GroupChatStatus.OWNER_RESIGNED) for c in orphaned
    ]


async def test_list_status_filter_selects_by_inheritance_status(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    waiting = corp.add_group_chat("gone").chat_id
    inheriting = corp.add_group_chat("gone", status=2).chat_id
    owners = ["gone", "zhangsan"]
    _groups(corp, "zhangsan", 1)

    resigned = await wecom_client.group_chat.list(status_filter=1, owner_userid_list=owners)
    moving = await wecom_client.group_chat.list(status_filter=2, owner_userid_list=owners)

    assert [g.chat_id for g in resigned.items] == [waiting]
    assert [(g.chat_id, g.status) for g in moving.items] == [
        (inheriting, GroupChatStatus.INHERITING)
    ]
    assert corp.requests[-1].json is not None
    assert corp.requests[-1].json["status_filter"] == 2


async def test_list_without_owner_filter_over_1000_owners_answers_81017(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    for n in range(1001):
        wecom_fake.add_staff(f"member{n:04d}")
    with pytest.raises(APIError) as caught:
        await wecom_client.group_chat.list()
    assert caught.value.errcode == 81017
    assert (await wecom_client.group_chat.list(owner_userid_list=["member0001"])).items == []


async def test_list_refuses_a_cursor_of_another_request(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    _groups(corp, "zhangsan", 3)
    first = await wecom_client.group_chat.list(limit=1)
    assert first.next_cursor
    other = wecom_client.group_chat.list(limit=1, status_filter=1, cursor=first.next_cursor)
    with pytest.raises(APIError) as caught:
        await other
    assert caught.value.errcode == 50100


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"status_filter": 4}, "status_filter"),
        ({"status_filter": -1}, "status_filter"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"owner_userid_list": []}, "owner_userid_list"),
        ({"owner_userid_list": [f"u{n}" for n in range(101)]}, "at most 100"),
        ({"owner_userid_list": ["zhangsan", ""]}, "owner_userid_list"),
        ({"owner_userid_list": "zhangsan"}, "not a single string"),
        ({"cursor": "abc", "offset": 0}, "not both"),
        ({"offset": -1}, "offset"),
        ({"offset": 49_001, "limit": 1000}, "50000"),
    ],
)
def test_list_refuses_bad_arguments_before_sending(
    corp: FakeWeCom, wecom_client: WeComClient, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        wecom_client.group_chat.list(**kwargs)
    assert corp.calls(LIST) == 0


async def test_legacy_offset_paging_sends_offsets_and_yields_each_group_once(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    expected = _groups(corp, "zhangsan", 7)

    first = await wecom_client.group_chat.list(limit=3, offset=0)
    seen = [g.chat_id async for g in wecom_client.group_chat.list(limit=3, offset=0)]

    assert isinstance(first, NumberedPage)
    assert first.next_token == 3
    assert seen == expected
    bodies = [r.json for r in corp.requests if r.path == LIST][1:]
    assert bodies == [{"status_filter": 0, "limit": 3, "offset": n} for n in (0, 3, 6)]


async def test_legacy_offset_paging_ends_on_an_empty_page_after_full_ones(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    expected = _groups(corp, "lisi", 4)
    seen = [g.chat_id async for g in wecom_client.group_chat.list(limit=2, offset=2)]
    assert seen == expected[2:]
    assert [r.json["offset"] for r in corp.requests if r.path == LIST and r.json] == [2, 4]


async def test_legacy_offset_up_to_the_cap_is_sent_as_given(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    _groups(corp, "zhangsan", 2)
    page = await wecom_client.group_chat.list(limit=1000, offset=49_000)
    assert page.items == []
    assert page.next_token is None
    assert corp.requests[-1].json == {"status_filter": 0, "limit": 1000, "offset": 49_000}


# -- opengid_to_chatid ------------------------------------------------------------------


async def test_opengid_to_chatid_returns_the_chat_id(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = corp.add_group_chat("zhangsan", opengid="oAAAAHGbRLaUUeO2ujRJ2hcMBBBB")
    chat_id = await wecom_client.group_chat.opengid_to_chatid("oAAAAHGbRLaUUeO2ujRJ2hcMBBBB")
    assert chat_id == group.chat_id
    request = corp.requests[-1]
    assert (request.method, request.path) == ("POST", OPENGID)
    assert request.json == {"opengid": "oAAAAHGbRLaUUeO2ujRJ2hcMBBBB"}


async def test_opengid_to_chatid_maps_an_unknown_opengid_to_90511(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.group_chat.opengid_to_chatid("oUnknown")
    assert caught.value.errcode == 90511


async def test_opengid_to_chatid_refuses_an_empty_opengid_locally(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(ValidationError, match="opengid"):
        await wecom_client.group_chat.opengid_to_chatid("")
    assert corp.calls(OPENGID) == 0


async def test_opengid_to_chatid_is_resent_after_system_busy(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = corp.add_group_chat("zhangsan", opengid="oRetry")
    corp.inject(OPENGID, errcode=-1, times=2)
    assert await wecom_client.group_chat.opengid_to_chatid("oRetry") == group.chat_id
    assert corp.calls(OPENGID) == 3


# -- a seeded corp ----------------------------------------------------------------------


async def test_seeded_corp_has_groups_of_active_and_resigned_owners(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    report = wecom_fake.seed(staff=6, customers_per_staff=8, seed=3)
    listed = [g async for g in wecom_client.group_chat.list(limit=2)]
    assert len(listed) == len({g.chat_id for g in listed}) >= 3
    assert {g.status for g in listed} == {GroupChatStatus.NORMAL}

    resigned = [s.userid for s in wecom_fake.state.staff.values() if s.resigned]
    orphaned = [g async for g in wecom_client.group_chat.list(owner_userid_list=resigned)]
    assert {g.status for g in orphaned} == {
        GroupChatStatus.OWNER_RESIGNED,
        GroupChatStatus.INHERITING,
    }

    detail = await wecom_client.group_chat.get(listed[0].chat_id, need_name=True)
    assert detail.owner in report.staff
    assert {m.type for m in detail.member_list} == {1, 2}
    assert all(m.name for m in detail.member_list)


async def test_system_busy_surfaces_once_retries_are_spent(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.inject(LIST, errcode=-1, times=10)
    with pytest.raises(SystemBusyError):
        await wecom_client.group_chat.list()
    assert corp.calls(LIST) == 4
