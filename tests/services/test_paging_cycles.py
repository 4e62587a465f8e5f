"""No paged call loops: every paginator and every merge refuses a page token already followed.

A hostile or broken server whose cursors cycle (``'' -> A -> B -> A``) must get a
``ResponseError`` after exactly one pass round the cycle, from every paged method and from
the methods that merge a paged answer; no other method follows a cursor at all.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from wecom_async import AsyncPaginator, ResponseError, WeComError

from .every_call import (
    CALLS,
    MERGES,
    OFFSET_PATH,
    FixtureWeCom,
    cycling,
    is_paged,
    public_methods,
)

PAGED = sorted(key for key in CALLS if is_paged(key))
SINGLE = sorted(key for key in CALLS if not is_paged(key) and key not in MERGES)
PERIODS = [1, 2, 3]


def _invoke(client: Any, key: str, **options: Any) -> Any:
    service, _ = key.split(".")
    return CALLS[key](getattr(client, service), options)


def test_the_table_holds_every_public_service_method() -> None:
    assert set(CALLS) == public_methods()
    assert set(CALLS) >= MERGES
    assert len(PAGED) >= 20  # the table really found the paginators


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("key", PAGED)
async def test_every_paginator_refuses_a_cursor_cycle(key: str, period: int) -> None:
    server = FixtureWeCom(cycling(period))
    async with server.client() as client:
        paginator = _invoke(client, key)
        assert isinstance(paginator, AsyncPaginator)
        with pytest.raises(ResponseError, match="repeated page token"):
            [page async for page in paginator.pages()]
    # The first page, then one request per token of the cycle; the repeat is never sent.
    assert len(server.sent) == period + 1
    tokens = [s.body.get("offset" if s.path == OFFSET_PATH else "cursor") for s in server.sent]
    assert len(set(tokens)) == period + 1


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("key", sorted(MERGES))
async def test_every_merge_refuses_a_cursor_cycle(key: str, period: int) -> None:
    server = FixtureWeCom(cycling(period))
    async with server.client() as client:
        with pytest.raises(ResponseError, match="repeated page token"):
            await _invoke(client, key)
    assert len(server.sent) == period + 1


@pytest.mark.parametrize("key", SINGLE)
async def test_no_other_method_follows_a_cursor(key: str) -> None:
    # A method that merged pages without being listed in MERGES would send more than one.
    server = FixtureWeCom(cycling(2))
    async with server.client() as client:
        with contextlib.suppress(WeComError):
            await _invoke(client, key)
    assert len(server.sent) == 1


async def test_a_resumed_paginator_refuses_a_cursor_that_leads_back_to_its_start() -> None:
    server = FixtureWeCom(cycling(3))
    async with server.client() as client:
        paginator = client.external_contact.contact_list(cursor="B")
        with pytest.raises(ResponseError, match="'B'"):
            [page async for page in paginator.pages()]
    assert [s.body.get("cursor") for s in server.sent] == ["B", "C", "A"]


async def test_an_offset_that_goes_back_is_refused() -> None:
    # Each answer points one item back: every offset is new, so only "must advance" stops it.
    def backwards(path: str, token: str | int | None) -> dict[str, Any]:
        assert isinstance(token, int)
        return {"next_offset": token - 1, "total": 1000}

    server = FixtureWeCom(backwards)
    async with server.client() as client:
        paginator = client.statistics.group_chat_statistic(
            1_700_000_000, owner_userid_list=["zhangsan"], offset=10
        )
        with pytest.raises(ResponseError, match="does not advance"):
            [page async for page in paginator.pages()]
    assert [s.body["offset"] for s in server.sent] == [10]


async def test_the_error_names_the_endpoint() -> None:
    server = FixtureWeCom(cycling(2))
    async with server.client() as client:
        with pytest.raises(ResponseError) as caught:
            await client.external_contact.get("wmCustomer")
    assert "GET /cgi-bin/externalcontact/get" in str(caught.value)
