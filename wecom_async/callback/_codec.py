"""Decrypted event XML <-> typed event models (:mod:`wecom_async.callback.events`)."""

from __future__ import annotations

import re
from typing import Final, TypeAlias

import attrs

from wecom_async.callback._errors import XMLParseError
from wecom_async.callback._xml import (
    DEFAULT_MAX_BODY_BYTES,
    XmlValue,
    element_to_mapping,
    parse_xml,
    to_xml,
)
from wecom_async.callback.events import (
    EVENT_CLASSES,
    INFO_CLASSES,
    Event,
    GenericEvent,
    InfoEvent,
)

__all__ = ["event_to_xml", "parse_event"]

_COMMON_ORDER: Final = (
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Event",
    "ChangeType",
)
_INT = re.compile(r"\s*-?[0-9]+\s*\Z")

_Scalar: TypeAlias = str | int | tuple[str, ...] | None


@attrs.frozen
class _Field:
    name: str  # attribute
    tag: str  # XML tag
    kind: type  # str, int or tuple (of str)
    required: bool
    default: _Scalar


_SPECS: Final[dict[type[Event], tuple[_Field, ...]]] = {}


def _specs(cls: type[Event]) -> tuple[_Field, ...]:
    """The XML-mapped fields of ``cls``, common tags first (types read from annotations)."""
    if (cached := _SPECS.get(cls)) is not None:
        return cached
    specs = []
    for field in attrs.fields(cls):
        tag = field.metadata.get("xml")
        if tag is None:
            continue
        hint = str(field.type)
        kind = tuple if "tuple" in hint else int if "int" in hint else str
        required = field.default is attrs.NOTHING
        specs.append(_Field(field.name, tag, kind, required, None if required else field.default))
    order = {tag: i for i, tag in enumerate(_COMMON_ORDER)}
    result = tuple(sorted(specs, key=lambda f: order.get(f.tag, len(order))))
    _SPECS[cls] = result
    return result


_CLASSES: Final[dict[tuple[str, str], type[Event]]] = {
    (attrs.fields(cls).event.default, attrs.fields(cls).change_type.default): cls
    for cls in EVENT_CLASSES
}


def parse_event(xml: str | bytes, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Event:
    """Parse a decrypted callback message into its typed event.

    Args:
        xml: the plaintext XML returned by :meth:`CallbackCrypto.decrypt`.
        max_bytes: refuse larger documents (1 MiB by default).

    Returns:
        The class registered for the ``Event`` / ``ChangeType`` pair (e.g.
        :class:`AddExternalContact`); for a third-party push named by ``InfoType``, the
        class of :data:`INFO_CLASSES` (:class:`SuiteTicket`, :class:`CreateAuth`, ...) or
        else an :class:`InfoEvent`; a :class:`GenericEvent` for anything else, including a known
        event that lacks a required tag or has a non-integer where an int belongs (so a
        signed push is never lost to a shape this release did not expect).  Tags the
        class does not model are kept in ``extra``.

    Raises:
        XMLParseError: malformed or hostile XML (see :func:`parse_xml`).

    Docs: https://developer.work.weixin.qq.com/document/path/92130.
    """
    fields = element_to_mapping(parse_xml(xml, max_bytes=max_bytes))
    event, change_type = fields.get("Event"), fields.get("ChangeType")
    info_type = fields.get("InfoType")
    if event is None and isinstance(info_type, str):
        return INFO_CLASSES.get(info_type, InfoEvent)(fields=fields)
    if not isinstance(event, str) or not isinstance(change_type, str):
        return GenericEvent(fields=fields)
    cls = _CLASSES.get((event, change_type))
    if cls is None:
        return GenericEvent(fields=fields)
    try:
        return _typed(cls, fields, event, change_type)
    except XMLParseError:
        return GenericEvent(fields=fields)


def is_malformed(event: Event) -> bool:
    """Whether ``event`` is a :class:`GenericEvent` whose names belong to a typed class
    (a known push that lacked a tag or had a wrong type)."""
    return type(event) is GenericEvent and (event.event, event.change_type) in _CLASSES


def _typed(cls: type[Event], fields: dict[str, XmlValue], event: str, change_type: str) -> Event:
    kwargs: dict[str, _Scalar] = {}
    known = set()
    for spec in _specs(cls):
        known.add(spec.tag)
        if spec.tag in ("Event", "ChangeType"):
            continue
        value = fields.get(spec.tag)
        if value is None:
            if spec.required:
                raise XMLParseError(f"{event}/{change_type} event has no <{spec.tag}>")
            continue
        kwargs[spec.name] = _convert(spec, value, event, change_type)
    extra = {tag: value for tag, value in fields.items() if tag not in known}
    return cls(**kwargs, extra=extra)  # type: ignore[arg-type]


def _convert(spec: _Field, value: XmlValue, event: str, change_type: str) -> _Scalar:
    where = f"<{spec.tag}> of the {event}/{change_type} event"
    if spec.kind is tuple:
        if value == "":
            return ()
        items = value.get("Item") if isinstance(value, dict) and value.keys() == {"Item"} else None
        items = [items] if isinstance(items, str) else items
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise XMLParseError(f"{where} must hold only <Item> text elements")
        return tuple(i for i in items if isinstance(i, str))
    if not isinstance(value, str):
        raise XMLParseError(f"{where} must be text, not nested elements")
    if spec.kind is int:
        if not value.strip() and not spec.required:
            return spec.default
        if not _INT.match(value):
            raise XMLParseError(f"{where} must be an integer")
        return int(value)
    return value


def event_to_xml(event: Event) -> str:
    """Write an event back as the plaintext XML WeCom would push.

    Strings are written as CDATA and ints as numbers, common tags first, then the
    class's own tags, then ``extra``; a :class:`GenericEvent` writes its ``fields``
    unchanged.  ``parse_event(event_to_xml(e)) == e`` holds for every parsed event.

    Raises:
        CallbackError: a tag in ``extra`` is not a valid XML name, or a value holds a
            character XML cannot carry (code -40011).
    """
    if isinstance(event, GenericEvent):
        return to_xml(event.fields.items())
    pairs: list[tuple[str, XmlValue | int]] = []
    for spec in _specs(type(event)):
        value = getattr(event, spec.name)
        if value is None or value == ():
            continue
        pairs.append((spec.tag, {"Item": list(value)} if spec.kind is tuple else value))
    pairs.extend(event.extra.items())
    return to_xml(pairs)
