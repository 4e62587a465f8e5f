"""The one cattrs converter: wire dicts <-> frozen attrs models.

Built by a ``configure_converter`` / ``make_converter`` pair, the way ``cattrs.preconf``
modules are. What it registers:

* every :class:`~wecom_async.models._base.WireModel` keeps unknown keys in ``extra`` on the
  way in and writes them back on the way out;
* fields that default to ``None`` are omitted on the wire when they are ``None``;
* ``SomeCode | int`` fields (a :class:`WireEnum` or a raw int) keep codes WeCom adds later;
* ``int | str`` style unions of primitives pass through unchanged.

Three converters exist: a fast one for responses (no detailed validation), a detailed one
used only to explain a failure (readable field paths through ``cattrs.transform_error``),
and a strict one (unknown keys forbidden) for request mappings given by callers and for the
test suite's fixture round-trips.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.strategies import configure_union_passthrough

from ._exceptions import StructureError, ValidationError
from .models._base import JsonObject, JsonValue, WireEnum, WireModel

__all__ = [
    "configure_converter",
    "from_dict",
    "make_converter",
    "structure",
    "structure_request",
    "to_dict",
]

T = TypeVar("T")


def _is_wire_model(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, WireModel) and attrs.has(cls)


def _enum_of_lenient_union(tp: Any) -> type[WireEnum] | None:
    """Return E for a ``E | int`` (or ``E | int | None``) annotation, else None."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    args = set(get_args(tp))
    if int not in args:
        return None
    others = args - {int, type(None)}
    if len(others) != 1:
        return None
    (other,) = others
    return other if isinstance(other, type) and issubclass(other, WireEnum) else None


def _lenient_enum_hook(tp: Any) -> Callable[[Any, Any], WireEnum | int | None]:
    """Structure hook for one ``E | int [| None]`` annotation (built once per type)."""
    enum_cls = _enum_of_lenient_union(tp)
    assert enum_cls is not None
    optional = type(None) in get_args(tp)
    members: dict[int, WireEnum] = {member.value: member for member in enum_cls}

    def structure(value: Any, _: Any) -> WireEnum | int | None:
        if value is None and optional:
            return None
        if type(value) is not int:
            if isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            else:
                raise TypeError(f"expected an integer code, got {value!r}")
        code: int = value
        return members.get(code, code)

    return structure


def _model_structure_factory(
    converter: cattrs.Converter, forbid_extra: bool
) -> Callable[[type[Any]], Callable[[Any, Any], Any]]:
    def factory(cls: type[Any]) -> Callable[[Any, Any], Any]:
        generated = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=forbid_extra, extra=override(omit=True)
        )
        known = frozenset(a.name for a in attrs.fields(cls) if a.name != "extra")

        def structure(data: Any, _: Any) -> Any:
            if not isinstance(data, Mapping):
                raise TypeError(f"expected a JSON object for {cls.__name__}, got {data!r}")
            obj = generated(data, cls)
            unknown = {k: v for k, v in data.items() if k not in known}
            if unknown:
                # The instance is frozen; extra is set once, right after construction.
                object.__setattr__(obj, "extra", unknown)
            return obj

        return structure

    return factory


def _model_unstructure_factory(
    converter: cattrs.Converter,
) -> Callable[[type[Any]], Callable[[Any], dict[str, Any]]]:
    def factory(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        overrides: dict[str, Any] = {
            a.name: override(omit_if_default=True) for a in attrs.fields(cls) if a.default is None
        }
        overrides["extra"] = override(omit=True)
        generated = make_dict_unstructure_fn(cls, converter, **overrides)

        def unstructure(obj: Any) -> dict[str, Any]:
            data = generated(obj)
            for key, value in obj.extra.items():
                data.setdefault(key, value)
            return data

        return unstructure

    return factory


def _tagged_members(tp: Any) -> tuple[type[Any], ...] | None:
    """Members of a union of TaggedModel classes (e.g. the attachment union), else None."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    from .models.attachments import TaggedModel

    members = get_args(tp)
    if all(isinstance(m, type) and issubclass(m, TaggedModel) for m in members):
        return members
    return None


def _tagged_union_hook(converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    def structure(value: Any, tp: Any) -> Any:
        members = _tagged_members(tp) or ()
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a JSON object, got {value!r}")
        fallback = None
        for member in members:
            if member.TAG is None:
                fallback = member
            elif value.get(member.TAG_FIELD) == member.TAG:
                return converter.structure(value, member)
        if fallback is None:
            raise ValueError(f"unknown tag {value.get(members[0].TAG_FIELD)!r}")
        return converter.structure(value, fallback)

    return structure


def _optional_inner(tp: Any) -> Any:
    """Return X for ``X | None`` where X is a model or a container, else None."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    args = get_args(tp)
    if len(args) != 2 or type(None) not in args:
        return None
    (inner,) = (a for a in args if a is not type(None))
    return inner if _is_wire_model(inner) or get_origin(inner) in (list, dict) else None


def _optional_hook(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    # cattrs' generic Optional path dispatches on every value; resolve the inner hook once.
    def factory(tp: Any) -> Callable[[Any, Any], Any]:
        inner = _optional_inner(tp)
        hook = converter.get_structure_hook(inner)

        def structure(value: Any, _: Any) -> Any:
            return None if value is None else hook(value, inner)

        return structure

    return factory


_RAW_JSON_TYPES: Final = (JsonValue, JsonObject, Mapping[str, JsonValue], list[JsonValue])


def _is_raw_json(tp: Any) -> bool:
    return any(tp == raw for raw in _RAW_JSON_TYPES)


def _passthrough(value: Any, _: Any) -> Any:
    return value


def configure_converter(converter: cattrs.Converter, *, forbid_extra_keys: bool = False) -> None:
    """Register the SDK's wire conventions on ``converter``."""
    configure_union_passthrough(str | int | float | bool | None, converter)
    converter.register_structure_hook_factory(
        lambda tp: _enum_of_lenient_union(tp) is not None, _lenient_enum_hook
    )
    converter.register_structure_hook_factory(
        lambda tp: _optional_inner(tp) is not None, _optional_hook(converter)
    )
    converter.register_structure_hook_func(_is_raw_json, _passthrough)
    converter.register_structure_hook_func(
        lambda tp: _tagged_members(tp) is not None, _tagged_union_hook(converter)
    )
    converter.register_structure_hook_factory(
        _is_wire_model, _model_structure_factory(converter, forbid_extra_keys)
    )
    converter.register_unstructure_hook_factory(
        _is_wire_model, _model_unstructure_factory(converter)
    )


def make_converter(
    *, detailed_validation: bool = False, forbid_extra_keys: bool = False
) -> cattrs.Converter:
    """Build a converter configured for WeCom's wire format."""
    converter = cattrs.Converter(detailed_validation=detailed_validation)
    configure_converter(converter, forbid_extra_keys=forbid_extra_keys)
    return converter


_FAST: Final = make_converter()
_DETAILED: Final = make_converter(detailed_validation=True)
_STRICT: Final = make_converter(detailed_validation=True, forbid_extra_keys=True)


def _explain(exc: BaseException) -> list[str]:
    if isinstance(exc, cattrs.BaseValidationError):
        return cattrs.transform_error(exc)
    return [f"{type(exc).__name__}: {exc}"]


def structure(value: object, tp: Any, *, request_line: str = "") -> Any:
    """Structure any wire value as ``tp`` (a model, ``list[Model]``, ``list[str]``, ...).

    Raises:
        StructureError: the value does not match; ``errors`` lists readable paths.
    """
    try:
        return _FAST.structure(value, tp)
    except Exception:
        pass
    try:
        return _DETAILED.structure(value, tp)
    except ValidationError:
        raise
    except Exception as exc:
        errors = _explain(exc)
        name = getattr(tp, "__name__", str(tp))
        raise StructureError(
            f"response does not match {name}: {'; '.join(errors)}",
            errors=errors,
            raw=value,
            request_line=request_line,
        ) from None


def from_dict(cls: type[T], data: Mapping[str, object], *, request_line: str = "") -> T:
    """Build a model from its wire dict; unknown keys are kept in ``extra``.

    Raises:
        StructureError: the data does not match the model; ``errors`` lists the paths.
    """
    result: T = structure(data, cls, request_line=request_line)
    return result


def structure_request(cls: type[T], body: T | Mapping[str, Any]) -> T:
    """Return ``body`` as a ``cls`` request model; a mapping is structured strictly.

    Raises:
        ValidationError: the mapping has unknown keys, wrong types, or breaks a limit.
    """
    if isinstance(body, cls):
        return body
    if not isinstance(body, Mapping):
        raise ValidationError(
            f"expected {cls.__name__} or a mapping of its wire fields, got {type(body).__name__}"
        )
    try:
        return _STRICT.structure(body, cls)
    except ValidationError:
        raise
    except Exception as exc:
        inner = _find_validation_error(exc)
        if inner is not None:
            raise inner from None
        raise ValidationError(f"invalid {cls.__name__}: {'; '.join(_explain(exc))}") from None


def _find_validation_error(exc: BaseException) -> ValidationError | None:
    if isinstance(exc, ValidationError):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _find_validation_error(inner)
        if found is not None:
            return found
    return None


def to_dict(obj: object) -> JsonObject:
    """Return the wire-format dict of a model, unknown fields that WeCom sent included."""
    result = _FAST.unstructure(obj)
    if not isinstance(result, dict):
        raise TypeError(f"{type(obj).__name__} is not a wire model")
    return result
