"""The time range of an export (``--since`` / ``--until``) and its split into WeCom's windows.

A range is two Unix seconds, both *included*: every instant ``since <= t <= until``
belongs to it. On the command line each bound is either

* a date, ``YYYY-MM-DD``: a whole day of Beijing time (UTC+8, WeCom's day), included
  whole: ``--since 2024-03-01`` starts at 00:00:00, ``--until 2024-03-31`` ends at
  23:59:59 of that day;
* or an ISO 8601 datetime with its offset, ``2024-03-01T08:30:00+08:00`` (``Z`` for
  UTC). A datetime without an offset is refused: its zone would be a guess.

WeCom lists by windows of a bounded span (30 days for moments, a month for mass
messages, 30 days for statistics). :func:`windows` cuts a range into consecutive
windows that cover each second exactly once, and :func:`day_windows` into whole Beijing
days. Each unit of a windowed export stores its window as ``since`` / ``until`` in its
spec, so :func:`covered` reads the range an export covered back from its plan.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Final

from .._exceptions import ValidationError
from .._time import china_day
from .._validation import check_whole
from ..models._base import JsonObject
from ._checkpoint import CheckpointError, lost

__all__ = [
    "BEIJING",
    "DAY",
    "LATEST",
    "TimeRange",
    "covered",
    "day_windows",
    "parse_bound",
    "shown",
    "window_of",
    "windows",
]

#: WeCom's days are days of China Standard Time.
BEIJING: Final = timezone(timedelta(hours=8), "UTC+08:00")
DAY: Final = 86_400
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The last second a range may hold: 9999-12-31 23:59:59 Beijing time, the last one a
#: date can show. A later "second" is not a time (a manifest holding milliseconds, a
#: bound past the calendar): it is refused, not shown as a date that does not exist.
LATEST: Final = 253_402_271_999


@dataclass(frozen=True)
class TimeRange:
    """Unix seconds ``since`` to ``until``, both included.

    Raises:
        ValidationError: a bound is not a whole number of seconds from 0 to
            :data:`LATEST`, or ``since`` is after ``until``.
    """

    since: int
    until: int

    def __post_init__(self) -> None:
        for name, bound in (("since", self.since), ("until", self.until)):
            if check_whole(bound, name, low=0) > LATEST:
                raise ValidationError(f"{name} {bound} is past {shown(LATEST)}: not a time")
        if self.until < self.since:
            raise ValidationError(f"not a time range: {self.since}..{self.until}")


def shown(seconds: int) -> str:
    """``seconds`` as a Beijing time for messages (as a number where no date can show it)."""
    try:
        return datetime.fromtimestamp(seconds, BEIJING).isoformat()
    except (OverflowError, ValueError, OSError):
        return f"{seconds} (Unix seconds, no date)"


def parse_bound(text: str, *, end: bool) -> int:
    """Read one bound of ``--since`` / ``--until`` as Unix seconds.

    Args:
        text: ``YYYY-MM-DD`` (a Beijing day) or an ISO 8601 datetime with an offset.
        end: whether it is the range's end: a date then means the day's last second.

    Returns:
        Unix seconds; a datetime's rounded up to a whole second for the range's start,
        down for its end.

    Raises:
        ValidationError: neither form, a datetime without an offset, before 1970 or
            after :data:`LATEST` (the message is for people: it quotes ``text``).
    """
    text = text.strip()
    if _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"{text!r} is not a valid date") from None
        start = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
        return int(start.timestamp()) + (DAY - 1 if end else 0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{text!r} is neither a date (YYYY-MM-DD, Beijing time) nor an ISO 8601 "
            "datetime with an offset (2024-03-01T08:30:00+08:00)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            f"{text!r} has no UTC offset, so its zone would be a guess: add one "
            "(+08:00 for Beijing time, Z for UTC) or give a date"
        )
    try:
        seconds = moment.timestamp()
    except (OverflowError, ValueError):  # year 9999 in an offset that makes it 10000 UTC
        seconds = math.inf
    if seconds < 0:
        raise ValidationError(f"{text!r} is before 1970")
    if seconds > LATEST:
        raise ValidationError(f"{text!r} is after {shown(LATEST)}")
    # WeCom's times are whole seconds: those from ``since`` on, up to ``until``.
    return math.floor(seconds) if end else math.ceil(seconds)


def windows(since: int, until: int, length: int) -> list[tuple[int, int]]:
    """Consecutive windows ``(first, last)`` (both included) of at most ``length``
    seconds each, covering every second of ``since..until`` exactly once.

    Raises:
        ValidationError: ``length`` is below one second.
    """
    if length < 1:
        raise ValidationError("a window holds at least one second")
    return [(s, min(s + length - 1, until)) for s in range(since, until + 1, length)]


def day_windows(since: int, until: int, days: int) -> list[tuple[int, int]]:
    """Windows of at most ``days`` whole Beijing days covering every day that
    ``since..until`` touches, each as ``(00:00 of its first day, 23:59:59 of its last)``."""
    first, last = china_day(since), china_day(until)
    return [(s, min(s + days * DAY, last + DAY) - 1) for s in range(first, last + 1, days * DAY)]


def window_of(spec: JsonObject) -> tuple[int, int]:
    """The ``(since, until)`` a unit spec stores.

    Raises:
        CheckpointError: the spec has no window, or one that is not seconds
            ``0 <= since <= until <=`` :data:`LATEST` (milliseconds, a reversed window:
            the plan it came from is damaged).
    """
    since, until = spec.get("since"), spec.get("until")
    if not isinstance(since, int) or not isinstance(until, int):
        raise lost("window")
    if isinstance(since, bool) or isinstance(until, bool) or not 0 <= since <= until <= LATEST:
        raise CheckpointError(
            f"a unit's window {since}..{until} is not a range of Unix seconds up to "
            f"{shown(LATEST)}: the plan it came from is damaged"
        )
    return since, until


def covered(specs: Iterable[JsonObject]) -> TimeRange | None:
    """The range the windowed units ``specs`` cover together (None: no windowed unit)."""
    bounds = [window_of(spec) for spec in specs if "since" in spec]
    if not bounds:
        return None
    return TimeRange(min(b[0] for b in bounds), max(b[1] for b in bounds))
