"""Redaction of secrets in everything the SDK logs, raises or prints.

The ``wecom_async`` logger only ever passes on text that went through :func:`redact`
(its :class:`RedactingFilter` masks messages and tracebacks), and every
:class:`~wecom_async.WeComError` redacts its message. Two nets catch a credential:

* by pattern: the value after a credential key (``access_token=X``, ``"corpsecret": "X"``,
  ``('access_token', 'X')``, ``access_token%3DX``, ...), whatever the value is;
* by value: the secrets and access tokens this process knows (:func:`register_secret`,
  :func:`register_token`), wherever they appear, with or without a key.

httpx logs full URLs (tokens included) on its own ``httpx`` logger at INFO level:
keep that logger at WARNING in production (docs/guides/errors.md, "Logging").
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Final
from urllib.parse import quote

__all__ = [
    "RedactingFilter",
    "Secret",
    "logger",
    "redact",
    "register_secret",
    "register_token",
    "request_line",
]

logger: Final = logging.getLogger("wecom_async")

MASK: Final = "***"


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, its traceback and its stack, before any
    handler sees it.

    The SDK's own messages are redacted when written; an exception is not (a vendor's
    store may raise an error quoting a permanent code, a user's handler one quoting a
    token). So the traceback of a record's ``exc_info`` is rendered and redacted here
    (``exc_text``, which formatters print instead of rendering it again); when the
    exception or anything it keeps (cause, context, attributes) shows a secret,
    ``exc_info`` itself is dropped, so that no handler (an error tracker) reaches it.
    ``redactor`` defaults to :func:`redact`.
    """

    def __init__(self, redactor: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self._redactor = redactor or redact

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; never drops it."""
        record.msg = self._redactor(record.getMessage())
        record.args = ()
        error = record.exc_info[1] if record.exc_info else None
        if record.exc_info and error is not None:
            shown = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self._redactor(shown)
            kept = _kept_text(error)
            if record.exc_text != shown or self._redactor(kept) != kept:
                record.exc_info = None
        elif record.exc_text:
            record.exc_text = self._redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redactor(record.stack_info)
        return True


def _kept_text(error: BaseException) -> str:
    """The str, repr and attributes of ``error`` and of every exception it keeps."""
    parts: list[str] = []
    seen: set[int] = set()
    stack = [error]
    while stack and len(seen) < 64:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for render in (str, repr, lambda e: repr(vars(e))):
            try:
                parts.append(render(current))
            except Exception:  # a half-built error shows nothing more
                continue
        stack += [e for e in (current.__cause__, current.__context__) if e is not None]
        stack += [e for e in getattr(current, "exceptions", ()) if isinstance(e, BaseException)]
    return "\n".join(parts)


class Secret(str):
    """A credential that never shows its value in a ``repr``.

    Tracebacks rendered with their frames' local variables (Sentry, rich, ``pytest -l``,
    ``traceback.TracebackException(capture_locals=True)``) show each local's ``repr``; the
    token and the secret travel through the SDK's frames as this type, so those show
    ``'***'``. Everything else (``str``, formatting, hashing, encoding) is the plain value.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"'{MASK}'"


# Keys whose value is a credential: every *access_token and *secret (corpsecret,
# suite_secret, provider_secret, ...), every *_ticket (suite_ticket, jsapi_ticket),
# the permanent and temporary auth codes, the callback EncodingAESKey, and every
# *password (a Redis URL's ?password=, redis-py's connection arguments), and a storage
# account's key or SAS token (Azure's account_key, AccountKey= in a connection string,
# sas_token, a SAS's sig=).
_KEY = (
    r"(?<!\w)\w*?(?:access_token|secret|_ticket|permanent_code|auth_code|encoding_?aes_?key"
    r"|password|account_?key|sas_?token|(?<![a-z])sig)"
)
# A quote around a key or value, maybe escaped (a JSON string inside a repr) or URL-encoded.
_QUOTE = r"(?:\\*[\"']|%2[27])"
# key=X, key: X, "key": "X", ('key', 'X'), key%3DX; a comma only before a quoted value.
_SPACE = r"(?:\s|%20)*"
_SEP = rf"{_QUOTE}?{_SPACE}(?:=|:|%3[DdAa]|,(?={_SPACE}[bB]?{_QUOTE})){_SPACE}"
# A bare value ends at a delimiter, raw or URL-encoded (%26 &, %20 space, %22 ", %23 #,
# %27 ', %29 ), %2C ",", %3B ;, %5D ], %7D }).
_BARE = r"(?:[^\s&\"'`,;)\]}<>\\%]|%(?!26|2[02379Cc]|3[Bb]|5[Dd]|7[Dd])[0-9A-Fa-f]{2})+"
_SECRET_PARAM: Final = re.compile(
    rf"(?P<key>{_KEY})(?P<sep>{_SEP})"
    rf"(?:(?P<open>[bB]?(?P<quote>{_QUOTE}))(?:(?!(?P=quote)).)+|{_BARE})",
    re.IGNORECASE,
)

# The password in a URL's userinfo (redis://user:password@host, redis://:password@host),
# whatever its length: a short Redis password is not registered as a value (see below),
# and a URL is where it shows.
_USERINFO: Final = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/]+@", re.IGNORECASE)

#: Values shorter than this are not registered: masking them would garble plain text
#: (WeCom secrets are 43 characters and access tokens longer still).
MIN_SECRET_LENGTH: Final = 16


class _Known:
    """The credential values of this process, newest last, at most ``limit`` of each kind.

    Bounded so that a long-running process that serves many corps (a new token per corp
    every two hours) does not grow without end; the pattern net still covers keyed values
    of anything evicted.
    """

    def __init__(self, *limits: int) -> None:
        self._pools: list[OrderedDict[str, None]] = [OrderedDict() for _ in limits]
        self._limits = limits
        self._lock = threading.Lock()
        #: Every spelling of every value, longest first (a value holding another is masked
        #: whole); replaced, never mutated, so readers need no lock.
        self.forms: tuple[str, ...] = ()

    def add(self, pool: int, value: str) -> None:
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        values = self._pools[pool]
        if value in values:  # the hot path: a token seen again
            return
        with self._lock:
            values[value] = None
            while len(values) > self._limits[pool]:
                values.popitem(last=False)
            forms = {form for pool in self._pools for known in pool for form in _forms(known)}
            self.forms = tuple(sorted(forms, key=len, reverse=True))


def _forms(value: str) -> set[str]:
    """The spellings of ``value`` that may reach a message: as is and URL-encoded."""
    return {value, quote(value, safe=""), quote(value, safe="/")} - {""}


_SECRETS: Final = 0
_TOKENS: Final = 1
#: Secrets are few (one per client); tokens are replaced every two hours per corp.
_known: Final = _Known(128, 256)


def register_secret(value: str) -> None:
    """Mask ``value`` (a corp or app secret) wherever :func:`redact` meets it from now on."""
    _known.add(_SECRETS, value)


def register_token(value: str) -> None:
    """Mask ``value`` (an access token) wherever :func:`redact` meets it from now on."""
    _known.add(_TOKENS, value)


def redact(text: str) -> str:
    """Return ``text`` with every known secret or token and every credential value masked."""
    # Substring checks, not one big alternation: a few hundred C-speed scans of a short
    # error message beat a regex that tries every value at every position.
    for form in _known.forms:
        if form in text:
            text = text.replace(form, MASK)
    return _SECRET_PARAM.sub(_mask_value, _USERINFO.sub(_mask_userinfo, text))


def _mask_userinfo(match: re.Match[str]) -> str:
    return f"{match['head']}{MASK}@"


def _mask_value(match: re.Match[str]) -> str:
    return f"{match['key']}{match['sep']}{match['open'] or ''}{MASK}"


def request_line(method: str, path: str) -> str:
    """Return ``"METHOD /cgi-bin/path"``, the redacted request line used in errors and logs."""
    return redact(f"{method} {path}")


logger.addFilter(RedactingFilter())
