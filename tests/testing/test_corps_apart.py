"""One fake serving several corps keeps each apart, as WeCom does: a cursor belongs to the
corp it was issued to, and frequency budgets and concurrency caps count per corp."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.testing.wire import CORP_ID, SECRET, Api
from wecom_async import RetryPolicy, WeComClient
from wecom_async.export import CustomersJob, run_export
from wecom_async.testing import FakeWeCom
from wecom_async.testing._corp import CorpData

OTHER = "wwothercorp"
OTHER_SECRET = "other-secret"
BATCH = "externalcontact/batch/get_by_user"
CONTACT_LIST = "externalcontact/contact_list"
FOLLOW_LIST = "externalcontact/get_follow_user_list"
INVALID_CURSOR = 50100


def two_corps(*, same_data: bool) -> FakeWeCom:
    """A fake whose first corp and ``OTHER`` are seeded; ``same_data``: identically, so
    that only the corp tells their cursors apart."""
    fake = FakeWeCom(CORP_ID, SECRET)
    fake.seed(staff=4, customers_per_staff=9, seed=1)
    other = fake.add_corp(OTHER)
    other.tokens.add_secret(OTHER_SECRET)
    other.seed(staff=4 if same_data else 3, customers_per_staff=9 if same_data else 7, seed=1)
    return fake


async def _apis(fake: FakeWeCom, http: httpx.AsyncClient) -> tuple[Api, Api]:
    first, other = Api(http), Api(http)
    token = await other.gettoken(OTHER, OTHER_SECRET)
    other.token = str(token["access_token"])
    return first, other


def _staff(fake: FakeWeCom, corp_id: str) -> list[str]:
    """The members batch/get_by_user may be asked about (resigned ones are not)."""
    return [s.userid for s in fake.corp(corp_id).state.staff.values() if not s.resigned]


#: (path, the request body of its first page) for cursor-paged lists with and without
#: filters; each lists at least two pages of 5 on the seeded corps.
WALKS: list[tuple[str, dict[str, Any]]] = [
    (CONTACT_LIST, {"limit": 5}),
    (BATCH, {"limit": 5}),
    ("externalcontact/groupchat/list", {"limit": 1}),
]


def _first_page(path: str, body: dict[str, Any], staff: list[str]) -> dict[str, Any]:
    return {**body, "userid_list": staff} if path == BATCH else dict(body)


@pytest.mark.parametrize(("path", "body"), WALKS, ids=[p for p, _ in WALKS])
async def test_a_cursor_of_one_corp_is_refused_by_another(path: str, body: dict[str, Any]) -> None:
    fake = two_corps(same_data=True)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        first, other = await _apis(fake, http)
        request = _first_page(path, body, _staff(fake, CORP_ID))
        assert request == _first_page(path, body, _staff(fake, OTHER))  # same query, both
        page = await first.post(path, request)
        cursor = page["next_cursor"]
        assert page["errcode"] == 0
        assert cursor

        refused = await other.post(path, {**request, "cursor": cursor})
        own = await other.post(path, request)
        followed = await first.post(path, {**request, "cursor": cursor})

        back = await first.post(path, {**request, "cursor": own["next_cursor"]})

    assert refused["errcode"] == INVALID_CURSOR
    assert (own["errcode"], followed["errcode"]) == (0, 0)
    assert own["next_cursor"] != cursor  # the other corp's cursor for the very same place
    assert back["errcode"] == INVALID_CURSOR  # and the other way round


async def test_a_cursor_of_one_corp_is_refused_by_another_on_get() -> None:
    """``get`` pages a customer's followers: the same customer id in two corps."""
    fake = FakeWeCom(CORP_ID, SECRET)
    other = fake.add_corp(OTHER)
    other.tokens.add_secret(OTHER_SECRET)
    for corp in (fake, other):
        members = [f"m{i:04d}" for i in range(501)]
        for userid in members:
            corp.add_staff(userid)
        corp.add_customer(external_userid="wmSharedId", followers=members)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        first, second = await _apis(fake, http)
        cursor = (await first.get("externalcontact/get", external_userid="wmSharedId"))[
            "next_cursor"
        ]
        refused = await second.get(
            "externalcontact/get", external_userid="wmSharedId", cursor=cursor
        )
        followed = await first.get(
            "externalcontact/get", external_userid="wmSharedId", cursor=cursor
        )
    assert refused["errcode"] == INVALID_CURSOR
    assert followed["errcode"] == 0
    assert len(followed["follow_user"]) == 1


async def _walk(api: Api, staff: list[str], log: list[str], name: str) -> list[tuple[str, str]]:
    """Every (customer, member) pair by batch/get_by_user, 3 a page, yielding between pages."""
    pairs: list[tuple[str, str]] = []
    cursor = ""
    while True:
        page = await api.post(BATCH, {"userid_list": staff, "limit": 3, "cursor": cursor})
        assert page["errcode"] == 0, page
        log.append(name)
        pairs += [
            (item["external_contact"]["external_userid"], item["follow_info"]["userid"])
            for item in page["external_contact_list"]
        ]
        cursor = page["next_cursor"]
        if not cursor:
            return pairs
        await asyncio.sleep(0)  # let the other corp's walk take a page


def truth(corp: CorpData) -> set[tuple[str, str]]:
    """Every (customer, member) pair of the corp's active members."""
    return {
        (follow.external_userid, member.userid)
        for member in corp.state.staff.values()
        if not member.resigned
        for follow in corp.state.follows_of(member.userid)
    }


async def test_the_same_walk_on_two_corps_is_independent_and_complete() -> None:
    fake = two_corps(same_data=False)
    log: list[str] = []
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        first, other = await _apis(fake, http)
        walked = await asyncio.gather(
            _walk(first, _staff(fake, CORP_ID), log, "first"),
            _walk(other, _staff(fake, OTHER), log, "other"),
        )
    assert log[:4] == ["first", "other", "first", "other"]  # the walks interleaved
    for pairs, corp in zip(walked, [fake, fake.corp(OTHER)], strict=True):
        assert len(pairs) == len(set(pairs))
        assert set(pairs) == truth(corp)
    assert truth(fake) != truth(fake.corp(OTHER))


async def test_expire_cursors_expires_every_corps_cursors() -> None:
    fake = two_corps(same_data=True)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        first, other = await _apis(fake, http)
        cursors = [
            (await api.post(CONTACT_LIST, {"limit": 5}))["next_cursor"] for api in (first, other)
        ]
        fake.expire_cursors()
        codes = [
            (await api.post(CONTACT_LIST, {"limit": 5, "cursor": c}))["errcode"]
            for api, c in zip((first, other), cursors, strict=True)
        ]
    assert codes == [INVALID_CURSOR, INVALID_CURSOR]


# -- frequency and concurrency, per corp ---------------------------------------------------


async def test_one_corp_exhausting_a_budget_does_not_45009_another() -> None:
    fake = two_corps(same_data=True)
    fake.set_rate_limit(FOLLOW_LIST, 3)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        first, other = await _apis(fake, http)
        exhausted = [(await first.get(FOLLOW_LIST))["errcode"] for _ in range(5)]
        served = [(await other.get(FOLLOW_LIST))["errcode"] for _ in range(4)]
        still_blocked = (await first.get(FOLLOW_LIST))["errcode"]
        fake.clock.advance(60)
        freed = (await first.get(FOLLOW_LIST))["errcode"]
    assert exhausted == [0, 0, 0, 45009, 45009]
    assert served == [0, 0, 0, 45009]  # the same budget, its own count
    assert (still_blocked, freed) == (45009, 0)


async def test_gettoken_counts_against_the_corp_it_names() -> None:
    fake = two_corps(same_data=True)
    fake.set_rate_limit("gettoken", 2)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        api = Api(http)
        first = [(await api.gettoken())["errcode"] for _ in range(3)]
        other = [(await api.gettoken(OTHER, OTHER_SECRET))["errcode"] for _ in range(3)]
    assert first == other == [0, 0, 45009]


async def test_the_concurrency_cap_counts_per_corp(monkeypatch: pytest.MonkeyPatch) -> None:
    release = asyncio.Event()

    async def held(seconds: float) -> None:
        await release.wait()

    fake = two_corps(same_data=True)
    fake.set_concurrency_limit(FOLLOW_LIST, 1)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        first, other = await _apis(fake, http)
        first.token = str((await first.gettoken())["access_token"])
        monkeypatch.setattr(anyio, "sleep", held)
        fake.latency = 1.0  # every response waits in `held` until released
        tasks = [asyncio.create_task(api.get(FOLLOW_LIST)) for api in (first, other, first)]
        for _ in range(100):
            await asyncio.sleep(0)
        assert fake.concurrency.in_flight(FOLLOW_LIST) == 2  # first's second was refused
        assert fake.concurrency.in_flight(FOLLOW_LIST, OTHER) == 1
        release.set()
        codes = [(await t)["errcode"] for t in tasks]
    assert codes == [0, 0, 45033]
    assert fake.concurrency.in_flight(FOLLOW_LIST) == 0


# -- an export of two corps through one fake -----------------------------------------------


async def _export(fake: FakeWeCom, corp_id: str, out: Path) -> None:
    secret = SECRET if corp_id == CORP_ID else OTHER_SECRET
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        WeComClient(corp_id, secret, http_client=http, retry=RetryPolicy.no_delay()) as client,
    ):
        await run_export(CustomersJob(), client, out)


def _exported_pairs(out: Path) -> list[tuple[str, str]]:
    records = [json.loads(line) for line in out.read_text().splitlines()]
    return [(r["external_contact"]["external_userid"], r["follow_info"]["userid"]) for r in records]


async def test_two_corps_exported_together_each_get_their_own_ground_truth(
    tmp_path: Path,
) -> None:
    """Under a per-minute budget each corp's export fits in, but the two together do not:
    each corp is limited on its own, as WeCom limits it, so neither meets a 45009."""
    alone = {}
    for corp_id in (CORP_ID, OTHER):  # what each corp's export costs on its own
        single = two_corps(same_data=False)
        await _export(single, corp_id, tmp_path / f"alone-{corp_id}.jsonl")
        alone[corp_id] = single.calls(BATCH)
    fake = two_corps(same_data=False)
    fake.set_rate_limit(BATCH, max(alone.values()))
    async with anyio.create_task_group() as tg:
        for corp_id in (CORP_ID, OTHER):
            tg.start_soon(_export, fake, corp_id, tmp_path / f"{corp_id}.jsonl")

    assert fake.calls(BATCH) == sum(alone.values()) > max(alone.values())  # no call refused
    for corp_id, corp in ((CORP_ID, fake), (OTHER, fake.corp(OTHER))):
        pairs = _exported_pairs(tmp_path / f"{corp_id}.jsonl")
        assert Counter(pairs).most_common(1)[0][1] == 1
        assert set(pairs) == truth(corp)
        assert pairs == _exported_pairs(tmp_path / f"alone-{corp_id}.jsonl")


async def test_chaos_repeats_to_each_corp_only_its_own_cursors() -> None:
    """``cursor_repeat`` remembers passes of pages per corp: two corps paging the same
    list with the same parameters are never handed each other's cursors."""
    fake = two_corps(same_data=True)
    fake.set_chaos(0.5, seed=3, kinds=["cursor_repeat"], paths=[CONTACT_LIST])
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        apis = await _apis(fake, http)
        cursors = ["", ""]
        codes: list[int] = []
        for step in range(40):  # repeats make cycles: a bounded number of pages each
            which = step % 2
            page = await apis[which].post(CONTACT_LIST, {"limit": 2, "cursor": cursors[which]})
            codes.append(page["errcode"])
            cursors[which] = page.get("next_cursor") or ""
    chaos = fake.chaos
    assert chaos is not None
    assert len(chaos.spoiled()) >= 5  # cursors were repeated, to both corps
    assert set(codes) == {0}


# -- and per query, within one corp ---------------------------------------------------------

#: (path, first page, the same query with other filters): the cursor of the first page
#: followed with the other filters answers 50100.
OTHER_FILTERS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("externalcontact/list_contact_way", {"limit": 1}, {"limit": 1, "start_time": 1}),
    (
        "externalcontact/groupchat/list",
        {"limit": 1, "status_filter": 0},
        {"limit": 1, "status_filter": 1},
    ),
    (
        "externalcontact/groupchat/list",
        {"limit": 1},
        {"limit": 1, "owner_filter": {"userid_list": ["liyong0001"]}},
    ),
    (
        "externalcontact/get_moment_list",
        {"limit": 1, "start_time": 1_699_000_000, "end_time": 1_700_000_000},
        {"limit": 1, "start_time": 1_699_000_001, "end_time": 1_700_000_000},
    ),
]


@pytest.mark.parametrize(
    ("path", "first", "other"), OTHER_FILTERS, ids=[f"{p}:{sorted(o)}" for p, _, o in OTHER_FILTERS]
)
async def test_a_cursor_followed_with_other_filters_is_refused(
    path: str, first: dict[str, Any], other: dict[str, Any]
) -> None:
    fake = two_corps(same_data=True)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        api = Api(http)
        cursor = (await api.post(path, first))["next_cursor"]
        assert cursor
        refused = await api.post(path, {**other, "cursor": cursor})
        followed = await api.post(path, {**first, "limit": 2, "cursor": cursor})
    assert refused["errcode"] == INVALID_CURSOR
    assert followed["errcode"] == 0  # another page size is no other query


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (CONTACT_LIST, "externalcontact/groupchat/list"),
        ("externalcontact/customer_strategy/list", "externalcontact/moment_strategy/list"),
        ("externalcontact/groupchat/list", "externalcontact/list_contact_way"),
    ],
)
async def test_a_cursor_given_to_another_list_call_is_refused(source: str, target: str) -> None:
    fake = two_corps(same_data=True)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        api = Api(http)
        cursor = (await api.post(source, {"limit": 1}))["next_cursor"]
        assert cursor
        assert (await api.post(target, {"limit": 1, "cursor": cursor}))["errcode"] == 50100


async def test_fake_cursors_signs_for_the_first_corp_and_scoped_for_any_other() -> None:
    """``fake.cursors`` is the first corp's codec; ``fake.cursors.scoped(OTHER)`` is
    OTHER's (scopes do not nest), so a test can craft a cursor for either corp."""
    fake = two_corps(same_data=False)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        first, other = await _apis(fake, http)
        issued = {
            api: (await api.post(CONTACT_LIST, {"limit": 5}))["next_cursor"]
            for api in (first, other)
        }
        codecs = {
            first: fake.cursors,
            other: fake.cursors.scoped(OTHER),
        }
        crafted = {
            api: codec.encode("contact_list", **codec.decode("contact_list", issued[api]))
            for api, codec in codecs.items()
        }
        rescoped = fake.cursors.scoped(OTHER).scoped(CORP_ID)
        answers = {
            api: await api.post(CONTACT_LIST, {"limit": 5, "cursor": crafted[api]})
            for api in (first, other)
        }
        crossed = [
            (await other.post(CONTACT_LIST, {"limit": 5, "cursor": crafted[first]}))["errcode"],
            (await first.post(CONTACT_LIST, {"limit": 5, "cursor": crafted[other]}))["errcode"],
        ]
    # Each codec signs exactly what the fake hands that corp, and that corp follows it.
    assert crafted == issued
    assert rescoped.encode("contact_list", s=1) == fake.cursors.encode("contact_list", s=1)
    assert [a["errcode"] for a in answers.values()] == [0, 0]
    assert answers[first]["info_list"] != answers[other]["info_list"]  # each its own data
    assert crossed == [INVALID_CURSOR, INVALID_CURSOR]
