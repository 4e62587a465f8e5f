"""Chat intercept rules (管理聊天敏感词), endpoints.md #88-#92.

A rule names sensitive words (and, optionally, kinds of content: phone numbers, e-mail
addresses, red packets) that members in its ``applicable_range`` may not send to
customers: WeCom warns the member and, with ``intercept_type`` 1, blocks the message.

Documented request limits (refused locally): ``rule_name`` 1-20 characters; ``word_list``
at most 300 words of 1-32 characters each; ``semantics_list`` codes 1-3;
``intercept_type`` 1 or 2; a range carries at most 1,000 userids and 1,000 departments per
call and not neither. WeCom's own limits, left to it: at most 100 rules per corp, at most
10,000 userids in one rule's range, range members within the app's visible range, and an
app may change or delete only the rules it created (the 客户联系 system app: all).

The sources disagree in places, and answers are read as sent:

* add sends ``semantics_list`` at the top level, update and get nest it in
  ``extra_rule`` (the official page and WxJava agree; WxJava reads get's answer with its
  update model, which has no ``applicable_range``);
* the official get example shows ``rule_id`` as an integer (``1``), add and list show
  strings (``"xxx"``), as WxJava and go-laoji/wecom-go-sdk read them:
  :attr:`InterceptRule.rule_id` takes both;
* get's field table says words of at most 30 characters, add's says 32 (32 is checked).

Docs: https://developer.work.weixin.qq.com/document/path/95097
"""

from __future__ import annotations

from typing import Final, TypeVar

import attrs

from .._exceptions import ValidationError
from .._validation import check_id, check_ids, check_range, request_check
from ._base import WireEnum, WireModel

__all__ = [
    "MAX_RANGE_DEPARTMENTS",
    "MAX_RANGE_USERS",
    "MAX_RULE_NAME_CHARS",
    "MAX_WORDS",
    "MAX_WORD_CHARS",
    "AddInterceptRuleRequest",
    "AddInterceptRuleResponse",
    "GetInterceptRuleResponse",
    "InterceptExtraRule",
    "InterceptRule",
    "InterceptRuleListResponse",
    "InterceptRuleRange",
    "InterceptRuleSummary",
    "InterceptSemantics",
    "InterceptType",
    "UpdateInterceptRuleRequest",
    "check_rule_id",
]

#: ``rule_name``: 1 to this many characters.
MAX_RULE_NAME_CHARS: Final = 20
#: ``word_list``: at most this many words ...
MAX_WORDS: Final = 300
#: ... of 1 to this many characters each.
MAX_WORD_CHARS: Final = 32
#: A range carries at most this many userids per call ...
MAX_RANGE_USERS: Final = 1000
#: ... and this many departments.
MAX_RANGE_DEPARTMENTS: Final = 1000
_MAX_ID: Final = 2**63 - 1


class InterceptSemantics(WireEnum):
    """``semantics_list[]``: a kind of content intercepted besides the words."""

    PHONE = 1
    EMAIL = 2
    RED_PACKET = 3


class InterceptType(WireEnum):
    """``intercept_type``: what happens when a member sends a sensitive word."""

    #: Warn the member and block the message.
    WARN_AND_BLOCK = 1
    #: Only warn the member.
    WARN_ONLY = 2


# -- local checks --------------------------------------------------------------------------

_Words = TypeVar("_Words", bound=list[str] | None)
_Codes = TypeVar("_Codes", bound=list["InterceptSemantics | int"] | None)
_Name = TypeVar("_Name", bound=str | None)
_Type = TypeVar("_Type", bound="InterceptType | int | None")


def _is_code(value: object, codes: type[WireEnum]) -> bool:
    """Whether ``value`` is an int (not a bool) among ``codes``."""
    return isinstance(value, int) and not isinstance(value, bool) and value in set(codes)


@request_check
def _check_rule_name(_: object, attribute: attrs.Attribute[_Name], value: _Name) -> None:
    if value is None:
        return
    check_id(value, attribute.name)
    if len(value) > MAX_RULE_NAME_CHARS:
        raise ValidationError(
            f"{attribute.name} is {len(value)} characters long; WeCom allows at most "
            f"{MAX_RULE_NAME_CHARS}"
        )


def check_rule_id(value: str | int, name: str = "rule_id") -> str | int:
    """Return a rule id as given: a non-empty string, or a non-negative integer (the
    official get example shows one); anything else raises ValidationError."""
    if isinstance(value, str):
        return check_id(value, name)
    return check_range(value, name, low=0, high=_MAX_ID)  # refuses bools and other types


@request_check
def _check_rule_id(_: object, attribute: attrs.Attribute[str | int], value: str | int) -> None:
    check_rule_id(value, attribute.name)


@request_check
def _check_words(_: object, attribute: attrs.Attribute[_Words], value: _Words) -> None:
    """Words, when given: 1 to 300, each 1 to 32 characters (an empty list is ignored by
    WeCom on update and refused on add, so it is refused)."""
    if value is None:
        return
    if not value:
        raise ValidationError(f"{attribute.name} must not be empty (leave it out instead)")
    if len(value) > MAX_WORDS:
        raise ValidationError(
            f"{attribute.name} has {len(value)} words; WeCom allows at most {MAX_WORDS}"
        )
    for index, word in enumerate(value):
        if not isinstance(word, str) or not word or len(word) > MAX_WORD_CHARS:
            raise ValidationError(
                f"{attribute.name}[{index}] must be 1 to {MAX_WORD_CHARS} characters, got {word!r}"
            )


def _check_codes(codes: list[InterceptSemantics | int] | None, name: str) -> None:
    """Each code, if any, is 1 (phone), 2 (e-mail) or 3 (red packet); empty is allowed."""
    for index, code in enumerate(codes or ()):
        if not _is_code(code, InterceptSemantics):
            raise ValidationError(
                f"{name}[{index}] must be 1 (phone), 2 (email) or 3 (red packet), got {code!r}"
            )


@request_check
def _check_semantics(_: object, attribute: attrs.Attribute[_Codes], value: _Codes) -> None:
    _check_codes(value, attribute.name)


@request_check
def _check_intercept_type(_: object, attribute: attrs.Attribute[_Type], value: _Type) -> None:
    if value is not None and not _is_code(value, InterceptType):
        raise ValidationError(
            f"{attribute.name} must be 1 (warn and block) or 2 (warn only), got {value!r}"
        )


# -- shapes of both directions ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InterceptRuleRange(WireModel):
    """``applicable_range`` (and the update's ``add_`` / ``remove_applicable_range``).

    In a request: at most 1,000 userids and 1,000 department ids, not both lists empty
    (checked by the request that carries it). In an answer WeCom returns only the members
    and departments within the app's visible range.
    """

    user_list: list[str] | None = None
    department_list: list[int] | None = None


@attrs.frozen(kw_only=True)
class InterceptExtraRule(WireModel):
    """``extra_rule``: the kinds of content intercepted besides the words.

    In an update, an empty ``semantics_list`` clears every kind.
    """

    semantics_list: list[InterceptSemantics | int] | None = None


_Range = TypeVar("_Range", bound=InterceptRuleRange | None)
_Extra = TypeVar("_Extra", bound=InterceptExtraRule | None)


@request_check
def _check_range(_: object, attribute: attrs.Attribute[_Range], value: _Range) -> None:
    """A range, when given: 1-1,000 userids and / or 1-1,000 departments, not neither."""
    if value is None:
        return
    users, departments = value.user_list or [], value.department_list or []
    if not (users or departments):
        raise ValidationError(f"{attribute.name} needs user_list or department_list")
    check_ids(users, f"{attribute.name}.user_list", max_count=MAX_RANGE_USERS, min_count=0)
    if len(departments) > MAX_RANGE_DEPARTMENTS:
        raise ValidationError(
            f"{attribute.name}.department_list has {len(departments)} ids; WeCom allows at "
            f"most {MAX_RANGE_DEPARTMENTS}"
        )
    for partyid in departments:
        check_range(partyid, f"an item of {attribute.name}.department_list", low=1, high=_MAX_ID)


@request_check
def _check_extra_rule(_: object, attribute: attrs.Attribute[_Extra], value: _Extra) -> None:
    if value is not None:
        _check_codes(value.semantics_list, f"{attribute.name}.semantics_list")


# -- requests ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AddInterceptRuleRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/add_intercept_rule`` (endpoints.md #88).

    ``rule_name`` 1-20 characters; ``word_list`` 1-300 words of 1-32 characters;
    ``semantics_list`` optional codes 1-3 (top level here, unlike update and get);
    ``intercept_type`` 1 or 2; ``applicable_range`` as :class:`InterceptRuleRange`.
    """

    rule_name: str = attrs.field(validator=_check_rule_name)
    word_list: list[str] = attrs.field(validator=_check_words)
    intercept_type: InterceptType | int = attrs.field(validator=_check_intercept_type)
    applicable_range: InterceptRuleRange = attrs.field(validator=_check_range)
    semantics_list: list[InterceptSemantics | int] | None = attrs.field(
        default=None, validator=_check_semantics
    )


@attrs.frozen(kw_only=True)
class UpdateInterceptRuleRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/update_intercept_rule`` (endpoints.md #91).

    Only the fields given change. ``word_list`` (1-300 words) replaces the words;
    ``extra_rule.semantics_list`` replaces the kinds (empty: none); the two ranges add
    and remove members and departments (each at most 1,000 of either per call).
    """

    rule_id: str | int = attrs.field(validator=_check_rule_id)
    rule_name: str | None = attrs.field(default=None, validator=_check_rule_name)
    word_list: list[str] | None = attrs.field(default=None, validator=_check_words)
    extra_rule: InterceptExtraRule | None = attrs.field(default=None, validator=_check_extra_rule)
    intercept_type: InterceptType | int | None = attrs.field(
        default=None, validator=_check_intercept_type
    )
    add_applicable_range: InterceptRuleRange | None = attrs.field(
        default=None, validator=_check_range
    )
    remove_applicable_range: InterceptRuleRange | None = attrs.field(
        default=None, validator=_check_range
    )


# -- whole answers -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InterceptRuleSummary(WireModel):
    """An item of ``rule_list`` in ``get_intercept_rule_list``.

    ``rule_id`` is a string in the official example; an integer (as in the get example)
    is read as sent rather than failing the whole list, and is accepted back by
    ``get`` / ``update`` / ``delete``.
    """

    rule_id: str | int
    rule_name: str | None = None
    create_time: int | None = None


@attrs.frozen(kw_only=True)
class InterceptRule(WireModel):
    """An intercept rule, as ``get_intercept_rule`` returns it (``rule``).

    ``rule_id`` is a string in add and list answers but an integer in the official get
    example: it is kept as sent. ``applicable_range`` holds only the members and
    departments within the app's visible range.
    """

    rule_id: str | int | None = None
    rule_name: str | None = None
    word_list: list[str] | None = None
    extra_rule: InterceptExtraRule | None = None
    intercept_type: InterceptType | int | None = None
    applicable_range: InterceptRuleRange | None = None
    create_time: int | None = None


@attrs.frozen(kw_only=True)
class AddInterceptRuleResponse(WireModel):
    """Answer of ``add_intercept_rule``."""

    rule_id: str


@attrs.frozen(kw_only=True)
class InterceptRuleListResponse(WireModel):
    """Answer of ``get_intercept_rule_list`` (every rule of the corp, not paged)."""

    rule_list: list[InterceptRuleSummary] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class GetInterceptRuleResponse(WireModel):
    """Answer of ``get_intercept_rule``."""

    rule: InterceptRule
