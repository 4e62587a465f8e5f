"""``client.intercept_rules``: chat intercept rules (管理聊天敏感词), endpoints.md #88-#92.

Only a self-built app listed in 客户联系's "可调用接口的应用", or a third-party / 代开发
app with the 管理敏感词 permission, may call these. An app changes and deletes only the
rules it created; it lists and reads every rule of the corp.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from ..models._base import EmptyResponse, WireList, WireStr
from ..models.intercept_rules import (
    AddInterceptRuleRequest,
    AddInterceptRuleResponse,
    GetInterceptRuleResponse,
    InterceptRule,
    InterceptRuleListResponse,
    InterceptRuleSummary,
    UpdateInterceptRuleRequest,
    check_rule_id,
)
from ._base import Service, request_body

__all__ = ["InterceptRulesService"]

_PATH: Final = "externalcontact"
_ADD = Endpoint(
    "POST",
    f"{_PATH}/add_intercept_rule",
    retry_safe=False,
    response=AddInterceptRuleResponse,
    key="rule_id",
)
_LIST = Endpoint(
    "GET",
    f"{_PATH}/get_intercept_rule_list",
    retry_safe=True,
    response=InterceptRuleListResponse,
    key="rule_list",
)
_GET = Endpoint(
    "POST",
    f"{_PATH}/get_intercept_rule",
    retry_safe=True,
    response=GetInterceptRuleResponse,
    key="rule",
)
_UPDATE = Endpoint(
    "POST", f"{_PATH}/update_intercept_rule", retry_safe=True, response=EmptyResponse
)
_DELETE = Endpoint("POST", f"{_PATH}/del_intercept_rule", retry_safe=False, response=EmptyResponse)


def _rule_body(rule_id: str | int) -> dict[str, object]:
    return {"rule_id": check_rule_id(rule_id)}


class InterceptRulesService(Service):
    """Chat intercept rules (敏感词): words and kinds of content members may not send.

    A corp holds at most 100 rules; a rule's range holds at most 10,000 userids (WeCom
    checks both). Members of the range must be within the app's visible range.
    """

    async def add(
        self,
        body: AddInterceptRuleRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> WireStr:
        """Create an intercept rule.

        ``POST /cgi-bin/externalcontact/add_intercept_rule``

        Not retry-safe: after an ambiguous failure (timeout, errcode -1) it is not resent,
        since a second rule could be created; check with :meth:`list` first. The official
        page (and WxJava) send ``semantics_list`` at the top level here, while update
        nests it in ``extra_rule`` (endpoints.md discrepancy #32).

        Args:
            body: an :class:`AddInterceptRuleRequest` or a mapping of its wire fields
                (``rule_name``, ``word_list``, ``semantics_list``, ``intercept_type``,
                ``applicable_range``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The new ``rule_id``.

        Raises:
            ValidationError: a documented limit is broken (nothing is sent): ``rule_name``
                not 1-20 characters, ``word_list`` empty, over 300 words or a word not
                1-32 characters, a code outside 1-3, ``intercept_type`` not 1 or 2, a
                range with neither list or over 1,000 ids in one.
            APIError: 60111 a member who is not in the corp; 40058 (by meaning; the page
                lists no codes) the corp's 100 rules reached or over 10,000 userids.
            PermissionDeniedError: 48002 the app may not manage sensitive words.

        Docs: https://developer.work.weixin.qq.com/document/path/95097
        """
        request = request_body(AddInterceptRuleRequest, body)
        return await self._str_part(_ADD, body=request, options=options)

    async def list(self, **options: Unpack[RequestOptions]) -> WireList[InterceptRuleSummary]:
        """List every intercept rule of the corp (not paged).

        ``GET /cgi-bin/externalcontact/get_intercept_rule_list``

        Args:
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`InterceptRuleSummary` items (``rule_id``, ``rule_name``,
            ``create_time``), rules created by other apps and in the admin console
            included.

        Raises:
            PermissionDeniedError: 48002 the app may not manage sensitive words.

        Docs: https://developer.work.weixin.qq.com/document/path/95097
        """
        return await self._list_part(_LIST, InterceptRuleSummary, options=options)

    async def get(self, rule_id: str | int, **options: Unpack[RequestOptions]) -> InterceptRule:
        """Get an intercept rule: its words, kinds of content, intercept type and range.

        ``POST /cgi-bin/externalcontact/get_intercept_rule``

        Args:
            rule_id: the rule's id (from :meth:`add` or :meth:`list`), sent as given.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`InterceptRule`; its range holds only the members and departments
            within the app's visible range, and its ``rule_id`` is kept as sent (a string,
            or an integer as in the official example).

        Raises:
            ValidationError: ``rule_id`` is an empty string, a negative integer or of
                another type.
            APIError: 40058 (by meaning) an unknown or deleted rule.

        Docs: https://developer.work.weixin.qq.com/document/path/95097
        """
        body = _rule_body(rule_id)
        return await self._model_part(_GET, InterceptRule, body=body, options=options)

    async def update(
        self,
        body: UpdateInterceptRuleRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> None:
        """Change an intercept rule; only the fields given change.

        ``POST /cgi-bin/externalcontact/update_intercept_rule``

        Retry-safe: the same change sent twice leaves the same rule (``word_list`` and
        ``extra_rule`` replace, the two ranges add and remove). An app changes only the
        rules it created.

        Args:
            body: an :class:`UpdateInterceptRuleRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: a documented limit is broken (nothing is sent), as for
                :meth:`add`; an empty ``word_list`` (WeCom would ignore it).
            APIError: 40058 (by meaning) an unknown rule; 60111 as for :meth:`add`.
            PermissionDeniedError: 48002 (by meaning) a rule another app or the admin
                created.

        Docs: https://developer.work.weixin.qq.com/document/path/95097
        """
        request = request_body(UpdateInterceptRuleRequest, body)
        await self._none(_UPDATE, body=request, options=options)

    async def delete(self, rule_id: str | int, **options: Unpack[RequestOptions]) -> None:
        """Delete an intercept rule.

        ``POST /cgi-bin/externalcontact/del_intercept_rule``

        Not retry-safe: not resent after an ambiguous failure. An app deletes only the
        rules it created.

        Args:
            rule_id: the rule's id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``rule_id`` is an empty string, a negative integer or of
                another type.
            APIError: 40058 (by meaning) an unknown or already deleted rule.
            PermissionDeniedError: 48002 (by meaning) a rule another app or the admin
                created.

        Docs: https://developer.work.weixin.qq.com/document/path/95097
        """
        await self._none(_DELETE, body=_rule_body(rule_id), options=options)
