"""client.transfer (endpoints.md #23-#29) end to end against the fake WeCom."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from wecom_async import WeComClient
from wecom_async._exceptions import (
    APIError,
    APITimeoutError,
    SystemBusyError,
    TransportError,
    ValidationError,
)
from wecom_async._retry import RetryPolicy
from wecom_async.models.group_chat import GroupChatStatus
from wecom_async.models.transfer import TransferStatusCode
from wecom_async.pagination import NumberedPage
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._transfer_state import (
    TransferState,
)

TRANSFER = "externalcontact/transfer_customer"
RESULT = "externalcontact/transfer_result"
ONJOB_GROUPS = "externalcontact/groupchat/onjob_transfer"
UNASSIGNED = "externalcontact/get_unassigned_list"
RESIGNED_TRANSFER = "externalcontact/resigned/transfer_customer"
RESIGNED_RESULT = "externalcontact/resigned/transfer_result"
RESIGNED_GROUPS = "externalcontact/groupchat/transfer"
LEGACY_TRANSFER = "externalcontact/transfer"
LEGACY_RESULT = "externalcontact/get_transfer_result"
DAY = 24 * 3600


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """zhangsan, lisi and wangwu on the job; gone resigned; three customers of zhangsan."""
    for userid in ("zhangsan", "lisi", "wangwu", "gone"):
        wecom_fake.add_staff(userid)
    for n in range(3):
        wecom_fake.add_customer(followers=["zhangsan"], name=f"c{n}")
    wecom_fake.resign_member("gone", at=1_690_000_000)
    return wecom_fake


def _now(fake: FakeWeCom) -> int:
    return int(fake.clock.now())


# -- transfer_customer and transfer_result: the lifecycle -------------------------------


async def test_transfer_then_read_the_result_after_fake_time_passes(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customers = corp.customers_of("zhangsan")
    started = _now(corp)

    results = await wecom_client.transfer.transfer_customer(
        "zhangsan", "lisi", customers[:2], transfer_success_msg="您好，由李四继续为您服务"
    )

    assert [(r.external_userid, r.errcode, r.started) for r in results] == [
        (customers[0], 0, True),
        (customers[1], 0, True),
    ]
    waiting = await wecom_client.transfer.transfer_result("zhangsan", "lisi")
    assert [(s.external_userid, s.status, s.takeover_time) for s in waiting.items] == [
        (c, TransferStatusCode.WAITING, started + DAY) for c in customers[:2]
    ]
    assert await wecom_client.external_contact.list("lisi") == []

    corp.clock.advance(DAY)

    # The takeover is visible to every endpoint once the time has passed, whichever is
    # called first.
    assert await wecom_client.external_contact.list("lisi") == customers[:2]
    assert await wecom_client.external_contact.list("zhangsan") == customers[2:]
    done = [s async for s in wecom_client.transfer.transfer_result("zhangsan", "lisi")]
    assert [(s.external_userid, s.status) for s in done] == [
        (c, TransferStatusCode.DONE) for c in customers[:2]
    ]
    assert corp.follow(customers[0], "lisi") is not None
    assert corp.follow(customers[0], "zhangsan") is None


async def test_a_refused_takeover_reports_status_3_and_keeps_the_relation(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.customers_of("zhangsan")[0]
    corp.set_transfer_outcome(customer, 3)
    await wecom_client.transfer.transfer_customer("zhangsan", "lisi", [customer])
    corp.clock.advance(DAY)
    (status,) = (await wecom_client.transfer.transfer_result("zhangsan", "lisi")).items
    assert (status.status, status.takeover_time) == (TransferStatusCode.CUSTOMER_REFUSED, 0)
    assert corp.follow(customer, "zhangsan") is not None
    assert corp.follow(customer, "lisi") is None


async def test_transfer_customer_request_shape(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    customers = corp.customers_of("zhangsan")
    await wecom_client.transfer.transfer_customer("zhangsan", "lisi", customers[:1])
    await wecom_client.transfer.transfer_customer(
        "zhangsan", "lisi", customers[1:2], transfer_success_msg="x" * 200
    )
    first, second = (r for r in corp.requests if r.path == TRANSFER)
    assert first.method == "POST"
    assert first.json == {
        "handover_userid": "zhangsan",
        "takeover_userid": "lisi",
        "external_userid": customers[:1],
    }
    assert second.json is not None
    assert second.json["transfer_success_msg"] == "x" * 200


async def test_per_customer_errcodes_of_transfer_customer(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    mine = corp.customers_of("zhangsan")
    stranger = corp.add_customer(followers=["wangwu"])
    await wecom_client.transfer.transfer_customer("zhangsan", "lisi", mine[:1])

    results = await wecom_client.transfer.transfer_customer(
        "zhangsan", "wangwu", [mine[0], stranger, "wmNoSuchCustomer", mine[1]]
    )

    assert [r.errcode for r in results] == [40129, 40096, 40096, 0]
    assert [r.started for r in results] == [False, False, False, True]


async def test_a_customer_moves_at_most_twice_in_90_days(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.customers_of("zhangsan")[0]
    for handover, takeover in (("zhangsan", "lisi"), ("lisi", "zhangsan")):
        (result,) = await wecom_client.transfer.transfer_customer(handover, takeover, [customer])
        assert result.errcode == 0
        corp.clock.advance(DAY)
        await wecom_client.transfer.transfer_result(handover, takeover)

    (third,) = await wecom_client.transfer.transfer_customer("zhangsan", "lisi", [customer])
    assert third.errcode == 40128

    corp.clock.advance(89 * DAY)
    (later,) = await wecom_client.transfer.transfer_customer("zhangsan", "lisi", [customer])
    assert later.errcode == 0


async def test_the_fake_answers_40130_for_the_same_member(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.customers_of("zhangsan")[0]
    body = {"handover_userid": "zhangsan", "takeover_userid": "zhangsan"}
    data = await wecom_client.request(
        "POST", TRANSFER, json={**body, "external_userid": [customer]}
    )
    assert data["customer"] == [{"external_userid": customer, "errcode": 40130}]


async def test_transfer_customer_to_an_unknown_member_raises_40003(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customers = corp.customers_of("zhangsan")
    with pytest.raises(APIError) as caught:
        await wecom_client.transfer.transfer_customer("zhangsan", "nobody", customers)
    assert caught.value.errcode == 40003


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("", "lisi", ["wm1"]), {}, "handover_userid"),
        (("zhangsan", " ", ["wm1"]), {}, "takeover_userid"),
        (("zhangsan", "zhangsan", ["wm1"]), {}, "same member"),
        (("zhangsan", "lisi", []), {}, "at least 1"),
        (("zhangsan", "lisi", [f"wm{n}" for n in range(101)]), {}, "at most 100"),
        (("zhangsan", "lisi", ["wm1", ""]), {}, "external_userid"),
        (("zhangsan", "lisi", "wm1"), {}, "not a single string"),
        (("zhangsan", "lisi", ["wm1"]), {"transfer_success_msg": "x" * 201}, "at most 200"),
    ],
)
async def test_transfer_customer_refuses_bad_arguments_before_sending(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.transfer.transfer_customer(*args, **kwargs)
    assert corp.calls(TRANSFER) == 0


async def test_transfer_result_pages_by_cursor_each_customer_once(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customers = [corp.add_customer(followers=["wangwu"]) for _ in range(5)]
    corp.state.ext(TransferState).result_page_size = 2
    await wecom_client.transfer.transfer_customer("wangwu", "lisi", customers)

    seen = [
        s.external_userid async for s in wecom_client.transfer.transfer_result("wangwu", "lisi")
    ]

    assert seen == customers
    bodies = [r.json for r in corp.requests if r.path == RESULT]
    assert len(bodies) == 3
    assert bodies[0] == {"handover_userid": "wangwu", "takeover_userid": "lisi"}
    assert all(b is not None and b["cursor"] for b in bodies[1:])


async def test_transfer_status_keeps_legacy_and_unknown_codes(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customers = corp.customers_of("zhangsan")[:2]
    await wecom_client.transfer.transfer_customer("zhangsan", "lisi", customers)
    records = corp.state.ext(TransferState).transfers
    records[0].status, records[1].status = 5, 9
    statuses = [s.status async for s in wecom_client.transfer.transfer_result("zhangsan", "lisi")]
    assert statuses == [TransferStatusCode.NO_RECORD, 9]
    assert type(statuses[1]) is int


@pytest.mark.parametrize("method", ["transfer_result", "resigned_transfer_result"])
def test_result_endpoints_refuse_empty_ids_before_sending(
    corp: FakeWeCom, wecom_client: WeComClient, method: str
) -> None:
    with pytest.raises(ValidationError, match="takeover_userid"):
        getattr(wecom_client.transfer, method)("zhangsan", "")
    assert corp.calls(RESULT) + corp.calls(RESIGNED_RESULT) == 0


# -- resigned members: get_unassigned_list and the resigned transfer ---------------------


async def test_unassigned_customers_of_resigned_members_page_by_cursor(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    orphans = [corp.add_customer(followers=["gone"]) for _ in range(5)]

    first = await wecom_client.transfer.get_unassigned_list(page_size=2)
    seen = [c async for c in wecom_client.transfer.get_unassigned_list(page_size=2)]

    assert first.extra["is_last"] is False
    assert first.next_cursor
    assert [c.external_userid for c in seen] == orphans
    assert {(c.handover_userid, c.dimission_time) for c in seen} == {("gone", 1_690_000_000)}
    bodies = [r.json for r in corp.requests if r.path == UNASSIGNED][1:]
    assert bodies[0] == {"page_size": 2}
    assert [set(b or ()) for b in bodies[1:]] == [{"page_size", "cursor"}] * 2


async def test_a_member_added_as_resigned_lists_with_the_time_first_seen(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.add_staff("left", resigned=True)
    orphan = wecom_fake.add_customer(followers=["left"])
    seen_at = _now(wecom_fake)
    (first,) = (await wecom_client.transfer.get_unassigned_list()).items
    wecom_fake.clock.advance(DAY)
    (again,) = (await wecom_client.transfer.get_unassigned_list()).items
    assert (first.handover_userid, first.external_userid) == ("left", orphan)
    assert first.dimission_time == again.dimission_time == seen_at


async def test_unassigned_list_legacy_page_id_sends_page_numbers(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    orphans = [corp.add_customer(followers=["gone"]) for _ in range(5)]

    first = await wecom_client.transfer.get_unassigned_list(page_size=2, page_id=0)
    legacy = wecom_client.transfer.get_unassigned_list(page_size=2, page_id=0)
    seen = [c.external_userid async for c in legacy]

    assert isinstance(first, NumberedPage)
    assert first.next_token == 1
    assert "next_cursor" not in first.extra
    assert first.next_cursor is None
    assert seen == orphans
    bodies = [r.json for r in corp.requests if r.path == UNASSIGNED][1:]
    assert bodies == [{"page_id": n, "page_size": 2} for n in (0, 1, 2)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"page_id": -1}, "page_id"),
        ({"page_id": 50, "page_size": 1000}, "50000"),
        ({"page_id": 0, "cursor": "abc"}, "not both"),
    ],
)
def test_unassigned_list_refuses_bad_arguments_before_sending(
    corp: FakeWeCom, wecom_client: WeComClient, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        wecom_client.transfer.get_unassigned_list(**kwargs)
    assert corp.calls(UNASSIGNED) == 0


async def test_resigned_transfer_lifecycle(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    orphans = [corp.add_customer(followers=["gone"]) for _ in range(3)]

    results = await wecom_client.transfer.resigned_transfer_customer("gone", "lisi", orphans[:2])

    assert [r.errcode for r in results] == [0, 0]
    assert corp.requests[-1].json == {
        "handover_userid": "gone",
        "takeover_userid": "lisi",
        "external_userid": orphans[:2],
    }
    still = [c.external_userid async for c in wecom_client.transfer.get_unassigned_list()]
    assert still == orphans[2:]
    waiting = await wecom_client.transfer.resigned_transfer_result("gone", "lisi")
    assert {s.status for s in waiting.items} == {TransferStatusCode.WAITING}
    assert (await wecom_client.transfer.transfer_result("gone", "lisi")).items == []

    corp.clock.advance(DAY)

    done = [s async for s in wecom_client.transfer.resigned_transfer_result("gone", "lisi")]
    assert [(s.external_userid, s.status) for s in done] == [
        (c, TransferStatusCode.DONE) for c in orphans[:2]
    ]
    assert await wecom_client.external_contact.list("lisi") == orphans[:2]
    assert (await wecom_client.transfer.transfer_result("gone", "lisi")).items == []


async def test_resigned_transfer_of_an_on_job_member_raises_40097(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.transfer.resigned_transfer_customer(
            "zhangsan", "lisi", corp.customers_of("zhangsan")
        )
    assert caught.value.errcode == 40097


async def test_resigned_transfer_refuses_the_same_member_locally(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(ValidationError, match="same member"):
        await wecom_client.transfer.resigned_transfer_customer("gone", "gone", ["wm1"])
    assert corp.calls(RESIGNED_TRANSFER) == 0


async def test_a_seeded_corp_lists_unassigned_customers(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=3, customers_per_staff=2, seed=5)
    unassigned = [c async for c in wecom_client.transfer.get_unassigned_list(page_size=4)]
    resigned = {s.userid for s in wecom_fake.state.staff.values() if s.resigned}
    assert unassigned
    assert {c.handover_userid for c in unassigned} == resigned
    assert all(c.dimission_time and c.dimission_time < _now(wecom_fake) for c in unassigned)


# -- group hand-overs ------------------------------------------------------------------


async def test_onjob_group_transfer_moves_groups_and_reports_only_failures(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    moved = corp.add_group_chat("zhangsan").chat_id
    internal = corp.add_group_chat("zhangsan", customer_group=False).chat_id
    orphaned = corp.add_group_chat("gone").chat_id
    already = corp.add_group_chat("lisi").chat_id

    failed = await wecom_client.transfer.group_chat_onjob_transfer(
        [moved, internal, orphaned, already], "lisi"
    )

    assert [(f.chat_id, f.errcode) for f in failed] == [
        (internal, 90501),
        (orphaned, 90502),
        (already, 90504),
    ]
    assert all(f.errmsg for f in failed)
    assert (await wecom_client.group_chat.get(moved)).owner == "lisi"
    shape = next(r for r in corp.requests if r.path == ONJOB_GROUPS)
    assert (shape.method, shape.json) == (
        "POST",
        {"chat_id_list": [moved, internal, orphaned, already], "new_owner": "lisi"},
    )


async def test_resigned_group_transfer_inherits_groups_of_resigned_owners(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    orphaned = corp.add_group_chat("gone").chat_id
    inheriting = corp.add_group_chat("gone", status=2).chat_id
    active = corp.add_group_chat("zhangsan").chat_id

    failed = await wecom_client.transfer.group_chat_transfer([orphaned, inheriting, active], "lisi")

    assert [(f.chat_id, f.errcode) for f in failed] == [(inheriting, 90507), (active, 90500)]
    listed = await wecom_client.group_chat.list(owner_userid_list=["lisi"])
    assert [(g.chat_id, g.status) for g in listed.items] == [(orphaned, GroupChatStatus.INHERITED)]
    again = await wecom_client.transfer.group_chat_transfer([orphaned], "wangwu")
    assert [(f.chat_id, f.errcode) for f in again] == [(orphaned, 90508)]
    assert corp.requests[-1].json == {"chat_id_list": [orphaned], "new_owner": "wangwu"}


async def test_group_transfer_to_a_resigned_new_owner_raises_40003(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    group = corp.add_group_chat("zhangsan").chat_id
    with pytest.raises(APIError) as caught:
        await wecom_client.transfer.group_chat_onjob_transfer([group], "gone")
    assert caught.value.errcode == 40003


@pytest.mark.parametrize("method", ["group_chat_onjob_transfer", "group_chat_transfer"])
@pytest.mark.parametrize(
    ("chat_id_list", "new_owner", "match"),
    [
        ([], "lisi", "at least 1"),
        ([f"wr{n}" for n in range(101)], "lisi", "at most 100"),
        (["wr1", " "], "lisi", "chat_id_list"),
        (["wr1"], "", "new_owner"),
    ],
)
async def test_group_transfers_refuse_bad_arguments_before_sending(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    method: str,
    chat_id_list: list[str],
    new_owner: str,
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        await getattr(wecom_client.transfer, method)(chat_id_list, new_owner)
    assert corp.calls(ONJOB_GROUPS) + corp.calls(RESIGNED_GROUPS) == 0


# -- retry safety: a transfer is never sent twice after an ambiguous failure -------------

Call = Callable[[WeComClient, FakeWeCom], Awaitable[object]]


async def _transfer(client: WeComClient, fake: FakeWeCom) -> object:
    return await client.transfer.transfer_customer(
        "zhangsan", "lisi", fake.customers_of("zhangsan")
    )


async def _resigned(client: WeComClient, fake: FakeWeCom) -> object:
    orphan = fake.add_customer(followers=["gone"])
    return await client.transfer.resigned_transfer_customer("gone", "lisi", [orphan])


async def _onjob_groups(client: WeComClient, fake: FakeWeCom) -> object:
    group = fake.add_group_chat("zhangsan").chat_id
    return await client.transfer.group_chat_onjob_transfer([group], "lisi")


async def _resigned_groups(client: WeComClient, fake: FakeWeCom) -> object:
    group = fake.add_group_chat("gone").chat_id
    return await client.transfer.group_chat_transfer([group], "lisi")


async def _legacy_transfer(client: WeComClient, fake: FakeWeCom) -> object:
    # It answers None: what it started is read back (a list, like the other writes).
    await client.transfer.transfer(fake.customers_of("zhangsan")[0], "zhangsan", "lisi")
    return (await client.transfer.transfer_result("zhangsan", "lisi")).items


WRITES = pytest.mark.parametrize(
    ("path", "call"),
    [
        (TRANSFER, _transfer),
        (LEGACY_TRANSFER, _legacy_transfer),
        (RESIGNED_TRANSFER, _resigned),
        (ONJOB_GROUPS, _onjob_groups),
        (RESIGNED_GROUPS, _resigned_groups),
    ],
    ids=[
        "transfer_customer",
        "legacy_transfer",
        "resigned_transfer_customer",
        "onjob_groups",
        "resigned_groups",
    ],
)


@WRITES
async def test_system_busy_is_not_resent(
    corp: FakeWeCom, wecom_client: WeComClient, path: str, call: Call
) -> None:
    corp.inject(path, errcode=-1)
    with pytest.raises(SystemBusyError) as caught:
        await call(wecom_client, corp)
    assert caught.value.errcode == -1
    assert corp.calls(path) == 1


@WRITES
async def test_a_read_timeout_is_not_resent(
    corp: FakeWeCom, wecom_client: WeComClient, path: str, call: Call
) -> None:
    corp.inject(path, delay=3600)
    with pytest.raises(APITimeoutError):
        await call(wecom_client, corp)
    assert corp.calls(path) == 1


@WRITES
async def test_a_dropped_connection_is_not_resent(
    corp: FakeWeCom, wecom_client: WeComClient, path: str, call: Call
) -> None:
    corp.inject(path, drop=True)
    with pytest.raises(TransportError) as caught:
        await call(wecom_client, corp)
    assert caught.value.sent is True
    assert corp.calls(path) == 1


async def test_the_transfer_whose_answer_was_lost_did_start(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.inject(TRANSFER, delay=3600)
    with pytest.raises(APITimeoutError):
        await _transfer(wecom_client, corp)
    statuses = await wecom_client.transfer.transfer_result("zhangsan", "lisi")
    assert {s.status for s in statuses.items} == {TransferStatusCode.WAITING}
    assert len(statuses.items) == 3


class _RefuseFirstConnect(httpx.AsyncBaseTransport):
    """Fails the first request to ``path`` in the connect phase, then delegates."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str) -> None:
        self.inner, self.path, self.refused = inner, path, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(self.path) and not self.refused:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


@WRITES
async def test_a_connect_error_is_retried(corp: FakeWeCom, path: str, call: Call) -> None:
    transport = _RefuseFirstConnect(corp.transport(), path)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        WeComClient(
            corp.corp_id,
            corp.secret,
            http_client=http,
            base_url=corp.base_url,
            retry=RetryPolicy.no_delay(),
        ) as client,
    ):
        result = await call(client, corp)
    assert transport.refused == 1
    assert corp.calls(path) == 1
    assert isinstance(result, list)


@pytest.mark.parametrize("path", [RESULT, UNASSIGNED, RESIGNED_RESULT])
async def test_the_read_endpoints_are_resent_after_system_busy(
    corp: FakeWeCom, wecom_client: WeComClient, path: str
) -> None:
    corp.inject(path, errcode=-1)
    calls = {
        RESULT: lambda: wecom_client.transfer.transfer_result("zhangsan", "lisi"),
        UNASSIGNED: lambda: wecom_client.transfer.get_unassigned_list(),
        RESIGNED_RESULT: lambda: wecom_client.transfer.resigned_transfer_result("gone", "lisi"),
    }
    await calls[path]()
    assert corp.calls(path) == 2


# -- legacy transfer and get_transfer_result (#30-#31) -----------------------------------


async def test_legacy_transfer_hands_one_customer_over_and_its_result_follows(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.customers_of("zhangsan")[0]
    before = await wecom_client.transfer.get_transfer_result(customer, "zhangsan", "lisi")
    assert (before.status, before.takeover_time) == (TransferStatusCode.NO_RECORD, 0)
    started = _now(corp)
    assert (
        await wecom_client.transfer.transfer(
            customer, "zhangsan", "lisi", transfer_success_msg="您好"
        )
        is None
    )
    request = corp.requests[-1]
    assert (request.method, request.path) == ("POST", LEGACY_TRANSFER)
    assert request.json == {
        "external_userid": customer,
        "handover_userid": "zhangsan",
        "takeover_userid": "lisi",
        "transfer_success_msg": "您好",
    }
    waiting = await wecom_client.transfer.get_transfer_result(customer, "zhangsan", "lisi")
    assert waiting.status == TransferStatusCode.WAITING
    assert waiting.takeover_time == started + DAY
    assert corp.requests[-1].json == {
        "external_userid": customer,
        "handover_userid": "zhangsan",
        "takeover_userid": "lisi",
    }
    corp.clock.advance(DAY)
    done = await wecom_client.transfer.get_transfer_result(customer, "zhangsan", "lisi")
    assert done.status == TransferStatusCode.DONE
    assert corp.follow(customer, "lisi") is not None
    assert corp.follow(customer, "zhangsan") is None


async def test_legacy_transfer_of_a_resigned_members_customer(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.add_customer(followers=["gone"])
    await wecom_client.transfer.transfer(customer, "gone", "lisi")
    statuses = await wecom_client.transfer.resigned_transfer_result("gone", "lisi")
    assert [(s.external_userid, s.status) for s in statuses.items] == [
        (customer, TransferStatusCode.WAITING)
    ]


async def test_legacy_transfer_maps_a_customer_of_someone_else_to_40096(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    stranger = corp.add_customer(followers=["wangwu"])
    with pytest.raises(APIError) as caught:
        await wecom_client.transfer.transfer(stranger, "zhangsan", "lisi")
    assert caught.value.errcode == 40096
    result = await wecom_client.transfer.get_transfer_result(stranger, "zhangsan", "lisi")
    assert result.status == TransferStatusCode.NO_RECORD


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("", "zhangsan", "lisi"), {}, "external_userid"),
        (("wmA", "zhangsan", "zhangsan"), {}, "same member"),
        (("wmA", "", "lisi"), {}, "handover_userid"),
        (("wmA", "zhangsan", "lisi"), {"transfer_success_msg": "x" * 201}, "200"),
    ],
    ids=["no-customer", "same-member", "no-handover", "long-message"],
)
async def test_legacy_transfer_refuses_bad_arguments_locally(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    args: tuple[str, str, str],
    kwargs: dict[str, Any],
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.transfer.transfer(*args, **kwargs)
    if not kwargs:  # the same ids are refused by get_transfer_result
        with pytest.raises(ValidationError, match=match):
            await wecom_client.transfer.get_transfer_result(*args)
    assert corp.calls(LEGACY_TRANSFER) == corp.calls(LEGACY_RESULT) == 0


async def test_get_transfer_result_is_resent_after_system_busy(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.inject(LEGACY_RESULT, errcode=-1, times=2)
    result = await wecom_client.transfer.get_transfer_result("wmX", "zhangsan", "lisi")
    assert result.status == TransferStatusCode.NO_RECORD
    assert corp.calls(LEGACY_RESULT) == 3
