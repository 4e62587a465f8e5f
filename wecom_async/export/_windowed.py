"""What the time-ranged export kinds share: the range, its windows, and nested reads.

A windowed kind (mass messages, moments) makes one unit per window of its range (and
per list, e.g. ``chat_type``), paged by WeCom's cursor. WeCom's bounds are not the same
everywhere (``get_moment_list`` lists what lies strictly *between* its two times, the
mass-message list is not documented either way), so each window ``first..last`` is
asked for as ``first - 1 .. last + 1`` and only the records whose ``create_time`` falls
in ``first..last`` are kept: whichever way WeCom reads its bounds, a record on a window's
edge is written by exactly one window. A record whose ``create_time`` is not a number
is kept wherever it comes (it cannot be placed; never dropped).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from typing import ClassVar, TypeVar

import anyio

from .._client import WeComClient
from .._converter import to_dict
from .._exceptions import WeComError
from .._validation import check_whole
from ..models._base import JsonObject, JsonValue, WireModel, unix_seconds
from ._job import Job, Unit
from ._range import DAY, TimeRange, covered, window_of, windows

__all__ = ["WindowedJob", "gather", "inside", "wire_list"]

T = TypeVar("T")
K = TypeVar("K")


async def wire_list(items: AsyncIterable[WireModel]) -> list[JsonValue]:
    """Every item of a paginator, as wire dicts (the whole list, every page)."""
    return [to_dict(item) async for item in items]


async def gather(keys: Sequence[K], get: Callable[[K], Awaitable[T]]) -> list[T]:
    """``get`` of every key, concurrently (the client caps requests in flight), in order.

    The first failure cancels the others and is raised as it is (not in a group), so the
    caller (or the engine) judges it like any single call's.
    """
    results: dict[int, T] = {}
    errors: list[WeComError] = []

    async def one(index: int, key: K) -> None:
        try:
            results[index] = await get(key)
        except WeComError as error:
            errors.append(error)
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, key in enumerate(keys):
            group.start_soon(one, index, key)
    if errors:
        raise errors[0]
    return [results[index] for index in range(len(keys))]


def inside(create_time: int | str | None, spec: JsonObject) -> bool:
    """Whether a record created at ``create_time`` belongs to the window of ``spec``."""
    seconds = unix_seconds(create_time)
    if seconds is None:
        return True
    first, last = window_of(spec)
    return first <= seconds <= last


class WindowedJob(Job):
    """A kind listed window by window over ``--since`` .. ``--until``.

    Args:
        since: first second of the range (default: ``default_days`` before ``until``).
        until: last second of the range, included (default: now).
        clock: the time now, in Unix seconds (tests inject one).
    """

    #: The longest span WeCom accepts between a list call's two times, in seconds.
    max_span: ClassVar[int]
    #: Days exported when ``--since`` is not given.
    default_days: ClassVar[int] = 90
    unit_label = "windows"

    def __init__(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for name, bound in (("since", since), ("until", until)):
            if bound is not None:
                check_whole(bound, name, low=0)
        self._since, self._until, self._clock = since, until, clock
        #: The range the plan covers, once planned (None before).
        self.covered: TimeRange | None = None

    def range(self) -> TimeRange:
        """The range a fresh export covers (its defaults resolved now).

        Raises:
            ValidationError: ``since`` is after ``until``.
        """
        until = self._until if self._until is not None else int(self._clock())
        since = self._since if self._since is not None else until - self.default_days * DAY + 1
        return TimeRange(max(0, since), until)

    def planned(self) -> TimeRange:
        """The range the plan covers: :meth:`range`, as its windows cut it."""
        return self.range()

    def lists(self) -> list[JsonObject]:
        """The lists walked in every window (e.g. each ``chat_type``); one by default."""
        return [{}]

    async def plan(self, client: WeComClient) -> list[Unit]:
        """One unit per list and window; a window asked for with one second more on
        each side (see the module docstring) stays within :attr:`max_span`."""
        span = self.range()
        units = [
            Unit({**extra, "since": first, "until": last})
            for first, last in windows(span.since, span.until, self.max_span - 2)
            for extra in self.lists()
        ]
        self.covered = covered(u.spec for u in units)
        return units

    @staticmethod
    def asked(spec: JsonObject) -> tuple[int, int]:
        """The two times sent for a unit's window: one second beyond it on each side."""
        first, last = window_of(spec)
        return max(0, first - 1), last + 1
