"""JSON text that every reader takes: valid UTF-8, one line per document.

Customers type what they like, and WeCom sends it as valid JSON: a cut emoji arrives as
``"\\ud83d"``, which Python decodes to a lone surrogate that UTF-8 cannot encode; U+2028,
U+2029 and U+0085 are ordinary characters to JSON but line breaks to ``str.splitlines``
and to JavaScript before ES2019. :func:`json_text` writes everything else as it is and
escapes exactly those characters (``\\ud83d``, ``\\u2028``), so the text encodes, stays
on its line, and decodes back to the same value.
"""

from __future__ import annotations

import json
import re
from typing import Final

__all__ = ["json_text"]

#: What ``ensure_ascii=False`` would write raw but a UTF-8 line reader cannot take.
_UNSAFE: Final = re.compile("[\ud800-\udfff\u2028\u2029\u0085]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_text(value: object, *, indent: int | None = None) -> str:
    """Return ``value`` as JSON: compact (or indented), UTF-8-safe, on one line if compact.

    Raises:
        TypeError, ValueError: ``value`` is not JSON (as :func:`json.dumps`).
    """
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(value, ensure_ascii=False, separators=separators, indent=indent)
    # Outside strings JSON is ASCII, so every match is inside a string, where the
    # escape means the same character.
    return _UNSAFE.sub(_escape, text)
