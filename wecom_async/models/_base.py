"""The base of every wire model: JSON value types, unknown-field keeping, lenient enums.

Models are frozen attrs classes whose attribute names are WeCom's wire names, so that a
model can be grepped against the official docs. They hold no serialization code: the one
converter in ``wecom_async._converter`` turns them into wire dicts and back.

A model read from WeCom gives back exactly what WeCom sent (``to_dict(from_dict(M, d)) ==
d``): ``extra`` keeps every field this release does not know, and also, under the field's
own name, any value of a known field that the field cannot hold as typed (a null, or a
value of another JSON type); the field then keeps its default.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias, TypeVar

import attrs

from .._validation import is_request_check, request_check

__all__ = [
    "EmptyResponse",
    "JsonObject",
    "JsonValue",
    "WireEnum",
    "WireExtra",
    "WireModel",
    "lenient_enum",
]

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
JsonObject: TypeAlias = dict[str, JsonValue]


class WireExtra(dict[str, JsonValue]):
    """The ``extra`` of a model read from WeCom, when WeCom left out a defaulted field.

    A dict of the fields kept as sent, plus ``absent``: the names of fields with a
    non-None default (``list`` fields, mostly) that WeCom did not send, so that
    :func:`wecom_async.to_dict` leaves them out again instead of writing ``[]``.
    """

    __slots__ = ("absent",)

    def __init__(self, items: Iterable[tuple[str, JsonValue]], absent: frozenset[str]) -> None:
        super().__init__(items)
        self.absent = absent


@attrs.frozen(kw_only=True)
class WireModel:
    """Base of every request and response model.

    ``extra`` holds every field WeCom sent that this release does not know yet, and any
    value of a known field that the field cannot hold as typed (a null, a string in an
    ``int`` field, ...), under the field's own name while the field keeps its default.
    The converter writes it back in :func:`wecom_async.to_dict`, so an export never
    loses or changes a field.

    Checks a model makes (attrs validators, ``__attrs_post_init__``) are request checks:
    they refuse a request a caller builds, never a response WeCom sent. A subclass's
    ``__attrs_post_init__`` is made one here (see ``wecom_async._validation``).
    """

    extra: Mapping[str, JsonValue] = attrs.field(factory=dict, repr=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check = cls.__dict__.get("__attrs_post_init__")
        if check is not None and not is_request_check(check):
            # Through setattr: the base class itself declares no __attrs_post_init__.
            setattr(cls, "__attrs_post_init__", request_check(check))  # noqa: B010


@attrs.frozen(kw_only=True)
class EmptyResponse(WireModel):
    """The answer of an endpoint that returns only the envelope (errcode / errmsg)."""


class WireEnum(enum.IntEnum):
    """Base of WeCom's integer code sets; fields typed ``Code | int`` keep unknown values."""


E = TypeVar("E", bound=WireEnum)


def lenient_enum(enum_cls: type[E], value: int) -> E | int:
    """Return ``enum_cls(value)``, or the plain int when WeCom sent a code added later."""
    try:
        return enum_cls(value)
    except ValueError:
        return value
