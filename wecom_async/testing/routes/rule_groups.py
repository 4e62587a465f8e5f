"""Customer and moment rule groups (endpoints.md #17-#22, #53-#58, D:94883, D:94890).

Both kinds are served by the same handlers, told which kind by a :class:`_Kind`; the
records and rules are in :mod:`._rule_groups_state` (read its docstring for the choices made
where the docs are silent).

Behaviour and errcodes:

* list: ``strategy[]{strategy_id}`` in id order; ``get_range``: ``range[]`` in the order
  nodes were added.  ``limit`` 1-1000 (default 1000, 40058 outside); ``next_cursor`` is
  left out on the last page, as documented for rule-group lists; 50100 for a cursor not
  issued for that endpoint (and, for get_range, that strategy_id).
* get / get_range / edit / del: 40063 without ``strategy_id``; 40058 for an unknown or
  deleted one (code unverified: the docs list none).
* create: 40063 without ``strategy_name``, ``admin_list`` or ``range``; 40058 for over 20
  admins or over 100 nodes in one list, a node of an unknown type or a partyid below 1,
  40063 for a node without its userid / partyid; 60111 for an admin or member node that
  is not an active member; 40058 for an unknown parent, a node outside the parent's
  range, a 6th level or over 3,000 nodes.
* edit: as create for what it carries.  An empty ``strategy_name``, ``admin_list`` or
  ``privilege`` changes nothing (the docs: "如果为空则不对…做编辑"); ``admin_list`` and
  ``privilege`` otherwise replace the old values, and unknown privilege flags are ignored.
  ``range_del`` (absent nodes ignored) is applied before ``range_add`` (present nodes
  ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Final

from .._cursor import index_after
from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, opt_str_list, req_str
from .._route import JSON, RequestContext, Route, SeedContext
from ._rule_groups_state import (
    DEPARTMENT,
    MEMBER,
    CustomerRuleGroups,
    MomentRuleGroups,
    NodeKey,
    RuleGroupStore,
)

__all__ = ["ROUTES", "SEEDERS"]

#: Admins per group, nodes per request list, items per page.
MAX_ADMINS: Final = 20
MAX_NODES_PER_CALL: Final = 100
MAX_PAGE: Final = 1000


@dataclass(frozen=True)
class _Kind:
    """One kind of rule group: its path prefix and its store."""

    prefix: str
    store: type[RuleGroupStore]

    def path(self, name: str) -> str:
        """The path of one of the kind's endpoints."""
        return f"{self.prefix}/{name}"


_CUSTOMER: Final = _Kind("externalcontact/customer_strategy", CustomerRuleGroups)
_MOMENT: Final = _Kind("externalcontact/moment_strategy", MomentRuleGroups)


# -- parameters --------------------------------------------------------------------------


def _strategy_id(body: JSON) -> int:
    value = opt_int(body, "strategy_id")
    if value is None:
        raise WeComFault(MISSING, "strategy_id missing")
    return value


def _limit(body: JSON) -> int:
    limit = opt_int(body, "limit")
    if limit is None:
        return MAX_PAGE
    if not 1 <= limit <= MAX_PAGE:
        raise WeComFault(INVALID, f"limit must be in [1, {MAX_PAGE}]")
    return limit


def _admins(body: JSON, *, required: bool) -> list[str] | None:
    admins = opt_str_list(body, "admin_list", max_items=MAX_ADMINS)
    if not admins:
        if required:
            raise WeComFault(MISSING, "admin_list missing")
        return None
    if not all(admins):
        raise WeComFault(INVALID, "invalid admin_list: empty userid")
    return admins


def _node(item: object, name: str) -> NodeKey:
    if not isinstance(item, dict):
        raise WeComFault(INVALID, f"invalid {name}: must be a list of objects")
    kind = opt_int(item, "type")
    if kind == MEMBER:
        return MEMBER, req_str(item, "userid")
    if kind == DEPARTMENT:
        partyid = opt_int(item, "partyid")
        if partyid is None:
            raise WeComFault(MISSING, f"{name}.partyid missing")
        if partyid < 1:
            raise WeComFault(INVALID, f"invalid {name}.partyid: {partyid}")
        return DEPARTMENT, partyid
    raise WeComFault(INVALID if kind is not None else MISSING, f"invalid {name}.type: {kind}")


def _nodes(body: JSON, name: str, *, required: bool) -> list[NodeKey]:
    raw = body.get(name)
    if raw is None or raw == []:
        if required:
            raise WeComFault(MISSING, f"{name} missing")
        return []
    if not isinstance(raw, list):
        raise WeComFault(INVALID, f"invalid {name}: must be a list")
    if len(raw) > MAX_NODES_PER_CALL:
        raise WeComFault(INVALID, f"{name} exceeds {MAX_NODES_PER_CALL} nodes")
    return [_node(item, name) for item in raw]


def _privilege(body: JSON, store: RuleGroupStore) -> dict[str, bool] | None:
    raw = body.get("privilege")
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise WeComFault(INVALID, "invalid privilege: must be an object")
    flags = {k: v for k, v in raw.items() if k in store.PRIVILEGES}
    bad = [k for k, v in flags.items() if not isinstance(v, bool)]
    if bad:
        raise WeComFault(INVALID, f"invalid privilege.{bad[0]}: must be a bool")
    return flags


def _resume(ctx: RequestContext, kind: str, **bound: int) -> int:
    """The position after which a page starts: 0, or the ``after`` of the cursor."""
    cursor = opt_str(ctx.body, "cursor")
    if not cursor:
        return 0
    fields = ctx.cursors.decode(kind, cursor)
    for name, value in bound.items():
        if fields.get(name) != value:
            raise WeComFault(50100)
    return ctx.cursors.int_field(fields, "after")


# -- handlers ----------------------------------------------------------------------------


def _list(ctx: RequestContext, kind: _Kind) -> JSON:
    """POST <kind>/list -> strategy[]{strategy_id}, next_cursor while more remain."""
    store, limit = ctx.state.ext(kind.store), _limit(ctx.body)
    after = _resume(ctx, kind.path("list"))
    ids = [i for i in store.groups if i > after]
    out: JSON = {"strategy": [{"strategy_id": i} for i in ids[:limit]]}
    if len(ids) > limit:
        out["next_cursor"] = ctx.cursors.encode(kind.path("list"), after=ids[limit - 1])
    return out


def _get(ctx: RequestContext, kind: _Kind) -> JSON:
    """POST <kind>/get -> strategy{...} with the effective privileges."""
    store = ctx.state.ext(kind.store)
    return {"strategy": store.render(store.live(_strategy_id(ctx.body)))}


def _get_range(ctx: RequestContext, kind: _Kind) -> JSON:
    """POST <kind>/get_range -> range[], next_cursor while more remain."""
    store = ctx.state.ext(kind.store)
    group = store.live(_strategy_id(ctx.body))
    limit = _limit(ctx.body)
    path = kind.path("get_range")
    start = index_after(group.nodes, _resume(ctx, path, strategy_id=group.strategy_id))
    page = group.nodes[start : start + limit]
    out: JSON = {"range": [node.render() for node in page]}
    if start + limit < len(group.nodes):
        out["next_cursor"] = ctx.cursors.encode(
            path, strategy_id=group.strategy_id, after=page[-1].seq
        )
    return out


def _create(ctx: RequestContext, kind: _Kind) -> JSON:
    """POST <kind>/create -> strategy_id."""
    body, store = ctx.body, ctx.state.ext(kind.store)
    name = req_str(body, "strategy_name")
    admins = _admins(body, required=True) or []
    nodes = _nodes(body, "range", required=True)
    parent_id = opt_int(body, "parent_id") or 0
    if parent_id < 0:
        raise WeComFault(INVALID, f"invalid parent_id: {parent_id}")
    group = store.create(
        ctx.state,
        name=name,
        admins=admins,
        nodes=nodes,
        parent_id=parent_id,
        privilege=_privilege(body, store),
        now=int(ctx.clock.now()),
    )
    return {"strategy_id": group.strategy_id}


def _edit(ctx: RequestContext, kind: _Kind) -> JSON:
    """POST <kind>/edit: name, admins, privileges, range_add / range_del."""
    body, store = ctx.body, ctx.state.ext(kind.store)
    group = store.live(_strategy_id(body))
    store.edit(
        ctx.state,
        group,
        name=opt_str(body, "strategy_name") or None,
        admins=_admins(body, required=False),
        privilege=_privilege(body, store),
        add=_nodes(body, "range_add", required=False),
        remove=_nodes(body, "range_del", required=False),
    )
    return {}


def _delete(ctx: RequestContext, kind: _Kind) -> JSON:
    """POST <kind>/del: delete the group and its descendants."""
    store = ctx.state.ext(kind.store)
    store.delete(store.live(_strategy_id(ctx.body)))
    return {}


_HANDLERS: Final = (
    ("list", _list),
    ("get", _get),
    ("get_range", _get_range),
    ("create", _create),
    ("edit", _edit),
    ("del", _delete),
)


def seed_rule_groups(ctx: SeedContext) -> None:
    """A customer rule group (id 1, which the seeded strategy tags belong to) with one
    child, and a moment rule group, managed by the first members."""
    if len(ctx.staff) < 3:
        return
    now = int(ctx.now) - ctx.rng.randint(1, 30) * 86400
    first = ctx.staff[0]
    members: list[NodeKey] = [(MEMBER, userid) for userid in ctx.staff[:3]]
    customer = ctx.state.ext(CustomerRuleGroups)
    east = customer.create(
        ctx.state,
        name="华东区规则组",
        admins=[first],
        nodes=[*members, (DEPARTMENT, 2)],
        parent_id=0,
        privilege={"share_customer": False},
        now=now,
    )
    customer.create(
        ctx.state,
        name="上海分组",
        admins=[ctx.staff[1]],
        nodes=members[1:],
        parent_id=east.strategy_id,
        privilege=None,
        now=now,
    )
    ctx.state.ext(MomentRuleGroups).create(
        ctx.state,
        name="朋友圈运营",
        admins=[first],
        nodes=members,
        parent_id=0,
        privilege={"manage_moment_cover_and_sign": False},
        now=now,
    )


ROUTES = [
    Route("POST", kind.path(name), partial(handler, kind=kind))
    for kind in (_CUSTOMER, _MOMENT)
    for name, handler in _HANDLERS
]
SEEDERS = [seed_rule_groups]
