"""The base of every service: one call, envelope stripped, data structured into models.

A service method validates what can be checked locally, builds the request and makes one
call through these helpers. No HTTP, token or retry logic lives in services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar, get_origin

from .._converter import from_dict, structure, structure_request, to_dict
from .._core import ENVELOPE_KEYS, Core, Endpoint, Files, Params
from .._exceptions import StructureError
from ..models._base import JsonObject, JsonValue
from ..pagination import AsyncPaginator, FailInfo, NumberedPage, Page, PageToken

__all__ = ["Body", "Service", "cursor_body", "request_body"]

T = TypeVar("T")
M = TypeVar("M")
Body = Mapping[str, object]
#: Builds (query params, JSON body) of the page that starts at a token.
PageRequest = Callable[[PageToken], tuple[Params | None, Body | None]]

_STRIPPED = frozenset({*ENVELOPE_KEYS, "next_cursor"})
_PAGE_KEYS = frozenset({*ENVELOPE_KEYS, "next_cursor", "next_offset", "total", "fail_info"})


R = TypeVar("R")


def request_body(model: type[R], body: R | Mapping[str, object]) -> Body:
    """The wire dict of a request given as its model or as a mapping of wire fields.

    A mapping is structured strictly (unknown keys refused), so it is validated exactly
    like the model. Raises ValidationError before anything is sent.
    """
    return to_dict(structure_request(model, body))


def cursor_body(body: Body, token: PageToken) -> Body:
    """``body`` plus the page's ``cursor`` (none on the first page)."""
    return {**body, "cursor": token} if token else dict(body)


class Service:
    """Base of the services reached as attributes of :class:`~wecom_async.WeComClient`."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    async def _send(
        self,
        endpoint: Endpoint,
        *,
        params: Params | None = None,
        body: Body | None = None,
        files: Files | None = None,
    ) -> JsonObject:
        return await self._core.call(endpoint, params=params, json_body=body, files=files)

    async def _model(
        self,
        endpoint: Endpoint,
        model: type[M],
        *,
        key: str | None = None,
        params: Params | None = None,
        body: Body | None = None,
        files: Files | None = None,
    ) -> M:
        """Send, then structure ``data[key]`` (or the whole answer minus the envelope)."""
        data = await self._send(endpoint, params=params, body=body, files=files)
        return self._structure(data, model, endpoint, key=key)

    @staticmethod
    def _structure(
        data: JsonObject, model: type[M], endpoint: Endpoint, *, key: str | None = None
    ) -> M:
        """Structure ``data[key]`` (or ``data`` minus envelope and cursor) as ``model``."""
        return from_dict(model, _payload(data, key), request_line=endpoint.line)

    async def _value(
        self,
        endpoint: Endpoint,
        kind: type[M],
        key: str,
        *,
        params: Params | None = None,
        body: Body | None = None,
        files: Files | None = None,
    ) -> M:
        """Send, then return the bare value ``data[key]`` checked to be a ``kind``."""
        data = await self._send(endpoint, params=params, body=body, files=files)
        return _structure_value(kind, data.get(key), endpoint, key)

    async def _none(
        self, endpoint: Endpoint, *, params: Params | None = None, body: Body | None = None
    ) -> None:
        """Send a call whose answer is only the envelope."""
        await self._send(endpoint, params=params, body=body)

    def _paginate(
        self,
        endpoint: Endpoint,
        item_type: type[T],
        items_key: str,
        request: PageRequest,
        *,
        start: PageToken = None,
    ) -> AsyncPaginator[T]:
        """A paginator whose pages hold ``data[items_key]`` structured as ``item_type``."""

        async def fetch(token: PageToken) -> Page[T]:
            params, body = request(token)
            data = await self._send(endpoint, params=params, body=body)
            return _page(data, item_type, items_key, endpoint)

        return AsyncPaginator(fetch, start)

    def _paginate_numbered(
        self,
        endpoint: Endpoint,
        item_type: type[T],
        items_key: str,
        request: Callable[[int], tuple[Params | None, Body | None]],
        following: Callable[[int, JsonObject, int], int | None],
        *,
        start: int,
    ) -> AsyncPaginator[T]:
        """A paginator over a legacy offset / page-number shape (no cursor, no total).

        Args:
            request: builds (query, body) of the page at an offset / page number; it may
                raise ``ValidationError`` for a page WeCom would refuse (nothing is sent).
            following: given (this page's number, its answer, its item count), returns
                the next page's number or None.
            start: the first page's offset / page number.
        """

        async def fetch(token: PageToken) -> Page[T]:
            number = token if isinstance(token, int) else start
            params, body = request(number)
            data = await self._send(endpoint, params=params, body=body)
            page = _page(data, item_type, items_key, endpoint)
            return NumberedPage(
                items=page.items,
                extra=page.extra,
                following=following(number, data, len(page.items)),
            )

        return AsyncPaginator(fetch, start)

    def _cursor_paginate(
        self,
        endpoint: Endpoint,
        item_type: type[T],
        items_key: str,
        body: Body,
        *,
        start: str | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator of a POST endpoint that sends ``body`` plus each page's cursor."""
        return self._paginate(
            endpoint,
            item_type,
            items_key,
            lambda token: (None, cursor_body(body, token)),
            start=start,
        )


def _payload(data: JsonObject, key: str | None) -> Mapping[str, JsonValue]:
    if key is not None:
        inner = data.get(key)
        return inner if isinstance(inner, dict) else {}
    return {k: v for k, v in data.items() if k not in _STRIPPED}


def _structure_value(kind: type[M], value: object, endpoint: Endpoint, key: str) -> M:
    if value is None:
        if get_origin(kind) is list:
            value = []  # WeCom leaves out empty lists
        else:
            raise StructureError(f"the answer has no {key!r}", raw=None, request_line=endpoint.line)
    result: M = structure(value, kind, request_line=endpoint.line)
    return result


def _page(data: JsonObject, item_type: type[T], items_key: str, endpoint: Endpoint) -> Page[T]:
    raw_items = data.get(items_key) or []
    items: list[T] = structure(raw_items, list[item_type], request_line=endpoint.line)  # type: ignore[valid-type]
    fail_info = data.get("fail_info")
    next_cursor, next_offset, total = (
        data.get("next_cursor"),
        data.get("next_offset"),
        data.get("total"),
    )
    return Page(
        items=items,
        next_cursor=next_cursor if isinstance(next_cursor, str) else None,
        next_offset=next_offset if isinstance(next_offset, int) else None,
        total=total if isinstance(total, int) else None,
        fail_info=from_dict(FailInfo, fail_info) if isinstance(fail_info, dict) else None,
        extra={k: v for k, v in data.items() if k not in _PAGE_KEYS and k != items_key},
    )
