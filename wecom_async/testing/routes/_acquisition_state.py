"""Records of the customer-acquisition fake (获客助手, endpoints.md §3.11) and its test helpers.

``ctx.state.ext(AcquisitionState)`` holds a corp's links (with the clicks and customers
each one brought), the purchased quota and the issued chat keys.  Tests may lower
:attr:`AcquisitionState.link_limit` to reach 41095, turn off
:attr:`AcquisitionState.priority_supported` to reach 41200, set the quota with
``FakeWeCom.set_acquisition_quota``, and play what happens in WeChat, outside the API:
a customer opening a link (``click_acquisition_link``), a customer adding a member through
it (``add_via_acquisition_link``) and the member then receiving repeated messages, whose
callback carries a ChatKey (``issue_acquisition_chat_key``).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Final

from .._errors import WeComFault
from .._setup import Follower, new_customer, new_follow
from .._state import CorpState
from ._shared import DAY, day_of

__all__ = [
    "AcquiredCustomer",
    "AcquisitionLinkRecord",
    "AcquisitionState",
    "ChatKey",
    "QuotaBatch",
    "add_via_link",
    "click",
    "issue_chat_key",
    "link_url",
    "set_quota",
    "truncate_channel",
]

#: Links one corp may hold (the real number is not documented; lower it in a test).
LINK_LIMIT: Final = 10_000
#: Quota of a fresh fake corp, expiring a year after it is first read.
DEFAULT_BALANCE: Final = 1_000
#: add_way of a customer added through an acquisition link (endpoints.md §2.4).
ADD_WAY_ACQUISITION: Final = 16
#: ``customer_channel`` is truncated to this many UTF-8 bytes (D:97298).
MAX_CHANNEL_BYTES: Final = 64
#: A ChatKey is valid this long after its callback (D:100130).
CHAT_KEY_TTL: Final = 30 * 60
#: chat_status codes of an acquisition customer.
NOT_MESSAGED: Final = 0
MESSAGED: Final = 1


@dataclass(slots=True, eq=False)
class AcquiredCustomer:
    """A customer who added ``userid`` through a link, at ``time``."""

    external_userid: str
    userid: str
    time: int
    state: str | None = None
    chat_status: int = NOT_MESSAGED


@dataclass(slots=True, eq=False)
class AcquisitionLinkRecord:
    """One link as WeCom keeps it, with what it brought (clicks and customers, in order)."""

    seq: int
    link_id: str
    link_name: str
    url: str
    create_time: int
    user_list: list[str]
    department_list: list[int]
    skip_verify: bool = True
    mark_source: bool = True
    priority_type: int | None = None
    priority_userid_list: list[str] = field(default_factory=list)
    #: Times at which someone opened the link.
    clicks: list[int] = field(default_factory=list)
    customers: list[AcquiredCustomer] = field(default_factory=list)

    def members(self, state: CorpState) -> list[str]:
        """The active members who serve the link: ``user_list``, then its departments'."""
        listed = [u for u in self.user_list if _active(state, u)]
        departments = set(self.department_list)
        by_department = [
            s.userid
            for s in state.staff.values()
            if not s.resigned and departments & set(s.department)
        ]
        return list(dict.fromkeys(listed + by_department))


@dataclass(slots=True, eq=False)
class QuotaBatch:
    """Quota bought together: ``balance`` left, usable until the end of ``expire_date``'s day."""

    expire_date: int
    balance: int


@dataclass(slots=True, eq=False)
class ChatKey:
    """A ChatKey of the "member received repeated messages" callback."""

    chat_key: str
    userid: str
    external_userid: str
    link_id: str
    state: str | None
    recv_msg_cnt: int
    issued_at: int


class AcquisitionState:
    """A corp's acquisition links (seq order, for list cursors), quota and chat keys."""

    def __init__(self) -> None:
        """Create an empty registry with the default limits; the quota is set on first use."""
        self.links: dict[str, AcquisitionLinkRecord] = {}
        #: Links the corp may hold (41095 beyond it).
        self.link_limit = LINK_LIMIT
        #: Whether the corp's business category may set ``priority_option`` (else 41200).
        self.priority_supported = True
        #: Customers added through links so far (``total`` of the quota answer).
        self.used = 0
        self.chat_keys: dict[str, ChatKey] = {}
        self._batches: list[QuotaBatch] | None = None

    def add_link(
        self,
        state: CorpState,
        *,
        link_name: str,
        user_list: list[str],
        department_list: list[int],
        create_time: int,
        rng: random.Random | None = None,
    ) -> AcquisitionLinkRecord:
        """Register a new link with a fresh ``ca…`` id and its URL (no limit checked)."""
        link_id = state.new_id("ca", rng)
        record = AcquisitionLinkRecord(
            seq=state.next_seq(),
            link_id=link_id,
            link_name=link_name,
            url=link_url(link_id),
            create_time=create_time,
            user_list=user_list,
            department_list=department_list,
        )
        self.links[link_id] = record
        return record

    def link(self, link_id: str) -> AcquisitionLinkRecord:
        """Return a valid link, or answer 40058 (unknown or deleted link_id; unverified code)."""
        record = self.links.get(link_id)
        if record is None:
            raise WeComFault(40058, f"invalid link_id: {link_id}")
        return record

    def batches(self, now: float) -> list[QuotaBatch]:
        """The unexpired quota batches with a balance, earliest expiry first."""
        if self._batches is None:
            self.set_quota(DEFAULT_BALANCE, expire_date=day_of(int(now)) + 365 * DAY)
        assert self._batches is not None
        self._batches = [b for b in self._batches if b.balance > 0 and now < b.expire_date + DAY]
        return self._batches

    def set_quota(self, balance: int, *, expire_date: int) -> None:
        """Replace the quota with one batch of ``balance`` expiring on ``expire_date``'s day."""
        if balance < 0:
            raise ValueError("balance must not be negative")
        self._batches = [QuotaBatch(expire_date=day_of(expire_date), balance=balance)]

    def spend(self, now: float) -> bool:
        """Take one unit of quota (earliest expiry first); False when none is left."""
        batches = self.batches(now)
        if not batches:
            return False
        batches[0].balance -= 1
        self.used += 1
        return True


def _active(state: CorpState, userid: str) -> bool:
    staff = state.staff.get(userid)
    return staff is not None and not staff.resigned


def link_url(link_id: str) -> str:
    """Return a link's stable, made-up URL, shaped like WeCom's."""
    token = hashlib.blake2b(link_id.encode(), digest_size=8).hexdigest()
    return f"https://work.weixin.qq.com/ca/cawcde{token}"


def truncate_channel(channel: str) -> str:
    """``channel`` cut to 64 UTF-8 bytes without splitting a character, as WeCom cuts it."""
    return channel.encode("utf-8")[:MAX_CHANNEL_BYTES].decode("utf-8", errors="ignore")


def _usable_link(state: CorpState, link_id: str) -> AcquisitionLinkRecord:
    record = state.ext(AcquisitionState).links.get(link_id)
    if record is None:
        raise ValueError(f"no valid acquisition link {link_id!r}")
    return record


def set_quota(state: CorpState, balance: int, *, now: int, expire_date: int | None = None) -> None:
    """Replace the corp's quota; see ``FakeWeCom.set_acquisition_quota``."""
    when = expire_date if expire_date is not None else now + 365 * DAY
    state.ext(AcquisitionState).set_quota(balance, expire_date=when)


def click(state: CorpState, link_id: str, *, now: int) -> None:
    """Record someone opening a link; see ``FakeWeCom.click_acquisition_link``."""
    _usable_link(state, link_id).clicks.append(now)


def add_via_link(state: CorpState, link_id: str, *, now: int, channel: str | None = None) -> str:
    """Play a new customer adding a member through a link and return its external_userid.

    See ``FakeWeCom.add_via_acquisition_link``.
    """
    link = _usable_link(state, link_id)
    members = link.members(state)
    if not members:
        raise ValueError(f"acquisition link {link_id!r} has no active member")
    link.clicks.append(now)
    if not state.ext(AcquisitionState).spend(now):
        raise ValueError("the corp's acquisition quota is spent: nobody can be added")
    userid = members[len(link.customers) % len(members)]
    channel_state = truncate_channel(channel) if channel else None
    customer = new_customer(state, type=1)
    follower = Follower(
        userid=userid,
        add_way=ADD_WAY_ACQUISITION,
        oper_userid=customer.external_userid,
        state=channel_state,
    )
    new_follow(state, customer, follower, now=now)
    link.customers.append(AcquiredCustomer(customer.external_userid, userid, now, channel_state))
    return customer.external_userid


def issue_chat_key(
    state: CorpState, link_id: str, external_userid: str, *, now: int, recv_msg_cnt: int = 2
) -> str:
    """Mark a customer of a link as messaged and return the ChatKey its callback carries.

    See ``FakeWeCom.issue_acquisition_chat_key``.
    """
    link = _usable_link(state, link_id)
    record = next((c for c in link.customers if c.external_userid == external_userid), None)
    if record is None:
        raise ValueError(f"{external_userid!r} was not added through link {link_id!r}")
    record.chat_status = MESSAGED
    chat_key = state.new_id("ck")
    state.ext(AcquisitionState).chat_keys[chat_key] = ChatKey(
        chat_key=chat_key,
        userid=record.userid,
        external_userid=external_userid,
        link_id=link_id,
        state=record.state,
        recv_msg_cnt=recv_msg_cnt,
        issued_at=now,
    )
    return chat_key
