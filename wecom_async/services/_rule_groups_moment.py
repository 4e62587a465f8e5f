"""``client.strategy``'s moment rule groups (客户朋友圈规则组), endpoints.md #53-#58."""

from __future__ import annotations

from collections.abc import Mapping

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from ..models._base import EmptyResponse, WireInt
from ..models.rule_groups import (
    MAX_STRATEGY_PAGE,
    CreateMomentStrategyRequest,
    CreateStrategyResponse,
    EditMomentStrategyRequest,
    GetMomentStrategyResponse,
    MomentStrategy,
    StrategyListResponse,
    StrategyRange,
    StrategyRangeResponse,
)
from ..pagination import AsyncPaginator
from ._rule_group_calls import RuleGroupCalls, RuleGroupKind

__all__ = ["MomentRuleGroups"]

_MOMENT_LIST = Endpoint(
    "POST",
    "externalcontact/moment_strategy/list",
    retry_safe=True,
    response=StrategyListResponse,
    key="strategy",
)
_MOMENT_GET = Endpoint(
    "POST",
    "externalcontact/moment_strategy/get",
    retry_safe=True,
    response=GetMomentStrategyResponse,
    key="strategy",
)
_MOMENT_RANGE = Endpoint(
    "POST",
    "externalcontact/moment_strategy/get_range",
    retry_safe=True,
    response=StrategyRangeResponse,
    key="range",
)
_MOMENT_CREATE = Endpoint(
    "POST",
    "externalcontact/moment_strategy/create",
    retry_safe=False,
    response=CreateStrategyResponse,
    key="strategy_id",
)
_MOMENT_EDIT = Endpoint(
    "POST", "externalcontact/moment_strategy/edit", retry_safe=True, response=EmptyResponse
)
_MOMENT_DEL = Endpoint(
    "POST", "externalcontact/moment_strategy/del", retry_safe=False, response=EmptyResponse
)

_MOMENT = RuleGroupKind(
    _MOMENT_LIST,
    _MOMENT_GET,
    _MOMENT_RANGE,
    _MOMENT_CREATE,
    _MOMENT_EDIT,
    _MOMENT_DEL,
    MomentStrategy,
    CreateMomentStrategyRequest,
    EditMomentStrategyRequest,
)


class MomentRuleGroups(RuleGroupCalls):
    """Moment rule groups (D:94890)."""

    def list_moment(
        self,
        *,
        limit: int = MAX_STRATEGY_PAGE,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[int]:
        """Page through the ids of the moment rule groups this app created.

        ``POST /cgi-bin/externalcontact/moment_strategy/list``

        As :meth:`list`, for moment rule groups.

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

        Docs: https://developer.work.weixin.qq.com/document/path/94890
        """
        return self._list(_MOMENT, limit, cursor, options=options)

    async def get_moment(
        self, strategy_id: int, **options: Unpack[RequestOptions]
    ) -> MomentStrategy:
        """Get a moment rule group: name, parent, admins and privileges.

        ``POST /cgi-bin/externalcontact/moment_strategy/get``

        Args:
            strategy_id: the rule group's id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`MomentStrategy`.

        Raises:
            ValidationError: ``strategy_id`` is not a positive int.
            APIError: an unknown or deleted ``strategy_id`` (errcode not documented).

        Docs: https://developer.work.weixin.qq.com/document/path/94890
        """
        return await self._get(_MOMENT, strategy_id, options=options)

    def get_moment_range(
        self,
        strategy_id: int,
        *,
        limit: int = MAX_STRATEGY_PAGE,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[StrategyRange]:
        """Page through the members and departments a moment rule group manages.

        ``POST /cgi-bin/externalcontact/moment_strategy/get_range``

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

        Docs: https://developer.work.weixin.qq.com/document/path/94890
        """
        return self._get_range(_MOMENT, strategy_id, limit, cursor, options=options)

    async def create_moment(
        self,
        body: CreateMomentStrategyRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> WireInt:
        """Create a moment rule group, top-level or the child of ``parent_id``.

        ``POST /cgi-bin/externalcontact/moment_strategy/create``

        As :meth:`create` (serial calls only, not retried after an ambiguous failure,
        child range a subset of the parent's, 5 levels, 3,000 nodes), with the moment
        privileges.

        Args:
            body: a :class:`CreateMomentStrategyRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The new ``strategy_id``.

        Raises:
            ValidationError: a documented limit is broken (nothing is sent).
            APIError: as :meth:`create`.

        Docs: https://developer.work.weixin.qq.com/document/path/94890
        """
        return await self._create(_MOMENT, body, options=options)

    async def edit_moment(
        self,
        body: EditMomentStrategyRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> None:
        """Rename a moment rule group, replace its admins or privileges, change its range.

        ``POST /cgi-bin/externalcontact/moment_strategy/edit``

        As :meth:`edit`: serial calls only; ``admin_list`` and ``privilege`` replace the
        old values when given.

        Args:
            body: an :class:`EditMomentStrategyRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: a documented limit is broken (nothing is sent).
            APIError: as :meth:`edit`.

        Docs: https://developer.work.weixin.qq.com/document/path/94890
        """
        await self._edit(_MOMENT, body, options=options)

    async def delete_moment(self, strategy_id: int, **options: Unpack[RequestOptions]) -> None:
        """Delete a moment rule group.

        ``POST /cgi-bin/externalcontact/moment_strategy/del``

        Not retried after an ambiguous failure.

        Args:
            strategy_id: the rule group's id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``strategy_id`` is not a positive int.
            APIError: an unknown or already deleted ``strategy_id``.

        Docs: https://developer.work.weixin.qq.com/document/path/94890
        """
        await self._delete(_MOMENT, strategy_id, options=options)
