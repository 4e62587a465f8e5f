"""The fast reader builds exactly what the field-by-field reader builds, or gives up.

``wecom_async._readers`` generates one structure function per model for the fast
converter; the detailed converter keeps cattrs' generated function with the
field-by-field pass that keeps odd values (the reader the SDK used before). For the same
wire dict, both must build the same model, down to what sits in every ``extra``, in
which order, and which defaulted fields are recorded as left out; or both must refuse it.
"""

from __future__ import annotations

import enum
import types
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wecom_async import StructureError, from_dict, to_dict
from wecom_async._converter import _DETAILED, _FAST, structure
from wecom_async._readers import _slot_setters, model_fields
from wecom_async.models import CustomerWithFollowInfo, FollowUser, GroupChat, WireModel

from .wire_models import Odd, model_dicts, read_models

MODELS = read_models()
PROPERTY = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def snapshot(value: object) -> object:
    """Everything a model holds, nested models and their ``extra`` included, in order."""
    if isinstance(value, WireModel):
        fields = [(a.name, snapshot(getattr(value, a.name))) for a in attrs.fields(type(value))]
        extra = value.extra
        return (
            type(value).__name__,
            fields,
            type(extra).__name__,
            list(extra.items()),
            sorted(getattr(extra, "absent", ())),
        )
    if isinstance(value, list):
        return ["list", [snapshot(item) for item in value]]
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.value)
    return (type(value).__name__, value)


def read_both(model: type[WireModel], data: object) -> tuple[object, object]:
    """(fast, field by field): each a snapshot, or ``"refused"``."""
    results = []
    for converter in (_FAST, _DETAILED):
        try:
            results.append(snapshot(converter.structure(data, model)))
        except Exception:
            results.append("refused")
    return results[0], results[1]


def test_every_read_model_gets_a_reader() -> None:
    assert len(MODELS) > 100
    for model in MODELS:
        hook = _FAST.get_structure_hook(model)
        assert hook.__code__.co_filename.startswith("<wecom_async reader"), model


@pytest.mark.parametrize("odd", ["none", "optional", "anywhere"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@PROPERTY
@given(data=st.data())
def test_the_fast_reader_builds_what_the_field_by_field_reader_builds(
    model: type[WireModel], odd: Odd, data: st.DataObject
) -> None:
    sent = data.draw(model_dicts(model, odd))
    fast, slow = read_both(model, sent)
    assert fast == slow
    if odd != "anywhere":
        assert fast != "refused"


@pytest.mark.parametrize(
    "data",
    [
        {"userid": "u", "remark": None, "x": 1, "tag_id": ["a", 2], "add_way": 4242},
        {"userid": "u", "createtime": True, "add_way": "1", "tags": None, "state": "s"},
        {"userid": "u", "tags": [{"tag_id": "t", "type": 9, "more": [None]}], "tag_id": []},
        {"userid": 5},
        {"remark": "no userid"},
        {"userid": "u", "wechat_channels": {"nickname": None, "status": 1.5}},
        types.MappingProxyType({"userid": "u", "remark": "r", "unknown": {}}),
        ["not", "an", "object"],
        None,
    ],
)
def test_the_two_readers_agree_on_odd_answers(data: Any) -> None:
    fast, slow = read_both(FollowUser, data)
    assert fast == slow


def test_defaulted_fields_left_out_and_nulls_are_recorded_alike() -> None:
    for data in ({"chat_id": "c"}, {"chat_id": "c", "member_list": None, "z": 0}):
        fast, slow = read_both(GroupChat, data)
        assert fast == slow
        assert to_dict(from_dict(GroupChat, data)) == data


def test_a_list_of_ids_is_copied_not_shared_with_the_answer() -> None:
    data = {"userid": "u", "tag_id": ["a", "b"]}
    parsed = from_dict(FollowUser, data)
    data["tag_id"].append("c")  # type: ignore[attr-defined]
    assert parsed.tag_id == ["a", "b"]


def test_a_broken_record_in_a_page_is_refused_with_its_path() -> None:
    good = {"external_contact": {"external_userid": "wm"}, "follow_info": {"userid": "u"}}
    broken = {"external_contact": {"external_userid": "wm"}, "follow_info": {"userid": 7}}
    page = [good, good, good, broken]
    with pytest.raises(StructureError) as caught:
        structure(page, list[CustomerWithFollowInfo])
    assert any(e.endswith("@ $[3].follow_info.userid") for e in caught.value.errors), (
        caught.value.errors
    )
    assert caught.value.raw == page


@attrs.frozen(kw_only=True, init=False)
class _Upper(WireModel):
    """A user's model with its own ``__init__``: every instance normalized."""

    name: str | None = None

    def __init__(self, *, name: str | None = None, extra: Any = None) -> None:
        normalized = name.upper() if isinstance(name, str) else name
        self.__attrs_init__(name=normalized, extra={} if extra is None else extra)


_PRE_INITS: list[str] = []


@attrs.frozen(kw_only=True)
class _Counted(WireModel):
    """A user's model with an ``__attrs_pre_init__`` hook."""

    name: str | None = None

    def __attrs_pre_init__(self) -> None:
        _PRE_INITS.append(type(self).__name__)


@attrs.frozen(kw_only=True)
class _Checked(WireModel):
    """A private field (its ``__init__`` argument is ``code``) with a validator."""

    _code: str | None = attrs.field(default=None, validator=attrs.validators.instance_of(str))


def test_a_user_models_own_init_runs_for_every_instance_it_reads() -> None:
    for data in ({"name": "abc"}, {"name": "abc", "x": 1}):
        fast, slow = read_both(_Upper, data)
        assert fast == slow
        assert from_dict(_Upper, data).name == "ABC" == _Upper(name="abc").name


def test_a_user_models_pre_init_hook_runs_once_per_instance_read() -> None:
    _PRE_INITS.clear()
    from_dict(_Counted, {"name": "x"})
    from_dict(list[_Counted], [{"name": "y"}, {"name": "z", "new": 1}])
    assert _PRE_INITS == ["_Counted"] * 3


def test_a_private_field_with_a_check_is_given_by_its_init_name() -> None:
    fast, slow = read_both(_Checked, {"_code": "c", "x": 1})
    assert fast == slow != "refused"
    assert from_dict(_Checked, {"_code": "c"})._code == "c"


def test_only_the_models_with_checks_of_their_own_skip_the_slot_setters() -> None:
    """The SDK's models are built slot by slot (the fast path) unless they check more."""
    slow = {
        model.__name__
        for model in MODELS
        if _slot_setters(model, [field.name for field in model_fields(model)]) is None
    }
    checked = {
        model.__name__
        for model in MODELS
        if getattr(model, "__attrs_post_init__", None) is not None
        or any(a.validator is not None or a.converter is not None for a in attrs.fields(model))
    }
    assert slow == checked
    assert len(slow) < 10
