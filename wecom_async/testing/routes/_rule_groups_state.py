"""Records and rules of the rule-group fake (endpoints.md #17-#22, #53-#58, D:94883, D:94890).

Each kind of rule group lives in its own store, ``ctx.state.ext(CustomerRuleGroups)`` or
``ctx.state.ext(MomentRuleGroups)``; the two differ only in their privilege flags.  Ids are
ints from 1, increasing, per kind.  Range nodes carry a ``seq`` so that ``get_range``
pages stay stable while nodes are added or removed between pages.

Rules the docs give, enforced here: admins and member nodes must be members of the corp
(60111, as for any unknown userid); at most 3,000 nodes in a group's range; at most 5
levels; a child's range is a subset of its parent's and a child inherits its parent's
privileges (a ``privilege`` sent for a child is ignored).  The five base customer rights
cannot be revoked: ``false`` for them is stored as ``true``.

Choices where the docs are silent (unverified): every rule-group refusal without a
documented code answers 40058 (:data:`INVALID`): an unknown or deleted strategy_id or
parent_id, a range outside the parent's, a 6th level, over 3,000 nodes.  The fake has no
department tree: department 1 is the root and covers everyone, another department covers
the members listed in it (``Staff.department``) and itself.  Deleting a group deletes its
descendants too; removing nodes from a group removes them from its descendants' ranges
where the parent no longer covers them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

from .._errors import WeComFault
from .._params import INVALID
from .._state import CorpState

__all__ = [
    "BASE_CUSTOMER_PRIVILEGES",
    "CUSTOMER_PRIVILEGES",
    "DEPARTMENT",
    "MAX_LEVELS",
    "MAX_RANGE_NODES",
    "MEMBER",
    "MOMENT_PRIVILEGES",
    "NO_USER",
    "ROOT_PARTY",
    "CustomerRuleGroups",
    "MomentRuleGroups",
    "NodeKey",
    "RangeNode",
    "RuleGroup",
    "RuleGroupStore",
]

#: Range node types.
MEMBER: Final = 1
DEPARTMENT: Final = 2
#: The root department: a node of it covers every member and department.
ROOT_PARTY: Final = 1
#: Nodes one group's range may hold, and how deep groups nest.
MAX_RANGE_NODES: Final = 3000
MAX_LEVELS: Final = 5
#: errcode for a userid that is not an active member.
NO_USER: Final = 60111

#: customer_strategy privilege flags, in the docs' order; the first five are base rights.
CUSTOMER_PRIVILEGES: Final = (
    "view_customer_list",
    "view_customer_data",
    "view_room_list",
    "contact_me",
    "join_room",
    "share_customer",
    "oper_resign_customer",
    "oper_resign_group",
    "send_customer_msg",
    "edit_welcome_msg",
    "view_behavior_data",
    "view_room_data",
    "send_group_msg",
    "room_deduplication",
    "rapid_reply",
    "onjob_customer_transfer",
    "edit_anti_spam_rule",
    "export_customer_list",
    "export_customer_data",
    "export_customer_group_list",
    "manage_customer_tag",
)
BASE_CUSTOMER_PRIVILEGES: Final = frozenset(CUSTOMER_PRIVILEGES[:5])
#: moment_strategy privilege flags.
MOMENT_PRIVILEGES: Final = ("view_moment_list", "send_moment", "manage_moment_cover_and_sign")

#: A node's identity: (MEMBER, userid) or (DEPARTMENT, partyid).
NodeKey = tuple[int, str | int]


@dataclass(slots=True, eq=False)
class RangeNode:
    """A member or department in a group's range."""

    seq: int
    key: NodeKey

    def render(self) -> dict[str, object]:
        """The ``range[]`` object: ``{type, userid}`` or ``{type, partyid}``."""
        kind, value = self.key
        return {"type": kind, "userid" if kind == MEMBER else "partyid": value}


@dataclass(slots=True, eq=False)
class RuleGroup:
    """One rule group."""

    strategy_id: int
    parent_id: int
    strategy_name: str
    create_time: int
    admin_list: list[str]
    #: The group's own flags (a child's are ignored: it inherits its parent's).
    privilege: dict[str, bool]
    #: The range, in seq order.
    nodes: list[RangeNode] = field(default_factory=list)

    def keys(self) -> set[NodeKey]:
        """The range as a set of node keys."""
        return {node.key for node in self.nodes}


class RuleGroupStore:
    """The rule groups of one kind; a subclass per kind names its privilege flags."""

    PRIVILEGES: ClassVar[tuple[str, ...]] = ()
    BASE: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        """Create an empty store."""
        #: Live groups by strategy_id, in creation (= id) order.
        self.groups: dict[int, RuleGroup] = {}
        self._next_id = 1
        self._seq = 0

    # -- reads ------------------------------------------------------------------------

    def live(self, strategy_id: int, name: str = "strategy_id") -> RuleGroup:
        """The live group ``strategy_id``; unknown or deleted answers 40058."""
        group = self.groups.get(strategy_id)
        if group is None:
            raise WeComFault(INVALID, f"invalid {name}: {strategy_id}")
        return group

    def level(self, group: RuleGroup) -> int:
        """1 for a top-level group, its parent's level + 1 otherwise."""
        depth = 1
        while group.parent_id:
            group = self.groups[group.parent_id]
            depth += 1
        return depth

    def effective_privilege(self, group: RuleGroup) -> dict[str, bool]:
        """The flags the group has: its top-level ancestor's (children inherit them)."""
        while group.parent_id:
            group = self.groups[group.parent_id]
        return group.privilege

    def children(self, group: RuleGroup) -> list[RuleGroup]:
        """The live direct children of ``group``."""
        return [g for g in self.groups.values() if g.parent_id == group.strategy_id]

    def render(self, group: RuleGroup) -> dict[str, object]:
        """The ``strategy`` object of ``get``."""
        return {
            "strategy_id": group.strategy_id,
            "parent_id": group.parent_id,
            "strategy_name": group.strategy_name,
            "create_time": group.create_time,
            "admin_list": list(group.admin_list),
            "privilege": dict(self.effective_privilege(group)),
        }

    # -- writes -----------------------------------------------------------------------

    def privileges(self, given: Mapping[str, bool] | None) -> dict[str, bool]:
        """Every flag of the kind: WeCom's default (true) updated with ``given``."""
        flags = dict.fromkeys(self.PRIVILEGES, True)
        for name, value in (given or {}).items():
            if name in flags and name not in self.BASE:
                flags[name] = value
        return flags

    def create(
        self,
        state: CorpState,
        *,
        name: str,
        admins: list[str],
        nodes: Sequence[NodeKey],
        parent_id: int,
        privilege: Mapping[str, bool] | None,
        now: int,
    ) -> RuleGroup:
        """Check and store a new group; returns it."""
        check_members(state, admins)
        parent = self.live(parent_id, "parent_id") if parent_id else None
        if parent is not None and self.level(parent) >= MAX_LEVELS:
            raise WeComFault(INVALID, f"rule groups nest at most {MAX_LEVELS} levels")
        group = RuleGroup(
            strategy_id=self._next_id,
            parent_id=parent_id,
            strategy_name=name,
            create_time=now,
            admin_list=list(dict.fromkeys(admins)),
            privilege=self.privileges(privilege),
        )
        self.append(group, self._new_nodes(state, group, nodes, parent=parent, removing=set()))
        self.groups[group.strategy_id] = group
        self._next_id += 1
        return group

    def edit(
        self,
        state: CorpState,
        group: RuleGroup,
        *,
        name: str | None,
        admins: list[str] | None,
        privilege: Mapping[str, bool] | None,
        add: Sequence[NodeKey],
        remove: Sequence[NodeKey],
    ) -> None:
        """Check every change first, then apply them (removals before additions)."""
        if admins is not None:
            check_members(state, admins)
        parent = self.groups.get(group.parent_id)
        fresh = self._new_nodes(state, group, add, parent=parent, removing=set(remove))
        group.strategy_name = name if name is not None else group.strategy_name
        if admins is not None:
            group.admin_list = list(dict.fromkeys(admins))
        if privilege is not None:
            group.privilege = self.privileges(privilege)
        self.remove_nodes(state, group, remove)
        self.append(group, fresh)

    def _new_nodes(
        self,
        state: CorpState,
        group: RuleGroup,
        keys: Iterable[NodeKey],
        *,
        parent: RuleGroup | None,
        removing: set[NodeKey],
    ) -> list[NodeKey]:
        """The nodes of ``keys`` not in the range, checked: members exist, the parent
        covers them, the range stays within 3,000 nodes."""
        current = group.keys() - removing
        fresh = [k for k in dict.fromkeys(keys) if k not in current]
        check_members(state, [str(v) for t, v in fresh if t == MEMBER])
        if parent is not None:
            outside = [k for k in fresh if not covers(state, parent, k)]
            if outside:
                raise WeComFault(INVALID, f"range node {outside[0]} is outside the parent's range")
        if len(current) + len(fresh) > MAX_RANGE_NODES:
            raise WeComFault(INVALID, f"a rule group's range holds at most {MAX_RANGE_NODES} nodes")
        return fresh

    def append(self, group: RuleGroup, keys: Iterable[NodeKey]) -> None:
        """Append nodes unchecked (the checks are :meth:`_new_nodes`; tests may use it)."""
        for key in keys:
            self._seq += 1
            group.nodes.append(RangeNode(self._seq, key))

    def remove_nodes(self, state: CorpState, group: RuleGroup, keys: Iterable[NodeKey]) -> None:
        """Drop nodes (absent ones are ignored), then what descendants lost coverage of."""
        dropped = set(keys)
        group.nodes = [n for n in group.nodes if n.key not in dropped]
        for child in self.children(group):
            outside = [n.key for n in child.nodes if not covers(state, group, n.key)]
            if outside:
                self.remove_nodes(state, child, outside)

    def delete(self, group: RuleGroup) -> None:
        """Delete a group and its descendants."""
        for child in self.children(group):
            self.delete(child)
        del self.groups[group.strategy_id]


class CustomerRuleGroups(RuleGroupStore):
    """Customer rule groups (客户联系规则组, D:94883)."""

    PRIVILEGES = CUSTOMER_PRIVILEGES
    BASE = BASE_CUSTOMER_PRIVILEGES


class MomentRuleGroups(RuleGroupStore):
    """Moment rule groups (客户朋友圈规则组, D:94890)."""

    PRIVILEGES = MOMENT_PRIVILEGES


def check_members(state: CorpState, userids: Iterable[str]) -> None:
    """Answer 60111 for the first userid that is not an active member."""
    for userid in userids:
        staff = state.staff.get(userid)
        if staff is None or staff.resigned:
            raise WeComFault(NO_USER, f"userid not found: {userid}")


def covers(state: CorpState, parent: RuleGroup, key: NodeKey) -> bool:
    """Whether ``parent``'s range contains the node ``key`` (see the module docstring)."""
    keys = parent.keys()
    if key in keys or (DEPARTMENT, ROOT_PARTY) in keys:
        return True
    kind, value = key
    if kind != MEMBER:
        return False
    staff = state.staff.get(str(value))
    return staff is not None and any((DEPARTMENT, d) in keys for d in staff.department)
