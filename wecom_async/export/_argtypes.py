"""Types of the command's numeric options: the SDK's own checks
(:func:`~wecom_async._validation.check_whole`, :func:`~wecom_async._validation.check_seconds`),
refusing at the command line (a usage error, exit 2) what the SDK would refuse later.

``float()`` takes ``nan`` and ``inf``: a lease that compares false with everything, or
a poll that never ends, is a typo here, not a setting.
"""

from __future__ import annotations

import argparse

from .._budget import MAX_CALLS
from .._exceptions import ValidationError
from .._transport import MAX_IN_FLIGHT
from .._validation import check_seconds, check_whole

__all__ = ["calls", "in_flight", "positive", "positive_seconds"]


def positive(text: str) -> int:
    """An option's whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    try:
        return check_whole(value, "it")
    except ValidationError:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}") from None


def positive_seconds(text: str) -> float:
    """An option's finite number of seconds above 0."""
    try:
        return check_seconds(float(text), "it")
    except ValueError:  # not a number at all, or ValidationError
        raise argparse.ArgumentTypeError(
            f"must be a finite number of seconds above 0, got {text!r}"
        ) from None


def in_flight(text: str) -> int:
    """An option's requests in flight: 1 to the client's ``MAX_IN_FLIGHT`` (1,000)."""
    value = positive(text)
    if value > MAX_IN_FLIGHT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_IN_FLIGHT:,}, got {value:,}")
    return value


def calls(text: str) -> int:
    """An option's number of calls of a rate limit: 1 to the budget's ``MAX_CALLS``."""
    value = positive(text)
    if value > MAX_CALLS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_CALLS:,}, got {value:,}")
    return value
