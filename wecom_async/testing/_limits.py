"""Frequency and concurrency limits per corp and API (endpoints.md §5.3).

WeCom counts each corp's calls to each API on their own (每企业调用单个cgi/api, D:90312): corp A
exhausting an API's budget, or filling its concurrency cap, never refuses corp B, so a
provider's multi-corp export is limited as WeCom limits it. Budgets and caps are set per
API and hold for every corp alike; the counting is per corp. A call without a corp token
counts for the corp it names (``gettoken``'s ``corpid``, a provider call's
``auth_corpid``), and calls about no corp of the fake (a provider's own token calls, a
``gettoken`` of an unknown corp) under a key of their own, ``NO_CORP`` (see
:mod:`._dispatch`). WeCom's per-IP limits (20,000 a minute per API, 40,000 for a
provider) are not modelled, and its per-app limits concern app messages and jsapi
tickets, which the fake does not serve.

Frequency: each API has budgets of calls per window, by default 10,000 a minute as WeCom
allows per corp per API (a test may add WeCom's hour, or scaled-down windows such as
``[(50, 1.0), (200, 10.0)]``).  Each window counts from its first call; the call that goes
over answers 45009 and blocks that API, for that corp, for the window's length (60 s for
the minute, an hour for the hour, as documented); every call during the block answers
45009 too and does not count.  After the block fresh windows start.  Windows and blocks
run on the fake clock.

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
    """Per-API budgets over one or more windows, counted per corp, with the block after
    an overrun."""

    def __init__(self, default: Sequence[tuple[int, float]] | int | None) -> None:
        """Create the limiter; ``default`` is every API's budget: calls per minute, a list
        of ``(calls, seconds)`` windows, or ``None`` for no budget unless set per path."""
        self._default = _windows(default)
        self._budgets: dict[str, Windows | None] = {}
        #: (corp id, path) -> that corp's windows of that API.
        self._paths: dict[tuple[str, str], _Path] = {}

    def set_limit(self, path: str, limits: Sequence[tuple[int, float]] | int | None) -> None:
        """Set the budget of one API for every corp (calls per minute, windows, or
        ``None``: unlimited) and start fresh windows."""
        self._budgets[path] = _windows(limits)
        for key in [key for key in self._paths if key[1] == path]:
            del self._paths[key]

    def allow(self, path: str, now: float, corp_id: str = "") -> bool:
        """Count one call of corp ``corp_id`` to ``path`` at ``now``; False means answer
        45009."""
        budget = self._budgets.get(path, self._default)
        if budget is None:
            return True
        key = (corp_id, path)
        state = self._paths.get(key)
        if state is None or len(state.windows) != len(budget):
            state = self._paths[key] = _Path([_Window(now) for _ in budget])
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
    """Per-API caps on requests in flight, counted per corp."""

    def __init__(self) -> None:
        """Create the limiter with no caps."""
        self._caps: dict[str, int] = {}
        #: (corp id, path) -> that corp's requests of that API in flight.
        self._in_flight: dict[tuple[str, str], int] = {}

    def set_limit(self, path: str, max_in_flight: int | None) -> None:
        """Cap the requests in flight for one API, for each corp (``None``: no cap)."""
        if max_in_flight is None:
            self._caps.pop(path, None)
        else:
            self._caps[path] = max_in_flight

    def enter(self, path: str, corp_id: str = "") -> bool:
        """Count one more request of corp ``corp_id`` in flight; False (nothing counted)
        means answer 45033."""
        key = (corp_id, path)
        current = self._in_flight.get(key, 0)
        cap = self._caps.get(path)
        if cap is not None and current >= cap:
            return False
        self._in_flight[key] = current + 1
        return True

    def leave(self, path: str, corp_id: str = "") -> None:
        """Count one request of corp ``corp_id`` to ``path`` as finished."""
        self._in_flight[corp_id, path] -= 1

    def in_flight(self, path: str, corp_id: str | None = None) -> int:
        """Return how many requests of ``path`` are in flight: of corp ``corp_id``, or of
        every corp when None."""
        if corp_id is not None:
            return self._in_flight.get((corp_id, path), 0)
        return sum(n for (_, p), n in self._in_flight.items() if p == path)
