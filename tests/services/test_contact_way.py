"""client.contact_way (endpoints.md #35-#44) end to end against the fake WeCom."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from wecom_async import (
    APIError,
    PermissionDeniedError,
    SystemBusyError,
    ValidationError,
    WeComClient,
    to_dict,
)
from wecom_async.models.attachments import Conclusions, Image, Text
from wecom_async.models.contact_way import (
    AddContactWayRequest,
    AddJoinWayRequest,
    ContactWayScene,
    ContactWayType,
    JoinWayScene,
    UpdateContactWayRequest,
    UpdateJoinWayRequest,
)
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._contact_way_state import ContactWayState

ADD = "externalcontact/add_contact_way"
GET = "externalcontact/get_contact_way"
LIST = "externalcontact/list_contact_way"
UPDATE = "externalcontact/update_contact_way"
DELETE = "externalcontact/del_contact_way"
CLOSE = "externalcontact/close_temp_chat"
ADD_JW = "externalcontact/groupchat/add_join_way"
GET_JW = "externalcontact/groupchat/get_join_way"
UPDATE_JW = "externalcontact/groupchat/update_join_way"
DEL_JW = "externalcontact/groupchat/del_join_way"
DAY = 86400
SINGLE_QR: dict[str, Any] = {"type": 1, "scene": 2, "user": ["zhangsan"]}
TEMP: dict[str, Any] = {**SINGLE_QR, "is_temp": True}


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """Two members with the feature, one without it, one resigned; two customer groups."""
    wecom_fake.add_staff("zhangsan", department=[2])
    wecom_fake.add_staff("lisi", department=[2])
    wecom_fake.add_staff("nofeature", customer_contact=False)
    wecom_fake.add_staff("gone", resigned=True)
    wecom_fake.add_group_chat("zhangsan", chat_id="wrGroupA")
    wecom_fake.add_group_chat("lisi", chat_id="wrGroupB")
    wecom_fake.add_group_chat("lisi", chat_id="wrInternal", customer_group=False)
    return wecom_fake


def last_request(fake: FakeWeCom, path: str) -> tuple[str, dict[str, Any]]:
    request = fake.requests[-1]
    assert request.path == path
    assert request.json is not None
    return request.method, request.json


# -- add / get -------------------------------------------------------------------------------


async def test_add_a_qr_code_way_and_read_it_back(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    body = AddContactWayRequest(
        type=ContactWayType.SINGLE,
        scene=ContactWayScene.QR_CODE,
        user=["zhangsan"],
        remark="渠道客户",
        state="teststate",
        skip_verify=False,
    )
    result = await wecom_client.contact_way.add(body)
    assert re.fullmatch(r"[0-9a-f]{32}", result.config_id)
    assert result.qr_code is not None
    assert result.qr_code.startswith("https://")
    assert last_request(corp, ADD) == (
        "POST",
        {
            "type": 1,
            "scene": 2,
            "user": ["zhangsan"],
            "remark": "渠道客户",
            "state": "teststate",
            "skip_verify": False,
        },
    )
    way = await wecom_client.contact_way.get(result.config_id)
    assert last_request(corp, GET) == ("POST", {"config_id": result.config_id})
    assert (way.type, way.scene) == (ContactWayType.SINGLE, ContactWayScene.QR_CODE)
    assert (way.remark, way.state, way.skip_verify, way.is_temp) == (
        "渠道客户",
        "teststate",
        False,
        False,
    )
    assert (way.qr_code, way.user, way.style, way.conclusions) == (
        result.qr_code,
        ["zhangsan"],
        None,
        None,
    )


async def test_a_mini_program_button_has_a_style_and_no_qr_code(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    body = {"type": 2, "scene": 1, "style": 2, "user": ["zhangsan"], "party": [2]}
    result = await wecom_client.contact_way.add(body)
    assert result.qr_code is None
    way = await wecom_client.contact_way.get(result.config_id)
    assert (way.type, way.style, way.party, way.qr_code) == (ContactWayType.MULTIPLE, 2, [2], None)


async def test_a_mapping_body_is_sent_exactly_like_the_model(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    mapping = {"type": 2, "scene": 1, "style": 1, "party": [2], "is_exclusive": True}
    await wecom_client.contact_way.add(mapping)
    sent_from_mapping = last_request(corp, ADD)[1]
    await wecom_client.contact_way.add(AddContactWayRequest(**mapping))
    assert last_request(corp, ADD)[1] == sent_from_mapping == mapping


async def test_a_temp_way_keeps_its_conclusions_and_returns_the_image_as_pic_url(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    conclusions = Conclusions(text=Text(content="再见"), image=Image(media_id="MEDIA"))
    body = AddContactWayRequest(
        **SINGLE_QR, is_temp=True, expires_in=3600, unionid="oxU", conclusions=conclusions
    )
    result = await wecom_client.contact_way.add(body)
    assert last_request(corp, ADD)[1]["conclusions"] == {
        "text": {"content": "再见"},
        "image": {"media_id": "MEDIA"},
    }
    way = await wecom_client.contact_way.get(result.config_id)
    assert (way.is_temp, way.expires_in, way.chat_expires_in, way.unionid) == (
        True,
        3600,
        DAY,
        "oxU",
    )
    assert way.conclusions is not None
    assert way.conclusions.image is not None
    assert way.conclusions.image.media_id is None
    assert way.conclusions.image.pic_url is not None
    assert way.conclusions.text == Text(content="再见")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({**SINGLE_QR, "type": 3}, id="unknown type"),
        pytest.param({**SINGLE_QR, "scene": 0}, id="unknown scene"),
        pytest.param({**SINGLE_QR, "type": True}, id="bool type"),
        pytest.param({"scene": 2, "user": ["zhangsan"]}, id="no type"),
        pytest.param({**SINGLE_QR, "user": ["zhangsan", "lisi"]}, id="type 1, two users"),
        pytest.param({"type": 1, "scene": 2}, id="type 1, no user"),
        pytest.param({**SINGLE_QR, "party": [2]}, id="type 1 with party"),
        pytest.param({"type": 2, "scene": 2, "user": [f"u{i}" for i in range(101)]}, id="101"),
        pytest.param({**SINGLE_QR, "user": [""]}, id="empty userid"),
        pytest.param({**SINGLE_QR, "remark": "r" * 31}, id="remark 31 chars"),
        pytest.param({**SINGLE_QR, "state": "s" * 31}, id="state 31 chars"),
        pytest.param({**SINGLE_QR, "scene": 1, "style": 4}, id="single style 4"),
        pytest.param({"type": 2, "scene": 1, "style": 3, "party": [2]}, id="multi style 3"),
        pytest.param({**SINGLE_QR, "style": 1}, id="style on a QR code"),
        pytest.param({**SINGLE_QR, "expires_in": 60}, id="expires_in, not temp"),
        pytest.param({**SINGLE_QR, "chat_expires_in": 60}, id="chat_expires_in, not temp"),
        pytest.param({**SINGLE_QR, "unionid": "ox"}, id="unionid, not temp"),
        pytest.param({**SINGLE_QR, "conclusions": {"text": {"content": "x"}}}, id="conclusions"),
        pytest.param({**TEMP, "type": 2, "party": [2]}, id="temp multi"),
        pytest.param({**TEMP, "expires_in": 14 * DAY + 1}, id="expires_in 14 days + 1s"),
        pytest.param({**TEMP, "chat_expires_in": 0}, id="chat_expires_in 0"),
        pytest.param({**TEMP, "conclusions": {}}, id="empty conclusions"),
        pytest.param({**TEMP, "conclusions": {"image": {"pic_url": "u"}}}, id="image pic_url"),
        pytest.param({**TEMP, "conclusions": {"text": {"content": "字" * 1334}}}, id="4002 B"),
        pytest.param({**SINGLE_QR, "unknown": 1}, id="unknown key"),
    ],
)
async def test_add_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.add(body)
    assert corp.calls(ADD) == 0


def test_request_models_refuse_at_construction() -> None:
    with pytest.raises(ValidationError, match="exactly one user"):
        AddContactWayRequest(type=1, scene=2, user=["a", "b"])
    with pytest.raises(ValidationError, match="is_temp"):
        AddContactWayRequest(type=1, scene=2, user=["a"], expires_in=60)
    with pytest.raises(ValidationError, match="chat_id_list"):
        AddJoinWayRequest(scene=JoinWayScene.QR_CODE, chat_id_list=[f"wr{i}" for i in range(6)])
    assert AddContactWayRequest(**TEMP, expires_in=14 * DAY).expires_in == 14 * DAY


@pytest.mark.parametrize(
    ("body", "errcode", "error"),
    [
        ({**SINGLE_QR, "user": ["nobody"]}, 60011, PermissionDeniedError),
        ({**SINGLE_QR, "user": ["gone"]}, 60011, PermissionDeniedError),
        ({**SINGLE_QR, "user": ["nofeature"]}, 41054, APIError),
        ({"type": 2, "scene": 2, "party": [9]}, 41041, APIError),
    ],
)
async def test_add_server_errcodes(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    body: dict[str, Any],
    errcode: int,
    error: type[APIError],
) -> None:
    for i in range(101):
        corp.add_staff(f"big{i}", department=[9])
    with pytest.raises(error) as caught:
        await wecom_client.contact_way.add(body)
    assert caught.value.errcode == errcode
    assert corp.calls(ADD) == 1
    assert corp.state.ext(ContactWayState).contact_ways == {}


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"scene": 2, "user": ["zhangsan"]}, 41037),
        ({"type": 1, "user": ["zhangsan"]}, 41038),
        ({**SINGLE_QR, "type": 3}, 41039),
        ({**SINGLE_QR, "scene": 3}, 41040),
        ({**SINGLE_QR, "user": ["zhangsan", "lisi"]}, 41041),
        ({**SINGLE_QR, "scene": 1, "style": 7}, 41042),
        ({**TEMP, "type": 2}, 41039),
    ],
)
async def test_the_fake_answers_what_the_sdk_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any], errcode: int
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.request("POST", ADD, json=body)
    assert caught.value.errcode == errcode


async def test_get_errors(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.get(" ")
    assert corp.calls(GET) == 0
    with pytest.raises(APIError) as caught:
        await wecom_client.contact_way.get("0" * 32)
    assert caught.value.errcode == 41044
    with pytest.raises(APIError) as caught:
        await wecom_client.request("POST", GET, json={})
    assert caught.value.errcode == 41043


# -- quota -------------------------------------------------------------------------------------


async def test_contact_ways_and_join_ways_share_one_quota(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.state.ext(ContactWayState).api_quota = 2
    await wecom_client.contact_way.add(SINGLE_QR)
    await wecom_client.contact_way.add_join_way({"scene": 2, "chat_id_list": ["wrGroupA"]})
    for call in (
        wecom_client.contact_way.add(SINGLE_QR),
        wecom_client.contact_way.add_join_way({"scene": 2, "chat_id_list": ["wrGroupA"]}),
    ):
        with pytest.raises(APIError) as caught:
            await call
        assert caught.value.errcode == 41045
    temp = await wecom_client.contact_way.add(TEMP)  # temp ways do not count
    assert (await wecom_client.contact_way.get(temp.config_id)).is_temp is True


# -- list --------------------------------------------------------------------------------------


async def test_list_pages_through_non_temp_ways_of_the_window(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    old = (await wecom_client.contact_way.add(SINGLE_QR)).config_id
    corp.clock.advance(91 * DAY)
    recent = [(await wecom_client.contact_way.add(SINGLE_QR)).config_id for _ in range(5)]
    await wecom_client.contact_way.add(TEMP)
    paginator = wecom_client.contact_way.list(limit=2)
    assert corp.calls(LIST) == 0  # lazy
    assert [c async for c in paginator] == recent  # default window: the last 90 days
    assert corp.calls(LIST) == 3
    assert last_request(corp, LIST)[1].keys() == {"limit", "cursor"}
    first_page = await paginator
    assert first_page.items == recent[:2]
    assert first_page.next_cursor
    assert last_request(corp, LIST) == ("POST", {"limit": 2})

    start = datetime.fromtimestamp(corp.clock.now(), timezone.utc) - timedelta(days=100)
    everything = [c async for c in wecom_client.contact_way.list(start_time=start)]
    assert everything == [old, *recent]
    assert last_request(corp, LIST)[1] == {"start_time": int(start.timestamp()), "limit": 1000}
    window = wecom_client.contact_way.list(start_time=0, end_time=int(corp.clock.now()) - DAY)
    assert [c async for c in window] == [old]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_time": datetime(2024, 1, 1)},
        {"end_time": -1},
        {"start_time": 200, "end_time": 100},
        {"limit": 0},
        {"limit": 1001},
    ],
)
async def test_list_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.list(**kwargs)
    assert corp.calls(LIST) == 0


# -- update / delete ---------------------------------------------------------------------------


async def test_lifecycle_add_get_list_update_delete(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    ways = wecom_client.contact_way
    body = {"type": 2, "scene": 1, "style": 1, "user": ["zhangsan"], "remark": "旧"}
    config_id = (await ways.add(body)).config_id
    assert (await ways.get(config_id)).user == ["zhangsan"]
    assert [c async for c in ways.list()] == [config_id]

    await ways.update(UpdateContactWayRequest(config_id=config_id, user=["lisi"], style=2))
    assert last_request(corp, UPDATE) == (
        "POST",
        {"config_id": config_id, "user": ["lisi"], "style": 2},
    )
    way = await ways.get(config_id)
    assert (way.user, way.style, way.remark) == (["lisi"], 2, "旧")  # only given fields change

    await ways.delete(config_id)
    assert last_request(corp, DELETE) == ("POST", {"config_id": config_id})
    assert [c async for c in ways.list()] == []
    for call in (ways.get(config_id), ways.delete(config_id)):
        with pytest.raises(APIError) as caught:
            await call
        assert caught.value.errcode == 41044


@pytest.mark.parametrize(
    "body",
    [
        {"config_id": "", "remark": "x"},
        {"remark": "x"},
        {"config_id": "c", "remark": "r" * 31},
        {"config_id": "c", "state": "s" * 31},
        {"config_id": "c", "user": [f"u{i}" for i in range(101)]},
        {"config_id": "c", "expires_in": 14 * DAY + 1},
        {"config_id": "c", "style": 4},
        {"config_id": "c", "conclusions": {"image": {"media_id": "m", "pic_url": "u"}}},
    ],
)
async def test_update_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.update(body)
    assert corp.calls(UPDATE) == 0


async def test_update_server_rules(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    ways = wecom_client.contact_way
    temp = (await ways.add({**TEMP, "expires_in": 3600})).config_id
    with pytest.raises(APIError) as caught:
        await ways.update({"config_id": temp, "user": ["zhangsan", "lisi"]})
    assert caught.value.errcode == 41041  # a temp way stays single-member
    await ways.update({"config_id": temp, "chat_expires_in": 600})
    assert (await ways.get(temp)).chat_expires_in == 600
    corp.clock.advance(3601)
    with pytest.raises(APIError) as caught:
        await ways.update({"config_id": temp, "remark": "late"})
    assert caught.value.errcode == 41044  # an expired temp way cannot be edited
    plain = (await ways.add(SINGLE_QR)).config_id
    with pytest.raises(APIError) as caught:
        await ways.update({"config_id": plain, "user": ["nofeature"]})
    assert caught.value.errcode == 41054
    assert (await ways.get(plain)).user == ["zhangsan"]


async def test_delete_refuses_an_empty_id(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.delete("")
    assert corp.calls(DELETE) == 0


# -- close_temp_chat ---------------------------------------------------------------------------


async def test_close_temp_chat_needs_a_live_temp_session(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    ways = wecom_client.contact_way
    customer = corp.add_customer()
    temp = (await ways.add({**TEMP, "state": "诊室", "chat_expires_in": 600})).config_id
    corp.add_via_contact_way(temp, customer)
    follow = corp.follow(customer, "zhangsan")
    assert follow is not None
    assert (follow.state, follow.add_way) == ("诊室", 1)
    with pytest.raises(APIError) as caught:  # the used temp QR code cannot be edited any more
        await ways.update({"config_id": temp, "remark": "x"})
    assert caught.value.errcode == 41044

    await ways.close_temp_chat("zhangsan", customer)
    assert last_request(corp, CLOSE) == (
        "POST",
        {"userid": "zhangsan", "external_userid": customer},
    )
    with pytest.raises(APIError) as caught:
        await ways.close_temp_chat("zhangsan", customer)
    assert caught.value.errcode == 84061

    other = corp.add_customer()
    temp2 = (await ways.add({**TEMP, "chat_expires_in": 600})).config_id
    corp.add_via_contact_way(temp2, other)
    corp.clock.advance(601)
    with pytest.raises(APIError) as caught:
        await ways.close_temp_chat("zhangsan", other)
    assert caught.value.errcode == 84061  # the session expired
    regular = (await ways.add(SINGLE_QR)).config_id
    third = corp.add_customer()
    corp.add_via_contact_way(regular, third)
    with pytest.raises(APIError) as caught:
        await ways.close_temp_chat("zhangsan", third)
    assert caught.value.errcode == 84061  # added another way: no temp session
    with pytest.raises(APIError) as caught:
        await ways.close_temp_chat("zhangsan", "wmUnknown")
    assert caught.value.errcode == 40096


@pytest.mark.parametrize(("userid", "external_userid"), [("", "wm1"), ("zhangsan", " ")])
async def test_close_temp_chat_refuses_empty_ids(
    corp: FakeWeCom, wecom_client: WeComClient, userid: str, external_userid: str
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.close_temp_chat(userid, external_userid)
    assert corp.calls(CLOSE) == 0


# -- ambiguous failures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "call"),
    [
        (ADD, lambda c: c.contact_way.add(SINGLE_QR)),
        (DELETE, lambda c: c.contact_way.delete("0" * 32)),
        (CLOSE, lambda c: c.contact_way.close_temp_chat("zhangsan", "wm1")),
        (ADD_JW, lambda c: c.contact_way.add_join_way({"scene": 2, "chat_id_list": ["wrGroupA"]})),
        (DEL_JW, lambda c: c.contact_way.delete_join_way("0" * 32)),
    ],
)
async def test_not_retry_safe_calls_are_never_resent(
    corp: FakeWeCom, wecom_client: WeComClient, path: str, call: Any
) -> None:
    corp.inject(path, errcode=-1)
    with pytest.raises(SystemBusyError):
        await call(wecom_client)
    assert corp.calls(path) == 1
    assert corp.state.ext(ContactWayState).contact_ways == {}
    assert corp.state.ext(ContactWayState).join_ways == {}


async def test_reads_and_updates_are_resent_after_system_busy(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    config_id = (await wecom_client.contact_way.add(SINGLE_QR)).config_id
    corp.inject(GET, errcode=-1)
    corp.inject(UPDATE, errcode=-1)
    await wecom_client.contact_way.update({"config_id": config_id, "remark": "again"})
    assert (await wecom_client.contact_way.get(config_id)).remark == "again"
    assert (corp.calls(GET), corp.calls(UPDATE)) == (2, 2)


# -- join ways ---------------------------------------------------------------------------------


async def test_join_way_lifecycle_with_full_overwrite_update(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    ways = wecom_client.contact_way
    body = AddJoinWayRequest(
        scene=JoinWayScene.QR_CODE,
        chat_id_list=["wrGroupA", "wrGroupB"],
        remark="aa_remark",
        auto_create_room=0,
        room_base_name="销售客服群",
        room_base_id=10,
        state="klsdup3kj3s1",
    )
    config_id = await ways.add_join_way(body)
    assert re.fullmatch(r"[0-9a-f]{32}", config_id)
    assert last_request(corp, ADD_JW) == ("POST", to_dict(body))
    assert set(to_dict(body)) == {
        "scene",
        "chat_id_list",
        "remark",
        "auto_create_room",
        "room_base_name",
        "room_base_id",
        "state",
    }
    way = await ways.get_join_way(config_id)
    assert last_request(corp, GET_JW) == ("POST", {"config_id": config_id})
    assert (way.scene, way.chat_id_list, way.remark, way.auto_create_room) == (
        JoinWayScene.QR_CODE,
        ["wrGroupA", "wrGroupB"],
        "aa_remark",
        0,
    )
    assert (way.room_base_name, way.room_base_id, way.state, way.mark_source) == (
        "销售客服群",
        10,
        "klsdup3kj3s1",
        True,
    )
    assert way.qr_code is not None

    update = UpdateJoinWayRequest(config_id=config_id, scene=1, chat_id_list=["wrGroupB"])
    await ways.update_join_way(update)
    assert last_request(corp, UPDATE_JW) == (
        "POST",
        {"config_id": config_id, "scene": 1, "chat_id_list": ["wrGroupB"]},
    )
    way = await ways.get_join_way(config_id)
    assert (way.scene, way.chat_id_list, way.auto_create_room) == (1, ["wrGroupB"], 1)
    assert (way.remark, way.room_base_name, way.room_base_id, way.state) == (None,) * 4

    await ways.delete_join_way(config_id)
    assert last_request(corp, DEL_JW) == ("POST", {"config_id": config_id})
    with pytest.raises(APIError) as caught:
        await ways.get_join_way(config_id)
    assert caught.value.errcode == 41044


@pytest.mark.parametrize(
    "body",
    [
        {"scene": 2, "chat_id_list": []},
        {"scene": 2, "chat_id_list": [f"wr{i}" for i in range(6)]},
        {"scene": 2, "chat_id_list": [""]},
        {"scene": 3, "chat_id_list": ["wrGroupA"]},
        {"chat_id_list": ["wrGroupA"]},
        {"scene": 2},
        {"scene": 2, "chat_id_list": ["wrGroupA"], "room_base_name": "名" * 41},
        {"scene": 2, "chat_id_list": ["wrGroupA"], "state": "s" * 31},
        {"scene": 2, "chat_id_list": ["wrGroupA"], "auto_create_room": 2},
        {"scene": 2, "chat_id_list": ["wrGroupA"], "room_base_id": -1},
    ],
)
async def test_join_way_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.add_join_way(body)
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.update_join_way({"config_id": "c", **body})
    assert corp.calls(ADD_JW) == corp.calls(UPDATE_JW) == 0


@pytest.mark.parametrize("config_id", ["", " "])
async def test_join_way_ids_must_not_be_empty(
    corp: FakeWeCom, wecom_client: WeComClient, config_id: str
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.get_join_way(config_id)
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.delete_join_way(config_id)
    with pytest.raises(ValidationError):
        await wecom_client.contact_way.update_join_way(
            {"config_id": config_id, "scene": 2, "chat_id_list": ["wrGroupA"]}
        )
    assert corp.calls(GET_JW) == corp.calls(DEL_JW) == corp.calls(UPDATE_JW) == 0


async def test_join_way_server_rules(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    ways = wecom_client.contact_way
    for chat_id, errcode in (("wrMissing", 86003), ("wrInternal", 90501)):
        with pytest.raises(APIError) as caught:
            await ways.add_join_way({"scene": 2, "chat_id_list": ["wrGroupA", chat_id]})
        assert caught.value.errcode == errcode
    with pytest.raises(APIError) as caught:
        await wecom_client.request(
            "POST", ADD_JW, json={"scene": 2, "chat_id_list": ["wrGroupA"] * 6}
        )
    assert caught.value.errcode == 41091
    long_remark = "备" * 35  # WeCom truncates it rather than refusing it
    config_id = await ways.add_join_way(
        {"scene": 1, "chat_id_list": ["wrGroupA"], "remark": long_remark}
    )
    assert (await ways.get_join_way(config_id)).remark == "备" * 30
    with pytest.raises(APIError) as caught:
        await ways.update_join_way(
            {"config_id": "0" * 32, "scene": 2, "chat_id_list": ["wrGroupA"]}
        )
    assert caught.value.errcode == 41044
