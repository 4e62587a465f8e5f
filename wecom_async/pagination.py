"""Paged endpoints: ``AsyncPaginator[T]`` is awaitable (first page) and async-iterable (items).

Calling a paged method sends nothing. ``await`` the paginator for its first page, iterate
``pages()`` for every page, or ``async for`` over it for every item::

    page = await client.external_contact.batch_get_by_user(["zhangsan"])
    async for item in client.external_contact.batch_get_by_user(["zhangsan"]):
        ...

Two page kinds exist: cursor pages (``next_cursor``, empty when finished) and offset pages
(``next_offset`` and ``total``, finished when ``next_offset >= total``). No lock, cancel
scope or task group is held across a ``yield``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from typing import Generic, TypeVar

import attrs

from ._exceptions import ResponseError
from .models._base import JsonValue, WireModel

__all__ = ["AsyncPaginator", "FailInfo", "NumberedPage", "Page", "PageToken", "SeenTokens"]

T = TypeVar("T")
#: Where the next page starts: a cursor string, an offset, or None for the first page.
PageToken = str | int | None


@attrs.frozen(kw_only=True)
class FailInfo(WireModel):
    """Members a paged call could not serve (``fail_info`` of ``batch/get_by_user``).

    The call still succeeds for the other members: this is a partial failure to report,
    not an error.
    """

    unlicensed_userid_list: list[str] | None = None


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a paged endpoint.

    Attributes:
        items: the page's items, as models.
        next_cursor: cursor of the next page (cursor kind); empty or None when finished.
        next_offset: offset of the next page (offset kind).
        total: number of items in all pages (offset kind).
        fail_info: per-member partial failures reported beside the items, if any.
        extra: every other top-level field of the response, as sent.
    """

    items: list[T]
    next_cursor: str | None = None
    next_offset: int | None = None
    total: int | None = None
    fail_info: FailInfo | None = None
    extra: Mapping[str, JsonValue] = attrs.field(factory=dict, repr=False)

    @property
    def next_token(self) -> PageToken:
        """Where the next page starts, or None when this is the last page."""
        if self.next_offset is not None:
            if self.total is None or self.next_offset >= self.total or not self.items:
                return None
            return self.next_offset
        return self.next_cursor or None


@attrs.frozen(kw_only=True)
class NumberedPage(Page[T]):
    """A page of a legacy offset / page-number shape, whose answer has no cursor or total.

    ``groupchat/list`` with ``offset`` and ``get_unassigned_list`` with ``page_id`` page
    this way; the service decides where the next page starts.

    Attributes:
        following: the offset or page number of the next page, None after the last one.
    """

    following: int | None = None

    @property
    def next_token(self) -> PageToken:
        """Where the next page starts, or None when this is the last page."""
        return self.following


class SeenTokens:
    """The page tokens one pass has followed; a token seen before is a loop of any length.

    Comparing with the previous token alone misses a cycle such as ``'' -> A -> B -> A``.
    Offsets and page numbers must also grow: one that stays or goes back is a loop that
    merely has not closed yet. Every paging loop (the paginator, and through it the
    services' merges; the export) checks here.

    Args:
        start: the token of the first page, if any (a resumed cursor or offset).
        what: names the paged call in the error.
    """

    def __init__(self, start: PageToken = None, *, what: str = "") -> None:
        self._seen: set[PageToken] = {start}
        self._offset = start if isinstance(start, int) else None
        self._what = what

    def follow(self, token: PageToken) -> PageToken:
        """Return ``token`` after recording it.

        Raises:
            ResponseError: ``token`` was already followed in this pass (a cursor cycle), or
                is an offset / page number not past the last one followed.
        """
        where = f" of {self._what}" if self._what else ""
        if token is not None and token in self._seen:
            raise ResponseError(f"the server repeated page token {token!r}{where}")
        if isinstance(token, int):
            if self._offset is not None and token <= self._offset:
                raise ResponseError(
                    f"the server's next offset {token} does not advance past {self._offset}{where}"
                )
            self._offset = token
        self._seen.add(token)
        return token


class AsyncPaginator(Generic[T]):
    """Pages of one paged request; see the module docstring.

    Args:
        fetch: fetches the page that starts at a token.
        start: where the first page starts (a cursor or offset to resume from, or None).
        what: names the paged call in errors (e.g. ``POST /cgi-bin/...``).
    """

    def __init__(
        self,
        fetch: Callable[[PageToken], Awaitable[Page[T]]],
        start: PageToken = None,
        *,
        what: str = "",
    ) -> None:
        self._fetch = fetch
        self._start = start
        self._what = what

    def __repr__(self) -> str:
        return f"AsyncPaginator(start={self._start!r})"

    def __await__(self) -> Generator[object, None, Page[T]]:
        return self._fetch(self._start).__await__()

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield every page in order, starting at ``start``.

        Raises:
            ResponseError: WeCom handed back a page token already followed, or an offset
                that does not advance (a loop).
        """
        token = self._start
        seen = SeenTokens(token, what=self._what)
        while True:
            page = await self._fetch(token)
            yield page
            following = page.next_token
            if following is None:
                return
            token = seen.follow(following)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item
