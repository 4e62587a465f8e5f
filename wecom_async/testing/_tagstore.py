"""The corp-tag registry: corp tags (type 1, ``et…``) and strategy tags (type 3, ``st…``).

Follow relations refer to tags by id; ``externalcontact/get`` renders them as
``{group_name, tag_name, type, tag_id}``.  The registry is deliberately small: the tag
endpoints (get/add/edit/del_corp_tag, strategy variants, mark_tag) build on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

__all__ = ["CORP_TAG", "PERSONAL_TAG", "STRATEGY_TAG", "CorpTag", "TagGroup", "TagRegistry"]

#: Tag types as ``externalcontact/get`` reports them.
CORP_TAG: Final = 1
PERSONAL_TAG: Final = 2
STRATEGY_TAG: Final = 3


@dataclass(slots=True, eq=False)
class TagGroup:
    """A tag group; a strategy (rule-group) group carries its ``strategy_id``."""

    group_id: str
    group_name: str
    create_time: int
    order: int = 0
    strategy_id: int | None = None
    deleted: bool = False
    #: Ids of the group's tags, in creation order.
    tag_ids: list[str] = field(default_factory=list)

    @property
    def type(self) -> int:
        """1 for a corp tag group, 3 for a strategy tag group."""
        return CORP_TAG if self.strategy_id is None else STRATEGY_TAG


@dataclass(slots=True, eq=False)
class CorpTag:
    """One corp or strategy tag."""

    tag_id: str
    group_id: str
    name: str
    create_time: int
    order: int = 0
    deleted: bool = False


class TagRegistry:
    """All corp and strategy tags of the corp, by id."""

    def __init__(self, new_id: Callable[[str], str]) -> None:
        """Create an empty registry; ``new_id(prefix)`` makes unique ids."""
        self._new_id = new_id
        #: Tag groups by group_id.
        self.groups: dict[str, TagGroup] = {}
        #: Tags by tag_id.
        self.tags: dict[str, CorpTag] = {}

    def add_group(
        self,
        group_name: str,
        tag_names: Sequence[str],
        *,
        create_time: int,
        order: int = 0,
        strategy_id: int | None = None,
    ) -> TagGroup:
        """Create a group with its tags; ids start with ``st`` for a strategy group."""
        prefix = "et" if strategy_id is None else "st"
        group = TagGroup(
            group_id=self._new_id(prefix),
            group_name=group_name,
            create_time=create_time,
            order=order,
            strategy_id=strategy_id,
        )
        self.groups[group.group_id] = group
        for name in tag_names:
            self.add_tag(group.group_id, name, create_time=create_time)
        return group

    def add_tag(self, group_id: str, name: str, *, create_time: int, order: int = 0) -> CorpTag:
        """Add a tag to an existing group and return it."""
        group = self.groups[group_id]
        prefix = "et" if group.strategy_id is None else "st"
        tag = CorpTag(self._new_id(prefix), group_id, name, create_time, order)
        self.tags[tag.tag_id] = tag
        group.tag_ids.append(tag.tag_id)
        return tag

    def lookup(self, tag_id: str) -> tuple[TagGroup, CorpTag] | None:
        """Return the live (not deleted) tag and its group, or None."""
        tag = self.tags.get(tag_id)
        if tag is None or tag.deleted:
            return None
        group = self.groups[tag.group_id]
        return None if group.deleted else (group, tag)

    def live_tag_ids(self) -> list[str]:
        """Return the ids of every live tag, in creation order."""
        return [tag_id for tag_id in self.tags if self.lookup(tag_id) is not None]
