"""What WeCom sends is never silently changed: ``to_dict(from_dict(M, d)) == d`` or StructureError.

"Equal" is exact here: same keys, same values, same JSON types (``1`` is not ``true``,
``1`` is not ``1.0``), a null sent stays a null and a key left out stays out. The
property runs over every endpoint's whole-answer model (``wecom_async.services.RESPONSES``).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wecom_async import StructureError, ValidationError, from_dict, to_dict
from wecom_async._converter import structure_request
from wecom_async.models import (
    AddContactWayRequest,
    ContactListItem,
    CustomerDetail,
    FollowUser,
    GroupChat,
    GroupChatStatistic,
    GroupMsg,
    Moment,
    MomentListResponse,
    RemarkRequest,
    UserBehavior,
    WireModel,
)
from wecom_async.models.external_contact import AddWay

from .wire_models import fields, json_differences, model_dicts, read_models, root_models

ROOTS = root_models()
PROPERTY = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_given_back(model: type[WireModel], data: dict[str, Any]) -> WireModel:
    parsed = from_dict(model, data)
    assert list(json_differences(data, to_dict(parsed))) == []
    return parsed


# -- the coercions the issue found, one by one --------------------------------------------


@pytest.mark.parametrize(
    ("field", "odd"),
    [
        ("remark", {"text": "an object"}),  # came back as its Python repr
        ("remark", ["a", "list"]),  # likewise
        ("remark", 5),  # came back as "5"
        ("createtime", 1.5),  # was truncated to 1
        ("createtime", 1.0),  # became 1
        ("createtime", True),  # became 1
        ("add_way", "12"),  # became the code 12
        ("add_way", True),  # was refused, page and all
        ("remark_mobiles", "13800000000"),  # was split into characters
        ("remark_mobiles", {"a": "1"}),  # became its keys
        ("remark", None),  # the null was dropped
        ("tags", None),  # likewise
    ],
)
def test_a_value_an_optional_field_cannot_hold_is_kept_as_sent(field: str, odd: object) -> None:
    data = {"userid": "rocky", field: odd, "state": "kept"}
    parsed = assert_given_back(FollowUser, data)
    assert getattr(parsed, field) is None
    assert parsed.extra == {field: odd}
    assert parsed.state == "kept"


@pytest.mark.parametrize("odd", ["false", "true", 0, 1, None, [], {}])
def test_a_bool_field_takes_only_true_and_false(odd: object) -> None:
    parsed = assert_given_back(ContactListItem, {"is_customer": odd, "name": "n"})
    assert parsed.is_customer is None
    assert parsed.extra == {"is_customer": odd}
    assert assert_given_back(ContactListItem, {"is_customer": False}).is_customer is False


def test_an_integer_in_a_float_field_stays_an_integer() -> None:
    parsed = assert_given_back(UserBehavior, {"stat_time": 1, "reply_percentage": 100})
    assert parsed.reply_percentage == 100
    assert type(parsed.reply_percentage) is int
    assert assert_given_back(UserBehavior, {"stat_time": 1, "reply_percentage": 0.5}).extra == {}


def test_codes_stay_codes_and_unknown_codes_stay_ints() -> None:
    parsed = assert_given_back(FollowUser, {"userid": "u", "add_way": 1})
    assert parsed.add_way is AddWay.QR_CODE
    later = assert_given_back(FollowUser, {"userid": "u", "add_way": 4242})
    assert later.add_way == 4242
    assert type(later.add_way) is int


def test_a_list_field_left_out_stays_out_and_an_empty_one_stays_empty() -> None:
    assert to_dict(from_dict(MomentListResponse, {})) == {}
    assert to_dict(from_dict(MomentListResponse, {"moment_list": []})) == {"moment_list": []}
    assert assert_given_back(GroupChat, {"chat_id": "c"}).member_list == []
    assert to_dict(from_dict(GroupChatStatistic, {"owner": "o"})) == {"owner": "o"}


def test_a_null_list_is_kept_and_reads_as_empty() -> None:
    parsed = assert_given_back(GroupChat, {"chat_id": "c", "member_list": None})
    assert parsed.member_list == []
    assert parsed.extra == {"member_list": None}


def test_an_odd_attachment_keeps_the_whole_list_as_sent() -> None:
    attachments = [{"msgtype": "link", "link": {"title": "t"}}, "not an object"]
    parsed = assert_given_back(GroupMsg, {"msgid": "m", "attachments": attachments})
    assert parsed.attachments is None
    assert parsed.extra == {"attachments": attachments}


def test_odd_values_deep_inside_stay_where_they_were() -> None:
    data = {
        "moment_id": "m",
        "create_time": "1700000000",  # int | str: kept as the string
        "text": {"content": {"rich": True}},
        "image": [{"media_id": 5}],
        "link": None,
        "location": {"latitude": 31.2, "longitude": "121.5"},
    }
    parsed = assert_given_back(Moment, data)
    assert parsed.create_timestamp == 1_700_000_000
    assert parsed.text is not None
    assert parsed.text.extra == {"content": {"rich": True}}
    assert parsed.image is not None
    assert parsed.image[0].extra == {"media_id": 5}
    assert parsed.extra == {"link": None}
    assert parsed.location is not None
    assert parsed.location.longitude == "121.5"


# -- what cannot be kept is refused, loudly, with its path --------------------------------


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (
            {"external_contact": {"external_userid": {"id": 1}}},
            "$.external_contact.external_userid",
        ),
        ({"external_contact": {"external_userid": None}}, "$.external_contact.external_userid"),
        (
            {"external_contact": {"external_userid": "wm"}, "follow_user": [{}]},
            "$.follow_user[0].userid",
        ),
        ({"external_contact": {"external_userid": "wm"}, "follow_user": ["u"]}, "$.follow_user[0]"),
        ({"external_contact": {"external_userid": "wm"}, "follow_user": "u"}, "$.follow_user"),
        ({"external_contact": "wm"}, "$.external_contact"),
    ],
)
def test_a_required_field_or_a_list_item_that_cannot_be_read_is_refused(
    data: dict[str, Any], path: str
) -> None:
    with pytest.raises(StructureError) as caught:
        from_dict(CustomerDetail, data, request_line="POST /cgi-bin/externalcontact/get")
    assert any(error.endswith(f"@ {path}") for error in caught.value.errors), caught.value.errors
    assert caught.value.raw == data


# -- requests: the strict converter refuses what it cannot send as given -----------------


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (RemarkRequest, {"userid": "u", "external_userid": "wm", "remark": 5}),
        (RemarkRequest, {"userid": "u", "external_userid": "wm", "remark_mobiles": "138"}),
        (RemarkRequest, {"userid": "u", "external_userid": ["wm"], "remark": "r"}),
        (AddContactWayRequest, {"type": 1, "scene": 2, "user": ["u"], "skip_verify": "false"}),
        (AddContactWayRequest, {"type": "1", "scene": 2, "user": ["u"]}),
        (AddContactWayRequest, {"type": 1, "scene": 2, "user": ["u"], "style": 1.5}),
    ],
)
def test_a_request_mapping_of_the_wrong_types_is_refused(
    model: type[WireModel], body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="invalid"):
        structure_request(model, body)


def test_none_in_a_request_mapping_means_not_given() -> None:
    body = {"userid": "u", "external_userid": "wm", "remark": None, "description": "d"}
    request = structure_request(RemarkRequest, body)
    assert to_dict(request) == {"userid": "u", "external_userid": "wm", "description": "d"}


# -- the property, over every whole-answer model -----------------------------------------


def test_the_property_covers_every_read_model() -> None:
    assert len(ROOTS) >= 50
    assert len(read_models()) > len(ROOTS)


@pytest.mark.parametrize("model", ROOTS, ids=lambda m: m.__name__)
@PROPERTY
@given(data=st.data())
def test_what_wecom_sends_as_documented_is_held_by_the_fields(
    model: type[WireModel], data: st.DataObject
) -> None:
    sent = data.draw(model_dicts(model, "none"))
    parsed = assert_given_back(model, sent)
    # Nothing a field could hold went to extra: only keys no field names.
    assert set(parsed.extra).isdisjoint(field.name for field in fields(model))


@pytest.mark.parametrize("model", ROOTS, ids=lambda m: m.__name__)
@PROPERTY
@given(data=st.data())
def test_odd_values_where_a_field_may_be_left_out_are_never_refused(
    model: type[WireModel], data: st.DataObject
) -> None:
    assert_given_back(model, data.draw(model_dicts(model, "optional")))


@pytest.mark.parametrize("model", ROOTS, ids=lambda m: m.__name__)
@PROPERTY
@given(data=st.data())
def test_odd_values_anywhere_are_given_back_or_refused(
    model: type[WireModel], data: st.DataObject
) -> None:
    sent = data.draw(model_dicts(model, "anywhere"))
    try:
        parsed = from_dict(model, sent)
    except StructureError as exc:
        refused = exc
    else:
        assert list(json_differences(sent, to_dict(parsed))) == []
        return
    assert refused.errors
    assert all("@ $" in error for error in refused.errors)
