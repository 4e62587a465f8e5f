"""When to retry, and after how long: one pure decision function and its constants.

The core's retry loop asks :func:`decide` after every failed attempt. The rules
(docs/architecture.md, retries; endpoints.md §5.2, §5.3):

* a connect-phase failure (the request never left) is always retried;
* a read timeout, a reset after sending, an HTTP 5xx, a garbled body and errcode -1 are
  retried only for retry-safe endpoints: a write may already have happened;
* 45009 (frequency limit) waits out WeCom's blocking window; 45033 (concurrency) and
  45035 / 6000 (conflict) back off with jitter; WeCom refused those requests, so they are
  retried whatever the endpoint;
* everything else is final.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Final, TypeGuard

import attrs

from ._exceptions import (
    APIError,
    ConflictError,
    RateLimitError,
    ResponseError,
    StructureError,
    SystemBusyError,
    TransportError,
    ValidationError,
    WeComError,
)
from ._validation import check_whole

__all__ = [
    "DEFAULT_BASE_DELAY",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_DELAY",
    "LONGEST_DELAY",
    "RATE_LIMIT_WINDOW",
    "RetryPolicy",
    "decide",
]

#: Attempts in all, the first included (endpoints.md §5.2: "retry at most 3 times").
DEFAULT_MAX_ATTEMPTS: Final = 4
#: First backoff delay in seconds; doubles with each attempt.
DEFAULT_BASE_DELAY: Final = 0.5
#: Cap of one backoff delay in seconds.
DEFAULT_MAX_DELAY: Final = 8.0
#: How long WeCom blocks an API after its per-minute limit was hit (45009), in seconds.
RATE_LIMIT_WINDOW: Final = 60.0
#: Share of each delay that is randomised, so that many clients do not retry in step.
DEFAULT_JITTER: Final = 0.25
#: Seconds one call may take in all (attempts, waits, token fetch): one 45009 wait with the
#: backoffs and a few slow requests fit; a second 45009 wait does not, so a call under a
#: rate-limit storm fails after about a minute instead of waiting out every attempt.
DEFAULT_DEADLINE: Final = 120.0
#: Longest delay a policy may name, in seconds: WeCom's longest block (an hour past the
#: hourly limit). A longer, infinite or NaN delay is a mistake in the configuration.
LONGEST_DELAY: Final = 3600.0


def _attempts(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    check_whole(value, attribute.name)


def _delay(_: object, attribute: attrs.Attribute[float], value: object) -> None:
    if not _number(value) or not 0 <= value <= LONGEST_DELAY:
        raise ValidationError(
            f"{attribute.name} must be a number of seconds from 0 to {LONGEST_DELAY:g}, "
            f"got {value!r}"
        )


def _share(_: object, attribute: attrs.Attribute[float], value: object) -> None:
    if not _number(value) or not 0 <= value <= 1:
        raise ValidationError(f"{attribute.name} must be a number from 0 to 1, got {value!r}")


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How many attempts and how long between them; set the delays to 0 in tests.

    Args:
        max_attempts: attempts in all, the first included (1 disables retries). They bound
            the whole call: a gettoken request the call needs is part of an attempt, and a
            failed one spends it.
        base_delay: first backoff delay; doubles with each attempt up to ``max_delay``.
        max_delay: cap of one backoff delay.
        rate_limit_delay: wait after a 45009 (WeCom blocks the API for the minute).
        jitter: share of each delay that is randomised.

    Raises:
        ValidationError: ``max_attempts`` below 1 or not a whole number, a delay that is
            not a finite number of seconds from 0 to :data:`LONGEST_DELAY`, or a jitter
            outside [0, 1].
    """

    max_attempts: int = attrs.field(default=DEFAULT_MAX_ATTEMPTS, validator=_attempts)
    base_delay: float = attrs.field(default=DEFAULT_BASE_DELAY, validator=_delay)
    max_delay: float = attrs.field(default=DEFAULT_MAX_DELAY, validator=_delay)
    rate_limit_delay: float = attrs.field(default=RATE_LIMIT_WINDOW, validator=_delay)
    jitter: float = attrs.field(default=DEFAULT_JITTER, validator=_share)

    @classmethod
    def no_delay(cls, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> RetryPolicy:
        """A policy with the same decisions and every delay zero (for tests)."""
        return cls(max_attempts=max_attempts, base_delay=0, max_delay=0, rate_limit_delay=0)

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Delay after failed attempt number ``attempt`` (1-based), jitter applied."""
        delay = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        return self._jittered(delay, rand)

    def _jittered(self, delay: float, rand: Callable[[], float]) -> float:
        return delay * (1 - self.jitter * rand())


def _retry_safe_only(error: WeComError) -> bool:
    if isinstance(error, TransportError):
        return error.sent
    if isinstance(error, StructureError):
        return False
    if isinstance(error, ResponseError):
        # 200 with a garbled body or a 5xx: WeCom may have acted; a 4xx is a final answer.
        return error.status_code is None or error.status_code == 200 or error.status_code >= 500
    return isinstance(error, SystemBusyError)


def decide(
    error: WeComError,
    attempt: int,
    *,
    retry_safe: bool,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Return the delay before the next attempt, or None when ``error`` is final.

    Args:
        error: what attempt number ``attempt`` (1-based) failed with.
        retry_safe: whether the endpoint may be resent after an ambiguous failure.
        policy: attempts and delays.
        rand: source of jitter in [0, 1) (tests pin it).
    """
    if attempt >= policy.max_attempts:
        return None
    if isinstance(error, TransportError) and not error.sent:
        return policy.backoff(attempt, rand)
    if isinstance(error, RateLimitError):
        if error.errcode == 45009:
            return policy.rate_limit_delay + policy.backoff(1, rand)
        return policy.backoff(attempt, rand)
    if isinstance(error, ConflictError):
        return policy.backoff(attempt, rand)
    if isinstance(error, APIError) and not isinstance(error, SystemBusyError):
        return None
    if _retry_safe_only(error):
        return policy.backoff(attempt, rand) if retry_safe else None
    return None
