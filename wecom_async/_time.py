"""Time arguments: Unix seconds or timezone-aware datetimes, never naive ones."""

from __future__ import annotations

from datetime import datetime

from ._exceptions import ValidationError

__all__ = ["TimeArg", "to_unix"]

TimeArg = int | datetime


def to_unix(value: TimeArg, *, name: str) -> int:
    """Return ``value`` as Unix seconds.

    Raises:
        ValidationError: ``value`` is a naive datetime (its zone would be a guess), a bool,
            or negative.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(
                f"{name} must be a timezone-aware datetime (a naive one's zone would be a guess)"
            )
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be Unix seconds (int) or an aware datetime")
    if value < 0:
        raise ValidationError(f"{name} must not be negative, got {value}")
    return value
