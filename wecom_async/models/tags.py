"""Corp tags and strategy (rule-group) tags (客户标签), endpoints.md §2.5 and §3.3.

Corp tags (``et…`` ids) and strategy tags (``st…`` ids, inside a customer rule group) share
one shape, :class:`CorpTagGroup`; a strategy group also carries ``strategy_id``. Both kinds
count against the same corp quota of 10,000 tags.

Docs: https://developer.work.weixin.qq.com/document/path/92117 (corp tags),
https://developer.work.weixin.qq.com/document/path/94882 (strategy tags),
https://developer.work.weixin.qq.com/document/path/92118 (mark_tag).
"""

from __future__ import annotations

from typing import Final, TypeVar, cast

import attrs

from .._exceptions import ValidationError
from .._validation import check_id, check_range, max_chars
from ._base import WireModel

__all__ = [
    "MAX_CORP_TAGS",
    "MAX_ORDER",
    "MAX_STRATEGY_ID",
    "MAX_TAG_NAME_CHARS",
    "AddCorpTagRequest",
    "AddStrategyTagRequest",
    "AddTagResponse",
    "CorpTag",
    "CorpTagGroup",
    "EditTagRequest",
    "NewTag",
    "TagGroupListResponse",
]

#: Tag and group names are at most this many characters (not bytes).
MAX_TAG_NAME_CHARS: Final = 30
#: ``order`` values lie in [0, MAX_ORDER); a higher order sorts first.
MAX_ORDER: Final = 2**32
#: Corp tags plus strategy tags one corp may hold.
MAX_CORP_TAGS: Final = 10_000
#: Largest rule-group id accepted locally (a JSON int64; WeCom documents no range).
MAX_STRATEGY_ID: Final = 2**63 - 1


def _check_order(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_ORDER:
        raise ValidationError(f"{attribute.name} must be an integer in [0, 2^32), got {value!r}")


def _check_strategy_id(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    check_range(value, attribute.name, low=0, high=MAX_STRATEGY_ID)


_name_length = max_chars(MAX_TAG_NAME_CHARS)


_S = TypeVar("_S", bound=str | None)


def _check_name(instance: object, attribute: attrs.Attribute[_S], value: _S) -> None:
    """A tag or group name, when given: not blank, at most 30 characters."""
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{attribute.name} must be a non-empty string, got {value!r}")
    _name_length(instance, cast("attrs.Attribute[str | None]", attribute), value)


def _check_id(_: object, attribute: attrs.Attribute[_S], value: _S) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _check_tags(_: object, attribute: attrs.Attribute[list[NewTag]], value: list[NewTag]) -> None:
    if not value:
        raise ValidationError(
            f"{attribute.name} needs at least one tag (empty groups cannot exist)"
        )
    if len(value) > MAX_CORP_TAGS:
        raise ValidationError(
            f"{attribute.name} has {len(value)} tags; a corp holds at most {MAX_CORP_TAGS}"
        )


@attrs.frozen(kw_only=True)
class CorpTag(WireModel):
    """A tag of a :class:`CorpTagGroup` (``tag_group[].tag[]``).

    ``deleted`` is only present when the list was filtered by ``tag_id`` or ``group_id``
    (a deleted tag is then still reported, flagged ``True``).
    """

    id: str
    name: str | None = None
    create_time: int | None = None
    order: int | None = None
    deleted: bool | None = None


@attrs.frozen(kw_only=True)
class CorpTagGroup(WireModel):
    """A tag group with its tags (endpoints.md §2.5); strategy groups also carry ``strategy_id``.

    ``deleted`` is only present when the list was filtered by ``tag_id``. ``order``: a
    higher value sorts first. ``add``/``add_strategy`` return the group with only the tags
    that call created.
    """

    group_id: str
    group_name: str | None = None
    create_time: int | None = None
    order: int | None = None
    deleted: bool | None = None
    strategy_id: int | None = None
    tag: list[CorpTag] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class NewTag(WireModel):
    """One tag to create (``tag[]`` of add_corp_tag / add_strategy_tag)."""

    name: str = attrs.field(validator=_check_name)
    order: int | None = attrs.field(default=None, validator=_check_order)


def _check_group_target(request: _AddTagsBase) -> None:
    if not request.group_id and not request.group_name:
        raise ValidationError(
            "adding tags needs group_id (an existing group) or group_name (a new group, "
            "or an existing group of that name)"
        )


@attrs.frozen(kw_only=True)
class _AddTagsBase(WireModel):
    """Fields shared by the two add requests."""

    tag: list[NewTag] = attrs.field(validator=_check_tags)
    group_id: str | None = attrs.field(default=None, validator=_check_id)
    group_name: str | None = attrs.field(default=None, validator=_check_name)
    order: int | None = attrs.field(default=None, validator=_check_order)

    def __attrs_post_init__(self) -> None:
        _check_group_target(self)


@attrs.frozen(kw_only=True)
class AddCorpTagRequest(_AddTagsBase):
    """Body of ``POST /cgi-bin/externalcontact/add_corp_tag`` (endpoints.md #9).

    Pass ``group_id`` to add into an existing group (``group_name`` and the group
    ``order`` are then ignored by WeCom), or ``group_name`` to create a group (when a
    group of that name exists, the tags go into it). At least one tag; names at most 30
    characters; orders in [0, 2^32). Several tags of one name in one request create a
    single tag. ``agentid`` is only for legacy multi-app third-party suites.
    """

    agentid: int | None = None


@attrs.frozen(kw_only=True)
class AddStrategyTagRequest(_AddTagsBase):
    """Body of ``POST /cgi-bin/externalcontact/add_strategy_tag`` (endpoints.md #14).

    As :class:`AddCorpTagRequest`, inside the first-level rule group ``strategy_id``; a
    ``group_name`` equal to a group of that rule group adds the tags to it.
    """

    strategy_id: int = attrs.field(validator=_check_strategy_id)


@attrs.frozen(kw_only=True)
class EditTagRequest(WireModel):
    """Body of ``edit_corp_tag`` / ``edit_strategy_tag`` (endpoints.md #10, #15).

    ``id`` is a tag id or a group id; at least one of ``name`` (at most 30 characters)
    and ``order`` (in [0, 2^32)) must be given.
    """

    id: str = attrs.field(validator=_check_id)
    name: str | None = attrs.field(default=None, validator=_check_name)
    order: int | None = attrs.field(default=None, validator=_check_order)

    def __attrs_post_init__(self) -> None:
        if self.name is None and self.order is None:
            raise ValidationError("editing a tag or group needs name or order")


@attrs.frozen(kw_only=True)
class TagGroupListResponse(WireModel):
    """Answer of ``get_corp_tag_list`` and ``get_strategy_tag_list``."""

    tag_group: list[CorpTagGroup] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class AddTagResponse(WireModel):
    """Answer of ``add_corp_tag`` and ``add_strategy_tag``: the group and its new tags."""

    tag_group: CorpTagGroup
