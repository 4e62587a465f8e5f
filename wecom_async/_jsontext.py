"""JSON text that every reader takes: valid UTF-8, one line per document.

Customers type what they like, and WeCom sends it as valid JSON: a cut emoji arrives as
``"\\ud83d"``, which Python decodes to a lone surrogate that UTF-8 cannot encode; U+2028,
U+2029 and U+0085 are ordinary characters to JSON but line breaks to ``str.splitlines``
and to JavaScript before ES2019. :func:`json_text` writes everything else as it is and
escapes exactly those characters (``\\ud83d``, ``\\u2028``), so the text encodes, stays
on its line, and decodes back to the same value.

NaN and the infinities have no JSON form (Python would write the non-JSON tokens
``NaN`` / ``Infinity``): they are refused, so nothing written here is ever invalid JSON.
The answers WeCom sends cannot hold them (the core refuses such a body), so a refusal
here is a :class:`~wecom_async.ResponseError` naming the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Final, TypeVar

from ._exceptions import ResponseError

__all__ = ["json_lines", "json_text", "read_json"]

T = TypeVar("T")

#: What ``ensure_ascii=False`` would write raw but a UTF-8 line reader cannot take.
_UNSAFE: Final = re.compile("[\ud800-\udfff\u2028\u2029\u0085]")
#: The line breaks of ``_UNSAFE``; the others (lone surrogates) make ``str.encode`` fail.
_BREAKS: Final = ("\u2028", "\u2029", "\u0085")
#: Keys sorted: equal values give equal text, whatever order the keys arrived in.
_CANONICAL: Final = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _safe(text: str) -> str:
    # Outside strings JSON is ASCII, so every match is inside a string, where the
    # escape means the same character.
    return _UNSAFE.sub(_escape, text)


def _encoded(encode: Callable[[T], str], value: T) -> str:
    """``encode(value)``; the encoder's ValueError (NaN, an infinity, a reference cycle)
    as the ResponseError that says what could not be written."""
    try:
        return encode(value)
    except ValueError as exc:
        raise ResponseError(f"a value cannot be written as JSON: {exc}") from None


def json_text(value: object, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Return ``value`` as JSON: compact (or indented), UTF-8-safe, on one line if compact.

    Args:
        value: the JSON value.
        indent: indent nested values by this many spaces (None: compact, one line).
        sort_keys: write the keys of every object in sorted order (canonical text).

    Raises:
        ResponseError: ``value`` holds NaN or an infinity (no JSON number), or contains itself.
        TypeError: ``value`` holds what is not JSON at all (as :func:`json.dumps`).
    """
    separators = (",", ":") if indent is None else (",", ": ")
    encoder = json.JSONEncoder(
        ensure_ascii=False,
        separators=separators,
        indent=indent,
        sort_keys=sort_keys,
        allow_nan=False,
    )
    return _safe(_encoded(encoder.encode, value))


def json_lines(values: Iterable[object]) -> bytes:
    """Return one canonical JSON line per value, as UTF-8: compact, keys sorted, safe.

    The same text as ``json_text(value, sort_keys=True)`` for each value, built in one
    pass: one encoder for all, one scan for the unsafe characters.

    Raises:
        ResponseError: a value holds NaN or an infinity (no JSON number), or contains itself.
        TypeError: a value holds what is not JSON at all (as :func:`json.dumps`).
    """
    text = _encoded(_lines, values)
    if any(brk in text for brk in _BREAKS):
        text = _safe(text)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: escaped, it encodes
        return _safe(text).encode()


def read_json(data: bytes | str) -> object:
    """Read a JSON document of a file a person may have handed over (a manifest, a
    checkpoint, a plan): as :func:`json.loads`.

    Raises:
        ValueError: ``data`` is not JSON, or is nested deeper than the parser goes (the
            ``RecursionError`` of such a document is a damaged file, not a crash).
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None


def _lines(values: Iterable[object]) -> str:
    return "".join([line + "\n" for line in map(_CANONICAL.encode, values)])
