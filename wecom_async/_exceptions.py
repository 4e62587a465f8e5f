"""The errors wecom_async raises.

Every error is a :class:`WeComError`; nothing else escapes the SDK by design::

    WeComError
    ├── ValidationError          a request breaks a documented limit; nothing was sent
    ├── ClientClosedError        the client (or the HTTP client it was given) is closed
    ├── TransportError           the HTTP exchange itself failed (connect, reset, protocol)
    │   └── APITimeoutError      ... because a timeout expired
    ├── ResponseError            the answer is not a WeCom envelope (HTTP 5xx, HTML, truncated JSON)
    │   └── StructureError       the envelope is fine but the data does not match its model
    ├── APIError                 WeCom answered with a non-zero errcode
    │   ├── ConfigurationError   gettoken refused the corp id or secret, or the app is not set up
    │   ├── TokenError           the access token was refused again right after a refresh
    │   ├── PermissionDeniedError  the app may not call this API or see this member
    │   ├── RateLimitError       45009 / 45033 / 45036: frequency or concurrency limit hit
    │   ├── SystemBusyError      errcode -1: WeCom is busy
    │   └── ConflictError        45035 / 6000: a concurrent change to the same record
    ├── SuiteTicketError         (provider) no suite_ticket has arrived yet; nothing was sent
    ├── NotAuthorizedError       (provider) no permanent code for the corp; nothing was sent
    └── CallbackError            (wecom_async.callback) a pushed event failed verification

Messages and reprs never contain an access token or a secret: every error redacts its
message when it is built and again when it is printed (a token fetched after the error
was built is masked too). ``StructureError.raw`` keeps the response as received for the
caller to inspect; it is part of neither the message nor the repr.
"""

from __future__ import annotations

import re
from typing import Final

from ._logging import redact

__all__ = [
    "APIError",
    "APITimeoutError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "NotAuthorizedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseError",
    "StructureError",
    "SuiteTicketError",
    "SystemBusyError",
    "TokenError",
    "TransportError",
    "ValidationError",
    "WeComError",
    "error_for_errcode",
]


class WeComError(Exception):
    """Raised for every failure of the SDK; the root of the tree above."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))

    def __str__(self) -> str:
        return redact(super().__str__())

    def __repr__(self) -> str:
        return redact(super().__repr__())


class ValidationError(WeComError, ValueError):
    """Raised before sending when a request breaks a documented WeCom limit."""


class ClientClosedError(WeComError):
    """Raised by a call made after ``aclose()``, or when the given HTTP client was closed."""

    def __init__(self, message: str, *, request_line: str = "") -> None:
        super().__init__(f"{message} ({request_line})" if request_line else message)
        self.request_line = request_line


class TransportError(WeComError):
    """Raised when the HTTP exchange fails after the SDK's retries (if any) are spent."""

    def __init__(self, message: str, *, request_line: str = "", sent: bool = True) -> None:
        super().__init__(f"{message} ({request_line})" if request_line else message)
        self.request_line = redact(request_line)
        #: False when the request provably never reached WeCom (connect phase).
        self.sent = sent


class APITimeoutError(TransportError):
    """Raised when connecting, writing or reading timed out and no retry was allowed or left."""


class ResponseError(WeComError):
    """Raised when WeCom's answer is not a valid JSON envelope (5xx, HTML page, truncated body)."""

    def __init__(
        self, message: str, *, request_line: str = "", status_code: int | None = None
    ) -> None:
        super().__init__(f"{message} ({request_line})" if request_line else message)
        self.request_line = redact(request_line)
        self.status_code = status_code


class StructureError(ResponseError):
    """Raised when a successful response does not match its model; carries readable paths."""

    def __init__(
        self,
        message: str,
        *,
        errors: list[str] | None = None,
        raw: object = None,
        request_line: str = "",
    ) -> None:
        super().__init__(message, request_line=request_line)
        self.errors = [redact(error) for error in errors or ()]
        self.raw = raw


_HINT = re.compile(r"hint:\s*\[([^\]]*)\]")


def parse_hint(errmsg: str) -> str | None:
    """Return the request id WeCom puts in ``hint: [...]`` of an errmsg, if any."""
    match = _HINT.search(errmsg)
    return match.group(1) if match else None


class APIError(WeComError):
    """Raised when WeCom answers with a non-zero errcode that no subclass names."""

    def __init__(self, errcode: int, errmsg: str, *, request_line: str = "") -> None:
        self.errcode = errcode
        # WeCom may echo request parameters; credentials are masked before they are kept.
        self.errmsg = redact(errmsg)
        self.hint = parse_hint(self.errmsg)
        self.request_line = redact(request_line)
        where = f" ({self.request_line})" if request_line else ""
        super().__init__(f"errcode {errcode}: {self.errmsg}{where}")

    def __repr__(self) -> str:
        return redact(
            f"{type(self).__name__}(errcode={self.errcode!r}, "
            f"request={self.request_line!r}, hint={self.hint!r})"
        )


class ConfigurationError(APIError):
    """Raised when gettoken refuses the corp id or secret, or the app lacks a required setup."""


class TokenError(APIError):
    """Raised when WeCom refuses the access token again right after one refresh and resend."""


class PermissionDeniedError(APIError):
    """Raised when the app may not call the API or see the member (48002, 60011, ...)."""


class RateLimitError(APIError):
    """Raised when a frequency or concurrency limit is hit and retries are spent (45009, 45033)."""


class SystemBusyError(APIError):
    """Raised when WeCom stays busy (errcode -1) after the retries allowed for the endpoint."""


class ConflictError(APIError):
    """Raised when a concurrent change to the same record is refused (45035, 6000)."""


class SuiteTicketError(WeComError):
    """Raised before any request when a provider app needs its suite token and no
    ``suite_ticket`` has arrived (or the last one is older than its 30 minutes)."""


class NotAuthorizedError(WeComError):
    """Raised before any request when the permanent-code store holds no code for a corp:
    it never authorized the provider's app, or it cancelled and the code was dropped."""

    def __init__(self, message: str, *, corp_id: str = "") -> None:
        #: The corp that has no permanent code.
        self.corp_id = redact(corp_id)
        super().__init__(message)


#: errcode -> error class for business calls; anything not listed is a plain APIError.
ERRCODE_CLASSES: Final[dict[int, type[APIError]]] = {
    -1: SystemBusyError,
    6000: ConflictError,
    45035: ConflictError,
    40001: TokenError,
    40014: TokenError,
    42001: TokenError,
    # A provider's suite_access_token: 40082 invalid, 42009 expired (D:90313).
    40082: TokenError,
    42009: TokenError,
    40013: ConfigurationError,
    41002: ConfigurationError,
    41004: ConfigurationError,
    48001: ConfigurationError,
    48005: ConfigurationError,
    48006: ConfigurationError,
    50003: ConfigurationError,
    50006: ConfigurationError,
    60020: ConfigurationError,
    48002: PermissionDeniedError,
    60011: PermissionDeniedError,
    60021: PermissionDeniedError,
    60030: PermissionDeniedError,
    84074: PermissionDeniedError,
    45009: RateLimitError,
    45033: RateLimitError,
    45036: RateLimitError,
}

#: errcodes of a business call that mean "this access token is no good" (refresh, resend once).
TOKEN_ERRCODES: Final[frozenset[int]] = frozenset(
    code for code, cls in ERRCODE_CLASSES.items() if cls is TokenError
)

#: errcodes that gettoken answers when the corp id or secret is wrong or missing.
GETTOKEN_CONFIG_ERRCODES: Final[frozenset[int]] = frozenset({40001, 40013, 41002, 41004})

#: errcodes a provider's token calls answer when a credential is wrong: the gettoken ones,
#: 40080 invalid suite_secret, 40083 invalid suite_id, 40084 invalid permanent_code,
#: 40085 invalid suite_ticket, 40086 invalid third-party app id, 41021 / 41023 / 41024 /
#: 41025 a missing suite_id / suite_ticket / secret / permanent_code (D:90313; which
#: endpoint answers which is verified only for 40083, 40085 and 40001, seen answered).
PROVIDER_CONFIG_ERRCODES: Final[frozenset[int]] = GETTOKEN_CONFIG_ERRCODES | frozenset(
    {40080, 40083, 40084, 40085, 40086, 41021, 41023, 41024, 41025}
)


def error_for_errcode(errcode: int, errmsg: str, *, request_line: str = "") -> APIError:
    """Build the error instance for ``errcode`` from the one mapping table."""
    cls = ERRCODE_CLASSES.get(errcode, APIError)
    return cls(errcode, errmsg, request_line=request_line)
