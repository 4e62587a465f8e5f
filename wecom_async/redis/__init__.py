"""Shared state on Redis for the many processes of one deployment.

Install with ``pip install "wecom-async[redis]"``.

Every piece here degrades to per-process state while Redis is unreachable, logs one warning
per outage, and resumes shared operation when Redis answers again (see :class:`Outage`).
"""

from __future__ import annotations

from ._budget import RedisRateBudget
from ._guard import Outage

__all__ = ["Outage", "RedisRateBudget"]
