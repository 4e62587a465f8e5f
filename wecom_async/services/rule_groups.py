"""``client.strategy``: customer rule groups and moment rule groups, endpoints.md #17-#22, #53-#58.

The two kinds have the same six endpoints and shapes, except ``privilege``; one private
implementation serves both, told which kind by a :class:`_Kind` descriptor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from .._validation import check_range
from ..models._base import EmptyResponse, WireInt, WireModel
from ..models.rule_groups import (
    MAX_STRATEGY_PAGE,
    CreateCustomerStrategyRequest,
    CreateMomentStrategyRequest,
    CreateStrategyResponse,
    CustomerStrategy,
    EditCustomerStrategyRequest,
    EditMomentStrategyRequest,
    GetCustomerStrategyResponse,
    GetMomentStrategyResponse,
    MomentStrategy,
    StrategyListItem,
    StrategyListResponse,
    StrategyRange,
    StrategyRangeResponse,
)
from ..pagination import AsyncPaginator
from ._base import Service, cursor_body, request_body

__all__ = ["StrategyService"]

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

_MAX_ID = 2**63 - 1

S = TypeVar("S", CustomerStrategy, MomentStrategy)
C = TypeVar("C", bound=WireModel)
E = TypeVar("E", bound=WireModel)


@dataclass(frozen=True)
class _Kind(Generic[S, C, E]):
    """One kind of rule group: its six endpoints, its model and its request models."""

    list: Endpoint
    get: Endpoint
    get_range: Endpoint
    create: Endpoint
    edit: Endpoint
    delete: Endpoint
    strategy: type[S]
    create_request: type[C]
    edit_request: type[E]


_CUSTOMER = _Kind(
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
_MOMENT = _Kind(
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


def _id_body(strategy_id: int) -> dict[str, object]:
    return {"strategy_id": check_range(strategy_id, "strategy_id", low=1, high=_MAX_ID)}


def _page_body(limit: int) -> dict[str, object]:
    return {"limit": check_range(limit, "limit", low=1, high=MAX_STRATEGY_PAGE)}


class StrategyService(Service):
    """Customer rule groups (客户联系规则组) and moment rule groups (客户朋友圈规则组).

    An app sees and manages only the rule groups it created. WeCom requires create and
    edit calls to be made serially (never two at once). Child groups: at most 5 levels,
    a child's range must be a subset of its parent's and it inherits the parent's
    privileges; a group's range holds at most 3,000 nodes.
    """

    # -- the shared implementation ---------------------------------------------------

    def _list(
        self, kind: _Kind[S, C, E], limit: int, cursor: str | None, options: RequestOptions
    ) -> AsyncPaginator[int]:
        body = _page_body(limit)
        return self._paginate_as(
            kind.list,
            StrategyListItem,
            lambda token: (None, cursor_body(body, token)),
            lambda item: item.strategy_id,
            start=cursor,
            options=options,
        )

    async def _get(self, kind: _Kind[S, C, E], strategy_id: int, options: RequestOptions) -> S:
        body = _id_body(strategy_id)
        return await self._model_part(kind.get, kind.strategy, body=body, options=options)

    def _get_range(
        self,
        kind: _Kind[S, C, E],
        strategy_id: int,
        limit: int,
        cursor: str | None,
        options: RequestOptions,
    ) -> AsyncPaginator[StrategyRange]:
        body = {**_id_body(strategy_id), **_page_body(limit)}
        return self._cursor_paginate(
            kind.get_range, StrategyRange, body, start=cursor, options=options
        )

    async def _create(
        self, kind: _Kind[S, C, E], body: C | Mapping[str, object], options: RequestOptions
    ) -> WireInt:
        request = request_body(kind.create_request, body)
        return await self._int_part(kind.create, body=request, options=options)

    async def _edit(
        self, kind: _Kind[S, C, E], body: E | Mapping[str, object], options: RequestOptions
    ) -> None:
        request = request_body(kind.edit_request, body)
        await self._none(kind.edit, body=request, options=options)

    async def _delete(
        self, kind: _Kind[S, C, E], strategy_id: int, options: RequestOptions
    ) -> None:
        await self._none(kind.delete, body=_id_body(strategy_id), options=options)

    # -- customer rule groups (D:94883) ----------------------------------------------

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

    # -- moment rule groups (D:94890) ------------------------------------------------

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
