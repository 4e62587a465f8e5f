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
from typing import Final, TypedDict, TypeVar, cast

from typing_extensions import Unpack

from .._converter import from_dict, structure_request, to_dict
from .._core import ENVELOPE_KEYS, Core, Endpoint, Files, Params, R
from .._exceptions import ResponseError, StructureError
from .._logging import logger, redact
from .._options import RequestOptions, check_options
from ..models._base import JsonObject, JsonValue, WireInt, WireList, WireModel, WireStr, part_of
from ..pagination import AsyncPaginator, FailInfo, NumberedPage, Page, PageToken

__all__ = ["Body", "Service", "cursor_body", "request_body"]

T = TypeVar("T")
M = TypeVar("M", bound=WireModel)
X = TypeVar("X")
Q = TypeVar("Q")
K = TypeVar("K")
Body = Mapping[str, object]
#: Builds (query params, JSON body) of the page that starts at a token.
PageRequest = Callable[[PageToken], tuple[Params | None, Body | None]]
#: Turns the answer of the page that started at a token into a :class:`Page`.
PageParser = Callable[[JsonObject, PageToken], Page[T]]

_STRIPPED = frozenset({*ENVELOPE_KEYS, "next_cursor"})
_PAGE_KEYS = frozenset({*ENVELOPE_KEYS, "next_cursor", "next_offset", "total", "fail_info"})


class Send(TypedDict, total=False):
    """What one request sends besides its endpoint (see :meth:`Service._send`)."""

    params: Params | None
    body: Body | None
    files: Files | None
    options: RequestOptions | None


#: How much of the unknown fields of an envelope-only answer a log line shows.
_LOGGED_CHARS: Final = 2000


def request_body(model: type[Q], body: Q | Mapping[str, object]) -> Body:
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
        options: RequestOptions | None = None,
    ) -> JsonObject:
        """Send one request; the decoded answer, envelope checked."""
        return await self._core.call(
            endpoint, params=params, json_body=body, files=files, options=options
        )

    async def _answer(self, endpoint: Endpoint[R], **send: Unpack[Send]) -> R:
        """Send, then structure the whole answer (envelope aside) as ``endpoint.response``."""
        data = await self._send(endpoint, **send)
        return _whole(data, endpoint)

    async def _model_part(self, endpoint: Endpoint, model: type[M], **send: Unpack[Send]) -> M:
        """Send; the model at ``endpoint.key``, with ``response`` set to the whole answer."""
        whole = await self._answer(endpoint, **send)
        return part_of(_keyed(whole, endpoint, model), whole)

    async def _list_part(
        self, endpoint: Endpoint, item: type[T], **send: Unpack[Send]
    ) -> WireList[T]:
        """Send; the list at ``endpoint.key`` (of ``item``), carrying the whole answer."""
        whole = await self._answer(endpoint, **send)
        return WireList(_items(whole, endpoint, item), whole)

    async def _str_part(self, endpoint: Endpoint, **send: Unpack[Send]) -> WireStr:
        """Send; the string at ``endpoint.key`` (an id, a url), carrying the whole answer."""
        whole = await self._answer(endpoint, **send)
        return WireStr(_keyed(whole, endpoint, str), whole)

    async def _int_part(self, endpoint: Endpoint, **send: Unpack[Send]) -> WireInt:
        """Send; the integer at ``endpoint.key`` (an id), carrying the whole answer."""
        whole = await self._answer(endpoint, **send)
        return WireInt(_keyed(whole, endpoint, int), whole)

    async def _none(self, endpoint: Endpoint, **send: Unpack[Send]) -> None:
        """Send a call whose answer is only the envelope.

        Such a method promises ``None``, so fields WeCom adds to the answer later cannot be
        returned: they are logged (INFO, redacted) instead of silently dropped.
        """
        whole = await self._answer(endpoint, **send)
        if whole.extra:
            unknown = json.dumps(dict(whole.extra), ensure_ascii=False)
            logger.info(
                "%s answered fields this release does not know: %s",
                endpoint.line,
                redact(unknown[:_LOGGED_CHARS]),
            )

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
        request: PageRequest,
        *,
        start: PageToken = None,
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator whose pages hold the ``item_type`` list at ``endpoint.key``."""
        return self._paginate_as(endpoint, item_type, request, _same, start=start, options=options)

    def _paginate_as(
        self,
        endpoint: Endpoint,
        item_type: type[X],
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
            lambda data, _: _page(data, item_type, endpoint, convert),
            start=start,
            options=options,
        )

    def _cursor_paginate(
        self,
        endpoint: Endpoint,
        item_type: type[T],
        body: Body,
        *,
        start: str | None = None,
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator of a POST endpoint that sends ``body`` plus each page's cursor."""
        return self._paginate(
            endpoint,
            item_type,
            lambda token: (None, cursor_body(body, token)),
            start=start,
            options=options,
        )

    def _paginate_numbered(
        self,
        endpoint: Endpoint,
        item_type: type[T],
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
            page = _page(data, item_type, endpoint, _same)
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
            whole = from_dict(model, _merged_part(data), request_line=endpoint.line)
            return Page(items=[whole], next_cursor=_next_cursor(data, endpoint))

        return merge(
            [whole async for whole in self._pages(endpoint, request, parse, options=options)]
        )


def _same(item: T) -> T:
    return item


def _merged_part(data: JsonObject) -> Mapping[str, JsonValue]:
    """The answer of one page of a merged answer, minus envelope and cursor."""
    return {k: v for k, v in data.items() if k not in _STRIPPED}


def _whole(data: JsonObject, endpoint: Endpoint[R]) -> R:
    """The whole answer, envelope aside, as the endpoint's response model."""
    payload = {k: v for k, v in data.items() if k not in ENVELOPE_KEYS}
    return from_dict(endpoint.response, payload, request_line=endpoint.line)


def _keyed(whole: WireModel, endpoint: Endpoint, kind: type[K]) -> K:
    """The field ``endpoint.key`` of the whole answer, which must hold a ``kind``.

    The lenient converter keeps a value a field cannot hold in ``extra`` and leaves the
    field at its default; a method that promises that value must not answer with the
    default instead, so such a value, or a missing one, is a StructureError. A list is
    the exception: WeCom leaves out an empty list or sends it as null, so both read as
    ``[]`` (the null stays in the whole answer's ``extra``, as sent).
    """
    key = endpoint.key
    if key is None:  # a service bug, caught by the tests of every endpoint
        raise TypeError(f"{endpoint.line} names no key to read")
    if key in whole.extra and not (kind is list and whole.extra[key] is None):
        raise StructureError(
            f"the answer's {key!r} is not a {kind.__name__}",
            raw=whole.extra[key],
            request_line=endpoint.line,
        )
    value: object = getattr(whole, key)  # a null list kept in extra: the field's default
    if value is None and kind is list:
        value = []  # WeCom leaves out empty lists
    if value is None:
        raise StructureError(f"the answer has no {key!r}", raw=None, request_line=endpoint.line)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StructureError(
            f"the answer's {key!r} is not a {kind.__name__}", raw=value, request_line=endpoint.line
        )
    return value


def _items(whole: WireModel, endpoint: Endpoint, item: type[T]) -> list[T]:
    """The list at ``endpoint.key``, each item checked to be an ``item``."""
    items: list[object] = _keyed(whole, endpoint, list)
    if not all(isinstance(value, item) for value in items):
        # The model's field and the service's promise disagree: a bug, not WeCom's fault.
        raise TypeError(f"{endpoint.line}: {endpoint.key!r} does not hold {item.__name__}")
    return cast(list[T], items)


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
    endpoint: Endpoint,
    convert: Callable[[X], T],
) -> Page[T]:
    """One page: the items at ``endpoint.key`` of the whole answer, its paging fields, and
    every other top-level field in ``extra``."""
    items = _items(_whole(data, endpoint), endpoint, item_type)
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
            if (k not in _PAGE_KEYS or (k == "fail_info" and not kept)) and k != endpoint.key
        },
    )
