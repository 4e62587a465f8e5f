"""AsyncPaginator: awaitable first page, iteration over pages and items, both page kinds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _scripted(following: list[PageToken]) -> tuple[AsyncPaginator[int], list[PageToken]]:
    """Page i answers ``following[i]`` as its next cursor (an int as its next offset)."""
    asked: list[PageToken] = []

    async def fetch(token: PageToken) -> Page[int]:
        asked.append(token)
        assert len(asked) <= len(following), "the paginator asked past the script"
        nxt = following[len(asked) - 1]
        if isinstance(nxt, int):
            return Page(items=[len(asked)], next_offset=nxt, total=10**6)
        return Page(items=[len(asked)], next_cursor=nxt)

    return AsyncPaginator(fetch, what="POST /cgi-bin/scripted"), asked


@pytest.mark.parametrize(
    ("script", "requests"),
    [
        (["A", "B", "A"], 3),  # period 2
        (["A", "B", "C", "A"], 4),  # period 3
        (["A", "B", "C", "B"], 4),  # back into the middle
        ([5, 10, 5], 3),  # offsets cycle too
    ],
)
async def test_a_cycle_of_any_length_is_refused(script: list[PageToken], requests: int) -> None:
    paginator, asked = _scripted(script)
    with pytest.raises(ResponseError, match=r"repeated page token .* of POST /cgi-bin/scripted"):
        [i async for i in paginator]
    assert len(asked) == requests


@pytest.mark.parametrize("script", [[10, 9], [10, 4], [10, 20, 15]])
async def test_an_offset_that_does_not_advance_is_refused(script: list[PageToken]) -> None:
    paginator, asked = _scripted(script)
    with pytest.raises(ResponseError, match="does not advance"):
        [i async for i in paginator]
    assert len(asked) == len(script)


async def test_a_resumed_offset_must_advance_past_the_start() -> None:
    asked: list[PageToken] = []

    async def fetch(token: PageToken) -> Page[int]:
        asked.append(token)
        return Page(items=[1], next_offset=3, total=100)

    with pytest.raises(ResponseError, match="does not advance past 7"):
        [i async for i in AsyncPaginator(fetch, start=7)]
    assert asked == [7]


@given(
    tokens=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=12, unique=True),
    back=st.integers(min_value=0),
)
async def test_property_every_cycle_stops_after_one_pass(tokens: list[str], back: int) -> None:
    cycle_to = tokens[back % len(tokens)]
    paginator, asked = _scripted([*tokens, cycle_to])
    with pytest.raises(ResponseError):
        [i async for i in paginator]
    assert asked == [None, *tokens]


@given(tokens=st.lists(st.text(min_size=1, max_size=8), max_size=12, unique=True))
async def test_property_distinct_cursors_are_all_followed(tokens: list[str]) -> None:
    paginator, asked = _scripted([*tokens, ""])
    assert [i async for i in paginator] == list(range(1, len(tokens) + 2))
    assert asked == [None, *tokens]
