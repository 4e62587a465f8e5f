"""The one cattrs converter: wire dicts <-> frozen attrs models, without loss.

Built by a ``configure_converter`` / ``make_converter`` pair, the way ``cattrs.preconf``
modules are. The rule for what WeCom sends: ``to_dict(from_dict(M, d)) == d``, value for
value and JSON type for JSON type, or :class:`~wecom_async.StructureError`. Nothing is
ever coerced. How:

* scalars are checked, never converted: a ``str`` field takes only a string, an ``int``
  field only an integer (not a bool, not a float), a ``float`` field an integer or a float
  (kept as sent), a ``bool`` field only ``true`` / ``false``; a ``SomeCode | int`` field
  (a :class:`WireEnum` or a raw int) takes only an integer and keeps codes WeCom adds
  later; ``int | str`` style unions take exactly their members; a ``list`` field takes
  only a JSON array;
* a value a field cannot hold, in a field whose default is ``None``, is kept as sent in
  the model's ``extra`` under the field's name, and the field stays ``None`` (a null
  WeCom sends is kept the same way, so it comes back as null); in a field with another
  default (``list`` fields) only a null is kept so; anywhere else (a required field, an
  item of a list field) it raises ``StructureError`` naming the path;
* every :class:`~wecom_async.models._base.WireModel` keeps unknown keys in ``extra`` on the
  way in; on the way out ``extra`` is written back, over any field that holds its default;
* fields that default to ``None`` are omitted on the wire when they are ``None``; a
  defaulted field WeCom left out is left out again
  (:class:`~wecom_async.models._base.WireExtra`);
* documented request limits do not run while a response is read (the reading converters
  set :data:`~wecom_async._validation.RESPONSE_BEING_READ`).

Three converters exist. A fast one reads responses: the checks are small hooks that
cattrs' generated code calls per field, and a model falls back to the field-by-field
path that keeps odd values only when its generated function raised. A detailed one is
used only to explain a failure (readable field paths through ``cattrs.transform_error``).
A strict one reads request mappings given by callers and the test suite's fixtures: it
keeps nothing in ``extra`` (unknown keys and odd values are refused), a ``None`` stands
for "not given", and the request limits run.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._exceptions import StructureError, ValidationError
from ._readers import Inline, ReadField, make_reader, model_fields
from ._validation import RESPONSE_BEING_READ
from .models._base import JsonObject, JsonValue, WireEnum, WireExtra, WireModel

__all__ = [
    "configure_converter",
    "from_dict",
    "make_converter",
    "structure",
    "structure_request",
    "to_dict",
]

T = TypeVar("T")
Hook = Callable[[Any, Any], Any]

_NONE: Final = type(None)
_SCALARS: Final = frozenset({str, int, float, bool})
_JSON_KINDS: Final[dict[type, str]] = {
    str: "a string",
    int: "an integer",
    float: "a float",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    _NONE: "null",
}


def _kind(value: object) -> str:
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _is_wire_model(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, WireModel) and attrs.has(cls)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_list(tp: Any) -> bool:
    return bool(get_origin(tp) is list)


# -- scalars -----------------------------------------------------------------------------


def _accepted(kinds: frozenset[type]) -> frozenset[type]:
    """The classes a field of scalar ``kinds`` takes: ``float`` also takes an integer."""
    return kinds | {int} if float in kinds else kinds


def _scalar_kinds(tp: Any) -> frozenset[type] | None:
    """The scalar kinds of annotation ``tp`` (``str``, ``int | str | None``), else None."""
    if tp in _SCALARS:
        return frozenset({tp})
    rest = frozenset(a for a in get_args(tp) if a is not _NONE) if _is_union(tp) else None
    return rest if rest and rest <= _SCALARS else None


def _code_set(tp: Any) -> type[WireEnum] | None:
    """The code set of a ``Code | int [| None]`` annotation, else None."""
    if not _is_union(tp):
        return None
    rest = tuple(a for a in get_args(tp) if a is not _NONE)
    enums = [a for a in rest if isinstance(a, type) and issubclass(a, WireEnum)]
    return enums[0] if len(rest) == 2 and int in rest and len(enums) == 1 else None


def _members(enum_cls: type[WireEnum]) -> dict[int, WireEnum]:
    return {member.value: member for member in enum_cls}


def _inline(tp: Any) -> Inline:
    """What the fast reader may take without calling the hook of ``tp`` (see ``_readers``).

    Exactly what the hook itself returns as is: the classes of ``_scalar_hook``, the
    members of ``_lenient_enum_hook``.
    """
    if _is_raw_json(tp):
        return None
    kinds = _scalar_kinds(tp)
    if kinds is not None:
        return _accepted(kinds)
    code_set = _code_set(tp)
    return _members(code_set) if code_set is not None else None


def _scalar_hook(kinds: frozenset[type], *, none_ok: bool) -> Hook:
    """A hook that returns a value of one of ``kinds`` as is and refuses anything else.

    ``float`` also takes an integer (kept as an integer); ``bool`` is never an integer.
    """
    accepted = _accepted(kinds)
    expected = " or ".join(sorted(_JSON_KINDS[k] for k in accepted))
    exact = frozenset(accepted | ({_NONE} if none_ok else set()))
    subclasses = tuple(accepted)
    bool_ok = bool in accepted

    def structure(value: Any, _: Any) -> Any:
        if value.__class__ in exact:
            return value
        # A caller's mapping may hold a str or int subclass (an enum member); keep it.
        if isinstance(value, subclasses) and (bool_ok or not isinstance(value, bool)):
            return value
        raise TypeError(f"expected {expected}, got {_kind(value)}")

    return structure


def _lenient_enum_hook(enum_cls: type[WireEnum], *, none_ok: bool) -> Hook:
    """Hook of ``E | int [| None]``: an integer code as ``E``, or as the int when unknown."""
    members = _members(enum_cls)

    def structure(value: Any, _: Any) -> WireEnum | int | None:
        if value.__class__ is int:
            code: int = value
            return members.get(code, code)
        if isinstance(value, enum_cls) or (value is None and none_ok):
            return value
        raise TypeError(f"expected an integer code, got {_kind(value)}")

    return structure


# -- unions, lists -----------------------------------------------------------------------


def _tagged_members(members: tuple[Any, ...]) -> bool:
    """Whether a union's members are TaggedModel classes (e.g. the attachment union)."""
    from .models.attachments import TaggedModel

    return len(members) > 1 and all(
        isinstance(m, type) and issubclass(m, TaggedModel) for m in members
    )


def _tagged_union_hook(converter: cattrs.Converter, members: tuple[Any, ...]) -> Hook:
    tag_field: str = members[0].TAG_FIELD
    by_tag = {m.TAG: (m, converter.get_structure_hook(m)) for m in members if m.TAG is not None}
    fallbacks = [(m, converter.get_structure_hook(m)) for m in members if m.TAG is None]

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {_kind(value)}")
        tag = value.get(tag_field)
        member = by_tag.get(tag) if isinstance(tag, str) else None
        if member is None:
            if not fallbacks:
                raise ValueError(f"unknown {tag_field} {tag!r}")
            member = fallbacks[0]
        cls, hook = member
        return hook(value, cls)

    return structure


def _none_as_not_given(hook: Hook, tp: Any) -> Hook:
    """``hook`` that returns ``None`` for ``None`` (the strict converter's optional fields)."""

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, tp)

    return structure


def _union_factory(converter: cattrs.Converter, *, strict: bool) -> Callable[[Any], Hook]:
    """One hook per union annotation: optional values, code sets, scalar unions, tags.

    Reading a response, ``None`` is refused like any other value a field cannot hold, so
    that the model keeps the null in ``extra``; in the strict converter it means "not
    given".
    """

    def factory(tp: Any) -> Hook:
        args = get_args(tp)
        none_ok = strict and _NONE in args
        rest = tuple(a for a in args if a is not _NONE)
        kinds = _scalar_kinds(tp)
        if kinds is not None:
            return _scalar_hook(kinds, none_ok=none_ok)
        code_set = _code_set(tp)
        if code_set is not None:
            return _lenient_enum_hook(code_set, none_ok=none_ok)
        if _tagged_members(rest):
            inner: Any = Union[rest]  # noqa: UP007 (a tuple of members, built at run time)
            hook = _tagged_union_hook(converter, rest)
        elif len(rest) == 1:
            inner = rest[0]
            hook = converter.get_structure_hook(inner)
        else:
            raise cattrs.StructureHandlerNotFoundError(f"unsupported union {tp}", tp)
        return _none_as_not_given(hook, inner) if none_ok else hook

    return factory


def _list_factory(converter: cattrs.Converter) -> Callable[[Any], Hook]:
    """``list[X]``: only a JSON array (a caller's tuple too); never a string or an object."""

    def factory(tp: Any) -> Hook:
        (elem,) = get_args(tp) or (Any,)
        if converter.detailed_validation:
            items = list_structure_factory(tp, converter)

            def structure(value: Any, _: Any) -> list[Any]:
                if value.__class__ is not list and not isinstance(value, list | tuple):
                    raise TypeError(f"expected an array, got {_kind(value)}")
                result: list[Any] = items(value, tp)
                return result

            return structure
        item = converter.get_structure_hook(elem)

        def structure_fast(value: Any, _: Any) -> list[Any]:
            if value.__class__ is not list and not isinstance(value, list | tuple):
                raise TypeError(f"expected an array, got {_kind(value)}")
            return [item(e, elem) for e in value]

        kinds = _scalar_kinds(elem)
        if kinds is None:
            return structure_fast
        exact = _accepted(kinds)

        def structure_scalars(value: Any, _: Any) -> list[Any]:
            # A list of ids: checked item by item here, the item hook only for an odd one.
            if value.__class__ is list:
                for e in value:
                    if e.__class__ not in exact:
                        return structure_fast(value, _)
                return value[:]
            return structure_fast(value, _)

        return structure_scalars

    return factory


# -- models ------------------------------------------------------------------------------


def _reader_factory(converter: cattrs.Converter) -> Callable[[type[Any]], Hook]:
    """The fast converter's model hooks: one generated reader per model (``_readers``)."""

    def factory(cls: type[Any]) -> Hook:
        fields = [
            ReadField(f, converter.get_structure_hook(f.type), _inline(f.type))
            for f in model_fields(cls)
        ]
        return make_reader(cls, fields, _kind)

    return factory


def _model_structure_factory(
    converter: cattrs.Converter, *, strict: bool
) -> Callable[[type[Any]], Hook]:
    """The detailed and strict converters' model hooks: cattrs' generated function (its
    errors name the field paths), then, reading a response, a field-by-field pass that
    keeps what the fields cannot hold."""

    def factory(cls: type[Any]) -> Hook:
        generated = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=strict, extra=override(omit=True)
        )
        fields = model_fields(cls)
        known = frozenset(f.name for f in fields)
        defaulted = frozenset(f.name for f in fields if f.default == "defaulted")
        required = frozenset(f.name for f in fields if f.default == "required")
        by_name = {f.name: (f, converter.get_structure_hook(f.type)) for f in fields}

        def field_by_field(data: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
            """The slow path: build from the fields that fit, keep what does not fit."""
            values: dict[str, Any] = {}
            kept: dict[str, Any] = {}
            broken = not data.keys() >= required
            for key, value in data.items():
                entry = by_name.get(key)
                if entry is None:
                    continue
                field, hook = entry
                try:
                    values[key] = hook(value, field.type)
                except Exception:
                    if field.default == "none" or (value is None and field.default != "required"):
                        kept[key] = value
                    else:
                        broken = True
            if broken:
                # Raise through the generated function: its errors name the field paths.
                generated({k: v for k, v in data.items() if k not in kept}, cls)
                raise TypeError(f"{cls.__name__}: a required field cannot be read")
            return cls(**values), kept

        def structure(data: Any, _: Any) -> Any:
            if data.__class__ is not dict and not isinstance(data, Mapping):
                raise TypeError(f"expected an object for {cls.__name__}, got {_kind(data)}")
            kept: dict[str, Any] | None = None
            if strict:
                obj = generated(data, cls)
            else:
                try:
                    obj = generated(data, cls)
                except Exception:
                    obj, kept = field_by_field(data)
            keys = data.keys()
            absent = defaulted - keys if defaulted and not keys >= defaulted else None
            if kept or absent or not keys <= known:
                items = [(k, v) for k, v in data.items() if k not in known or (kept and k in kept)]
                extra = WireExtra(items, absent) if absent else dict(items)
                # The instance is frozen; extra is set once, right after construction.
                object.__setattr__(obj, "extra", extra)
            return obj

        return structure

    return factory


def _model_unstructure_factory(
    converter: cattrs.Converter,
) -> Callable[[type[Any]], Callable[[Any], dict[str, Any]]]:
    def factory(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        fields = model_fields(cls)
        overrides: dict[str, Any] = {
            f.name: override(omit_if_default=True) for f in fields if f.default == "none"
        }
        overrides["extra"] = override(omit=True)
        generated = make_dict_unstructure_fn(cls, converter, **overrides)
        defaults = {f.name: f.make_default for f in fields if f.make_default is not None}

        def at_default(obj: Any, key: str) -> bool:
            make = defaults.get(key)
            return make is not None and bool(getattr(obj, key) == make())

        def unstructure(obj: Any) -> dict[str, Any]:
            data: dict[str, Any] = generated(obj)
            extra = obj.extra
            for key, value in extra.items():
                if key not in data or at_default(obj, key):
                    data[key] = value
            if defaults:
                for key in getattr(extra, "absent", ()):
                    if key not in extra and at_default(obj, key):
                        del data[key]
            return data

        return unstructure

    return factory


# -- converters --------------------------------------------------------------------------


_RAW_JSON_TYPES: Final = (JsonValue, JsonObject, Mapping[str, JsonValue], list[JsonValue])


def _is_raw_json(tp: Any) -> bool:
    return any(tp == raw for raw in _RAW_JSON_TYPES)


def _passthrough(value: Any, _: Any) -> Any:
    return value


class _ResponseConverter(cattrs.Converter):
    """A converter that reads WeCom's answers: request limits are off while it structures."""

    def structure(self, obj: Any, cl: Any) -> Any:
        token = RESPONSE_BEING_READ.set(True)
        try:
            return super().structure(obj, cl)
        finally:
            RESPONSE_BEING_READ.reset(token)


def configure_converter(converter: cattrs.Converter, *, forbid_extra_keys: bool = False) -> None:
    """Register the SDK's wire conventions on ``converter``.

    Args:
        converter: the converter to configure.
        forbid_extra_keys: the strict mode for request mappings and fixtures: unknown
            keys and values a field cannot hold are refused instead of kept in ``extra``,
            and ``None`` means "not given".
    """
    strict = forbid_extra_keys
    for scalar in _SCALARS:
        converter.register_structure_hook(scalar, _scalar_hook(frozenset({scalar}), none_ok=False))
    converter.register_structure_hook_factory(_is_union, _union_factory(converter, strict=strict))
    converter.register_structure_hook_factory(_is_list, _list_factory(converter))
    converter.register_structure_hook_func(_is_raw_json, _passthrough)
    models = (
        _reader_factory(converter)
        if not strict and not converter.detailed_validation
        else _model_structure_factory(converter, strict=strict)
    )
    converter.register_structure_hook_factory(_is_wire_model, models)
    converter.register_unstructure_hook_factory(
        _is_wire_model, _model_unstructure_factory(converter)
    )


def make_converter(
    *, detailed_validation: bool = False, forbid_extra_keys: bool = False
) -> cattrs.Converter:
    """Build a converter configured for WeCom's wire format.

    Args:
        detailed_validation: collect every error with its path (slower; for messages).
        forbid_extra_keys: build the strict converter (requests, fixtures) instead of one
            that reads responses without loss.
    """
    cls = cattrs.Converter if forbid_extra_keys else _ResponseConverter
    converter = cls(detailed_validation=detailed_validation)
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

    Values a field cannot hold are kept in ``extra`` where the field allows it (see the
    module docstring); request limits do not apply.

    Raises:
        StructureError: the value does not match; ``errors`` lists readable paths.
    """
    try:
        return _FAST.structure(value, tp)
    except Exception:
        pass
    try:
        return _DETAILED.structure(value, tp)
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
    """Build a model from a wire dict WeCom sent; ``to_dict`` gives ``data`` back unchanged.

    Unknown keys, and values a field cannot hold (kept under the field's name), are kept
    in ``extra``. Request limits are not checked: this reads, it does not send.

    Raises:
        StructureError: a required field is missing or cannot hold its value, or an item
            of a list cannot be read; ``errors`` lists the paths.
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
    """Return the wire-format dict of a model, everything WeCom sent included, as sent.

    Raises:
        ValidationError: ``obj`` is not a model (it has no wire dict).
    """
    result = _FAST.unstructure(obj)
    if not isinstance(result, dict):
        raise ValidationError(f"{type(obj).__name__} is not a wire model")
    return result
