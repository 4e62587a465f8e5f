"""Records of the intercept-rule fake (管理聊天敏感词, endpoints.md #88-#92).

``ctx.state.ext(InterceptRuleState)`` holds a corp's rules in creation order. A rule made
through the API belongs to the app (``by_api``); one made in the admin console (as the
seeder does, or a test with :meth:`InterceptRuleState.add` and ``by_api=False``) is listed
and read by the app but not changed or deleted by it.  Tests may lower
:attr:`InterceptRuleState.rule_limit` to reach the corp's rule limit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

from .._errors import WeComFault
from .._json import JSON
from .._params import INVALID
from .._state import CorpState
from ._shared import app_made_record, live_record

__all__ = ["RULE_LIMIT", "InterceptRuleRecord", "InterceptRuleState"]

#: Rules one corp may hold (D:95097).
RULE_LIMIT: Final = 100


@dataclass(slots=True, eq=False)
class InterceptRuleRecord:
    """One rule as WeCom keeps it."""

    rule_id: str
    rule_name: str
    word_list: list[str]
    intercept_type: int
    create_time: int
    semantics_list: list[int] = field(default_factory=list)
    user_list: list[str] = field(default_factory=list)
    department_list: list[int] = field(default_factory=list)
    #: Created through the API by the app (else in the admin console).
    by_api: bool = True

    def summary(self) -> JSON:
        """The rule as ``get_intercept_rule_list`` lists it."""
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "create_time": self.create_time,
        }

    def detail(self) -> JSON:
        """The rule as ``get_intercept_rule`` answers it (``extra_rule`` nested)."""
        return {
            **self.summary(),
            "word_list": list(self.word_list),
            "extra_rule": {"semantics_list": list(self.semantics_list)},
            "intercept_type": self.intercept_type,
            "applicable_range": {
                "user_list": list(self.user_list),
                "department_list": list(self.department_list),
            },
        }


class InterceptRuleState:
    """A corp's intercept rules by id, in creation order."""

    def __init__(self) -> None:
        """Create an empty store."""
        self.rules: dict[str, InterceptRuleRecord] = {}
        #: The corp's rule limit; tests may lower it.
        self.rule_limit = RULE_LIMIT

    def add(
        self,
        state: CorpState,
        *,
        rule_name: str,
        word_list: list[str],
        intercept_type: int,
        now: int,
        semantics_list: list[int] | None = None,
        user_list: list[str] | None = None,
        department_list: list[int] | None = None,
        by_api: bool = True,
        rng: random.Random | None = None,
    ) -> InterceptRuleRecord:
        """Create a rule from checked fields; 40058 past the corp's rule limit.

        The limit's errcode is not documented (unverified choice). A seeder passes its own
        ``rng`` so that the ids other modules seed do not change.
        """
        if len(self.rules) >= self.rule_limit:
            raise WeComFault(INVALID, f"intercept rule count exceeds {self.rule_limit}")
        record = InterceptRuleRecord(
            rule_id=state.new_id("ir", rng),
            rule_name=rule_name,
            word_list=word_list,
            intercept_type=intercept_type,
            create_time=now,
            semantics_list=semantics_list or [],
            user_list=user_list or [],
            department_list=department_list or [],
            by_api=by_api,
        )
        self.rules[record.rule_id] = record
        return record

    def rule(self, rule_id: str) -> InterceptRuleRecord:
        """Return a live rule; 40058 for an unknown or deleted one (code unverified)."""
        return live_record(self.rules, rule_id, "rule")

    def own(self, rule_id: str) -> InterceptRuleRecord:
        """Return a rule the app may change: 48002 for one made in the admin console."""
        return app_made_record(self.rules, rule_id, "rule")
