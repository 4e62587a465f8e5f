"""Rules of the tag endpoints on top of the corp's :class:`~.._tagstore.TagRegistry`.

Corp and strategy tags live in ``ctx.state.tags`` (the registry ``externalcontact/get``
renders ``follow_user[].tags`` from), so a tag created through ``add_corp_tag`` and marked
with ``mark_tag`` shows up on the customer at once.  A :class:`Scope` says which groups an
endpoint sees: the corp endpoints see groups without ``strategy_id``, the strategy
endpoints those with one.  Deleting marks records ``deleted`` (the registry keeps them, so
that a filtered list can still report them, as WeCom does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, req_str
from .._route import JSON
from .._tagstore import CorpTag, TagGroup, TagRegistry

__all__ = [
    "INVALID_TAG",
    "MAX_CORP_TAGS",
    "MAX_TAGS_PER_CUSTOMER",
    "NAME_EXISTS",
    "Scope",
    "by_order",
    "check_customer_quota",
    "check_quota",
    "live_tags",
    "parse_new_tags",
    "render_group",
    "render_tag",
    "req_order",
]

#: Corp tags plus strategy tags one corp may hold (D:92117, D:94882); over it: 40126.
MAX_CORP_TAGS: Final = 10_000
TAG_QUOTA: Final = 40126
#: Live tags one member may put on one customer (D:92118); over it: 40144.
MAX_TAGS_PER_CUSTOMER: Final = 3_000
CUSTOMER_TAG_QUOTA: Final = 40144
#: Tag and group names: at most 30 characters.
NAME_MAX: Final = 30
#: ``order`` lies in [0, 2^32).
ORDER_LIMIT: Final = 2**32
#: Unknown, deleted or out-of-scope tag / group id.
INVALID_TAG: Final = 40068
#: A tag or group of that name exists already.
NAME_EXISTS: Final = 40071


@dataclass(frozen=True, slots=True)
class Scope:
    """Which groups an endpoint sees: corp groups, or strategy groups (of one rule group)."""

    strategy: bool
    strategy_id: int | None = None

    def owns(self, group: TagGroup) -> bool:
        """Whether ``group`` is visible to the endpoint."""
        if not self.strategy:
            return group.strategy_id is None
        if group.strategy_id is None:
            return False
        return self.strategy_id is None or group.strategy_id == self.strategy_id

    def live_group(self, tags: TagRegistry, group_id: str) -> TagGroup | None:
        """The live group ``group_id`` if the endpoint sees it."""
        group = tags.groups.get(group_id)
        return group if group is not None and not group.deleted and self.owns(group) else None

    def live_tag(self, tags: TagRegistry, tag_id: str) -> CorpTag | None:
        """The live tag ``tag_id`` if the endpoint sees its group."""
        found = tags.lookup(tag_id)
        return found[1] if found is not None and self.owns(found[0]) else None

    def group_named(self, tags: TagRegistry, name: str) -> TagGroup | None:
        """The live visible group called ``name`` (within the rule group for strategies)."""
        for group in tags.groups.values():
            if group.group_name == name and not group.deleted and self.owns(group):
                return group
        return None


def live_tags(tags: TagRegistry, group: TagGroup) -> list[CorpTag]:
    """The group's tags that are not deleted, in creation order."""
    return [tags.tags[t] for t in group.tag_ids if not tags.tags[t].deleted]


_Ordered = TypeVar("_Ordered", CorpTag, TagGroup)


def by_order(records: Iterable[_Ordered]) -> list[_Ordered]:
    """Higher ``order`` first, creation order among equals (Python's sort is stable)."""
    return sorted(records, key=lambda r: -r.order)


def render_tag(tag: CorpTag, *, with_deleted: bool) -> JSON:
    """A ``tag[]`` object; ``deleted`` only when the list was filtered."""
    out: JSON = {
        "id": tag.tag_id,
        "name": tag.name,
        "create_time": tag.create_time,
        "order": tag.order,
    }
    if with_deleted:
        out["deleted"] = tag.deleted
    return out


def render_group(
    group: TagGroup,
    tags: Iterable[CorpTag],
    *,
    group_deleted: bool = False,
    tag_deleted: bool = False,
    strategy_id: bool = True,
) -> JSON:
    """A ``tag_group`` object with ``tags`` sorted by order; flags as WeCom sends them.

    ``strategy_id`` is rendered for strategy groups except in add answers (``strategy_id=False``),
    whose documented shape lacks it.
    """
    out: JSON = {
        "group_id": group.group_id,
        "group_name": group.group_name,
        "create_time": group.create_time,
        "order": group.order,
    }
    if group_deleted:
        out["deleted"] = group.deleted
    if strategy_id and group.strategy_id is not None:
        out["strategy_id"] = group.strategy_id
    out["tag"] = [render_tag(t, with_deleted=tag_deleted) for t in by_order(tags)]
    return out


def req_order(data: Mapping[str, object], name: str = "order") -> int | None:
    """The optional ``order`` in [0, 2^32); anything else answers 40058."""
    value = opt_int(data, name)
    if value is not None and not 0 <= value < ORDER_LIMIT:
        raise WeComFault(INVALID, f"{name} must be in [0, 2^32)")
    return value


def parse_new_tags(body: Mapping[str, object]) -> list[tuple[str, int]]:
    """``tag[]`` of an add request as (name, order), same-name duplicates dropped."""
    raw = body.get("tag")
    if raw is None or raw == []:
        raise WeComFault(MISSING, "tag missing: empty tag groups cannot be created")
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise WeComFault(INVALID, "invalid tag: must be a list of objects")
    seen: dict[str, int] = {}
    for item in raw:
        name = req_str(item, "name")
        if len(name) > NAME_MAX:
            raise WeComFault(INVALID, f"tag name exceeds {NAME_MAX} characters")
        seen.setdefault(name, req_order(item) or 0)
    return list(seen.items())


def check_quota(tags: TagRegistry, adding: int) -> None:
    """Answer 40126 when ``adding`` more tags would pass the corp's 10,000."""
    if len(tags.live_tag_ids()) + adding > MAX_CORP_TAGS:
        raise WeComFault(TAG_QUOTA, f"corp tag count limit ({MAX_CORP_TAGS}) reached")


def check_customer_quota(tags: TagRegistry, tag_ids: Iterable[str]) -> None:
    """Answer 40144 when a relation would carry more than 3,000 live tags."""
    if sum(1 for t in tag_ids if tags.lookup(t) is not None) > MAX_TAGS_PER_CUSTOMER:
        raise WeComFault(
            CUSTOMER_TAG_QUOTA, f"customer tag count limit ({MAX_TAGS_PER_CUSTOMER}) reached"
        )
