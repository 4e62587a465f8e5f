"""One HTTP exchange's answer: read within bounds, map failures, decode the envelope.

httpx's timeouts bound each step of an exchange (connect, each read), not their sum, and it
inflates a compressed body without limit. So besides them:

* :data:`EXCHANGE_LIMIT` bounds one exchange in all, from sending to the last body byte: a
  server or proxy that drips its answer a byte at a time cannot hold a call (or an export
  page, whose calls have no overall deadline) for longer;
* :data:`MAX_BODY_BYTES` bounds the decoded body: a small gzip "bomb" from a hostile proxy
  is refused instead of inflating into memory.

Every failure becomes a :class:`~wecom_async.WeComError` here; no httpx exception escapes.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Final, Protocol

import attrs
import httpx

from ._exceptions import APITimeoutError, ResponseError, TransportError, WeComError
from ._logging import redact
from .models._base import JsonObject

__all__ = [
    "EXCHANGE_LIMIT",
    "MAX_BODY_BYTES",
    "NOT_SENT",
    "Answer",
    "BodyTooLarge",
    "RateBudget",
    "decode",
    "errcode_of",
    "exchange_failure",
    "read_body",
]

#: Seconds one HTTP exchange may take in all, whatever the call's deadline (5 minutes: a
#: 20 MB upload over a slow link fits; no WeCom answer needs more).
EXCHANGE_LIMIT: Final = 300.0
#: Bytes a decoded answer may hold (WeCom's largest pages are well under 1 MB).
MAX_BODY_BYTES: Final = 64 * 1024 * 1024


class RateBudget(Protocol):
    """Paces requests below WeCom's limits; shared by every client (and process) it serves.

    ``MemoryRateBudget`` (the client's default) and ``wecom_async.redis.RedisRateBudget``
    implement it. Keys are ``"<corp id>:<URL path>"``: WeCom's limits hold per corp and per
    API. The core acquires once per HTTP exchange (token fetches and retries included),
    before the exchange's own time limit starts, and reports each 45009 answer.
    """

    async def acquire(self, key: str) -> None:
        """Wait until a request of ``key`` may be sent, and count it."""
        ...

    async def refused(self, key: str, seconds: float) -> float:
        """WeCom answered a request of ``key`` 45009: block ``key`` for every caller for
        ``seconds`` (a longer block already in place stays); return the seconds until
        ``key`` is open again, which the caller waits before its retry."""
        ...


@attrs.frozen
class Answer:
    """What came back: the status and the whole (decoded) body."""

    status_code: int
    content: bytes


class BodyTooLarge(Exception):
    """Raised by :func:`read_body` past ``limit`` bytes; the core maps it to ResponseError."""


async def read_body(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> Answer:
    """Read ``response`` whole, refusing more than ``limit`` decoded bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return Answer(response.status_code, b"".join(chunks))


#: Failures that prove the request never left: no connection (or tunnel) was made.
NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


def exchange_failure(line: str, exc: Exception) -> WeComError:
    """The WeComError for what sending raised; no httpx (or transport) exception escapes."""
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"{name}: WeCom did not answer in time",
            request_line=line,
            sent=not isinstance(exc, NOT_SENT),
        )
    if isinstance(exc, httpx.TransportError):
        return TransportError(
            redact(f"{name}: {exc}"),
            request_line=line,
            sent=not isinstance(exc, NOT_SENT),
        )
    if isinstance(exc, httpx.HTTPStatusError):
        # A given client's event hook called raise_for_status(): the answer is still an answer.
        status = exc.response.status_code
        return ResponseError(
            f"HTTP {status} instead of a WeCom envelope",
            request_line=line,
            status_code=status,
        )
    if isinstance(exc, httpx.DecodingError | httpx.TooManyRedirects):
        # An answer came back but cannot be read (a proxy mangled its gzip body, redirects
        # loop): like a garbled body, retried where the endpoint may be resent.
        return ResponseError(redact(f"{name}: {exc}"), request_line=line)
    # Whatever else a transport may raise (httpx.StreamError, httpx.InvalidURL from a
    # redirect, an OSError or a protocol library's error from a custom transport): the
    # request may have left.
    return TransportError(redact(f"{name}: {exc}"), request_line=line, sent=True)


_NOT_JSON: Final = object()
#: How much of a refused number the error quotes (a hostile one may be megabytes long).
_QUOTED_CHARS: Final = 40


#: The finite floats lie between these two.
_LOWEST: Final = -sys.float_info.max
_HIGHEST: Final = sys.float_info.max
#: A JSON number whose value is zero whatever its exponent: ``0``, ``-0.0``, ``0e5``, ``0E-400``.
_ZERO: Final = re.compile(r"-?0(?:\.0+)?(?:[eE][-+]?[0-9]+)?")


class _NoFloat(ValueError):
    """A number of the body that no float holds: NaN / Infinity, or outside a float's range.

    Python's parser takes ``NaN`` and ``Infinity`` (not JSON), reads ``1e400`` (valid
    JSON) as ``inf`` and ``1e-400`` (valid JSON, non-zero, below the smallest float) as
    ``0.0``. Kept, NaN and ``inf`` would be written back as tokens no JSON reader takes
    (an export line that is not JSON), and neither ``inf`` nor ``0.0`` is the number
    WeCom sent: its data would change silently.
    """


def _no_constant(token: str) -> float:
    raise _NoFloat(f"{token}, which is not a JSON number")


def _quoted(text: str) -> str:
    return text if len(text) <= _QUOTED_CHARS else text[:_QUOTED_CHARS] + "..."


def _finite(text: str) -> float:
    """``float(text)``, unless that is not the number ``text`` writes: it is then too
    large (an infinity) or too small (a zero) for a float. Runs for every number with a
    fraction or an exponent, so the common case is one chained comparison, no call."""
    value = float(text)
    if _LOWEST <= value <= _HIGHEST and value != 0.0:
        return value
    if value == 0.0:
        if _ZERO.fullmatch(text) is not None:
            return value  # a real zero: ``0.0``, ``-0.0``, ``0e5``
        raise _NoFloat(f"the number {_quoted(text)}, too small for a float (it reads as 0)")
    raise _NoFloat(f"the number {_quoted(text)}, beyond the range of a float")


def _loads(content: bytes) -> object:
    """The JSON value of ``content``; _NOT_JSON when it is none; _NoFloat (raised) for a
    number no float holds."""
    try:
        # WeCom's bodies may hold raw control characters inside strings: decode leniently.
        return json.loads(content, strict=False, parse_constant=_no_constant, parse_float=_finite)
    except _NoFloat:
        raise
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return _NOT_JSON


def decode(line: str, answer: Answer) -> JsonObject:
    """The envelope of ``answer`` as a dict; ResponseError for anything else.

    A body holding a number no float can keep (``NaN``, ``Infinity``, ``1e400``, or
    ``1e-400``, which would read as ``0.0``) is a ResponseError too: it could be neither
    kept as sent nor written back as JSON.
    """
    if answer.status_code != 200:
        raise ResponseError(
            f"HTTP {answer.status_code} instead of a WeCom envelope",
            request_line=line,
            status_code=answer.status_code,
        )
    try:
        data = _loads(answer.content)
    except _NoFloat as exc:
        raise ResponseError(
            f"the body holds {exc}: it cannot be read without changing it",
            request_line=line,
            status_code=answer.status_code,
        ) from None
    if data is _NOT_JSON:
        raise ResponseError(
            f"the body is not valid JSON ({len(answer.content)} bytes)",
            request_line=line,
            status_code=answer.status_code,
        )
    if not isinstance(data, dict):
        raise ResponseError("the body is not a JSON object", request_line=line, status_code=200)
    return data


def oversized(line: str, limit: int) -> ResponseError:
    """The error for an answer larger than ``limit`` bytes once decoded."""
    return ResponseError(
        f"the answer is larger than {limit:,} bytes once decoded", request_line=line
    )


def overlong(line: str, seconds: float) -> APITimeoutError:
    """The error for an exchange that took longer than ``seconds`` in all."""
    return APITimeoutError(
        f"WeCom's answer took longer than {seconds:g} s in all", request_line=line, sent=True
    )


def errcode_of(line: str, data: JsonObject) -> int:
    """The envelope's errcode (0 when absent); ResponseError unless it is an integer.

    An errcode of another JSON type (a string, a list, null, true) is no answer WeCom
    gives: reading it as success or as a code would guess.
    """
    value = data.get("errcode", 0)
    if type(value) is int:
        return value
    raise ResponseError(
        f"the envelope's errcode is a {type(value).__name__}, not an integer", request_line=line
    )
