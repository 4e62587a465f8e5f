"""The base of every service: one call, envelope stripped, data structured into models.

A service method validates what can be checked locally, builds the request and makes one
call through these helpers. No HTTP, token or retry logic lives in services. Paged calls
have one implementation, :meth:`Service._pages`: every paginator and every merge of a
paged answer goes through it, hence through :meth:`AsyncPaginator.pages` and its guard
against page tokens that repeat or do not advance. Every helper takes the caller's
per-call :class:`~wecom_async.RequestOptions` and hands them to each request it sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Final, TypeVar, get_origin

from .._converter import from_dict, structure, structure_request, to_dict
from .._core import ENVELOPE_KEYS, Core, Endpoint, Files, Params
from .._exceptions import ResponseError, StructureError, ValidationError
from .._options import RequestOptions
from ..models._base import JsonObject, JsonValue
from ..pagination import AsyncPaginator, FailInfo, NumberedPage, Page, PageToken

__all__ = ["Body", "Service", "check_options", "cursor_body", "request_body"]

T = TypeVar("T")
M = TypeVar("M")
X = TypeVar("X")
R = TypeVar("R")
Body = Mapping[str, object]
#: Builds (query params, JSON body) of the page that starts at a token.
PageRequest = Callable[[PageToken], tuple[Params | None, Body | None]]
#: Turns the answer of the page that started at a token into a :class:`Page`.
PageParser = Callable[[JsonObject, PageToken], Page[T]]

_STRIPPED = frozenset({*ENVELOPE_KEYS, "next_cursor"})
_PAGE_KEYS = frozenset({*ENVELOPE_KEYS, "next_cursor", "next_offset", "total", "fail_info"})
#: The keyword arguments a service method takes besides its own parameters.
OPTION_KEYS: Final = frozenset(RequestOptions.__annotations__)


def request_body(model: type[R], body: R | Mapping[str, object]) -> Body:
    """The wire dict of a request given as its model or as a mapping of wire fields.

    A mapping is structured strictly (unknown keys refused), so it is validated exactly
    like the model. Raises ValidationError before anything is sent.
    """
    return to_dict(structure_request(model, body))


def cursor_body(body: Body, token: PageToken) -> Body:
    """``body`` plus the page's ``cursor`` (none on the first page)."""
    return {**body, "cursor": token} if token else dict(body)


def check_options(options: RequestOptions | None) -> RequestOptions | None:
    """Refuse per-call options that are misspelt or of the wrong shape, before sending.

    A service method gathers its unknown keyword arguments into ``options``, so a typo in
    a parameter name lands here and is refused instead of silently dropped.

    Raises:
        ValidationError: an unknown option, or ``extra_body`` / ``extra_query`` that is
            not a mapping of string keys to JSON (query: str or int) values.
    """
    if not options:
        return None
    unknown = sorted(set(options) - OPTION_KEYS)
    if unknown:
        raise ValidationError(
            f"unexpected keyword argument(s) {unknown}; the per-call options are "
            f"{sorted(OPTION_KEYS)}"
        )
    extra_body: object = options.get("extra_body")
    if extra_body is not None:
        _check_string_keys(extra_body, "extra_body")
        try:
            json.dumps(extra_body)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"extra_body is not JSON-serialisable: {exc}") from None
    extra_query: object = options.get("extra_query")
    if extra_query is not None:
        for key, value in _check_string_keys(extra_query, "extra_query").items():
            if not isinstance(value, str | int):
                raise ValidationError(f"extra_query[{key!r}] must be a str or int, got {value!r}")
    return options


def _check_string_keys(value: object, name: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise ValidationError(f"{name} must be a mapping with string keys, got {value!r}")
    return value


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
        options: RequestOptions | None = None,
    ) -> JsonObject:
        options = check_options(options)
        if files is not None and options and options.get("extra_body"):
            raise ValidationError(
                f"extra_body needs a JSON body; {endpoint.line} is a multipart upload"
            )
        return await self._core.call(
            endpoint, params=params, json_body=body, files=files, options=options
        )

    async def _model(
        self,
        endpoint: Endpoint,
        model: type[M],
        *,
        key: str | None = None,
        params: Params | None = None,
        body: Body | None = None,
        files: Files | None = None,
        options: RequestOptions | None = None,
    ) -> M:
        """Send, then structure ``data[key]`` (or the whole answer minus the envelope)."""
        data = await self._send(endpoint, params=params, body=body, files=files, options=options)
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
        options: RequestOptions | None = None,
    ) -> M:
        """Send, then return the bare value ``data[key]`` checked to be a ``kind``."""
        data = await self._send(endpoint, params=params, body=body, options=options)
        return _structure_value(kind, data.get(key), endpoint, key)

    async def _none(
        self,
        endpoint: Endpoint,
        *,
        params: Params | None = None,
        body: Body | None = None,
        options: RequestOptions | None = None,
    ) -> None:
        """Send a call whose answer is only the envelope."""
        await self._send(endpoint, params=params, body=body, options=options)

    def _pages(
        self,
        endpoint: Endpoint,
        request: PageRequest,
        parse: PageParser[T],
        *,
        start: PageToken = None,
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[T]:
        """The one paged request: each page built by ``request``, read by ``parse``.

        Options are checked now, so a misspelt argument fails where the paginator is made.
        """
        checked = check_options(options)

        async def fetch(token: PageToken) -> Page[T]:
            params, body = request(token)
            data = await self._send(endpoint, params=params, body=body, options=checked)
            return parse(data, token)

        return AsyncPaginator(fetch, start, what=endpoint.line)

    def _paginate(
        self,
        endpoint: Endpoint,
        item_type: type[T],
        items_key: str,
        request: PageRequest,
        *,
        start: PageToken = None,
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator whose pages hold ``data[items_key]`` structured as ``item_type``."""
        return self._paginate_as(
            endpoint, item_type, items_key, request, _same, start=start, options=options
        )

    def _paginate_as(
        self,
        endpoint: Endpoint,
        item_type: type[X],
        items_key: str,
        request: PageRequest,
        convert: Callable[[X], T],
        *,
        start: PageToken = None,
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[T]:
        """As :meth:`_paginate`, each item given as ``convert(item)`` (e.g. just its id)."""
        return self._pages(
            endpoint,
            request,
            lambda data, _: _page(data, item_type, items_key, endpoint, convert),
            start=start,
            options=options,
        )

    def _cursor_paginate(
        self,
        endpoint: Endpoint,
        item_type: type[T],
        items_key: str,
        body: Body,
        *,
        start: str | None = None,
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator of a POST endpoint that sends ``body`` plus each page's cursor."""
        return self._paginate(
            endpoint,
            item_type,
            items_key,
            lambda token: (None, cursor_body(body, token)),
            start=start,
            options=options,
        )

    def _paginate_numbered(
        self,
        endpoint: Endpoint,
        item_type: type[T],
        items_key: str,
        request: Callable[[int], tuple[Params | None, Body | None]],
        following: Callable[[int, JsonObject, int], int | None],
        *,
        start: int,
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator over a legacy offset / page-number shape (no cursor, no total).

        Args:
            request: builds (query, body) of the page at an offset / page number; it may
                raise ``ValidationError`` for a page WeCom would refuse (nothing is sent).
            following: given (this page's number, its answer, its item count), returns
                the next page's number or None.
            start: the first page's offset / page number.
            options: the caller's per-call options, sent with every page.
        """

        def number(token: PageToken) -> int:
            return token if isinstance(token, int) else start

        def parse(data: JsonObject, token: PageToken) -> Page[T]:
            page = _page(data, item_type, items_key, endpoint, _same)
            return NumberedPage(
                items=page.items,
                extra=page.extra,
                following=following(number(token), data, len(page.items)),
            )

        return self._pages(
            endpoint, lambda token: request(number(token)), parse, start=start, options=options
        )

    async def _merged(
        self,
        endpoint: Endpoint,
        model: type[M],
        request: PageRequest,
        merge: Callable[[list[M]], M],
        *,
        options: RequestOptions | None = None,
    ) -> M:
        """Every page of an answer that is one ``model`` with a paged list, merged.

        Args:
            request: builds (query, body) of the page that starts at a cursor.
            merge: makes one answer of all pages' answers, in order (never empty).
            options: the caller's per-call options, sent with every page.
        """

        def parse(data: JsonObject, _: PageToken) -> Page[M]:
            whole = self._structure(data, model, endpoint)
            return Page(items=[whole], next_cursor=_next_cursor(data, endpoint))

        return merge(
            [whole async for whole in self._pages(endpoint, request, parse, options=options)]
        )


def _same(item: T) -> T:
    return item


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


def _next_cursor(data: JsonObject, endpoint: Endpoint) -> str | None:
    cursor = data.get("next_cursor")
    if cursor is None or isinstance(cursor, str):
        return cursor
    # Ending the paging here would pass a partial listing off as the whole one.
    raise _odd_paging("next_cursor", cursor, endpoint)


def _integer(data: JsonObject, key: str, endpoint: Endpoint) -> int | None:
    value = data.get(key)
    # bool is an int subclass: ``"next_offset": true`` is no offset.
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _odd_paging(key, value, endpoint)


def _odd_paging(key: str, value: object, endpoint: Endpoint) -> ResponseError:
    return ResponseError(
        f"the answer's {key} is a {type(value).__name__}: where the next page starts is unknown",
        request_line=endpoint.line,
    )


def _page(
    data: JsonObject,
    item_type: type[X],
    items_key: str,
    endpoint: Endpoint,
    convert: Callable[[X], T],
) -> Page[T]:
    raw_items = data.get(items_key)
    items: list[X] = structure(
        [] if raw_items is None else raw_items,
        list[item_type],  # type: ignore[valid-type]
        request_line=endpoint.line,
    )
    fail_info = data.get("fail_info")
    kept = fail_info is None or isinstance(fail_info, dict)
    return Page(
        items=[convert(item) for item in items],
        next_cursor=_next_cursor(data, endpoint),
        next_offset=_integer(data, "next_offset", endpoint),
        total=_integer(data, "total", endpoint),
        fail_info=from_dict(FailInfo, fail_info) if isinstance(fail_info, dict) else None,
        # A fail_info of another shape is not lost: it stays with the rest of the answer.
        extra={
            k: v
            for k, v in data.items()
            if (k not in _PAGE_KEYS or (k == "fail_info" and not kept)) and k != items_key
        },
    )
