"""Shared state on Redis for the many processes of one deployment.

Install with ``pip install "wecom-async[redis]"``.

* :class:`RedisTokenStore`: one access token per (corp, secret) for every process, one
  ``gettoken`` for all of them (``WeComClient(..., token_store=...)``).

Every piece here degrades to per-process state while Redis is unreachable, logs one warning
per outage, and resumes shared operation when Redis answers again (see :class:`Outage`).
"""

from __future__ import annotations

from ._budget import RedisRateBudget
from ._guard import Outage
from ._tokens import RedisTokenStore

__all__ = ["Outage", "RedisRateBudget", "RedisTokenStore"]
