"""Suite-wide guard: no access token or secret in any ``wecom_async`` log record, any test.

Every test runs with the ``wecom_async`` logger at DEBUG and a handler that keeps the
formatted records; after the test they are searched for the secrets and token shapes the
suite's servers hand out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Property tests check outcomes, not speed: a per-example deadline only makes them flaky on
# a busy machine (CI shares two cores).
settings.register_profile("wecom-async", deadline=None)
settings.load_profile("wecom-async")

# Secrets used by the suite's servers, and the shapes of the tokens they issue.
SECRETS = ("core-test-secret-Zq81xv", "fake-secret")
# ScriptedWeCom's tokens, and the fake WeCom's (128 url-safe base64 characters).
TOKEN_SHAPES = re.compile(r"TOKEN-\d+-f3b9c2d1e8a7|[A-Za-z0-9_-]{120,}")


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


def leaked(text: str, extra_secrets: tuple[str, ...] = ()) -> list[str]:
    """Return the secrets or token shapes found in ``text``."""
    found = [s for s in (*SECRETS, *extra_secrets) if s and s in text]
    found += TOKEN_SHAPES.findall(text)
    return found


@pytest.fixture(autouse=True)
def log_records() -> Iterator[_Keep]:
    logger = logging.getLogger("wecom_async")
    handler = _Keep()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    for line in handler.lines:
        assert not leaked(line), f"secret in a wecom_async log line: {line!r}"
