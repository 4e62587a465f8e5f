"""Every model the SDK reads, and generators of the wire dicts WeCom could send for them.

The read models are the whole-answer models of the services' endpoints
(``wecom_async.services.RESPONSES``) and every model
reachable from them through field annotations. The generators follow the annotations, so
a model added later is covered with no change here.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Iterator
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import attrs
from hypothesis import strategies as st

from wecom_async.models._base import WireEnum, WireModel
from wecom_async.models.attachments import TaggedModel
from wecom_async.services import RESPONSES

JSON_INT = st.integers(min_value=-(2**63), max_value=2**63 - 1)
JSON_FLOAT = st.floats(allow_nan=False, allow_infinity=False)
JSON_SCALAR = st.none() | st.booleans() | JSON_INT | JSON_FLOAT | st.text(max_size=6)
#: Any JSON value: the odd values a hostile or changed WeCom may put anywhere.
JSON = st.recursive(
    JSON_SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=5,
)

#: Where odd values go: nowhere, only where the field may be left out, or anywhere.
Odd = Literal["none", "optional", "anywhere"]


def response_models() -> dict[str, type[WireModel]]:
    """The whole-answer model of every endpoint path the services call."""
    return dict(RESPONSES)


def root_models() -> list[type[WireModel]]:
    """The distinct whole-answer models, in a stable order."""
    return sorted(set(response_models().values()), key=lambda m: (m.__module__, m.__name__))


def is_model(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, WireModel) and attrs.has(tp)


def fields(model: type[WireModel]) -> list[attrs.Attribute[Any]]:
    """The wire fields of ``model`` (``extra`` left out), with resolved types."""
    return [a for a in attrs.fields(attrs.resolve_types(model)) if a.name != "extra"]


def _reach(tp: object, seen: set[type[WireModel]]) -> None:
    if is_model(tp):
        model = typing.cast(type[WireModel], tp)
        if model in seen:
            return
        seen.add(model)
        for field in fields(model):
            _reach(field.type, seen)
    for arg in get_args(tp):
        _reach(arg, seen)


def read_models() -> list[type[WireModel]]:
    """Every model reachable from a whole-answer model: what the SDK reads from WeCom."""
    seen: set[type[WireModel]] = set()
    for root in root_models():
        _reach(root, seen)
    return sorted(seen, key=lambda m: (m.__module__, m.__name__))


def kind_of_default(field: attrs.Attribute[Any]) -> Literal["none", "defaulted", "required"]:
    if field.default is None:
        return "none"
    return "required" if field.default is attrs.NOTHING else "defaulted"


def union_args(tp: object) -> tuple[Any, ...] | None:
    if get_origin(tp) in (Union, types.UnionType):
        return tuple(a for a in get_args(tp) if a is not type(None))
    return None


# -- hypothesis strategies ---------------------------------------------------------------


@cache
def valid(tp: Any, odd: Odd) -> st.SearchStrategy[Any]:
    """Values of annotation ``tp`` as WeCom sends them (odd inside models, per ``odd``)."""
    if tp is str:
        return st.text(max_size=8)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return JSON_INT
    if tp is float:
        return JSON_INT | JSON_FLOAT
    if is_model(tp):
        return model_dicts(tp, odd)
    if get_origin(tp) is Literal:
        return st.sampled_from(get_args(tp))
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        items = valid(item, odd)
        return st.lists(items | JSON if odd == "anywhere" else items, max_size=2)
    args = union_args(tp)
    assert args is not None, f"no generator for {tp!r}"
    enums = [a for a in args if isinstance(a, type) and issubclass(a, WireEnum)]
    if enums:
        return st.sampled_from([int(m) for m in enums[0]]) | JSON_INT
    return st.one_of([valid(a, odd) for a in args])


def _tag_value(model: type[TaggedModel]) -> st.SearchStrategy[str]:
    if model.TAG is not None:
        return st.just(model.TAG)
    from wecom_async.models.attachments import Attachment

    known = {m.TAG for m in get_args(Attachment)}
    return st.text(max_size=8).filter(lambda tag: tag not in known)


@cache
def model_dicts(model: type[WireModel], odd: Odd) -> st.SearchStrategy[dict[str, Any]]:
    """Wire dicts of ``model``: required fields present, others present or left out.

    ``odd="optional"``: a field that defaults to None may hold any JSON value (null
    included), a defaulted field (lists) may be null. ``odd="anywhere"``: a required field
    and a list item may hold any JSON value too. Unknown keys come along either way.
    """
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    names = {field.name for field in fields(model)}
    for field in fields(model):
        value = valid(field.type, odd)
        kind = kind_of_default(field)
        if issubclass(model, TaggedModel) and field.name == model.TAG_FIELD:
            required[field.name] = _tag_value(model)
        elif kind == "required":
            required[field.name] = value | JSON if odd == "anywhere" else value
        elif kind == "none":
            optional[field.name] = value | JSON if odd != "none" else value
        else:
            optional[field.name] = value | st.none() if odd != "none" else value
    unknown = st.dictionaries(
        st.text(max_size=6).filter(lambda k: k not in names), JSON, max_size=2
    )
    return st.builds(
        lambda known, more: {**known, **more},
        st.fixed_dictionaries(required, optional=optional),
        unknown,
    )


# -- exact JSON comparison ---------------------------------------------------------------


def json_differences(sent: object, back: object, path: str = "$") -> Iterator[str]:
    """Where ``back`` differs from ``sent``, JSON type included (``1`` is not ``true``)."""
    if type(sent) is not type(back):
        yield f"{path}: {sent!r} came back as {back!r}"
    elif isinstance(sent, dict):
        assert isinstance(back, dict)
        for key in sent.keys() | back.keys():
            if key not in back:
                yield f"{path}.{key}: lost"
            elif key not in sent:
                yield f"{path}.{key}: added as {back[key]!r}"
            else:
                yield from json_differences(sent[key], back[key], f"{path}.{key}")
    elif isinstance(sent, list):
        assert isinstance(back, list)
        if len(sent) != len(back):
            yield f"{path}: {len(sent)} items came back as {len(back)}"
        for index, (a, b) in enumerate(zip(sent, back, strict=False)):
            yield from json_differences(a, b, f"{path}[{index}]")
    elif sent != back and not (isinstance(sent, float) and math.isnan(sent)):
        yield f"{path}: {sent!r} came back as {back!r}"
