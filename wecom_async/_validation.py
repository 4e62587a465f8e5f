"""Local checks of documented WeCom limits, raised before anything is sent.

Each factory returns an attrs validator (usable as ``attrs.field(validator=...)`` on
request models) that raises :class:`~wecom_async.ValidationError` with the field's wire
name, the limit and the offending size. ``check_*`` functions serve plain arguments of
service methods.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sized
from typing import TypeVar

import attrs

from ._exceptions import ValidationError

__all__ = [
    "check_id",
    "check_ids",
    "check_range",
    "check_secret",
    "max_bytes",
    "max_chars",
    "max_items",
    "non_empty",
]

T = TypeVar("T")
Validator = Callable[[object, "attrs.Attribute[T]", T], None]


def _chars(value: str) -> int:
    return len(value)


def _bytes(value: str) -> int:
    return len(value.encode("utf-8"))


def _text_limit(limit: int, measure: Callable[[str], int], unit: str) -> Validator[str | None]:
    def validate(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None and measure(value) > limit:
            raise ValidationError(
                f"{attribute.name} is {measure(value)} {unit} long; WeCom allows at most {limit}"
            )

    return validate


def max_chars(limit: int) -> Validator[str | None]:
    """Validator: the string (if given) has at most ``limit`` characters."""
    return _text_limit(limit, _chars, "characters")


def max_bytes(limit: int) -> Validator[str | None]:
    """Validator: the string (if given) has at most ``limit`` bytes in UTF-8."""
    return _text_limit(limit, _bytes, "bytes")


SizedOrNone = TypeVar("SizedOrNone", bound=Sized | None)


def max_items(limit: int) -> Callable[[object, attrs.Attribute[SizedOrNone], SizedOrNone], None]:
    """Validator: the list (if given) has at most ``limit`` items."""

    def validate(_: object, attribute: attrs.Attribute[SizedOrNone], value: SizedOrNone) -> None:
        if value is not None and len(value) > limit:
            raise ValidationError(
                f"{attribute.name} has {len(value)} items; WeCom allows at most {limit}"
            )

    return validate


S = TypeVar("S", bound=Sized)


def non_empty(_: object, attribute: attrs.Attribute[S], value: S) -> None:
    """Validator: the string or list is not empty."""
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
