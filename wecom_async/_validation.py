"""Local checks of documented WeCom limits, raised before anything is sent.

Limits check what the SDK sends, never what it reads: a member may write, in the WeCom
client, a moment whose link title is longer than the API accepts, and that moment must
still be readable. So every check attached to a model is a *request check*: it runs when
a model is built by a caller (or from a mapping given to a service method), and it does
not run while a response is being read (:data:`RESPONSE_BEING_READ`, set by the
converter that reads responses).

* :func:`max_chars`, :func:`max_bytes`, :func:`max_items` return :class:`SizeLimit`
  validators (usable as ``attrs.field(validator=...)``) that raise
  :class:`~wecom_async.ValidationError` with the field's wire name, the limit and the size;
* :func:`non_empty` is a request-check validator too;
* :func:`request_check` makes any other validator (or a model's ``__attrs_post_init__``,
  which :class:`~wecom_async.models.WireModel` wraps by itself) a request check;
* ``check_*`` functions serve plain arguments of service methods;
* :func:`check_whole` and :func:`check_seconds` are the one check of every numeric
  option of the SDK (sizes, counts, timeouts, intervals): written as ``x <= 0`` such a
  check lets NaN through (every comparison with NaN is false), and a NaN limit then
  means no limit at all.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Sized
from contextvars import ContextVar
from typing import Any, ClassVar, Final, TypeVar

import attrs

from ._exceptions import ValidationError

__all__ = [
    "RESPONSE_BEING_READ",
    "SizeLimit",
    "check_id",
    "check_ids",
    "check_range",
    "check_seconds",
    "check_secret",
    "check_whole",
    "is_request_check",
    "max_bytes",
    "max_chars",
    "max_items",
    "non_empty",
    "request_check",
]

#: True while the converter reads a response: request checks then do not run.
RESPONSE_BEING_READ: Final[ContextVar[bool]] = ContextVar(
    "wecom_async_response_being_read", default=False
)

_MARK: Final = "_wecom_request_check"

F = TypeVar("F", bound=Callable[..., None])


def request_check(check: F) -> F:
    """Return ``check`` (a validator or ``__attrs_post_init__``) as a request check.

    The result runs ``check`` when a model is built by a caller and does nothing while a
    response is read; wrapping twice is harmless.
    """
    if is_request_check(check):
        return check

    @functools.wraps(check)
    def run(*args: Any) -> None:
        if not RESPONSE_BEING_READ.get():
            check(*args)

    setattr(run, _MARK, True)
    return run  # type: ignore[return-value]


def is_request_check(check: object) -> bool:
    """Whether ``check`` is skipped while a response is read (see :func:`request_check`)."""
    return bool(getattr(check, _MARK, False))


def _chars(value: Any) -> int:
    return len(value)


def _utf8_bytes(value: Any) -> int:
    return len(value.encode("utf-8"))


@attrs.frozen
class SizeLimit:
    """A documented size limit as an attrs validator; a request check.

    Attributes:
        limit: the largest size WeCom accepts.
        unit: ``"characters"``, ``"bytes"`` (UTF-8) or ``"items"``.
    """

    _wecom_request_check: ClassVar[bool] = True

    limit: int
    unit: str
    _measure: Callable[[Any], int] = attrs.field(alias="measure", repr=False)

    def size(self, value: Sized) -> int:
        """The size of ``value`` in this limit's unit."""
        return self._measure(value)

    def __call__(self, _: object, attribute: attrs.Attribute[Any], value: Sized | None) -> None:
        """Raise ValidationError when ``value`` (if given) is over the limit in a request."""
        if value is None or RESPONSE_BEING_READ.get():
            return
        size = self._measure(value)
        if size <= self.limit:
            return
        if self.unit == "items":
            raise ValidationError(
                f"{attribute.name} has {size} items; WeCom allows at most {self.limit}"
            )
        raise ValidationError(
            f"{attribute.name} is {size} {self.unit} long; WeCom allows at most {self.limit}"
        )


def max_chars(limit: int) -> SizeLimit:
    """Validator: the string (if given) has at most ``limit`` characters."""
    return SizeLimit(limit, "characters", measure=_chars)


def max_bytes(limit: int) -> SizeLimit:
    """Validator: the string (if given) has at most ``limit`` bytes in UTF-8."""
    return SizeLimit(limit, "bytes", measure=_utf8_bytes)


def max_items(limit: int) -> SizeLimit:
    """Validator: the list (if given) has at most ``limit`` items."""
    return SizeLimit(limit, "items", measure=len)


S = TypeVar("S", bound=Sized)


@request_check
def non_empty(_: object, attribute: attrs.Attribute[S], value: S) -> None:
    """Validator: the string or list is not empty (a request check)."""
    if len(value) == 0 or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"{attribute.name} must not be empty")


def check_id(value: str, name: str) -> str:
    """Return ``value`` if it is a non-empty id string, else raise ValidationError."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-empty string, got {value!r}")
    return value


def check_secret(value: str, name: str) -> str:
    """Return ``value`` if it is a non-empty string, else raise ValidationError.

    Unlike :func:`check_id`, the error names only the type of a wrong value, never the
    value: a secret handed over as bytes or an int is still the secret.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a non-empty string, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(f"{name} must be a non-empty string, got a blank one")
    return value


def check_ids(
    values: Collection[str], name: str, *, max_count: int, min_count: int = 1
) -> list[str]:
    """Return ``values`` as a list after checking its size and that no id is empty."""
    if isinstance(values, str):
        raise ValidationError(f"{name} must be a list of ids, not a single string")
    ids = list(values)
    if len(ids) < min_count:
        raise ValidationError(f"{name} needs at least {min_count} id(s)")
    if len(ids) > max_count:
        raise ValidationError(f"{name} has {len(ids)} ids; WeCom allows at most {max_count}")
    for value in ids:
        check_id(value, f"an item of {name}")
    return ids


def check_range(value: int, name: str, *, low: int, high: int) -> int:
    """Return ``value`` if ``low <= value <= high``, else raise ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return value


def check_whole(value: object, name: str, *, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` if it is an int (a bool is not) of at least ``low`` (and at most
    ``high``, when given).

    Raises:
        ValidationError: ``value`` is not an int (NaN, a float, a string, None, a bool),
            is below ``low`` or above ``high``; the message names ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(
            f"{name} must be a whole number of at least {low}, got {_shown(value)}"
        )
    if high is not None and value > high:
        raise ValidationError(f"{name} must be at most {high:,}, got {_shown(value)}")
    return value


def check_seconds(value: object, name: str, *, zero: bool = False, infinite: bool = False) -> float:
    """Return ``value`` as a float if it is a number above 0 (or 0, when ``zero``).

    Args:
        value: what the caller gave (seconds, or another amount).
        name: the argument's name, for the message.
        zero: 0 is allowed (e.g. "no pause").
        infinite: ``math.inf`` (and an int too large for a float) is allowed, where the
            documentation says it means "no limit".

    Raises:
        ValidationError: ``value`` is not a number (a bool, a string, None), is NaN,
            negative, 0 when not allowed, or infinite when not allowed.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name} must be a number, not {type(value).__name__}")
    if (isinstance(value, float) and math.isnan(value)) or value < 0 or (value == 0 and not zero):
        above = "0 or more" if zero else "above 0"
        raise ValidationError(f"{name} must be a number {above}, got {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if math.isinf(number) and not infinite:
        raise ValidationError(f"{name} must be finite, got {_shown(value)}")
    return number


def _shown(value: object) -> str:
    try:
        return repr(value)[:80]
    except ValueError:  # an int of more digits than Python converts to text
        return "an int too long to show"
