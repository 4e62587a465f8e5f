"""Redaction of secrets in everything the SDK logs, raises or prints.

The ``wecom_async`` logger only ever receives text that went through :func:`redact`.
httpx logs full URLs (tokens included) on its own ``httpx`` logger at INFO level:
keep that logger at WARNING in production (README, "Logging").
"""

from __future__ import annotations

import logging
import re
from typing import Final

__all__ = ["logger", "redact", "request_line"]

logger: Final = logging.getLogger("wecom_async")

# Query parameters and JSON keys that carry credentials.
_SECRET_PARAM = re.compile(
    r"(?P<key>access_token|corpsecret|secret)(?P<sep>=|\"\s*:\s*\"|'\s*:\s*')(?P<value>[^&\s\"',;)]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Return ``text`` with the values of access_token / corpsecret parameters replaced by ***."""
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}{m['sep']}***", text)


def request_line(method: str, path: str) -> str:
    """Return ``"METHOD /cgi-bin/path"``, the redacted request line used in errors and logs."""
    return redact(f"{method} {path}")
