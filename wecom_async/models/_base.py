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
from typing import Any, Generic, TypeAlias, TypeVar

import attrs

from .._validation import is_request_check, request_check

__all__ = [
    "EmptyResponse",
    "JsonObject",
    "JsonValue",
    "WireEnum",
    "WireExtra",
    "WireInt",
    "WireList",
    "WireModel",
    "WireStr",
    "lenient_enum",
    "unix_seconds",
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


class _PartOf:
    """Holds the whole answer a model was read from, outside the model's attrs fields.

    A slot of a plain base class, so that the converter, equality, hashing and ``repr``
    never see it: it is not a wire field.
    """

    __slots__ = ("_whole",)

    @property
    def response(self) -> WireModel | None:
        """The whole answer this object is a part of, when a method returned only a part.

        E.g. ``client.group_chat.get()`` returns the answer's ``group_chat``; its
        ``response`` is the whole ``GroupChatResponse``, so that fields WeCom sent beside
        it (``response.extra`` for the ones this release does not know) stay reachable.
        ``None`` on a whole answer, an item of a page, or a model a caller built, and
        on a ``copy``, ``deepcopy`` or pickle of a part (it is not a wire field; keep
        the ``response`` itself if you need it later).
        """
        whole: WireModel | None = getattr(self, "_whole", None)
        return whole


def part_of(part: M, whole: WireModel) -> M:
    """``part`` (read from ``whole``) with ``part.response`` set to ``whole``."""
    # Models are frozen; the whole answer is attached once, right after reading.
    object.__setattr__(part, "_whole", whole)
    return part


@attrs.frozen(kw_only=True)
class WireModel(_PartOf):
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


def unix_seconds(value: int | str | None) -> int | None:
    """Return a timestamp WeCom sent as an int or a numeric string as an int (None stays)."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        return None


E = TypeVar("E", bound=WireEnum)
M = TypeVar("M", bound="WireModel")


def lenient_enum(enum_cls: type[E], value: int) -> E | int:
    """Return ``enum_cls(value)``, or the plain int when WeCom sent a code added later."""
    try:
        return enum_cls(value)
    except ValueError:
        return value


T = TypeVar("T")


class WireList(list[T], Generic[T]):
    """A list a service method read from one field of WeCom's answer, with the whole answer.

    It is a plain ``list`` in every other respect (equality, JSON, iteration).
    ``response`` is the endpoint's whole-answer model, so that fields WeCom sent beside
    the list (``response.extra`` for the ones this release does not know) are not lost.
    """

    __slots__ = ("response",)

    def __init__(self, items: Iterable[T], response: WireModel) -> None:
        super().__init__(items)
        self.response = response

    def __reduce__(self) -> tuple[type[WireList[T]], tuple[list[T], WireModel]]:
        return type(self), (list(self), self.response)


class WireStr(str):
    """A string (an id, a url) read from one field of WeCom's answer, with the whole answer.

    A plain ``str`` in every other respect; ``response`` is the endpoint's whole-answer
    model (its ``extra`` holds the fields this release does not know).
    """

    response: WireModel

    def __new__(cls, value: str, response: WireModel) -> WireStr:
        made = super().__new__(cls, value)
        made.response = response
        return made

    def __reduce__(self) -> tuple[type[WireStr], tuple[str, WireModel]]:
        return type(self), (str(self), self.response)


class WireInt(int):
    """An integer (an id) read from one field of WeCom's answer, with the whole answer.

    A plain ``int`` in every other respect; ``response`` is the endpoint's whole-answer
    model (its ``extra`` holds the fields this release does not know).
    """

    response: WireModel

    def __new__(cls, value: int, response: WireModel) -> WireInt:
        made = super().__new__(cls, value)
        made.response = response
        return made

    def __reduce__(self) -> tuple[type[WireInt], tuple[int, WireModel]]:
        return type(self), (int(self), self.response)
