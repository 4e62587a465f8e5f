"""``client.strategy``: customer rule groups and moment rule groups, endpoints.md #17-#22, #53-#58.

The two kinds have the same six endpoints and shapes, except ``privilege``: one
implementation serves both (``_rule_group_calls``), and each kind's typed half
(``_rule_groups_customer``, ``_rule_groups_moment``) holds its endpoints and its public
methods.
"""

from __future__ import annotations

from ._rule_groups_customer import CustomerRuleGroups
from ._rule_groups_moment import MomentRuleGroups

__all__ = ["StrategyService"]


# The bases are listed last half first: the reference page shows inherited methods in
# reverse method-resolution order, so it reads customer groups, then moment groups.
class StrategyService(MomentRuleGroups, CustomerRuleGroups):
    """Customer rule groups (客户联系规则组) and moment rule groups (客户朋友圈规则组).

    An app sees and manages only the rule groups it created. WeCom requires create and
    edit calls to be made serially (never two at once). Child groups: at most 5 levels,
    a child's range must be a subset of its parent's and it inherits the parent's
    privileges; a group's range holds at most 3,000 nodes.
    """
