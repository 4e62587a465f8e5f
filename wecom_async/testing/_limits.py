"""Frequency and concurrency limits per API (endpoints.md §5.3).

Frequency: each API has budgets of calls per window, by default 10,000 a minute as WeCom
allows per corp per API (a test may add WeCom's hour, or scaled-down windows such as
``[(50, 1.0), (200, 10.0)]``).  Each window counts from its first call; the call that goes
over answers 45009 and blocks that API for the window's length (60 s for the minute, an
hour for the hour, as documented); every call during the block answers 45009 too and does
not count.  After the block fresh windows start.  Windows and blocks run on the fake clock.

Concurrency: an API may have a cap on requests in flight (off by default).  A request is in
flight from the moment its handler runs until its response leaves, latency included, so a
cap is reached only when the fake has latency or a slow fault; over the cap answers 45033.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

__all__ = ["BLOCK_SECONDS", "WINDOW_SECONDS", "ConcurrencyLimiter", "RateLimiter", "Windows"]

#: Length of the default frequency window, and of the block after it was exceeded (seconds).
WINDOW_SECONDS: Final = 60.0
BLOCK_SECONDS: Final = 60.0

#: ``(calls, seconds)`` budgets of one API, all holding at once.
Windows = tuple[tuple[int, float], ...]


@dataclass(slots=True)
class _Window:
    start: float
    count: int = 0


@dataclass(slots=True)
class _Path:
    windows: list[_Window] = field(default_factory=list)
    blocked_until: float = 0.0


def _windows(limits: Sequence[tuple[int, float]] | int | None) -> Windows | None:
    if limits is None:
        return None
    if isinstance(limits, int):
        return ((limits, WINDOW_SECONDS),)
    return tuple((int(calls), float(seconds)) for calls, seconds in limits)


class RateLimiter:
    """Per-API budgets over one or more windows, with the block after an overrun."""

    def __init__(self, default: Sequence[tuple[int, float]] | int | None) -> None:
        """Create the limiter; ``default`` is every API's budget: calls per minute, a list
        of ``(calls, seconds)`` windows, or ``None`` for no budget unless set per path."""
        self._default = _windows(default)
        self._budgets: dict[str, Windows | None] = {}
        self._paths: dict[str, _Path] = {}

    def set_limit(self, path: str, limits: Sequence[tuple[int, float]] | int | None) -> None:
        """Set the budget of one API (calls per minute, windows, or ``None``: unlimited)
        and start fresh windows."""
        self._budgets[path] = _windows(limits)
        self._paths.pop(path, None)

    def allow(self, path: str, now: float) -> bool:
        """Count one call to ``path`` at ``now``; False means answer 45009."""
        budget = self._budgets.get(path, self._default)
        if budget is None:
            return True
        state = self._paths.get(path)
        if state is None or len(state.windows) != len(budget):
            state = self._paths[path] = _Path([_Window(now) for _ in budget])
        if now < state.blocked_until:
            return False
        over = 0.0
        for window, (calls, seconds) in zip(state.windows, budget, strict=True):
            if now - window.start >= seconds:
                window.start, window.count = now, 0
            window.count += 1
            if window.count > calls:
                over = max(over, seconds)
        if over:
            state.blocked_until = now + over
            state.windows = [_Window(state.blocked_until) for _ in budget]
            return False
        return True


class ConcurrencyLimiter:
    """Per-API caps on requests in flight."""

    def __init__(self) -> None:
        """Create the limiter with no caps."""
        self._caps: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}

    def set_limit(self, path: str, max_in_flight: int | None) -> None:
        """Cap the requests in flight for one API (``None``: no cap)."""
        if max_in_flight is None:
            self._caps.pop(path, None)
        else:
            self._caps[path] = max_in_flight

    def enter(self, path: str) -> bool:
        """Count one more request in flight; False (nothing counted) means answer 45033."""
        current = self._in_flight.get(path, 0)
        cap = self._caps.get(path)
        if cap is not None and current >= cap:
            return False
        self._in_flight[path] = current + 1
        return True

    def leave(self, path: str) -> None:
        """Count one request of ``path`` as finished."""
        self._in_flight[path] -= 1

    def in_flight(self, path: str) -> int:
        """Return how many requests of ``path`` are in flight."""
        return self._in_flight.get(path, 0)
