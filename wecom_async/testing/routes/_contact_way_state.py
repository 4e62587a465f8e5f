"""Records of the 「联系我」 / 「加入群聊」 fake (endpoints.md §3.6) and checks its handlers share.

``ctx.state.ext(ContactWayState)`` holds a corp's contact ways, join ways and live temp
sessions.  Tests may read it, lower :attr:`ContactWayState.api_quota` to reach 41045
without creating 500,000 ways, and play a customer adding a member through a way with
``FakeWeCom.add_via_contact_way`` (the only way a temp session starts, since API actions never
stand in for a customer).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Final

from .._errors import WeComFault
from .._params import INVALID, MISSING
from .._route import JSON
from .._setup import Follower, new_follow
from .._state import CorpState, Follow

__all__ = [
    "ContactWayRecord",
    "ContactWayState",
    "JoinWayRecord",
    "TempChat",
    "add_via_way",
    "check_conclusions",
]

#: Contact ways and join ways created through the API, per corp (shared; 41045).
API_QUOTA: Final = 500_000
#: Temp-session contact ways created per natural day (they do not count in API_QUOTA).
TEMP_DAILY_QUOTA: Final = 100_000
QUOTA_REACHED: Final = 41045
DAY: Final = 86400
#: Temp-session defaults: the QR code lives 7 days, a session 24 hours after the add.
TEMP_QR_DEFAULT: Final = 7 * DAY
TEMP_CHAT_DEFAULT: Final = DAY
#: add_way of a customer who scanned a member's QR code (endpoints.md §2.4).
ADD_WAY_QR_CODE: Final = 1
#: Conclusions content limits (endpoints.md §2.7), in UTF-8 bytes.
_CONCLUSION_LIMITS: Final = {
    ("text", "content"): 4000,
    ("link", "title"): 128,
    ("link", "desc"): 512,
    ("miniprogram", "title"): 64,
}


@dataclass(slots=True, eq=False)
class ContactWayRecord:
    """One contact way as WeCom keeps it (``party`` and ``style`` only where effective)."""

    seq: int
    config_id: str
    type: int
    scene: int
    created: int
    user: list[str]
    party: list[int] = field(default_factory=list)
    style: int | None = None
    remark: str | None = None
    skip_verify: bool = True
    state: str | None = None
    is_temp: bool = False
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str | None = None
    is_exclusive: bool = False
    mark_source: bool = True
    #: As read back: an image set by media_id holds ``pic_url``.
    conclusions: JSON | None = None
    qr_code: str | None = None
    #: A temp-session QR code stops working once a customer added the member through it.
    used: bool = False

    def expired(self, now: float) -> bool:
        """True for a temp-session way whose QR code was used or outlived ``expires_in``."""
        if not self.is_temp:
            return False
        return self.used or now > self.created + (self.expires_in or TEMP_QR_DEFAULT)


@dataclass(slots=True, eq=False)
class JoinWayRecord:
    """One join way; ``qr_code`` is a QR code URL (scene 2) or a plugin URL (scene 1)."""

    config_id: str
    scene: int
    chat_id_list: list[str]
    qr_code: str
    remark: str | None = None
    auto_create_room: int = 1
    room_base_name: str | None = None
    room_base_id: int | None = None
    state: str | None = None
    mark_source: bool = True


@dataclass(slots=True, eq=False)
class TempChat:
    """A live temp session between a member and a customer, until ``expires_at``."""

    userid: str
    external_userid: str
    config_id: str
    expires_at: int


class ContactWayState:
    """A corp's contact ways (seq order, for list cursors), join ways and temp sessions."""

    def __init__(self) -> None:
        """Create an empty registry with WeCom's quotas."""
        self.contact_ways: dict[str, ContactWayRecord] = {}
        self.join_ways: dict[str, JoinWayRecord] = {}
        #: Live temp sessions by (userid, external_userid).
        self.temp_chats: dict[tuple[str, str], TempChat] = {}
        #: Contact ways + join ways the API may create (lower it in a test to reach 41045).
        self.api_quota = API_QUOTA
        #: Temp-session contact ways per natural day.
        self.temp_daily_quota = TEMP_DAILY_QUOTA
        self._temp_per_day: dict[int, int] = {}
        self._rng = random.Random("contact-way")

    def new_config_id(self) -> str:
        """Return a fresh config id: 32 lowercase hex characters."""
        while True:
            candidate = f"{self._rng.getrandbits(128):032x}"
            if candidate not in self.contact_ways and candidate not in self.join_ways:
                return candidate

    def take_quota(self, *, temp: bool, now: float) -> None:
        """Count one new way against its quota, or answer 41045 when it is spent."""
        if temp:
            day = int(now // DAY)
            if self._temp_per_day.get(day, 0) >= self.temp_daily_quota:
                raise WeComFault(QUOTA_REACHED, "temp contact way daily quota reached")
            self._temp_per_day[day] = self._temp_per_day.get(day, 0) + 1
            return
        used = sum(not w.is_temp for w in self.contact_ways.values()) + len(self.join_ways)
        if used >= self.api_quota:
            raise WeComFault(QUOTA_REACHED, "contact way and join way quota reached")

    def contact_way(self, config_id: str) -> ContactWayRecord:
        """Return a contact way, or answer 41044 (invalid config_id)."""
        record = self.contact_ways.get(config_id)
        if record is None:
            raise WeComFault(41044, "invalid config_id")
        return record

    def join_way(self, config_id: str) -> JoinWayRecord:
        """Return a join way, or answer 41044 (invalid config_id)."""
        record = self.join_ways.get(config_id)
        if record is None:
            raise WeComFault(41044, "invalid config_id")
        return record


def qr_url(config_id: str, kind: str) -> str:
    """Return a stable, made-up image URL for a way's QR code or plugin."""
    token = hashlib.blake2b(f"{kind}:{config_id}".encode(), digest_size=12).hexdigest()
    return f"https://p.qpic.cn/wwhead/{kind}{token}/0"


def check_conclusions(value: object) -> JSON:
    """Check a conclusions object as it is set and return it as WeCom reads it back.

    Not all empty (40063); byte limits of endpoints.md §2.7 and a media_id-only image (40058).
    The image comes back as ``pic_url``.
    """
    if not isinstance(value, dict):
        raise WeComFault(INVALID, "invalid conclusions")
    parts = {k: v for k, v in value.items() if k in ("text", "image", "link", "miniprogram")}
    if not any(parts.values()):
        raise WeComFault(MISSING, "conclusions is empty")
    if any(not isinstance(v, dict) for v in parts.values()):
        raise WeComFault(INVALID, "invalid conclusions")
    for (part, key), limit in _CONCLUSION_LIMITS.items():
        text = parts.get(part, {}).get(key)
        if isinstance(text, str) and len(text.encode()) > limit:
            raise WeComFault(INVALID, f"conclusions.{part}.{key} exceeds {limit} bytes")
    image = parts.get("image")
    if image is not None:
        if set(image) != {"media_id"} or not isinstance(image["media_id"], str):
            raise WeComFault(INVALID, "conclusions.image takes only media_id")
        parts["image"] = {"pic_url": qr_url(image["media_id"], "pic")}
    return {k: v for k, v in parts.items() if v}


def add_via_way(
    state: CorpState, config_id: str, external_userid: str, *, now: int, userid: str | None = None
) -> Follow:
    """Play a customer adding a member through a contact way (a client-side action).

    The customer (already in the fake) follows ``userid`` (default: the way's first user)
    with ``add_way`` 1 and the way's ``state``.  Through a temp-session way this starts a
    temp session lasting ``chat_expires_in`` and uses up the QR code.  Setup mistakes (an
    unknown or expired way, a member not on it) raise ValueError.
    """
    registry = state.ext(ContactWayState)
    way = registry.contact_ways.get(config_id)
    if way is None or way.expired(now):
        raise ValueError(f"no usable contact way {config_id!r}")
    customer = state.customers.get(external_userid)
    if customer is None:
        raise ValueError(f"unknown customer {external_userid!r}: add it first")
    member = userid or way.user[0]
    if member not in way.user:
        raise ValueError(f"{member!r} does not use contact way {config_id!r}")
    follow = state.follow(external_userid, member) or new_follow(
        state,
        customer,
        Follower(userid=member, add_way=ADD_WAY_QR_CODE, state=way.state),
        now=now,
    )
    if way.is_temp:
        way.used = True
        expires_at = now + (way.chat_expires_in or TEMP_CHAT_DEFAULT)
        chat = TempChat(member, external_userid, config_id, expires_at)
        registry.temp_chats[(member, external_userid)] = chat
    return follow
