"""Frequency and concurrency limits per API (endpoints.md §5.3).

Frequency: each API has a budget of calls per minute (10,000 by default, as WeCom allows
per corp per API).  The call that goes over answers 45009 and blocks that API for the
documented 60 s; every call during the block answers 45009 too and does not count.  After
the block a fresh window starts.  Windows and blocks run on the fake clock.

Concurrency: an API may have a cap on requests in flight (off by default).  A request is in
flight from the moment its handler runs until its response leaves, latency included, so a
cap is reached only when the fake has latency or a slow fault; over the cap answers 45033.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["BLOCK_SECONDS", "WINDOW_SECONDS", "ConcurrencyLimiter", "RateLimiter"]

#: Length of a frequency window, and of the block after it was exceeded (seconds).
WINDOW_SECONDS: Final = 60.0
BLOCK_SECONDS: Final = 60.0


@dataclass(slots=True)
class _Window:
    start: float
    count: int = 0
    blocked_until: float = 0.0


class RateLimiter:
    """Per-API per-minute budgets with the 60 s block after an overrun."""

    def __init__(self, default_per_minute: int | None) -> None:
        """Create the limiter; ``None`` means no budget unless set per path."""
        self._default = default_per_minute
        self._budgets: dict[str, int | None] = {}
        self._windows: dict[str, _Window] = {}

    def set_limit(self, path: str, per_minute: int | None) -> None:
        """Set the budget of one API (``None``: unlimited) and start a fresh window."""
        self._budgets[path] = per_minute
        self._windows.pop(path, None)

    def allow(self, path: str, now: float) -> bool:
        """Count one call to ``path`` at ``now``; False means answer 45009."""
        budget = self._budgets.get(path, self._default)
        if budget is None:
            return True
        window = self._windows.get(path)
        if window is not None and now < window.blocked_until:
            return False
        if window is None or now - window.start >= WINDOW_SECONDS:
            window = self._windows[path] = _Window(start=now)
        window.count += 1
        if window.count > budget:
            window.blocked_until = now + BLOCK_SECONDS
            window.start = window.blocked_until
            window.count = 0
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
