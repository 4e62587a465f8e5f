"""Request limits check what the SDK sends, never what it reads.

A member may write, in the WeCom client, a moment or a mass message whose link title is
longer than the API accepts. Every model the SDK reads (every model reachable from a
``RESPONSES`` entry) must read such content and give it back unchanged, while the same
data, sent as a request, is still refused before anything leaves.
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

import attrs
import pytest

from wecom_async import ValidationError, from_dict, to_dict
from wecom_async._converter import structure_request
from wecom_async._validation import SizeLimit, is_request_check
from wecom_async.models import Conclusions, ImageAttachment, Link, Miniprogram, WireModel
from wecom_async.models.attachments import TaggedModel

from .scripted import ScriptedWeCom
from .wire_models import (
    fields,
    is_model,
    json_differences,
    read_models,
    root_models,
    union_args,
)

#: Each read model with an ``__attrs_post_init__`` check, and content that breaks it.
BROKEN_RULES: dict[type[WireModel], dict[str, Any]] = {
    # 4002 bytes of text: over the 4000 bytes a request may set.
    Conclusions: {"text": {"content": "字" * 1334}},
    # Neither media_id nor pic_url: a request could not send it, an answer may hold it.
    ImageAttachment: {"msgtype": "image", "image": {}},
}


def _validators(field: attrs.Attribute[Any]) -> list[object]:
    validator = field.validator
    if validator is None:
        return []
    # attrs combines several validators of one field into an and_ validator.
    return list(getattr(validator, "_validators", (validator,)))


def size_limits(field: attrs.Attribute[Any]) -> list[SizeLimit]:
    return [v for v in _validators(field) if isinstance(v, SizeLimit)]


def limited_models() -> list[type[WireModel]]:
    """Read models that carry a request check: a size limit or a post-init rule."""
    return [
        model
        for model in read_models()
        if "__attrs_post_init__" in vars(model) or any(size_limits(f) for f in fields(model))
    ]


def too_big(limit: SizeLimit) -> object:
    """A value one step over ``limit`` in its unit (a 3-byte character counts in both)."""
    if limit.unit == "items":
        return [f"id{i}" for i in range(limit.limit + 1)]
    return "字" * (limit.limit + 1)


def oversized(tp: Any) -> Any:
    """A value of annotation ``tp`` in which every limit inside is exceeded."""
    if is_model(tp):
        return oversized_dict(tp)
    simple: dict[Any, Any] = {str: "x", int: 7, float: 1.5, bool: True}
    if tp in simple:
        return simple[tp]
    if isinstance(tp, type) and issubclass(tp, int):  # a WireEnum code, e.g. in a list
        return simple[int]
    if get_origin(tp) is Literal:
        return get_args(tp)[0]
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        members = union_args(item) or (item,)
        return [oversized(member) for member in members]
    args = union_args(tp)
    assert args is not None, f"no value for {tp!r}"
    return oversized(int if int in args else args[0])


def oversized_dict(model: type[WireModel]) -> dict[str, Any]:
    """Every field of ``model`` given, every size limit exceeded, every post-init rule broken."""
    data: dict[str, Any] = {}
    for field in fields(model):
        limits = size_limits(field)
        if issubclass(model, TaggedModel) and field.name == model.TAG_FIELD:
            data[field.name] = model.TAG or "hologram"
        elif limits:
            data[field.name] = too_big(limits[0])
        else:
            data[field.name] = oversized(field.type)
    data.update(BROKEN_RULES.get(model, {}))
    return data


def test_every_check_on_a_read_model_is_a_request_check() -> None:
    for model in read_models():
        post_init = vars(model).get("__attrs_post_init__")
        assert post_init is None or is_request_check(post_init), model
        for field in fields(model):
            for validator in _validators(field):
                assert is_request_check(validator), f"{model.__name__}.{field.name}"


def test_every_read_model_with_a_post_init_rule_has_content_that_breaks_it() -> None:
    with_rules = {m for m in read_models() if "__attrs_post_init__" in vars(m)}
    assert with_rules == set(BROKEN_RULES)


def test_the_limited_read_models_are_the_shared_content_shapes() -> None:
    assert set(limited_models()) == {Conclusions, ImageAttachment, Link, Miniprogram}


@pytest.mark.parametrize("model", root_models(), ids=lambda m: m.__name__)
def test_every_answer_reads_oversized_content_and_gives_it_back(model: type[WireModel]) -> None:
    data = oversized_dict(model)
    parsed = from_dict(model, data)
    assert list(json_differences(data, to_dict(parsed))) == []


@pytest.mark.parametrize("model", limited_models(), ids=lambda m: m.__name__)
def test_oversized_content_read_from_wecom_is_refused_as_a_request(
    model: type[WireModel],
) -> None:
    data = oversized_dict(model)
    read = from_dict(model, data)
    with pytest.raises(ValidationError):
        structure_request(model, data)
    with pytest.raises(ValidationError):
        attrs.evolve(read)  # the same content built by a caller


LIMITED_FIELDS = [
    (model, field.name, limit)
    for model in read_models()
    for field in fields(model)
    for limit in size_limits(field)
]


@pytest.mark.parametrize(
    ("model", "name", "limit"),
    LIMITED_FIELDS,
    ids=[f"{m.__name__}.{n}-{lim.unit}" for m, n, lim in LIMITED_FIELDS],
)
def test_each_limit_alone_still_refuses_a_request(
    model: type[WireModel], name: str, limit: SizeLimit
) -> None:
    data = {name: too_big(limit)}
    assert to_dict(from_dict(model, data)) == data
    with pytest.raises(ValidationError, match=f"^{name} .*at most {limit.limit}$"):
        structure_request(model, data)
    just_right = "字" * limit.limit if limit.unit != "items" else ["id"] * limit.limit
    if limit.unit == "bytes":
        just_right = "x" * limit.limit
    assert to_dict(structure_request(model, {name: just_right})) == {name: just_right}


# -- through the services: one odd record must not make a page unreadable ----------------

LONG_TITLE = "很长的链接标题" * 30  # 210 characters, 630 bytes: over both link title limits


async def test_a_moment_with_a_long_link_title_is_read_with_its_page() -> None:
    wecom = ScriptedWeCom()
    moment = {"moment_id": "mom1", "link": {"title": LONG_TITLE, "url": "https://x"}}
    wecom.script(
        "externalcontact/get_moment_list",
        {"errcode": 0, "errmsg": "ok", "next_cursor": "c2", "moment_list": [moment]},
        {"errcode": 0, "errmsg": "ok", "next_cursor": "", "moment_list": [{"moment_id": "m2"}]},
    )
    async with wecom.client() as client:
        moments = [m async for m in client.moments.get_moment_list(1_700_000_000, 1_700_086_400)]
    assert [m.moment_id for m in moments] == ["mom1", "m2"]
    assert moments[0].link is not None
    assert moments[0].link.title == LONG_TITLE
    assert to_dict(moments[0]) == moment
    assert wecom.calls["externalcontact/get_moment_list"] == 2


async def test_a_mass_message_with_a_long_attachment_title_is_read() -> None:
    wecom = ScriptedWeCom()
    message = {
        "msgid": "msg1",
        "attachments": [
            {"msgtype": "link", "link": {"title": LONG_TITLE, "url": "https://x"}},
            {"msgtype": "miniprogram", "miniprogram": {"title": LONG_TITLE, "appid": "wx1"}},
            {"msgtype": "image", "image": {}},
        ],
    }
    wecom.script(
        "externalcontact/get_groupmsg_list_v2",
        {"errcode": 0, "errmsg": "ok", "next_cursor": "", "group_msg_list": [message]},
    )
    async with wecom.client() as client:
        page = await client.messages.get_groupmsg_list("single", 1_700_000_000, 1_700_086_400)
    assert [to_dict(m) for m in page.items] == [message]


async def test_a_contact_way_with_long_conclusions_is_read() -> None:
    wecom = ScriptedWeCom()
    way = {
        "config_id": "cfg1",
        "conclusions": {
            "text": {"content": "结" * 2000},  # 6000 bytes
            "link": {"title": LONG_TITLE, "url": "https://x"},
            "miniprogram": {"title": LONG_TITLE},
        },
    }
    wecom.script(
        "externalcontact/get_contact_way", {"errcode": 0, "errmsg": "ok", "contact_way": way}
    )
    async with wecom.client() as client:
        read = await client.contact_way.get("cfg1")
    assert to_dict(read) == way


async def test_a_group_welcome_template_with_a_long_link_title_is_read() -> None:
    wecom = ScriptedWeCom()
    template = {
        "text": {"content": "欢迎"},
        "link": {"title": LONG_TITLE, "url": "https://x", "desc": "述" * 300},
    }
    wecom.script(
        "externalcontact/group_welcome_template/get",
        {"errcode": 0, "errmsg": "ok", **template},
    )
    async with wecom.client() as client:
        read = await client.messages.get_group_welcome_template("tpl1")
    assert to_dict(read) == template
