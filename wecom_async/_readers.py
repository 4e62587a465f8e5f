"""Generated structure functions for the fast reading converter: one pass per model.

The fast converter of :mod:`wecom_async._converter` reads every answer WeCom sends, so it
is the hot path of a bulk export (500 pages of 100 customers are 300,000 model objects).
cattrs' generated function alone cannot keep what a model does not know (unknown keys,
values a field cannot hold), and wrapping it in a Python function per object, with a
field-by-field retry when it fails, doubled the cost. Here each model gets its own
function, generated once from its fields the way ``cattrs.gen`` does it, that in a
single pass:

* takes each field the model knows; a value whose exact class the field takes as is
  (a ``str`` for a ``str`` field, an ``int`` code for a ``Code | int`` field) is taken
  inline, anything else goes through the field's hook;
* leaves out of the keyword arguments a value an optional field cannot hold (the hook
  raised), and a null in a defaulted field;
* keeps every key it did not take (unknown keys, and the values just left out) in
  ``extra``, in the order WeCom sent them, with the defaulted fields WeCom left out
  (:class:`~wecom_async.models._base.WireExtra`);
* raises for anything it cannot keep (a required field missing or unreadable, a
  defaulted field of another type): the converter then reads the value again with
  detailed validation, which names the paths.

The rules are those of the converter's module docstring; the test suite checks that this
reader and the field-by-field one of the detailed converter build equal models from the
same wire dicts, odd values and unknown keys included.
"""

from __future__ import annotations

import functools
import linecache
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, TypeVar

import attrs

from .models._base import WireEnum, WireExtra

__all__ = ["Field", "Inline", "ReadField", "make_reader", "model_fields"]

T = TypeVar("T")
Hook = Callable[[Any, Any], Any]
#: What a field takes inline: the exact classes it keeps as they are, or the members of
#: its code set (an ``int`` becomes its member, or stays the int when unknown).
Inline = frozenset[type] | Mapping[int, WireEnum] | None

_MISSING: Final = object()
#: Slots of the models' bases that attrs' ``__init__`` leaves unset too.
_UNSET_SLOTS: Final = frozenset({"_whole", "__weakref__"})
#: How the file name of the code attrs generates (``__init__`` among it) begins.
_ATTRS_GENERATED: Final = "<attrs generated"


@attrs.frozen
class Field:
    """What the model hooks need to know of one attrs field."""

    name: str
    type: Any
    #: ``"none"`` (optional), ``"defaulted"`` (a factory or a constant) or ``"required"``.
    default: Literal["none", "defaulted", "required"]
    make_default: Callable[[], Any] | None


def _same(value: T) -> T:
    return value


def model_fields(cls: type[Any]) -> list[Field]:
    """The wire fields of model ``cls`` (``extra`` aside), types resolved."""
    result = []
    for a in attrs.fields(attrs.resolve_types(cls)):
        if a.name == "extra":
            continue
        if a.default is None:
            result.append(Field(a.name, a.type, "none", None))
        elif isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            result.append(Field(a.name, a.type, "defaulted", a.default.factory))
        elif a.default is attrs.NOTHING:
            result.append(Field(a.name, a.type, "required", None))
        else:
            result.append(Field(a.name, a.type, "defaulted", functools.partial(_same, a.default)))
    return result


@attrs.frozen
class ReadField:
    """One field as the reader reads it: its hook, and what it may take inline."""

    field: Field
    hook: Hook
    #: Must take exactly what ``hook`` returns as is (or maps, for a code set).
    inline: Inline = None


def _taking(index: int, inline: Inline, namespace: dict[str, Any]) -> tuple[str, str] | None:
    """(condition, value) of the inline path of field ``index``, None without one."""
    if inline is None:
        return None
    if isinstance(inline, frozenset):
        if len(inline) == 1:
            namespace[f"c{index}"] = next(iter(inline))
            return f"v.__class__ is c{index}", "v"
        namespace[f"c{index}"] = inline
        return f"v.__class__ in c{index}", "v"
    namespace[f"e{index}"] = inline
    return "v.__class__ is int", f"e{index}.get(v, v)"


def _field_lines(index: int, read: ReadField, namespace: dict[str, Any]) -> list[str]:
    """The lines that read field ``index`` into the local ``a<index>``.

    ``n`` counts the keys taken; a value an optional field cannot hold is left to
    ``extra`` (its name added to ``kept``), as is a null in a defaulted field.
    """
    field, a = read.field, f"a{index}"
    name, kind = repr(field.name), field.default
    namespace[f"h{index}"], namespace[f"t{index}"] = read.hook, field.type
    hook = f"h{index}(v, t{index})"
    inline = _taking(index, read.inline, namespace)
    if kind == "required":  # a KeyError or the hook's error: this reader gives up
        lines = [f"v = data[{name}]"]
        if inline is None:
            return [*lines, f"{a} = {hook}"]
        condition, value = inline
        return [*lines, f"{a} = {value} if {condition} else {hook}"]
    lines = [f"v = get({name}, _MISSING)"]
    if kind == "defaulted":
        namespace[f"d{index}"] = field.make_default
        lines += ["if v is _MISSING:", f"    {a} = d{index}()", f"    absent += ({name},)"]
        # A null is kept in extra (the field keeps its default); another value the field
        # cannot hold is no answer this model can keep.
        failed = ["    if v is not None: raise", f"    {a} = d{index}()"]
    else:
        lines += ["if v is _MISSING:", f"    {a} = None"]
        failed = [f"    {a} = None"]
    if inline is not None:
        condition, value = inline
        lines += [f"elif {condition}:", f"    {a} = {value}", "    n += 1"]
    lines += ["else:"]
    body = ["try:", f"    {a} = {hook}", "    n += 1", "except Exception:", *failed]
    body += [f"    kept += ({name},)"]
    return lines + ["    " + line for line in body]


def _attrs_builds_it(cls: type[Any]) -> bool:
    """Whether ``cls(...)`` is attrs' generated ``__init__`` alone: no ``__new__``,
    ``__init__`` (a model made with ``init=False``), ``__attrs_pre_init__`` or
    ``__attrs_post_init__`` of its author, which must run for every instance."""
    code = getattr(cls.__init__, "__code__", None)
    return (
        code is not None
        and code.co_filename.startswith(_ATTRS_GENERATED)
        and vars(object)["__new__"] is cls.__new__
        and getattr(cls, "__attrs_pre_init__", None) is None
        and getattr(cls, "__attrs_post_init__", None) is None
    )


def _slot_setters(cls: type[Any], names: Sequence[str]) -> list[Callable[[Any, Any], None]] | None:
    """The slot setters of ``names`` (and ``extra``) when building ``cls`` needs nothing
    else: attrs' own ``__init__`` (:func:`_attrs_builds_it`), slotted, no validator or
    converter; None otherwise."""
    attributes = attrs.fields(cls)
    slots = {slot for k in cls.__mro__ for slot in getattr(k, "__slots__", ())}
    if (
        not _attrs_builds_it(cls)
        or any(a.validator is not None or a.converter is not None for a in attributes)
        # A slot attrs' __init__ would also set (a cached hash) is a slot this does not.
        or not slots <= {*names, "extra", *_UNSET_SLOTS}
    ):
        return None
    setters = []
    for name in [*names, "extra"]:
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        slot = vars(owner).get(name) if owner is not None else None
        if not isinstance(slot, types.MemberDescriptorType):
            return None
        setters.append(slot.__set__)
    return setters


def _construction(cls: type[Any], names: Sequence[str], namespace: dict[str, Any]) -> list[str]:
    """The lines that build the instance from the locals ``a<index>`` and ``extra``.

    What attrs' ``__init__`` of a frozen slotted class does is setting each slot; setting
    them straight from here skips its keyword parsing and the name lookups of
    ``object.__setattr__``. A model with more to do (a check, its author's own
    ``__init__`` or hooks) is built by its ``__init__``.
    """
    setters = _slot_setters(cls, names)
    if setters is None:
        # attrs' __init__ takes each field by its alias (``_code`` as ``code``).
        alias = {a.name: a.alias for a in attrs.fields(cls)}
        arguments = "".join(f"{alias[name]}=a{index}, " for index, name in enumerate(names))
        return [f"return cls({arguments}{alias['extra']}=extra)"]
    namespace["new"] = object.__new__
    namespace.update((f"s{index}", setter) for index, setter in enumerate(setters))
    lines = ["o = new(cls)"]
    lines += [f"s{index}(o, a{index})" for index in range(len(names))]
    return [*lines, f"s{len(names)}(o, extra)", "return o"]


def make_reader(
    cls: type[Any], fields: Sequence[ReadField], describe: Callable[[object], str]
) -> Hook:
    """Generate the structure function of model ``cls``; see the module docstring.

    Args:
        cls: the model.
        fields: its wire fields with their hooks.
        describe: names the JSON type of a value in the error for a non-object.
    """
    namespace: dict[str, Any] = {
        "Mapping": Mapping,
        "WireExtra": WireExtra,
        "_MISSING": _MISSING,
        "cls": cls,
        "describe": describe,
        "known": frozenset(read.field.name for read in fields),
    }
    required = sum(read.field.default == "required" for read in fields)
    body = [
        "if data.__class__ is not dict and not isinstance(data, Mapping):",
        f"    raise TypeError('expected an object for {cls.__name__}, got ' + describe(data))",
        "get = data.get",
        f"n = {required}",
        "kept = absent = ()",
    ]
    for index, read in enumerate(fields):
        body += _field_lines(index, read, namespace)
    body += [
        # Every key not taken (unknown, or a value a field cannot hold) goes to extra.
        "if n == len(data) and not absent:",
        "    extra = {}",
        "else:",
        "    extra = {k: x for k, x in data.items() if k not in known or k in kept}",
        "    if absent:",
        "        extra = WireExtra(extra.items(), frozenset(absent))",
        *_construction(cls, [read.field.name for read in fields], namespace),
    ]
    name = f"read_{cls.__name__}"
    source = "\n".join([f"def {name}(data, _):", *("    " + line for line in body)]) + "\n"
    filename = f"<wecom_async reader {cls.__module__}.{cls.__qualname__}>"
    # Tracebacks through the generated code show its lines, as cattrs' generated code does.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    reader: Hook = namespace[name]
    return reader
