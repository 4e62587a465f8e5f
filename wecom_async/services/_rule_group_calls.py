"""The one implementation behind ``client.strategy``'s customer and moment rule groups.

The two kinds have the same six endpoints and shapes, except ``privilege``: a
:class:`RuleGroupKind` names one kind's endpoints and models, and every call of
:class:`RuleGroupCalls` takes the kind it serves, so its return type is that kind's
model (``CustomerStrategy`` or ``MomentStrategy``) for mypy too. The typed halves,
``_rule_groups_customer`` and ``_rule_groups_moment``, hold each public method and its
docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from .._core import Endpoint
from .._options import RequestOptions
from .._validation import check_range
from ..models._base import WireInt, WireModel
from ..models.rule_groups import (
    MAX_STRATEGY_PAGE,
    CustomerStrategy,
    MomentStrategy,
    StrategyListItem,
    StrategyRange,
)
from ..pagination import AsyncPaginator
from ._base import Service, cursor_body, request_body

__all__ = ["RuleGroupCalls", "RuleGroupKind"]

_MAX_ID: Final = 2**63 - 1

S = TypeVar("S", CustomerStrategy, MomentStrategy)
C = TypeVar("C", bound=WireModel)
E = TypeVar("E", bound=WireModel)


@dataclass(frozen=True)
class RuleGroupKind(Generic[S, C, E]):
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


def _id_body(strategy_id: int) -> dict[str, object]:
    return {"strategy_id": check_range(strategy_id, "strategy_id", low=1, high=_MAX_ID)}


def _page_body(limit: int) -> dict[str, object]:
    return {"limit": check_range(limit, "limit", low=1, high=MAX_STRATEGY_PAGE)}


class RuleGroupCalls(Service):
    """The six rule-group calls, for the kind each is given."""

    def _list(
        self, kind: RuleGroupKind[S, C, E], limit: int, cursor: str | None, options: RequestOptions
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

    async def _get(
        self, kind: RuleGroupKind[S, C, E], strategy_id: int, options: RequestOptions
    ) -> S:
        body = _id_body(strategy_id)
        return await self._model_part(kind.get, kind.strategy, body=body, options=options)

    def _get_range(
        self,
        kind: RuleGroupKind[S, C, E],
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
        self, kind: RuleGroupKind[S, C, E], body: C | Mapping[str, object], options: RequestOptions
    ) -> WireInt:
        request = request_body(kind.create_request, body)
        return await self._int_part(kind.create, body=request, options=options)

    async def _edit(
        self, kind: RuleGroupKind[S, C, E], body: E | Mapping[str, object], options: RequestOptions
    ) -> None:
        request = request_body(kind.edit_request, body)
        await self._none(kind.edit, body=request, options=options)

    async def _delete(
        self, kind: RuleGroupKind[S, C, E], strategy_id: int, options: RequestOptions
    ) -> None:
        await self._none(kind.delete, body=_id_body(strategy_id), options=options)
