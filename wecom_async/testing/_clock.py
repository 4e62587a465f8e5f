"""The fake's clock: every time-dependent rule of the fake reads it, and tests move it."""

from __future__ import annotations

import threading
import time
from typing import Final

from .._validation import check_seconds

__all__ = ["DEFAULT_START", "FakeClock"]

#: Default start of a fake clock (2023-11-14T22:13:20Z): fixed, so that seeded data,
#: token lifetimes and errmsg hints are the same on every run.
DEFAULT_START: Final = 1_700_000_000.0


class FakeClock:
    """An injectable clock in Unix seconds that only moves when told to.

    Token lifetimes (7200 s), rate-limit windows and blocks (60 s), cursor lifetimes
    and seeded timestamps all read :meth:`now`, so a test covers hours in microseconds
    with :meth:`advance` and never sleeps.

    With ``real_time=True`` the clock also follows the wall clock (monotonically) from
    the moment it was created; :meth:`advance` still adds on top.  A long-running
    sandbox uses this so that tokens expire as they would against WeCom.
    """

    def __init__(self, start: float = DEFAULT_START, *, real_time: bool = False) -> None:
        """Create a clock reading ``start`` (Unix seconds, float)."""
        self._offset = float(start)
        self._real_time = real_time
        self._origin = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the current fake time in Unix seconds."""
        if self._real_time:
            return self._offset + (time.monotonic() - self._origin)
        return self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (must not be negative)."""
        # NaN passed "seconds < 0" and then every reading of the clock was NaN.
        check_seconds(seconds, "seconds", zero=True)
        with self._lock:
            self._offset += seconds

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now():.3f}, real_time={self._real_time})"
