"""The base of every wire model: JSON value types, unknown-field keeping, lenient enums.

Models are frozen attrs classes whose attribute names are WeCom's wire names, so that a
model can be grepped against the official docs. They hold no serialization code: the one
converter in ``wecom_async._converter`` turns them into wire dicts and back.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeAlias, TypeVar

import attrs

__all__ = ["EmptyResponse", "JsonObject", "JsonValue", "WireEnum", "WireModel", "lenient_enum"]

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
JsonObject: TypeAlias = dict[str, JsonValue]


@attrs.frozen(kw_only=True)
class WireModel:
    """Base of every request and response model.

    ``extra`` holds every field WeCom sent that this release does not know yet; the
    converter writes it back in :func:`wecom_async.to_dict`, so an export never loses a
    field WeCom added later.
    """

    extra: Mapping[str, JsonValue] = attrs.field(factory=dict, repr=False)


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
