"""Reading request parameters the way WeCom checks them, for route handlers.

Each helper raises :class:`WeComFault` with the errcode WeCom uses: 40063 for a missing
required parameter (unless the caller names a more specific code), 40058 for a value of
the wrong type, an over-long string or an over-long list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._errors import WeComFault

__all__ = [
    "INVALID",
    "MISSING",
    "opt_bool",
    "opt_int",
    "opt_str",
    "opt_str_list",
    "req_str",
    "req_str_list",
]

#: errcode for a required parameter that is absent or empty.
MISSING = 40063
#: errcode for a parameter of the wrong type or over a documented limit.
INVALID = 40058

_INT = re.compile(r"-?[0-9]+")


def opt_str(data: Mapping[str, object], name: str, *, max_chars: int | None = None) -> str | None:
    """Return the string ``name`` or None when absent; enforce ``max_chars`` (characters)."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WeComFault(INVALID, f"invalid {name}: must be a string")
    if max_chars is not None and len(value) > max_chars:
        raise WeComFault(INVALID, f"{name} exceeds {max_chars} characters")
    return value


def req_str(data: Mapping[str, object], name: str, *, errcode: int = MISSING) -> str:
    """Return the non-empty string ``name``; absent or empty answers ``errcode``."""
    value = opt_str(data, name)
    if not value:
        raise WeComFault(errcode, f"{name} missing")
    return value


def opt_str_list(
    data: Mapping[str, object], name: str, *, max_items: int | None = None
) -> list[str] | None:
    """Return the list of strings ``name`` or None when absent; enforce ``max_items``."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise WeComFault(INVALID, f"invalid {name}: must be a list of strings")
    if max_items is not None and len(value) > max_items:
        raise WeComFault(INVALID, f"{name} exceeds {max_items} items")
    return [str(item) for item in value]


def req_str_list(
    data: Mapping[str, object], name: str, *, max_items: int | None = None
) -> list[str]:
    """Return the non-empty list of strings ``name``; absent or empty answers 40063."""
    value = opt_str_list(data, name, max_items=max_items)
    if not value:
        raise WeComFault(MISSING, f"{name} missing")
    return value


def opt_bool(data: Mapping[str, object], name: str) -> bool | None:
    """Return the JSON boolean ``name`` or None when absent (anything else answers 40058)."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise WeComFault(INVALID, f"invalid {name}: must be a boolean")
    return value


def opt_int(data: Mapping[str, object], name: str) -> int | None:
    """Return the integer ``name`` or None when absent (query strings of digits count)."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str) and _INT.fullmatch(value):
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WeComFault(INVALID, f"invalid {name}: must be an integer")
    return value
