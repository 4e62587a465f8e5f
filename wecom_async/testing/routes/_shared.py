"""Helpers that more than one endpoint group of the fake uses.

A route module imports only private modules (this one, the fake's ``wecom_async.testing._*``
helpers and the ``_<group>_state.py`` records), never another route module, so that a new
route module is discovered without any other module changing.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Final, Protocol, TypeVar

from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_str
from .._route import JSON
from .._state import WECHAT_PREFIX, CorpState, Customer, Follow, Staff
from ._transfer_state import resign

__all__ = [
    "BEIJING",
    "CST_OFFSET",
    "DAY",
    "MAX_ATTACHMENTS",
    "MAX_TEXT_BYTES",
    "beijing_period",
    "content_object",
    "day_of",
    "message_content",
    "seed_resigned_staff",
    "text_content",
]

# -- days and months in China time ----------------------------------------------------

DAY: Final = 86_400
#: WeCom's days start at 00:00 China Standard Time.
CST_OFFSET: Final = 8 * 3_600
#: WeCom counts days and months in China Standard Time.
BEIJING: Final = timezone(timedelta(hours=8))


def day_of(unix_seconds: int) -> int:
    """00:00 CST of the day holding ``unix_seconds``."""
    return (unix_seconds + CST_OFFSET) // DAY * DAY - CST_OFFSET


def beijing_period(now: float, fmt: str) -> str:
    """The day (``"%Y-%m-%d"``) or month (``"%Y-%m"``) of ``now`` in Beijing time."""
    return datetime.fromtimestamp(now, BEIJING).strftime(fmt)


# -- the content of mass and welcome messages (endpoints.md §2.6 and §2.8) -------------

MAX_ATTACHMENTS: Final = 9
MAX_TEXT_BYTES: Final = 4000
#: Required fields of each content object (image: media_id or pic_url).
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "image": (),
    "link": ("title", "url"),
    "miniprogram": ("title", "pic_media_id", "appid", "page"),
    "video": ("media_id",),
    "file": ("media_id",),
}
_BYTE_LIMITS: Final = {
    ("link", "title"): 128,
    ("link", "desc"): 512,
    ("link", "url"): 2048,
    ("link", "picurl"): 2048,
    ("miniprogram", "title"): 64,
}
_LEGACY: Final = ("image", "link", "miniprogram")


def content_object(name: str, value: object) -> JSON:
    """Check one content object (image, link, miniprogram, video, file); return a copy."""
    if not isinstance(value, dict):
        raise WeComFault(MISSING, f"{name} missing")
    if name == "image" and not (value.get("media_id") or value.get("pic_url")):
        raise WeComFault(MISSING, "image.media_id missing")
    for key in _REQUIRED[name]:
        if not value.get(key):
            raise WeComFault(MISSING, f"{name}.{key} missing")
    for key, text in value.items():
        limit = _BYTE_LIMITS.get((name, key))
        if limit is not None and isinstance(text, str) and len(text.encode()) > limit:
            raise WeComFault(INVALID, f"{name}.{key} exceeds {limit} bytes")
    return dict(value)


def text_content(body: JSON, limit: int) -> JSON | None:
    """The ``text`` object of ``body`` (None when absent or empty); ``limit`` in bytes."""
    text = body.get("text")
    if text is None:
        return None
    if not isinstance(text, dict):
        raise WeComFault(INVALID, "invalid text")
    content = opt_str(text, "content")
    if content and len(content.encode()) > limit:
        raise WeComFault(INVALID, f"text.content exceeds {limit} bytes")
    return {"content": content} if content else None


def _attachments(body: JSON) -> list[JSON]:
    items = body.get("attachments")
    if items is None:
        return []
    if not isinstance(items, list):
        raise WeComFault(INVALID, "invalid attachments")
    if len(items) > MAX_ATTACHMENTS:
        raise WeComFault(41064, "attachments exceed 9")
    out: list[JSON] = []
    for item in items:
        msgtype = item.get("msgtype") if isinstance(item, dict) else None
        if not isinstance(msgtype, str) or msgtype not in _REQUIRED:
            raise WeComFault(41065, f"invalid attachment type {msgtype!r}")
        out.append({"msgtype": msgtype, msgtype: content_object(msgtype, item.get(msgtype))})
    return out


def message_content(body: JSON) -> JSON:
    """The content of a mass or welcome message, as the list API reports it."""
    text, attachments = text_content(body, MAX_TEXT_BYTES), _attachments(body)
    legacy = {k: content_object(k, body[k]) for k in _LEGACY if body.get(k) is not None}
    if not attachments and legacy:
        first = next(k for k in _LEGACY if k in legacy)
        attachments = [{"msgtype": first, first: legacy[first]}]
    if text is None and not attachments:
        raise WeComFault(MISSING, "text and attachments are both empty")
    return {
        **({"text": text} if text else {}),
        **({"attachments": attachments} if attachments else {}),
    }


# -- seeded resigned members (the group-chat and transfer seeders) ---------------------

#: How many resigned members a seeded corp has, and how many customers each left.
SEEDED_RESIGNED: Final = 2
SEEDED_RESIGNED_CUSTOMERS: Final = 3
_RESIGNED_PREFIX: Final = "lizhi"


def seed_resigned_staff(state: CorpState, rng: random.Random, now: int) -> Sequence[str]:
    """Return the seeded resigned members, creating them (with customers) on the first call.

    Both the group-chat and the transfer seeders call this, so whichever runs first
    creates them and the data does not depend on which modules exist.
    """
    existing = [u for u in state.staff if u.startswith(_RESIGNED_PREFIX)]
    if existing:
        return existing
    created: list[str] = []
    for n in range(SEEDED_RESIGNED):
        userid = f"{_RESIGNED_PREFIX}{n + 1:04d}"
        state.add_staff(Staff(userid=userid, name=f"离职成员{n + 1}", department=[1]))
        left = now - rng.randrange(1, 180) * 86400
        for _ in range(SEEDED_RESIGNED_CUSTOMERS):
            ext = state.new_id(WECHAT_PREFIX, rng)
            state.add_customer(Customer(ext, 1, f"客户{ext[-4:]}", gender=rng.randrange(3)))
            state.attach(
                Follow(
                    seq=state.next_seq(),
                    external_userid=ext,
                    userid=userid,
                    createtime=left - rng.randrange(1, 720) * 86400,
                    add_way=1,
                    oper_userid=ext,
                )
            )
        resign(state, userid, at=left)
        created.append(userid)
    return created


class _AppMade(Protocol):
    @property
    def by_api(self) -> bool: ...


_Record = TypeVar("_Record", bound=_AppMade)


def live_record(records: Mapping[str, _Record], key: str, what: str) -> _Record:
    """Return the live record ``key``; 40058 for an unknown or deleted one (unverified)."""
    record = records.get(key)
    if record is None:
        raise WeComFault(INVALID, f"invalid {what}_id: {key}")
    return record


def app_made_record(records: Mapping[str, _Record], key: str, what: str) -> _Record:
    """Return a record the app may change: 48002 for one made in the admin console (the
    docs say an app changes only what it created; the code is unverified)."""
    record = live_record(records, key, what)
    if not record.by_api:
        raise WeComFault(48002, f"api forbidden: {what} {key} was not created by the app")
    return record
