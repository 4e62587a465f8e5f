"""Time arguments: Unix seconds or timezone-aware datetimes, never naive ones."""

from __future__ import annotations

from datetime import datetime

from ._exceptions import ValidationError

__all__ = ["TimeArg", "china_day", "day_window", "time_window", "to_unix"]

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


_DAY = 86_400
#: WeCom's days start at 00:00 China Standard Time (UTC+8).
_CST_OFFSET = 8 * 3_600


def china_day(unix_seconds: int) -> int:
    """Return 00:00 China Standard Time of the day holding ``unix_seconds``, as WeCom floors."""
    return (unix_seconds + _CST_OFFSET) // _DAY * _DAY - _CST_OFFSET


def time_window(
    start: TimeArg,
    end: TimeArg,
    *,
    max_seconds: int | None,
    names: tuple[str, str] = ("start_time", "end_time"),
    allow_equal: bool = True,
) -> tuple[int, int]:
    """Both ends as Unix seconds, after checking their order and the window's length.

    Raises:
        ValidationError: a naive datetime, ``end`` before ``start`` (or equal to it when
            ``allow_equal`` is False), or a window longer than ``max_seconds``.
    """
    first, last = to_unix(start, name=names[0]), to_unix(end, name=names[1])
    if last < first or (last == first and not allow_equal):
        rule = "not be before" if allow_equal else "be after"
        raise ValidationError(f"{names[1]} ({last}) must {rule} {names[0]} ({first})")
    if max_seconds is not None and last - first > max_seconds:
        raise ValidationError(
            f"{names[0]}..{names[1]} is {last - first} s long; WeCom allows at most "
            f"{max_seconds / _DAY:g} days ({max_seconds} s)"
        )
    return first, last


def day_window(
    start: TimeArg,
    end: TimeArg,
    *,
    max_days: int,
    names: tuple[str, str] = ("start_time", "end_time"),
) -> tuple[int, int]:
    """Both ends as Unix seconds, after checking that the days they fall on (floored to
    00:00 China time, as WeCom does for day-granular statistics) span at most ``max_days``.

    Raises:
        ValidationError: a naive datetime, ``end`` before ``start``, or too many days.
    """
    first, last = time_window(start, end, max_seconds=None, names=names)
    days = (china_day(last) - china_day(first)) // _DAY
    if days > max_days:
        raise ValidationError(
            f"{names[0]}..{names[1]} spans {days} days; WeCom allows at most {max_days}"
        )
    return first, last
