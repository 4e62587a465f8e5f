"""Corp tags, strategy tags and mark_tag (endpoints.md #8-#16, D:92117, D:94882, D:92118).

Tags live in the corp's tag registry (``ctx.state.tags``), the same one that
``externalcontact/get`` and ``batch/get_by_user`` render a relation's tags from; the rules
are in :mod:`._tags_state`.

Behaviour and errcodes:

* lists: no filter gives every live group with its live tags; ``group_id`` (which wins over
  ``tag_id``) gives those groups with all their tags, each flagged ``deleted``; ``tag_id``
  gives those tags in their groups, tags and groups flagged ``deleted``.  The strategy list
  never flags and reports live records only.  Unknown ids are skipped; groups and tags
  come with the higher ``order`` first.
* add: 40063 without tags or without ``group_id`` / ``group_name``; 40068 unknown
  ``group_id``; a same-name group (in the same rule group) receives the tags; same-name
  tags of one request make one tag; 40071 when a tag of that name is in the group already;
  40126 past 10,000 live corp + strategy tags.  The answer holds the new tags only.
* edit: 40068 unknown id; 40071 a group name taken by another group (of the same rule
  group) or a tag name taken in its group.  Neither name nor order changes nothing.
* del: 40063 both lists empty; 40068 any unknown id (nothing is deleted then); deleting
  every tag of a group deletes the group.
* mark_tag: 60111 unknown member, 41035 / 40096 missing / unknown external_userid, 84061 no
  relation, 40063 both lists empty, 40068 an unknown ``add_tag`` id (or a ``remove_tag``
  id never created), 40144 past 3,000 live tags on the relation.  Removal is applied
  before addition, so a tag in both lists ends up marked.
* 40058 for names over 30 characters and orders outside [0, 2^32).
"""

from __future__ import annotations

from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, opt_str_list, req_str
from .._route import JSON, RequestContext, Route
from .._tagstore import CorpTag
from ._tags_state import (
    INVALID_TAG,
    NAME_EXISTS,
    NAME_MAX,
    Scope,
    by_order,
    check_customer_quota,
    check_quota,
    live_tags,
    parse_new_tags,
    render_group,
    req_order,
)

__all__ = ["ROUTES"]

_CORP = Scope(strategy=False)


def _list(ctx: RequestContext, scope: Scope, *, flags: bool) -> list[JSON]:
    reg = ctx.state.tags
    group_ids = opt_str_list(ctx.body, "group_id")
    tag_ids = opt_str_list(ctx.body, "tag_id")
    if group_ids:
        found = [g for g in dict.fromkeys(group_ids) if scope.live_group(reg, g) is not None]
        groups = by_order(reg.groups[g] for g in found)
        return [
            render_group(
                g,
                [reg.tags[t] for t in g.tag_ids] if flags else live_tags(reg, g),
                tag_deleted=flags,
            )
            for g in groups
        ]
    if tag_ids:
        chosen: dict[str, list[CorpTag]] = {}
        for tag_id in dict.fromkeys(tag_ids):
            tag = reg.tags.get(tag_id)
            if tag is None or not scope.owns(reg.groups[tag.group_id]):
                continue
            if flags or reg.lookup(tag_id) is not None:
                chosen.setdefault(tag.group_id, []).append(tag)
        groups = by_order(reg.groups[g] for g in chosen)
        return [
            render_group(g, chosen[g.group_id], group_deleted=flags, tag_deleted=flags)
            for g in groups
        ]
    groups = by_order(g for g in reg.groups.values() if not g.deleted and scope.owns(g))
    return [render_group(g, live_tags(reg, g)) for g in groups]


def _add(ctx: RequestContext, scope: Scope) -> JSON:
    body, reg = ctx.body, ctx.state.tags
    new_tags = parse_new_tags(body)
    group_order = req_order(body)
    group_id = opt_str(body, "group_id")
    group_name = opt_str(body, "group_name", max_chars=NAME_MAX)
    if group_id:
        group = scope.live_group(reg, group_id)
        if group is None:
            raise WeComFault(INVALID_TAG, f"invalid group_id: {group_id}")
    elif group_name:
        group = scope.group_named(reg, group_name)
    else:
        raise WeComFault(MISSING, "group_id or group_name missing")
    taken = {t.name for t in live_tags(reg, group)} if group is not None else set()
    clash = [name for name, _ in new_tags if name in taken]
    if clash:
        raise WeComFault(NAME_EXISTS, f"tag name exists: {clash[0]}")
    check_quota(reg, len(new_tags))
    now = int(ctx.clock.now())
    if group is None:
        group = reg.add_group(
            group_name or "",
            (),
            create_time=now,
            order=group_order or 0,
            strategy_id=scope.strategy_id,
        )
    created = [
        reg.add_tag(group.group_id, name, create_time=now, order=order) for name, order in new_tags
    ]
    return {"tag_group": render_group(group, created, strategy_id=False)}


def _edit(ctx: RequestContext, scope: Scope) -> JSON:
    body, reg = ctx.body, ctx.state.tags
    target = req_str(body, "id")
    name = opt_str(body, "name", max_chars=NAME_MAX)
    if name is not None and not name.strip():
        raise WeComFault(INVALID, "name must not be empty")
    order = req_order(body)
    tag = scope.live_tag(reg, target)
    if tag is not None:
        siblings = live_tags(reg, reg.groups[tag.group_id])
        if name is not None and any(t.name == name and t is not tag for t in siblings):
            raise WeComFault(NAME_EXISTS, f"tag name exists: {name}")
        tag.name = name if name is not None else tag.name
        tag.order = order if order is not None else tag.order
        return {}
    group = scope.live_group(reg, target)
    if group is None:
        raise WeComFault(INVALID_TAG, f"invalid tag or group id: {target}")
    if name is not None:
        peers = Scope(scope.strategy, group.strategy_id)
        other = peers.group_named(reg, name)
        if other is not None and other is not group:
            raise WeComFault(NAME_EXISTS, f"tag group name exists: {name}")
        group.group_name = name
    group.order = order if order is not None else group.order
    return {}


def _delete(ctx: RequestContext, scope: Scope) -> JSON:
    body, reg = ctx.body, ctx.state.tags
    tag_ids = opt_str_list(body, "tag_id") or []
    group_ids = opt_str_list(body, "group_id") or []
    if not tag_ids and not group_ids:
        raise WeComFault(MISSING, "tag_id and group_id are both empty")
    unknown = [g for g in group_ids if scope.live_group(reg, g) is None]
    unknown += [t for t in tag_ids if scope.live_tag(reg, t) is None]
    if unknown:
        raise WeComFault(INVALID_TAG, f"invalid tag or group id: {unknown[0]}")
    for group_id in group_ids:
        group = reg.groups[group_id]
        group.deleted = True
        for tag_id in group.tag_ids:
            reg.tags[tag_id].deleted = True
    for tag_id in tag_ids:
        tag = reg.tags[tag_id]
        tag.deleted = True
        group = reg.groups[tag.group_id]
        if not live_tags(reg, group):
            group.deleted = True
    return {}


def _strategy_scope(ctx: RequestContext, *, required: bool) -> Scope:
    strategy_id = opt_int(ctx.body, "strategy_id")
    if strategy_id is None and required:
        raise WeComFault(MISSING, "strategy_id missing")
    if strategy_id is not None and strategy_id < 0:
        raise WeComFault(INVALID, "invalid strategy_id")
    return Scope(strategy=True, strategy_id=strategy_id)


def get_corp_tag_list(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_corp_tag_list -> tag_group[] (deleted flags when filtered)."""
    return {"tag_group": _list(ctx, _CORP, flags=True)}


def add_corp_tag(ctx: RequestContext) -> JSON:
    """POST externalcontact/add_corp_tag -> tag_group with the new tags."""
    return _add(ctx, _CORP)


def edit_corp_tag(ctx: RequestContext) -> JSON:
    """POST externalcontact/edit_corp_tag: rename or reorder a tag or group."""
    return _edit(ctx, _CORP)


def del_corp_tag(ctx: RequestContext) -> JSON:
    """POST externalcontact/del_corp_tag: delete tags and/or groups."""
    return _delete(ctx, _CORP)


def get_strategy_tag_list(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_strategy_tag_list -> tag_group[] with strategy_id."""
    return {"tag_group": _list(ctx, _strategy_scope(ctx, required=False), flags=False)}


def add_strategy_tag(ctx: RequestContext) -> JSON:
    """POST externalcontact/add_strategy_tag -> tag_group with the new tags."""
    return _add(ctx, _strategy_scope(ctx, required=True))


def edit_strategy_tag(ctx: RequestContext) -> JSON:
    """POST externalcontact/edit_strategy_tag: rename or reorder a strategy tag or group."""
    return _edit(ctx, Scope(strategy=True))


def del_strategy_tag(ctx: RequestContext) -> JSON:
    """POST externalcontact/del_strategy_tag: delete strategy tags and/or groups."""
    return _delete(ctx, Scope(strategy=True))


def mark_tag(ctx: RequestContext) -> JSON:
    """POST externalcontact/mark_tag: put tags on / take tags off a member's customer."""
    body, state = ctx.body, ctx.state
    userid = req_str(body, "userid")
    external_userid = req_str(body, "external_userid", errcode=41035)
    add = opt_str_list(body, "add_tag") or []
    remove = opt_str_list(body, "remove_tag") or []
    if not add and not remove:
        raise WeComFault(MISSING, "add_tag and remove_tag are both empty")
    staff = state.staff.get(userid)
    if staff is None or staff.resigned:
        raise WeComFault(60111, f"userid not found: {userid}")
    if external_userid not in state.customers:
        raise WeComFault(40096)
    follow = state.follow(external_userid, userid)
    if follow is None:
        raise WeComFault(84061)
    reg = state.tags
    unknown = [t for t in add if reg.lookup(t) is None] + [t for t in remove if t not in reg.tags]
    if unknown:
        raise WeComFault(INVALID_TAG, f"invalid tagid: {unknown[0]}")
    dropped = set(remove) - set(add)
    kept = [t for t in follow.tag_ids if t not in dropped and reg.lookup(t) is not None]
    marked = kept + [t for t in dict.fromkeys(add) if t not in kept]
    check_customer_quota(reg, marked)
    follow.tag_ids = marked
    return {}


ROUTES = [
    Route("POST", "externalcontact/get_corp_tag_list", get_corp_tag_list),
    Route("POST", "externalcontact/add_corp_tag", add_corp_tag),
    Route("POST", "externalcontact/edit_corp_tag", edit_corp_tag),
    Route("POST", "externalcontact/del_corp_tag", del_corp_tag),
    Route("POST", "externalcontact/mark_tag", mark_tag),
    Route("POST", "externalcontact/get_strategy_tag_list", get_strategy_tag_list),
    Route("POST", "externalcontact/add_strategy_tag", add_strategy_tag),
    Route("POST", "externalcontact/edit_strategy_tag", edit_strategy_tag),
    Route("POST", "externalcontact/del_strategy_tag", del_strategy_tag),
]
