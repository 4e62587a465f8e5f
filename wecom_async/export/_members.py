"""Units made of follow-user chunks, shared by the kinds read member by member.

A chunk's spec holds its ``userids`` (and whatever else the kind adds, e.g. a window).
WeCom refuses some calls whole for one userid that is no longer valid (a member who left
after the plan was made); :func:`halves` splits such a chunk so that the bad member ends
up alone and costs only themself.
"""

from __future__ import annotations

from typing import Final

from .._exceptions import APIError, WeComError
from ..models._base import JsonObject, JsonValue
from ._checkpoint import lost
from ._job import Unit

__all__ = ["BAD_MEMBER_ERRCODES", "halves", "userids"]

#: errcodes with which WeCom refuses a whole member chunk for one bad userid.
BAD_MEMBER_ERRCODES: Final = frozenset({40003, 60111})


def userids(spec: JsonObject) -> list[str]:
    """The chunk's userids (CheckpointError for a spec that lost them)."""
    ids = spec.get("userids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise lost("userids")
    return [str(i) for i in ids]


def halves(spec: JsonObject, error: WeComError) -> list[Unit]:
    """The two halves of a chunk refused for one bad member (60111 unknown, 40003
    invalid), each keeping the rest of the spec; empty for another error or one member."""
    ids = userids(spec)
    if not isinstance(error, APIError) or error.errcode not in BAD_MEMBER_ERRCODES:
        return []
    if len(ids) < 2:
        return []
    half = len(ids) // 2
    return [
        Unit({**spec, "userids": list[JsonValue](part)}, len(part))
        for part in (ids[:half], ids[half:])
    ]
