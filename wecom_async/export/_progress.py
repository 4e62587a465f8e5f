"""Progress on stderr: a live rich display on a terminal, periodic plain lines otherwise.

``rich`` comes with the ``cli`` extra and is imported only when a terminal display is
wanted; without it the plain lines are used. ``--quiet`` turns progress off.

With ``--corps`` one :class:`Board` serves every corp: one rich display with a line per
corp (or plain lines that start with the corp id), each corp's export reporting to the
:class:`Progress` that ``board.corp(corp_id)`` hands out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol, TextIO

from ._ratelimit import Refusals

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgressBar
    from rich.progress import TaskID

__all__ = [
    "PLAIN_INTERVAL",
    "Board",
    "NullProgress",
    "PlainProgress",
    "Progress",
    "RichProgress",
    "make_board",
    "make_progress",
]

#: Seconds between two plain progress lines.
PLAIN_INTERVAL: Final = 5.0


class Progress(Protocol):
    """What the engine reports: units (e.g. follow-users) done, pages and items written."""

    def start(self, *, title: str, unit_label: str, total: int, done: int, items: int) -> None:
        """The export starts, or resumes with ``done`` of ``total`` and ``items`` done."""
        ...

    def update(self, *, done: int, items: int, pages: int) -> None:
        """Totals after a batch was written (items and pages of the whole export)."""
        ...

    def close(self) -> None:
        """The export stopped (finished, failed or interrupted)."""
        ...


class NullProgress:
    """Reports nothing (``--quiet``)."""

    def start(self, *, title: str, unit_label: str, total: int, done: int, items: int) -> None:
        """Ignore the start."""

    def update(self, *, done: int, items: int, pages: int) -> None:
        """Ignore an update."""

    def close(self) -> None:
        """Nothing to close."""


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class PlainProgress:
    """One line every ``interval`` seconds, for logs and pipes.

    Args:
        stream: where lines go (stderr).
        interval: seconds between lines.
        clock: a monotonic clock (tests pass a fake one).
        refusals: WeCom's 45009 refusals so far, shown once there are any.
        name: what starts every line (a corp id, with ``--corps``).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = PLAIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        refusals: Refusals | None = None,
        name: str = "",
    ) -> None:
        self._stream = stream
        self._name = name
        self._refusals = refusals
        self._interval = interval
        self._clock = clock
        self._title = self._label = ""
        self._total = self._done_at_start = self._items_at_start = 0
        self._started = self._last = 0.0

    def start(self, *, title: str, unit_label: str, total: int, done: int, items: int) -> None:
        """Remember the totals; the first line comes after one interval."""
        title = f"{self._name}: {title}" if self._name else title
        self._title, self._label, self._total = title, unit_label, total
        self._done_at_start, self._items_at_start = done, items
        self._started = self._last = self._clock()

    def update(self, *, done: int, items: int, pages: int) -> None:
        """Print a line when ``interval`` has passed since the last one."""
        now = self._clock()
        if now - self._last < self._interval:
            return
        self._last = now
        elapsed = max(now - self._started, 1e-9)
        rate = (items - self._items_at_start) / elapsed
        finished = done - self._done_at_start
        eta = (
            _duration((self._total - done) * elapsed / finished)
            if finished > 0 and self._total > done
            else "?"
        )
        self._stream.write(
            f"{self._title}: {done:,}/{self._total:,} {self._label}, {pages:,} pages, "
            f"{items:,} items, {rate:,.0f} items/s, ETA {eta}{_waits(self._refusals)}\n"
        )
        self._stream.flush()

    def close(self) -> None:
        """Plain lines need no cleanup."""


def _waits(refusals: Refusals | None) -> str:
    """``, 45009: N refused, S s waited`` once WeCom refused anything, else nothing."""
    if refusals is None or not refusals.count:
        return ""
    return f", 45009: {refusals.count:,} refused, {refusals.waited:,.0f} s waited"


def _rich_bar(stream: TextIO) -> RichProgressBar:
    """The rich display: a line per task (one export, or one corp's)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgressBar

    return RichProgressBar(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=10),
        MofNCompleteColumn(),
        TextColumn(
            "{task.fields[label]}, {task.fields[pages]:,} pages, "
            "{task.fields[items]:,} items ({task.fields[rate]:,.0f}/s){task.fields[waits]}, "
            "ETA"
        ),
        TimeRemainingColumn(),
        console=Console(file=stream),
    )


class RichProgress:
    """A live rich progress bar on a terminal.

    Args:
        stream: the terminal stream (stderr).
        refusals: WeCom's 45009 refusals so far, shown once there are any.
        bar: a display shared with other exports (``--corps``), started and stopped by
            its owner; default: one of its own.
        name: what starts the line (a corp id, with ``--corps``).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        refusals: Refusals | None = None,
        bar: RichProgressBar | None = None,
        name: str = "",
    ) -> None:
        self._refusals = refusals
        self._owns_bar = bar is None
        self._bar: RichProgressBar = bar if bar is not None else _rich_bar(stream)
        self._name = name
        self._task: TaskID | None = None
        self._started = 0.0
        self._items_at_start = 0

    def start(self, *, title: str, unit_label: str, total: int, done: int, items: int) -> None:
        """Show the bar."""
        self._started = time.monotonic()
        self._items_at_start = items
        if self._owns_bar:
            self._bar.start()
        self._task = self._bar.add_task(
            f"{self._name} {title}" if self._name else title,
            total=total,
            completed=done,
            label=unit_label,
            pages=0,
            items=0,
            rate=0.0,
            waits="",
        )

    def update(self, *, done: int, items: int, pages: int) -> None:
        """Move the bar."""
        if self._task is None:
            return
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = (items - self._items_at_start) / elapsed
        self._bar.update(
            self._task,
            completed=done,
            pages=pages,
            items=items,
            rate=rate,
            waits=_waits(self._refusals),
        )

    def close(self) -> None:
        """Leave the final state on screen."""
        if self._owns_bar:
            self._bar.stop()


class Board(Protocol):
    """One display for the exports of many corps."""

    def corp(self, corp_id: str, refusals: Refusals | None = None) -> Progress:
        """The progress that one corp's export reports to."""
        ...

    def close(self) -> None:
        """Every corp stopped: leave the final state on screen."""
        ...


class _NullBoard:
    def corp(self, corp_id: str, refusals: Refusals | None = None) -> Progress:
        return NullProgress()

    def close(self) -> None:
        pass


class _PlainBoard:
    def __init__(self, stream: TextIO, interval: float) -> None:
        self._stream, self._interval = stream, interval

    def corp(self, corp_id: str, refusals: Refusals | None = None) -> Progress:
        return PlainProgress(self._stream, interval=self._interval, refusals=refusals, name=corp_id)

    def close(self) -> None:
        pass


class _RichBoard:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar = _rich_bar(stream)
        self._bar.start()

    def corp(self, corp_id: str, refusals: Refusals | None = None) -> Progress:
        return RichProgress(self._stream, refusals=refusals, bar=self._bar, name=corp_id)

    def close(self) -> None:
        self._bar.stop()


def make_board(stream: TextIO, *, quiet: bool, interval: float = PLAIN_INTERVAL) -> Board:
    """Choose the display of many corps as :func:`make_progress` chooses one export's."""
    if quiet:
        return _NullBoard()
    if stream.isatty():
        try:
            return _RichBoard(stream)
        except ImportError:
            pass
    return _PlainBoard(stream, interval)


def make_progress(
    stream: TextIO,
    *,
    quiet: bool,
    interval: float = PLAIN_INTERVAL,
    refusals: Refusals | None = None,
) -> Progress:
    """Choose the display: none when quiet, rich on a terminal (if installed), else plain."""
    if quiet:
        return NullProgress()
    if stream.isatty():
        try:
            return RichProgress(stream, refusals=refusals)
        except ImportError:
            pass
    return PlainProgress(stream, interval=interval, refusals=refusals)
