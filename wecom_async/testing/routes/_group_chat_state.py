"""Customer groups of the fake corp: records, queries and the setup helper.

Other route modules read groups through ``ctx.state.ext(GroupChatState)`` (e.g. a join way
checks its ``chat_id_list`` with :meth:`GroupChatState.customer_group`; an export lists
:meth:`GroupChatState.ordered`).  Tests add groups with ``FakeWeCom.add_group_chat``.

A group's inheritance status (0 normal, 1 owner resigned, 2 inheriting, 3 inherited) is
:meth:`GroupChatState.status_of`: a stored 2 or 3 wins, otherwise a resigned owner makes it
1, so marking a member resigned is enough to make their groups "awaiting inheritance".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from .._state import CorpState

__all__ = [
    "CHAT_ID_PREFIX",
    "STATUS_INHERITED",
    "STATUS_INHERITING",
    "STATUS_NORMAL",
    "STATUS_OWNER_RESIGNED",
    "GroupChat",
    "GroupChatState",
    "GroupMember",
    "member_version",
    "new_group_chat",
]

#: chat_id prefix seen in the official examples (endpoints.md §0.3).
CHAT_ID_PREFIX: Final = "wr"
STATUS_NORMAL: Final = 0
STATUS_OWNER_RESIGNED: Final = 1
STATUS_INHERITING: Final = 2
STATUS_INHERITED: Final = 3
#: member_list[].type
MEMBER_STAFF: Final = 1
MEMBER_EXTERNAL: Final = 2


@dataclass(slots=True, eq=False)
class GroupMember:
    """One ``member_list[]`` entry: a member (type 1) or an external contact (type 2)."""

    userid: str
    type: int
    join_time: int
    #: 1 direct invite, 2 invite link, 3 scanned the group QR code.
    join_scene: int = 1
    #: The inviting member's userid; only internal inviters are reported.
    invitor: str | None = None
    group_nickname: str = ""
    #: Returned only with need_name=1.
    name: str = ""
    #: WeChat customers of a corp bound to a WeChat developer account only.
    unionid: str | None = None
    #: The join way's ``state`` the member joined through, if any.
    state: str | None = None


@dataclass(slots=True, eq=False)
class GroupChat:
    """A group chat owned by a corp member."""

    seq: int
    chat_id: str
    name: str
    owner: str
    create_time: int
    notice: str = ""
    members: list[GroupMember] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)
    member_version: str = ""
    #: Stored inheritance status; see the module doc (:meth:`GroupChatState.status_of`).
    status: int = STATUS_NORMAL
    #: False for an internal group: not listed, and 90501 where a customer group is needed.
    customer_group: bool = True
    #: The mini-program opengid that maps to this group, if any.
    opengid: str | None = None
    #: Times of the on-job transfers of this group.
    transfers: list[int] = field(default_factory=list)


def member_version(chat_id: str, members: Sequence[GroupMember]) -> str:
    """Return the 32-hex-digit member-list version of a group's current members."""
    text = "\x1f".join([chat_id, *(m.userid for m in members)])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class GroupChatState:
    """Every group of one corp, by chat_id and in seq (creation) order."""

    def __init__(self) -> None:
        """Create an empty registry."""
        self.groups: dict[str, GroupChat] = {}
        #: opengid -> chat_id.
        self.opengids: dict[str, str] = {}

    def add(self, group: GroupChat) -> GroupChat:
        """Register ``group`` (its seq from ``CorpState.next_seq``); duplicates raise."""
        if group.chat_id in self.groups:
            raise ValueError(f"group {group.chat_id!r} already exists")
        if group.opengid is not None:
            if group.opengid in self.opengids:
                raise ValueError(f"opengid {group.opengid!r} already maps to a group")
            self.opengids[group.opengid] = group.chat_id
        self.groups[group.chat_id] = group
        return group

    def get(self, chat_id: str) -> GroupChat | None:
        """Return the group (customer or internal), if it exists."""
        return self.groups.get(chat_id)

    def customer_group(self, chat_id: str) -> GroupChat | None:
        """Return the group if it exists and is a customer group (else None)."""
        group = self.groups.get(chat_id)
        return group if group is not None and group.customer_group else None

    def ordered(self) -> list[GroupChat]:
        """Return every customer group in seq order."""
        return [g for g in self.groups.values() if g.customer_group]

    def status_of(self, state: CorpState, group: GroupChat) -> int:
        """Return the group's inheritance status as groupchat/list reports it."""
        if group.status in (STATUS_INHERITING, STATUS_INHERITED):
            return group.status
        owner = state.staff.get(group.owner)
        return STATUS_OWNER_RESIGNED if owner is not None and owner.resigned else STATUS_NORMAL

    def set_owner(self, group: GroupChat, new_owner: str, *, status: int) -> None:
        """Hand ``group`` to ``new_owner`` (joining it as a member if needed)."""
        group.owner = new_owner
        group.status = status
        group.admins = [a for a in group.admins if a != new_owner]
        if all(m.userid != new_owner for m in group.members):
            group.members.append(
                GroupMember(userid=new_owner, type=MEMBER_STAFF, join_time=group.create_time)
            )
            group.member_version = member_version(group.chat_id, group.members)


def new_group_chat(
    state: CorpState,
    owner: str,
    *,
    now: int,
    members: Sequence[str | GroupMember] = (),
    name: str | None = None,
    chat_id: str | None = None,
    notice: str = "",
    admins: Sequence[str] = (),
    create_time: int | None = None,
    status: int = STATUS_NORMAL,
    customer_group: bool = True,
    opengid: str | None = None,
) -> GroupChat:
    """Create and register a group owned by the member ``owner`` and return it.

    ``members`` are userids of members (type 1) or external_userids of customers
    (type 2), or ready :class:`GroupMember` records; the owner is always a member.
    Unknown ids raise ValueError, as does an owner who is not a member of the corp.
    """
    if owner not in state.staff:
        raise ValueError(f"the owner {owner!r} is not a member of the corp")
    created = create_time if create_time is not None else now
    records = [_member(state, owner, created)]
    for member in members:
        record = member if isinstance(member, GroupMember) else _member(state, member, created)
        if all(r.userid != record.userid for r in records):
            records.append(record)
    unknown_admins = [a for a in admins if a not in state.staff]
    if unknown_admins:
        raise ValueError(f"admins {unknown_admins} are not members of the corp")
    chat_id = chat_id or state.new_id(CHAT_ID_PREFIX)
    group = GroupChat(
        seq=state.next_seq(),
        chat_id=chat_id,
        name=name if name is not None else f"客户群{chat_id[-4:]}",
        owner=owner,
        create_time=created,
        notice=notice,
        members=records,
        admins=list(admins),
        member_version=member_version(chat_id, records),
        status=status,
        customer_group=customer_group,
        opengid=opengid,
    )
    return state.ext(GroupChatState).add(group)


def _member(state: CorpState, userid: str, join_time: int) -> GroupMember:
    staff = state.staff.get(userid)
    if staff is not None:
        return GroupMember(userid=userid, type=MEMBER_STAFF, join_time=join_time, name=staff.name)
    customer = state.customers.get(userid)
    if customer is None:
        raise ValueError(f"{userid!r} is neither a member nor a customer")
    return GroupMember(
        userid=userid,
        type=MEMBER_EXTERNAL,
        join_time=join_time,
        name=customer.name,
        unionid=customer.unionid,
    )
