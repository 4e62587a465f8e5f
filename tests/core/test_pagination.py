"""AsyncPaginator: awaitable first page, iteration over pages and items, both page kinds."""

from __future__ import annotations

import pytest

from wecom_async import AsyncPaginator, Page, ResponseError
from wecom_async.pagination import PageToken


def _cursor_pages(n: int, per: int) -> tuple[AsyncPaginator[int], list[PageToken]]:
    asked: list[PageToken] = []

    async def fetch(token: PageToken) -> Page[int]:
        asked.append(token)
        index = int(token or 0)
        items = list(range(index * per, (index + 1) * per))
        return Page(items=items, next_cursor=str(index + 1) if index + 1 < n else "")

    return AsyncPaginator(fetch), asked


async def test_await_gives_the_first_page_only() -> None:
    paginator, asked = _cursor_pages(3, 2)
    page = await paginator
    assert page.items == [0, 1]
    assert page.next_cursor == "1"
    assert asked == [None]


async def test_iteration_yields_every_item_once_across_cursor_pages() -> None:
    paginator, asked = _cursor_pages(4, 3)
    assert [i async for i in paginator] == list(range(12))
    assert asked == [None, "1", "2", "3"]


async def test_offset_pages_stop_at_total() -> None:
    asked: list[PageToken] = []

    async def fetch(token: PageToken) -> Page[int]:
        asked.append(token)
        offset = int(token or 0)
        items = list(range(offset, min(offset + 4, 10)))
        return Page(items=items, next_offset=offset + len(items), total=10)

    assert [i async for i in AsyncPaginator(fetch)] == list(range(10))
    assert asked == [None, 4, 8]


async def test_a_repeated_cursor_is_an_error_not_a_loop() -> None:
    async def fetch(token: PageToken) -> Page[int]:
        return Page(items=[1], next_cursor="same")

    with pytest.raises(ResponseError, match="repeated"):
        [i async for i in AsyncPaginator(fetch, start="same")]
