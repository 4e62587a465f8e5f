"""The converter: unknown fields kept and written back, omissions, lenient enums, errors.

The exhaustive no-loss property is in ``test_lossless.py``; request limits on read models
in ``test_response_limits.py``.
"""

from __future__ import annotations

import cattrs
import pytest

from wecom_async import StructureError, ValidationError, from_dict, to_dict
from wecom_async._converter import make_converter, structure_request
from wecom_async._validation import RESPONSE_BEING_READ
from wecom_async.models.attachments import Link
from wecom_async.models.external_contact import (
    AddWay,
    CustomerDetail,
    CustomerType,
    ExternalAttrType,
    RemarkRequest,
)

DETAIL = {
    "external_contact": {
        "external_userid": "woAJ2GCAAAXtWyujaWJHDDGi0mACAAA",
        "name": "李四",
        "type": 2,
        "gender": 1,
        "corp_name": "腾讯",
        "external_profile": {
            "external_attr": [
                {"type": 0, "name": "文本名称", "text": {"value": "文本"}},
                {"type": 1, "name": "网页名称", "web": {"url": "http://x", "title": "标题"}},
                {"type": 7, "name": "future kind", "hologram": {"id": 3}},
            ]
        },
        "added_in_2030": {"nested": [1, 2, 3]},
    },
    "follow_user": [
        {
            "userid": "rocky",
            "createtime": 1525779812,
            "add_way": 1,
            "tags": [{"group_name": "g", "tag_name": "t", "type": 1, "tag_id": "etA"}],
            "remark_mobiles": ["13800000000"],
            "unknown_flag": False,
        },
        {"userid": "tom", "add_way": 4242},
    ],
}


def test_unknown_fields_survive_a_round_trip() -> None:
    detail = from_dict(CustomerDetail, DETAIL)
    assert detail.external_contact.extra == {"added_in_2030": {"nested": [1, 2, 3]}}
    assert detail.follow_user[0].extra == {"unknown_flag": False}
    assert to_dict(detail) == DETAIL


def test_codes_are_enums_and_unknown_codes_stay_ints() -> None:
    detail = from_dict(CustomerDetail, DETAIL)
    assert detail.external_contact.type is CustomerType.WECOM
    assert detail.follow_user[0].add_way is AddWay.QR_CODE
    assert detail.follow_user[1].add_way == 4242
    assert type(detail.follow_user[1].add_way) is int
    attrs_ = detail.external_contact.external_profile.external_attr
    assert [a.type for a in attrs_] == [ExternalAttrType.TEXT, ExternalAttrType.WEB, 7]


def test_none_fields_are_omitted_on_the_wire() -> None:
    body = to_dict(RemarkRequest(userid="u", external_userid="wm1", remark="vip"))
    assert body == {"userid": "u", "external_userid": "wm1", "remark": "vip"}


def test_strict_converter_forbids_unknown_keys() -> None:
    strict = make_converter(detailed_validation=True, forbid_extra_keys=True)
    with pytest.raises(cattrs.ClassValidationError) as caught:
        strict.structure(DETAIL, CustomerDetail)
    messages = cattrs.transform_error(caught.value)
    assert any("added_in_2030" in m for m in messages)
    assert any("hologram" in m for m in messages)


def test_structuring_failure_names_the_field_path() -> None:
    broken = {"external_contact": {"external_userid": "wm1"}, "follow_user": [{"userid": 5}, {}]}
    with pytest.raises(StructureError) as caught:
        from_dict(CustomerDetail, broken, request_line="GET /cgi-bin/externalcontact/get")
    assert any("$.follow_user[1].userid" in e for e in caught.value.errors)
    assert caught.value.raw == broken
    assert "GET /cgi-bin/externalcontact/get" in str(caught.value)


def test_request_mapping_is_validated_like_the_model() -> None:
    with pytest.raises(ValidationError, match="remark is 21 characters"):
        structure_request(
            RemarkRequest, {"userid": "u", "external_userid": "e", "remark": "x" * 21}
        )
    with pytest.raises(ValidationError, match="remak"):
        structure_request(RemarkRequest, {"userid": "u", "external_userid": "e", "remak": "typo"})
    with pytest.raises(ValidationError, match="at least one"):
        structure_request(RemarkRequest, {"userid": "u", "external_userid": "e"})
    model = RemarkRequest(userid="u", external_userid="e", description="d")
    assert structure_request(RemarkRequest, model) is model


LONG_LINK = {"title": "字" * 200, "url": "https://x"}  # 600 bytes: over the 128 of a request


def test_every_reading_converter_skips_request_limits_and_the_strict_one_keeps_them() -> None:
    for reader in (make_converter(), make_converter(detailed_validation=True)):
        assert to_dict(reader.structure(LONG_LINK, Link)) == LONG_LINK
    strict = make_converter(detailed_validation=True, forbid_extra_keys=True)
    with pytest.raises(cattrs.ClassValidationError) as caught:
        strict.structure(LONG_LINK, Link)
    assert isinstance(caught.value.exceptions[0], ValidationError)


def test_request_limits_are_back_on_once_a_read_ends_even_a_failed_one() -> None:
    with pytest.raises(StructureError):
        from_dict(CustomerDetail, {"external_contact": {"name": "no id"}, "link": LONG_LINK})
    assert RESPONSE_BEING_READ.get() is False
    with pytest.raises(ValidationError, match="title is 600 bytes long"):
        Link(title=LONG_LINK["title"])
    with pytest.raises(ValidationError, match="title is 600 bytes long"):
        structure_request(Link, LONG_LINK)
