"""WeCom-style errors raised by route handlers, and the errmsg text WeCom writes for them."""

from __future__ import annotations

import hashlib
from typing import Final

__all__ = ["ERRMSG", "WeComFault", "default_message", "format_errmsg", "make_hint"]

#: Default message per errcode, in WeCom's wording where it is known.
ERRMSG: Final[dict[int, str]] = {
    -1: "system busy",
    40001: "invalid secret",
    40003: "invalid userid",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40058: "invalid Request Parameter",
    40063: "some parameters are empty",
    40068: "invalid tagid",
    40078: "invalid auth_code",
    40080: "invalid suite_secret",
    # WeCom's own wording, typo included: one code for both provider-level tokens.
    40082: "invalid suite_acccess_token or provider_access_token",
    40083: "invalid SuiteId",
    40084: "invalid permanent_code",
    40085: "invalid suite ticket",
    40096: "invalid external userid",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41008: "auth_code missing",
    41021: "suite_id missing",
    41022: "suite_access_token missing",
    41023: "suite_ticket missing",
    41024: "suite_secret missing",
    41025: "permanent_code missing",
    41035: "missing external userid",
    42001: "access_token expired",
    42009: "suite_access_token expired",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    45035: "data operation conflict",
    48002: "api forbidden",
    50100: "invalid cursor",
    60011: "no privilege to access/modify contact/party/agent",
    60111: "userid not found",
    84061: "not external contact",
    84074: "no external contact permission",
    701008: "no valid interop license",
}

_MORE_INFO: Final = "https://open.work.weixin.qq.com/devtool/query?e="


def default_message(errcode: int) -> str:
    """Return the default message for ``errcode`` (a generic one for unknown codes)."""
    return ERRMSG.get(errcode, f"error {errcode}")


class WeComFault(Exception):
    """Raised by a route handler to answer with a WeCom errcode (HTTP 200, error envelope).

    ``message`` is the first part of the errmsg; the framework appends WeCom's
    ``hint: [...]``, ``from ip: ...`` and ``more info at ...?e=<code>`` suffix.
    """

    def __init__(self, errcode: int, message: str | None = None) -> None:
        """Create the fault; ``message`` defaults to :data:`ERRMSG`'s text for the code."""
        self.errcode = errcode
        self.message = message if message is not None else default_message(errcode)
        super().__init__(f"errcode {errcode}: {self.message}")


def make_hint(now: float, corp_id: str, serial: int) -> str:
    """Return a request id in WeCom's ``<ts>-<hex>`` style, deterministic per fake."""
    digest = hashlib.blake2b(f"{corp_id}:{serial}".encode(), digest_size=8).hexdigest()
    return f"{int(now)}-{digest}"


def format_errmsg(errcode: int, message: str, *, hint: str, ip: str) -> str:
    """Return the full errmsg WeCom sends for an error."""
    return f"{message}, hint: [{hint}], from ip: {ip}, more info at {_MORE_INFO}{errcode}"
