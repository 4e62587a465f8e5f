"""The in-memory corp: staff, customers, follow relations, non-customer contacts, tags, and
the app secrets with the access tokens issued for them.

Records are plain mutable slots dataclasses, so that seeding 100,000 customers stays fast
and tests may inspect (or, for a precise setup, adjust) them directly.  Records that are
paged by cursor carry a ``seq`` from one counter and are kept in ``seq`` order (see
:mod:`._cursor`).

A doc group keeps its own records out of this module: ``state.ext(MyGroupState)`` returns
the single ``MyGroupState()`` of this corp, created on first use.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from ._cursor import HasSeq, index_after
from ._json import JSON
from ._tagstore import TagRegistry
from ._tokens import TokenRegistry

__all__ = ["CorpState", "Customer", "Follow", "NonCustomer", "Staff"]

T = TypeVar("T")
_R = TypeVar("_R", bound=HasSeq)

#: external_userid prefixes: WeChat users (type 1) and WeCom users (type 2).
WECHAT_PREFIX: Final = "wm"
WECOM_PREFIX: Final = "wo"
_ALNUM: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#: Maps every byte to a letter or digit (random bytes -> id characters in one call).
_ID_TABLE: Final = bytes(_ALNUM[i % len(_ALNUM)] for i in range(256))


@dataclass(slots=True, eq=False)
class Staff:
    """A corp member (员工)."""

    userid: str
    name: str
    department: list[int] = field(default_factory=lambda: [1])
    #: Configured for 客户联系 (listed by get_follow_user_list; else 84074).
    customer_contact: bool = True
    #: Holds a valid interop (互通) license (else 701008 / ``unlicensed_userid_list``).
    licensed: bool = True
    #: Left the corp: no longer a valid userid; relations await reassignment.
    resigned: bool = False


@dataclass(slots=True, eq=False)
class Customer:
    """An external contact: type 1 WeChat user, type 2 WeCom user of another corp."""

    external_userid: str
    type: int
    name: str
    avatar: str | None = None
    gender: int = 0
    #: WeChat users only, when the corp bound an open-platform account.
    unionid: str | None = None
    #: WeCom users only (the next four).
    position: str | None = None
    corp_name: str | None = None
    corp_full_name: str | None = None
    external_profile: JSON | None = None
    #: Follow relations, in seq order.
    followers: list[Follow] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Follow:
    """A member's relation with a customer (``follow_user`` / ``follow_info``)."""

    seq: int
    external_userid: str
    userid: str
    createtime: int
    remark: str = ""
    description: str = ""
    #: Corp (``et…``) and strategy (``st…``) tag ids.
    tag_ids: list[str] = field(default_factory=list)
    #: Personal tags as (group_name, tag_name); they have no id.
    personal_tags: list[tuple[str, str]] = field(default_factory=list)
    #: WeChat customers only.
    remark_corp_name: str | None = None
    remark_mobiles: list[str] = field(default_factory=list)
    remark_pic_mediaid: str | None = None
    add_way: int = 0
    #: Only with add_way 10: {"nickname": str, "source": int}.
    wechat_channels: JSON | None = None
    oper_userid: str = ""
    state: str | None = None


@dataclass(slots=True, eq=False)
class NonCustomer:
    """A served external contact who is not a customer (met in a group chat)."""

    seq: int
    #: Masked nickname, e.g. "张*".
    name: str
    follow_userid: str
    add_time: int
    chat_id: str | None = None
    chat_name: str | None = None


class CorpState:
    """The records of one fake corp; mutate it through the fake's lock."""

    def __init__(self, corp_id: str) -> None:
        """Create an empty corp."""
        self.corp_id = corp_id
        #: Members by userid, in creation order.
        self.staff: dict[str, Staff] = {}
        #: Customers by external_userid, in creation order.
        self.customers: dict[str, Customer] = {}
        self.tags = TagRegistry(self.new_id)
        #: The corp's app secrets and the tokens issued for them (``gettoken``).
        self.tokens = TokenRegistry(corp_id)
        self._relations: dict[tuple[str, str], Follow] = {}
        self._by_user: dict[str, list[Follow]] = {}
        self._contacts: list[Follow | NonCustomer] = []
        self._ids: set[str] = set()
        self._rng = random.Random(f"ids:{corp_id}")
        self._seq = 0
        self._ext: dict[type[object], object] = {}

    # -- extension registry -------------------------------------------------------------

    def ext(self, cls: type[T]) -> T:
        """Return this corp's single ``cls()`` instance, creating it on first use."""
        try:
            return self._ext[cls]  # type: ignore[return-value]
        except KeyError:
            instance = self._ext[cls] = cls()
            return instance

    # -- ids and sequence numbers -------------------------------------------------------

    def next_seq(self) -> int:
        """Return the next sequence number for a cursor-paged record."""
        self._seq += 1
        return self._seq

    def new_id(self, prefix: str, rng: random.Random | None = None) -> str:
        """Return a fresh 32-character id ``prefix`` + 30 random letters and digits."""
        source = rng or self._rng
        while True:
            body = source.randbytes(32 - len(prefix)).translate(_ID_TABLE).decode("ascii")
            candidate = prefix + body
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    # -- staff and customers ------------------------------------------------------------

    def add_staff(self, staff: Staff) -> Staff:
        """Register a member; a duplicate userid raises ValueError."""
        if staff.userid in self.staff:
            raise ValueError(f"staff {staff.userid!r} already exists")
        self.staff[staff.userid] = staff
        self._by_user[staff.userid] = []
        return staff

    def add_customer(self, customer: Customer) -> Customer:
        """Register a customer (without relations); a duplicate id raises ValueError."""
        if customer.external_userid in self.customers:
            raise ValueError(f"customer {customer.external_userid!r} already exists")
        self._ids.add(customer.external_userid)
        self.customers[customer.external_userid] = customer
        return customer

    def attach(self, follow: Follow) -> Follow:
        """Add a relation whose ``seq`` was just taken from :meth:`next_seq`."""
        key = (follow.external_userid, follow.userid)
        if key in self._relations:
            raise ValueError(f"{follow.userid!r} already follows {follow.external_userid!r}")
        if follow.userid not in self.staff:
            raise ValueError(f"unknown staff {follow.userid!r}")
        self.customers[follow.external_userid].followers.append(follow)
        self._relations[key] = follow
        self._by_user[follow.userid].append(follow)
        self._contacts.append(follow)
        return follow

    def detach(self, external_userid: str, userid: str) -> Follow:
        """Remove a relation and return it; a missing relation raises KeyError."""
        follow = self._relations.pop((external_userid, userid))
        _remove_seq(self.customers[external_userid].followers, follow)
        _remove_seq(self._by_user[userid], follow)
        _remove_seq(self._contacts, follow)
        return follow

    def add_non_customer(self, contact: NonCustomer) -> NonCustomer:
        """Add a non-customer contact whose ``seq`` was just taken from :meth:`next_seq`."""
        self._contacts.append(contact)
        return contact

    # -- reads --------------------------------------------------------------------------

    def follow(self, external_userid: str, userid: str) -> Follow | None:
        """Return the relation between a customer and a member, if any."""
        return self._relations.get((external_userid, userid))

    def follows_of(self, userid: str) -> Sequence[Follow]:
        """Return a member's relations in seq order (empty for an unknown member)."""
        return self._by_user.get(userid, ())

    def contacts(self) -> Sequence[Follow | NonCustomer]:
        """Return every relation and non-customer contact, in seq order."""
        return self._contacts

    def relation_count(self) -> int:
        """Return the number of follow relations."""
        return len(self._relations)


def _remove_seq(items: list[_R], record: HasSeq) -> None:
    index = index_after(items, record.seq - 1)
    if index < len(items) and items[index] is record:
        del items[index]
