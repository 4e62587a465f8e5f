"""Customer rule groups and moment rule groups (规则组), endpoints.md #17-#22 and #53-#58.

A rule group (客户联系规则组 / 客户朋友圈规则组) gives its admins a set of privileges over the
members and departments of its range. The two kinds share every shape except
``privilege``: :class:`CustomerStrategyPrivilege` (21 flags) or
:class:`MomentStrategyPrivilege` (3 flags). Every flag is optional, so a flag WeCom leaves
out stays ``None`` and one it adds later is kept in ``extra``.

Documented rules, for both kinds: at most 20 admins (no super-admins) and 100 range nodes
per call (refused locally); a child group's range must be a subset of its parent's and a
child inherits the parent's privileges (its own ``privilege`` is ignored); at most 5
levels; at most 3,000 nodes in one group's range; create and edit must be called serially,
never concurrently. An app sees and manages only the rule groups it created.

Docs: https://developer.work.weixin.qq.com/document/path/94883 (customer rule groups),
https://developer.work.weixin.qq.com/document/path/94890 (moment rule groups).
"""

from __future__ import annotations

from typing import Final, TypeVar

import attrs

from .._exceptions import ValidationError
from .._validation import check_id, check_ids, check_range
from ._base import WireEnum, WireModel

__all__ = [
    "MAX_RANGE_NODES",
    "MAX_STRATEGY_ADMINS",
    "MAX_STRATEGY_PAGE",
    "CreateCustomerStrategyRequest",
    "CreateMomentStrategyRequest",
    "CreateStrategyResponse",
    "CustomerStrategy",
    "CustomerStrategyPrivilege",
    "EditCustomerStrategyRequest",
    "EditMomentStrategyRequest",
    "GetCustomerStrategyResponse",
    "GetMomentStrategyResponse",
    "MomentStrategy",
    "MomentStrategyPrivilege",
    "StrategyListItem",
    "StrategyListResponse",
    "StrategyRange",
    "StrategyRangeResponse",
    "StrategyRangeType",
]

#: A rule group has at most this many admins (create and edit).
MAX_STRATEGY_ADMINS: Final = 20
#: One create / edit call carries at most this many range nodes (per list).
MAX_RANGE_NODES: Final = 100
#: ``list`` and ``get_range`` return at most this many items per page (also the default).
MAX_STRATEGY_PAGE: Final = 1000
#: Largest id accepted locally (a JSON int64; WeCom documents no range).
_MAX_ID: Final = 2**63 - 1


class StrategyRangeType(WireEnum):
    """``range[].type``: what a range node names."""

    MEMBER = 1
    DEPARTMENT = 2


@attrs.frozen(kw_only=True)
class StrategyRange(WireModel):
    """A node of a rule group's range: a member (``userid``) or a department (``partyid``).

    In requests, a MEMBER node needs ``userid`` only and a DEPARTMENT node ``partyid``
    only; answers are read as sent.
    """

    type: StrategyRangeType | int
    userid: str | None = None
    partyid: int | None = None


@attrs.frozen(kw_only=True)
class CustomerStrategyPrivilege(WireModel):
    """``privilege`` of a customer rule group; WeCom's default for every flag is true.

    The first five (view_customer_list, view_customer_data, view_room_list, contact_me,
    join_room) are base rights that cannot be revoked.
    """

    view_customer_list: bool | None = None
    view_customer_data: bool | None = None
    view_room_list: bool | None = None
    contact_me: bool | None = None
    join_room: bool | None = None
    share_customer: bool | None = None
    oper_resign_customer: bool | None = None
    oper_resign_group: bool | None = None
    send_customer_msg: bool | None = None
    edit_welcome_msg: bool | None = None
    view_behavior_data: bool | None = None
    view_room_data: bool | None = None
    send_group_msg: bool | None = None
    room_deduplication: bool | None = None
    rapid_reply: bool | None = None
    onjob_customer_transfer: bool | None = None
    edit_anti_spam_rule: bool | None = None
    export_customer_list: bool | None = None
    export_customer_data: bool | None = None
    export_customer_group_list: bool | None = None
    manage_customer_tag: bool | None = None


@attrs.frozen(kw_only=True)
class MomentStrategyPrivilege(WireModel):
    """``privilege`` of a moment rule group; WeCom's default for every flag is true."""

    view_moment_list: bool | None = None
    send_moment: bool | None = None
    manage_moment_cover_and_sign: bool | None = None


@attrs.frozen(kw_only=True)
class _Strategy(WireModel):
    """Fields shared by the two kinds of rule group (``strategy`` of ``get``)."""

    strategy_id: int
    #: The parent group's id, 0 for a top-level group.
    parent_id: int | None = None
    strategy_name: str | None = None
    create_time: int | None = None
    admin_list: list[str] | None = None


@attrs.frozen(kw_only=True)
class CustomerStrategy(_Strategy):
    """A customer rule group (客户联系规则组), as ``customer_strategy/get`` returns it."""

    privilege: CustomerStrategyPrivilege | None = None


@attrs.frozen(kw_only=True)
class MomentStrategy(_Strategy):
    """A moment rule group (客户朋友圈规则组), as ``moment_strategy/get`` returns it."""

    privilege: MomentStrategyPrivilege | None = None


# -- local validation --------------------------------------------------------------------


def _check_strategy_id(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    check_range(value, attribute.name, low=1, high=_MAX_ID)


def _check_parent_id(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None:
        check_range(value, attribute.name, low=0, high=_MAX_ID)


_Name = TypeVar("_Name", bound=str | None)
_Ids = TypeVar("_Ids", bound=list[str] | None)
_Nodes = TypeVar("_Nodes", bound=list[StrategyRange] | None)


def _check_name(_: object, attribute: attrs.Attribute[_Name], value: _Name) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _check_admins(_: object, attribute: attrs.Attribute[_Ids], value: _Ids) -> None:
    """Admins, when given: 1 to 20 non-empty userids (an empty list would change nothing)."""
    if value is not None:
        check_ids(value, attribute.name, max_count=MAX_STRATEGY_ADMINS)


def _check_node(node: StrategyRange, name: str) -> None:
    """Refuse a request node whose type and id field do not match (ValidationError)."""
    if node.type == StrategyRangeType.MEMBER:
        check_id(node.userid or "", f"{name}.userid")
        if node.partyid is not None:
            raise ValidationError(f"{name}: a member node (type 1) takes userid, not partyid")
    elif node.type == StrategyRangeType.DEPARTMENT:
        if node.partyid is None:
            raise ValidationError(f"{name}: a department node (type 2) needs partyid")
        check_range(node.partyid, f"{name}.partyid", low=1, high=_MAX_ID)
        if node.userid is not None:
            raise ValidationError(f"{name}: a department node (type 2) takes partyid, not userid")
    else:
        raise ValidationError(f"{name}.type must be 1 (member) or 2 (department), got {node.type}")


def _check_nodes(_: object, attribute: attrs.Attribute[_Nodes], value: _Nodes) -> None:
    """Range nodes, when given: 1 to 100 per call, each well-formed."""
    if value is None:
        return
    if not value:
        raise ValidationError(f"{attribute.name} must not be empty (leave it out instead)")
    if len(value) > MAX_RANGE_NODES:
        raise ValidationError(
            f"{attribute.name} has {len(value)} nodes; WeCom allows at most "
            f"{MAX_RANGE_NODES} per call"
        )
    for index, node in enumerate(value):
        _check_node(node, f"{attribute.name}[{index}]")


# -- requests ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _CreateStrategy(WireModel):
    """Fields shared by the two create requests."""

    strategy_name: str = attrs.field(validator=_check_name)
    admin_list: list[str] = attrs.field(validator=_check_admins)
    range: list[StrategyRange] = attrs.field(validator=_check_nodes)
    #: The parent rule group (0 or absent: a top-level group).
    parent_id: int | None = attrs.field(default=None, validator=_check_parent_id)


@attrs.frozen(kw_only=True)
class CreateCustomerStrategyRequest(_CreateStrategy):
    """Body of ``POST /cgi-bin/externalcontact/customer_strategy/create`` (endpoints.md #20).

    ``strategy_name`` not empty; ``admin_list`` 1-20 userids (no super-admins); ``range``
    1-100 nodes. With ``parent_id`` the range must be a subset of the parent's and
    ``privilege`` is ignored (the parent's is inherited).
    """

    privilege: CustomerStrategyPrivilege | None = None


@attrs.frozen(kw_only=True)
class CreateMomentStrategyRequest(_CreateStrategy):
    """Body of ``POST /cgi-bin/externalcontact/moment_strategy/create`` (endpoints.md #57).

    As :class:`CreateCustomerStrategyRequest`, with the moment privileges.
    """

    privilege: MomentStrategyPrivilege | None = None


@attrs.frozen(kw_only=True)
class _EditStrategy(WireModel):
    """Fields shared by the two edit requests; what is left out is not changed."""

    strategy_id: int = attrs.field(validator=_check_strategy_id)
    strategy_name: str | None = attrs.field(default=None, validator=_check_name)
    #: Replaces the whole admin list when given.
    admin_list: list[str] | None = attrs.field(default=None, validator=_check_admins)
    range_add: list[StrategyRange] | None = attrs.field(default=None, validator=_check_nodes)
    range_del: list[StrategyRange] | None = attrs.field(default=None, validator=_check_nodes)


@attrs.frozen(kw_only=True)
class EditCustomerStrategyRequest(_EditStrategy):
    """Body of ``POST /cgi-bin/externalcontact/customer_strategy/edit`` (endpoints.md #21).

    ``admin_list`` (1-20) and ``privilege`` replace the old values when given;
    ``range_add`` / ``range_del`` carry 1-100 nodes each. A child group's range must stay
    a subset of its parent's, and its ``privilege`` is ignored.
    """

    privilege: CustomerStrategyPrivilege | None = None


@attrs.frozen(kw_only=True)
class EditMomentStrategyRequest(_EditStrategy):
    """Body of ``POST /cgi-bin/externalcontact/moment_strategy/edit`` (endpoints.md #58).

    As :class:`EditCustomerStrategyRequest`, with the moment privileges.
    """

    privilege: MomentStrategyPrivilege | None = None


# -- whole answers -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class StrategyListItem(WireModel):
    """An item of ``strategy[]`` in a rule-group list."""

    strategy_id: int


@attrs.frozen(kw_only=True)
class StrategyListResponse(WireModel):
    """Answer of ``customer_strategy/list`` and ``moment_strategy/list``.

    ``next_cursor`` is absent on the last page.
    """

    strategy: list[StrategyListItem] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class GetCustomerStrategyResponse(WireModel):
    """Answer of ``customer_strategy/get``."""

    strategy: CustomerStrategy


@attrs.frozen(kw_only=True)
class GetMomentStrategyResponse(WireModel):
    """Answer of ``moment_strategy/get``."""

    strategy: MomentStrategy


@attrs.frozen(kw_only=True)
class StrategyRangeResponse(WireModel):
    """Answer of ``customer_strategy/get_range`` and ``moment_strategy/get_range``.

    ``next_cursor`` is absent on the last page.
    """

    range: list[StrategyRange] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class CreateStrategyResponse(WireModel):
    """Answer of ``customer_strategy/create`` and ``moment_strategy/create``."""

    strategy_id: int
