"""``client.strategy``'s customer rule groups (客户联系规则组), endpoints.md #17-#22."""

from __future__ import annotations

from collections.abc import Mapping

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from ..models._base import EmptyResponse, WireInt
from ..models.rule_groups import (
    MAX_STRATEGY_PAGE,
    CreateCustomerStrategyRequest,
    CreateStrategyResponse,
    CustomerStrategy,
    EditCustomerStrategyRequest,
    GetCustomerStrategyResponse,
    StrategyListResponse,
    StrategyRange,
    StrategyRangeResponse,
)
from ..pagination import AsyncPaginator
from ._rule_group_calls import RuleGroupCalls, RuleGroupKind

__all__ = ["CustomerRuleGroups"]

_CUSTOMER_LIST = Endpoint(
    "POST",
    "externalcontact/customer_strategy/list",
    retry_safe=True,
    response=StrategyListResponse,
    key="strategy",
)
_CUSTOMER_GET = Endpoint(
    "POST",
    "externalcontact/customer_strategy/get",
    retry_safe=True,
    response=GetCustomerStrategyResponse,
    key="strategy",
)
_CUSTOMER_RANGE = Endpoint(
    "POST",
    "externalcontact/customer_strategy/get_range",
    retry_safe=True,
    response=StrategyRangeResponse,
    key="range",
)
_CUSTOMER_CREATE = Endpoint(
    "POST",
    "externalcontact/customer_strategy/create",
    retry_safe=False,
    response=CreateStrategyResponse,
    key="strategy_id",
)
_CUSTOMER_EDIT = Endpoint(
    "POST", "externalcontact/customer_strategy/edit", retry_safe=True, response=EmptyResponse
)
_CUSTOMER_DEL = Endpoint(
    "POST", "externalcontact/customer_strategy/del", retry_safe=False, response=EmptyResponse
)

_CUSTOMER = RuleGroupKind(
    _CUSTOMER_LIST,
    _CUSTOMER_GET,
    _CUSTOMER_RANGE,
    _CUSTOMER_CREATE,
    _CUSTOMER_EDIT,
    _CUSTOMER_DEL,
    CustomerStrategy,
    CreateCustomerStrategyRequest,
    EditCustomerStrategyRequest,
)


class CustomerRuleGroups(RuleGroupCalls):
    """Customer rule groups (D:94883)."""

    def list(
        self,
        *,
        limit: int = MAX_STRATEGY_PAGE,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[int]:
        """Page through the ids of the customer rule groups this app created.

        ``POST /cgi-bin/externalcontact/customer_strategy/list``

        Sends nothing until awaited or iterated.

        Args:
            limit: ids per page, 1 to 1000 (WeCom's default is 1000).
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of strategy ids (``int``).

        Raises:
            ValidationError: ``limit`` is outside 1-1000.
            APIError: 50100 an invalid cursor.

        Docs: https://developer.work.weixin.qq.com/document/path/94883
        """
        return self._list(_CUSTOMER, limit, cursor, options=options)

    async def get(self, strategy_id: int, **options: Unpack[RequestOptions]) -> CustomerStrategy:
        """Get a customer rule group: name, parent, admins and privileges.

        ``POST /cgi-bin/externalcontact/customer_strategy/get``

        Args:
            strategy_id: the rule group's id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`CustomerStrategy` (``parent_id`` 0 for a top-level group; a child
            group reports the privileges it inherits).

        Raises:
            ValidationError: ``strategy_id`` is not a positive int.
            APIError: an unknown or deleted ``strategy_id`` (errcode not documented).

        Docs: https://developer.work.weixin.qq.com/document/path/94883
        """
        return await self._get(_CUSTOMER, strategy_id, options=options)

    def get_range(
        self,
        strategy_id: int,
        *,
        limit: int = MAX_STRATEGY_PAGE,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[StrategyRange]:
        """Page through the members and departments a customer rule group manages.

        ``POST /cgi-bin/externalcontact/customer_strategy/get_range``

        Sends nothing until awaited or iterated.

        Args:
            strategy_id: the rule group's id.
            limit: nodes per page, 1 to 1000 (WeCom's default is 1000).
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`StrategyRange` nodes.

        Raises:
            ValidationError: ``strategy_id`` is not a positive int or ``limit`` is outside
                1-1000.
            APIError: an unknown ``strategy_id``; 50100 an invalid cursor.

        Docs: https://developer.work.weixin.qq.com/document/path/94883
        """
        return self._get_range(_CUSTOMER, strategy_id, limit, cursor, options=options)

    async def create(
        self,
        body: CreateCustomerStrategyRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> WireInt:
        """Create a customer rule group, top-level or the child of ``parent_id``.

        ``POST /cgi-bin/externalcontact/customer_strategy/create``

        WeCom requires creates to be made serially: never call this concurrently. Not
        retried after an ambiguous failure (a second group could be created); check with
        :meth:`list` before trying again. A child's range must be a subset of its parent's,
        it inherits the parent's privileges (``privilege`` is ignored), groups nest at most
        5 levels deep and a group's range holds at most 3,000 nodes.

        Args:
            body: a :class:`CreateCustomerStrategyRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The new ``strategy_id``.

        Raises:
            ValidationError: ``strategy_name`` empty, ``admin_list`` empty or over 20,
                ``range`` empty or over 100 nodes, or a node without its id (nothing is
                sent).
            APIError: 60111 an admin or member who is not in the corp; 40058 (by meaning)
                an unknown parent, a range outside the parent's, over 5 levels or over
                3,000 nodes.

        Docs: https://developer.work.weixin.qq.com/document/path/94883
        """
        return await self._create(_CUSTOMER, body, options=options)

    async def edit(
        self,
        body: EditCustomerStrategyRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> None:
        """Rename a customer rule group, replace its admins or privileges, change its range.

        ``POST /cgi-bin/externalcontact/customer_strategy/edit``

        WeCom requires edits to be made serially: never call this concurrently. Only the
        fields given change; ``admin_list`` and ``privilege`` replace the old values. A
        child's range must stay a subset of its parent's.

        Args:
            body: an :class:`EditCustomerStrategyRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``strategy_name`` empty, ``admin_list`` empty or over 20,
                ``range_add`` / ``range_del`` empty or over 100 nodes, or a malformed node.
            APIError: as :meth:`create`, and an unknown ``strategy_id``.

        Docs: https://developer.work.weixin.qq.com/document/path/94883
        """
        await self._edit(_CUSTOMER, body, options=options)

    async def delete(self, strategy_id: int, **options: Unpack[RequestOptions]) -> None:
        """Delete a customer rule group.

        ``POST /cgi-bin/externalcontact/customer_strategy/del``

        Not retried after an ambiguous failure.

        Args:
            strategy_id: the rule group's id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``strategy_id`` is not a positive int.
            APIError: an unknown or already deleted ``strategy_id``.

        Docs: https://developer.work.weixin.qq.com/document/path/94883
        """
        await self._delete(_CUSTOMER, strategy_id, options=options)
