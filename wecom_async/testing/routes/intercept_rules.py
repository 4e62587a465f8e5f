"""Chat intercept rules (管理聊天敏感词), endpoints.md #88-#92 (D:95097).

Rules live in ``ctx.state.ext(InterceptRuleState)`` (:mod:`._intercept_rules_state`).

Errcodes (the page lists none; every code below is chosen by meaning, unverified):

* 40063: a missing ``rule_id``, ``rule_name``, ``word_list``, ``intercept_type`` or
  ``applicable_range``, or a range with neither ``user_list`` nor ``department_list``.
* 40058: ``rule_name`` over 20 characters; over 300 words or a word not 1-32 characters;
  a semantics code outside 1-3; ``intercept_type`` not 1 or 2; over 1,000 userids or
  departments in one range list, a department id below 1; a rule whose range would hold
  over 10,000 userids or nothing at all; the corp's 100 rules reached; an unknown
  ``rule_id``; a value of the wrong type.
* 60111: a userid of no active member.
* 48002: update / delete of a rule the app did not create (made in the admin console).

Choices where the docs are silent (unverified): answers carry ``rule_id`` as a string
(as add and list document it; the official get example shows an integer); update applies
``remove_applicable_range`` before ``add_applicable_range``; an empty ``word_list`` on
update is ignored (documented) and an empty ``extra_rule.semantics_list`` clears the codes
(documented).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, opt_str_list, req_str
from .._route import JSON, RequestContext, Route, SeedContext
from .._state import CorpState
from ._intercept_rules_state import InterceptRuleRecord, InterceptRuleState

__all__ = ["ROUTES", "SEEDERS"]

MAX_RULE_NAME: Final = 20
MAX_WORDS: Final = 300
MAX_WORD_CHARS: Final = 32
SEMANTICS: Final = (1, 2, 3)
INTERCEPT_TYPES: Final = (1, 2)
MAX_RANGE_NODES: Final = 1000
MAX_RULE_USERS: Final = 10_000


def _rules(ctx: RequestContext) -> InterceptRuleState:
    return ctx.state.ext(InterceptRuleState)


def _rule_name(body: Mapping[str, object], *, required: bool) -> str | None:
    name = opt_str(body, "rule_name", max_chars=MAX_RULE_NAME)
    if required and not name:
        raise WeComFault(MISSING, "rule_name missing")
    if name is not None and not name.strip():
        raise WeComFault(INVALID, "invalid rule_name")
    return name


def _words(body: Mapping[str, object], *, required: bool) -> list[str] | None:
    words = opt_str_list(body, "word_list", max_items=MAX_WORDS)
    if not words:
        if required:
            raise WeComFault(MISSING, "word_list missing")
        return None  # "若为空忽略该字段"
    if any(not 1 <= len(word) <= MAX_WORD_CHARS for word in words):
        raise WeComFault(INVALID, f"a word must be 1 to {MAX_WORD_CHARS} characters")
    return words


def _codes(value: object) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or any(
        isinstance(code, bool) or not isinstance(code, int) or code not in SEMANTICS
        for code in value
    ):
        raise WeComFault(INVALID, "invalid semantics_list")
    return [int(code) for code in value]


def _intercept_type(body: Mapping[str, object], *, required: bool) -> int | None:
    kind = opt_int(body, "intercept_type")
    if kind is None:
        if required:
            raise WeComFault(MISSING, "intercept_type missing")
        return None
    if kind not in INTERCEPT_TYPES:
        raise WeComFault(INVALID, f"invalid intercept_type: {kind}")
    return kind


def _range(state: CorpState, body: Mapping[str, object], name: str) -> tuple[list[str], list[int]]:
    """The checked (user_list, department_list) of ``body[name]``; ([], []) when absent."""
    value = body.get(name)
    if value is None:
        return [], []
    if not isinstance(value, dict):
        raise WeComFault(INVALID, f"invalid {name}")
    users = opt_str_list(value, "user_list", max_items=MAX_RANGE_NODES) or []
    departments = value.get("department_list") or []
    if not isinstance(departments, list) or any(
        isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in departments
    ):
        raise WeComFault(INVALID, f"invalid {name}.department_list")
    if len(departments) > MAX_RANGE_NODES:
        raise WeComFault(INVALID, f"{name}.department_list exceeds {MAX_RANGE_NODES}")
    if not users and not departments:
        raise WeComFault(MISSING, f"{name}.user_list and department_list are both empty")
    for userid in users:
        staff = state.staff.get(userid)
        if staff is None or staff.resigned:
            raise WeComFault(60111, f"userid not found: {userid}")
    return list(dict.fromkeys(users)), list(dict.fromkeys(int(d) for d in departments))


def _check_size(users: list[str], departments: list[int]) -> None:
    if len(users) > MAX_RULE_USERS:
        raise WeComFault(INVALID, f"a rule's range holds at most {MAX_RULE_USERS} userids")
    if not users and not departments:
        raise WeComFault(INVALID, "a rule's range must not become empty")


def add_intercept_rule(ctx: RequestContext) -> JSON:
    """POST add_intercept_rule -> rule_id (``semantics_list`` at the top level)."""
    body = ctx.body
    name = _rule_name(body, required=True)
    words = _words(body, required=True)
    kind = _intercept_type(body, required=True)
    if body.get("applicable_range") is None:
        raise WeComFault(MISSING, "applicable_range missing")
    users, departments = _range(ctx.state, body, "applicable_range")
    _check_size(users, departments)
    record = _rules(ctx).add(
        ctx.state,
        rule_name=name or "",
        word_list=words or [],
        intercept_type=kind or 1,
        semantics_list=_codes(body.get("semantics_list")),
        user_list=users,
        department_list=departments,
        now=int(ctx.clock.now()),
    )
    return {"rule_id": record.rule_id}


def get_intercept_rule_list(ctx: RequestContext) -> JSON:
    """GET get_intercept_rule_list: every rule of the corp, console-made ones included."""
    return {"rule_list": [rule.summary() for rule in _rules(ctx).rules.values()]}


def get_intercept_rule(ctx: RequestContext) -> JSON:
    """POST get_intercept_rule -> rule (``extra_rule.semantics_list`` nested)."""
    return {"rule": _rules(ctx).rule(req_str(ctx.body, "rule_id")).detail()}


def _extra_rule(body: Mapping[str, object]) -> list[int] | None:
    extra = body.get("extra_rule")
    if extra is None:
        return None
    if not isinstance(extra, dict):
        raise WeComFault(INVALID, "invalid extra_rule")
    return _codes(extra.get("semantics_list"))


def _apply(ctx: RequestContext, record: InterceptRuleRecord) -> None:
    """Check every field of an update body, then change the rule (all or nothing)."""
    body = ctx.body
    name, words = _rule_name(body, required=False), _words(body, required=False)
    codes, kind = _extra_rule(body), _intercept_type(body, required=False)
    removed = _range(ctx.state, body, "remove_applicable_range")
    added = _range(ctx.state, body, "add_applicable_range")
    users = [u for u in record.user_list if u not in removed[0]]
    users += [u for u in added[0] if u not in users]
    departments = [d for d in record.department_list if d not in removed[1]]
    departments += [d for d in added[1] if d not in departments]
    _check_size(users, departments)
    record.rule_name = name or record.rule_name
    record.word_list = words or record.word_list
    record.semantics_list = record.semantics_list if codes is None else codes
    record.intercept_type = kind or record.intercept_type
    record.user_list, record.department_list = users, departments


def update_intercept_rule(ctx: RequestContext) -> JSON:
    """POST update_intercept_rule: the fields given; ranges removed, then added."""
    _apply(ctx, _rules(ctx).own(req_str(ctx.body, "rule_id")))
    return {}


def del_intercept_rule(ctx: RequestContext) -> JSON:
    """POST del_intercept_rule: the rule stops applying and is no longer listed."""
    record = _rules(ctx).own(req_str(ctx.body, "rule_id"))
    del _rules(ctx).rules[record.rule_id]
    return {}


def seed_intercept_rules(ctx: SeedContext) -> None:
    """One rule made in the admin console for the first member (listed, not changeable)."""
    ctx.state.ext(InterceptRuleState).add(
        ctx.state,
        rule_name="禁止索要联系方式",
        word_list=["加微信", "私下转账"],
        intercept_type=1,
        semantics_list=[1],
        user_list=list(ctx.staff[:1]),
        department_list=[] if ctx.staff else [1],
        now=int(ctx.now) - ctx.rng.randint(86_400, 30 * 86_400),
        by_api=False,
        rng=ctx.rng,
    )


_PATH: Final = "externalcontact"

ROUTES = [
    Route("POST", f"{_PATH}/add_intercept_rule", add_intercept_rule),
    Route("GET", f"{_PATH}/get_intercept_rule_list", get_intercept_rule_list),
    Route("POST", f"{_PATH}/get_intercept_rule", get_intercept_rule),
    Route("POST", f"{_PATH}/update_intercept_rule", update_intercept_rule),
    Route("POST", f"{_PATH}/del_intercept_rule", del_intercept_rule),
]
SEEDERS = [seed_intercept_rules]
