"""client.strategy (endpoints.md #17-#22, #53-#58) end to end against the fake WeCom.

Every test runs for both kinds of rule group: customer rule groups (``list``, ``get``, ...)
and moment rule groups (``list_moment``, ``get_moment``, ...).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from wecom_async import (
    APIError,
    PermissionDeniedError,
    SystemBusyError,
    ValidationError,
    WeComClient,
    from_dict,
    to_dict,
)
from wecom_async.models.rule_groups import (
    CreateCustomerStrategyRequest,
    CreateMomentStrategyRequest,
    CustomerStrategy,
    CustomerStrategyPrivilege,
    MomentStrategyPrivilege,
    StrategyRange,
    StrategyRangeType,
)
from wecom_async.services.rule_groups import StrategyService
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._rule_groups_state import (
    CustomerRuleGroups,
    MomentRuleGroups,
    RuleGroupStore,
)


@dataclass(frozen=True)
class Kind:
    """One kind of rule group as the tests drive it: method names, paths, privileges."""

    name: str
    prefix: str
    store: type[RuleGroupStore]
    suffix: str
    #: A privilege body that turns the last flag off, and the flags' names.
    flags: tuple[str, ...]

    def path(self, endpoint: str) -> str:
        return f"{self.prefix}/{endpoint}"

    def method(self, svc: StrategyService, name: str) -> Any:
        """``list`` -> ``list`` or ``list_moment``; ``get_range`` -> ``get_moment_range``."""
        if self.suffix and name == "get_range":
            return svc.get_moment_range
        return getattr(svc, f"{name}{self.suffix}")

    def off(self) -> dict[str, bool]:
        return {self.flags[-1]: False}


CUSTOMER = Kind(
    "customer",
    "externalcontact/customer_strategy",
    CustomerRuleGroups,
    "",
    tuple(f.name for f in CustomerStrategyPrivilege.__attrs_attrs__ if f.name != "extra"),
)
MOMENT = Kind(
    "moment",
    "externalcontact/moment_strategy",
    MomentRuleGroups,
    "_moment",
    tuple(f.name for f in MomentStrategyPrivilege.__attrs_attrs__ if f.name != "extra"),
)
ENDPOINTS = ("list", "get", "get_range", "create", "edit", "del")


@pytest.fixture(params=[CUSTOMER, MOMENT], ids=lambda k: k.name)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """Members u0-u9 (u0-u4 in department 2, u5-u9 in department 3), and a resigned one."""
    for i in range(10):
        wecom_fake.add_staff(f"u{i}", department=[2 if i < 5 else 3])
    wecom_fake.add_staff("gone", resigned=True)
    return wecom_fake


@pytest.fixture
def svc(wecom_client: WeComClient) -> StrategyService:
    """``client.strategy`` once wired; until then the service on the client's core."""
    wired = getattr(wecom_client, "strategy", None)
    return wired if isinstance(wired, StrategyService) else StrategyService(wecom_client._core)


def member(userid: str) -> dict[str, Any]:
    return {"type": 1, "userid": userid}


def party(partyid: int) -> dict[str, Any]:
    return {"type": 2, "partyid": partyid}


def body(name: str = "华东区", **fields: Any) -> dict[str, Any]:
    return {"strategy_name": name, "admin_list": ["u0"], "range": [member("u0")], **fields}


async def run(call: Any) -> Any:
    """Await a coroutine or the first page of a paginator."""
    return await call if inspect.isawaitable(call) else call


def total_calls(fake: FakeWeCom, kind: Kind) -> int:
    return sum(fake.calls(kind.path(e)) for e in ENDPOINTS)


# -- the lifecycle -----------------------------------------------------------------------


async def test_lifecycle_create_get_list_range_edit_delete(
    corp: FakeWeCom, wecom_client: WeComClient, svc: StrategyService, kind: Kind
) -> None:
    nodes = [member(f"u{i}") for i in range(5)] + [party(3)]
    first = await kind.method(svc, "create")(body("A", admin_list=["u0", "u1"], range=nodes))
    others = [await kind.method(svc, "create")(body(f"G{i}")) for i in range(4)]
    assert [first, *others] == [1, 2, 3, 4, 5]

    group = await kind.method(svc, "get")(first)
    assert (group.strategy_id, group.parent_id, group.strategy_name) == (1, 0, "A")
    assert group.admin_list == ["u0", "u1"]
    assert group.create_time == int(corp.clock.now())
    assert to_dict(group.privilege) == dict.fromkeys(kind.flags, True)

    pages = [p async for p in kind.method(svc, "list")(limit=2).pages()]
    assert [p.items for p in pages] == [[1, 2], [3, 4], [5]]
    assert [bool(p.next_cursor) for p in pages] == [True, True, False]
    assert corp.requests[-1].json == {"limit": 2, "cursor": pages[1].next_cursor}
    raw = await wecom_client.request("POST", kind.path("list"), json={})
    assert raw["strategy"] == [{"strategy_id": i} for i in range(1, 6)]
    assert "next_cursor" not in raw  # absent, not empty, on the last page

    ranged = [n async for n in kind.method(svc, "get_range")(first, limit=4)]
    assert [(n.type, n.userid, n.partyid) for n in ranged] == [
        *[(StrategyRangeType.MEMBER, f"u{i}", None) for i in range(5)],
        (StrategyRangeType.DEPARTMENT, None, 3),
    ]
    assert corp.calls(kind.path("get_range")) == 2

    await kind.method(svc, "edit")(
        {
            "strategy_id": first,
            "strategy_name": "A2",
            "admin_list": ["u2"],
            "privilege": kind.off(),
            "range_add": [member("u9"), member("u0")],
            "range_del": [member("u1"), party(3)],
        }
    )
    group = await kind.method(svc, "get")(first)
    assert (group.strategy_name, group.admin_list) == ("A2", ["u2"])
    assert to_dict(group.privilege) == {**dict.fromkeys(kind.flags, True), **kind.off()}
    ranged = [n async for n in kind.method(svc, "get_range")(first)]
    assert [n.userid for n in ranged] == ["u0", "u2", "u3", "u4", "u9"]

    await kind.method(svc, "delete")(first)
    with pytest.raises(APIError) as raised:
        await kind.method(svc, "get")(first)
    assert type(raised.value) is APIError
    assert raised.value.errcode == 40058
    assert [i async for i in kind.method(svc, "list")()] == [2, 3, 4, 5]


async def test_create_accepts_request_models(corp: FakeWeCom, svc: StrategyService) -> None:
    nodes = [StrategyRange(type=StrategyRangeType.MEMBER, userid="u1")]
    customer = CreateCustomerStrategyRequest(
        strategy_name="C",
        admin_list=["u0"],
        range=nodes,
        privilege=CustomerStrategyPrivilege(share_customer=False),
    )
    moment = CreateMomentStrategyRequest(strategy_name="M", admin_list=["u0"], range=nodes)
    assert await svc.create(customer) == 1
    assert await svc.create_moment(moment) == 1
    assert corp.requests[-2].json == {
        "strategy_name": "C",
        "admin_list": ["u0"],
        "range": [{"type": 1, "userid": "u1"}],
        "privilege": {"share_customer": False},
    }
    assert (await svc.get(1)).privilege == CustomerStrategyPrivilege(
        **{**dict.fromkeys(CUSTOMER.flags, True), "share_customer": False}
    )


async def test_request_shapes_of_all_six_endpoints(
    corp: FakeWeCom, svc: StrategyService, kind: Kind
) -> None:
    new = body("N", parent_id=0, privilege=kind.off(), range=[member("u1"), party(2)])
    edit = {"strategy_id": 1, "range_add": [member("u2")], "range_del": [party(2)]}
    calls = [
        ("create", kind.method(svc, "create")(new), new),
        ("get", kind.method(svc, "get")(1), {"strategy_id": 1}),
        ("list", kind.method(svc, "list")(), {"limit": 1000}),
        ("get_range", kind.method(svc, "get_range")(1, limit=5), {"strategy_id": 1, "limit": 5}),
        ("edit", kind.method(svc, "edit")(edit), edit),
        ("del", kind.method(svc, "delete")(1), {"strategy_id": 1}),
    ]
    for endpoint, call, sent in calls:
        await run(call)
        request = corp.requests[-1]
        assert (request.method, request.path, request.json) == ("POST", kind.path(endpoint), sent)


# -- local validation --------------------------------------------------------------------

BAD_CREATES = [
    ({"admin_list": ["u0"], "range": [member("u0")]}, "strategy_name"),
    (body(""), "strategy_name"),
    (body("  "), "strategy_name"),
    (body(admin_list=[]), "admin_list"),
    (body(admin_list=[f"u{i}" for i in range(21)]), "admin_list"),
    (body(admin_list=["u0", ""]), "admin_list"),
    (body(range=[]), "range"),
    (body(range=[member(f"u{i}") for i in range(101)]), "at most 100"),
    (body(range=[{"type": 1}]), r"range\[0\].userid"),
    (body(range=[member("")]), r"range\[0\].userid"),
    (body(range=[{"type": 1, "userid": "u0", "partyid": 2}]), "not partyid"),
    (body(range=[member("u0"), {"type": 2}]), r"range\[1\]: a department node"),
    (body(range=[party(0)]), "partyid"),
    (body(range=[{"type": 2, "partyid": 2, "userid": "u0"}]), "not userid"),
    (body(range=[{"type": 3, "userid": "u0"}]), "type must be 1"),
    (body(parent_id=-1), "parent_id"),
    (body(unknown_field=1), "unknown_field"),
]


@pytest.mark.parametrize(("sent", "match"), BAD_CREATES)
async def test_create_refuses_locally(
    corp: FakeWeCom, svc: StrategyService, kind: Kind, sent: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await kind.method(svc, "create")(sent)
    assert total_calls(corp, kind) == 0


BAD_EDITS = [
    ({"strategy_name": "x"}, "strategy_id"),
    ({"strategy_id": 0}, "strategy_id"),
    ({"strategy_id": 1, "strategy_name": ""}, "strategy_name"),
    ({"strategy_id": 1, "admin_list": []}, "admin_list"),
    ({"strategy_id": 1, "admin_list": [f"u{i}" for i in range(21)]}, "admin_list"),
    ({"strategy_id": 1, "range_add": [member("u0")] * 101}, "range_add has 101"),
    ({"strategy_id": 1, "range_del": [party(2)] * 101}, "range_del has 101"),
    ({"strategy_id": 1, "range_add": []}, "range_add must not be empty"),
    ({"strategy_id": 1, "range_del": [{"type": 2}]}, r"range_del\[0\]"),
    ({"strategy_id": 1, "privilege": {"no_such_flag": True}}, "no_such_flag"),
]


@pytest.mark.parametrize(("sent", "match"), BAD_EDITS)
async def test_edit_refuses_locally(
    corp: FakeWeCom, svc: StrategyService, kind: Kind, sent: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await kind.method(svc, "edit")(sent)
    assert total_calls(corp, kind) == 0


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("get", (0,), {}),
        ("get", (True,), {}),
        ("get", ("1",), {}),
        ("delete", (-3,), {}),
        ("list", (), {"limit": 0}),
        ("list", (), {"limit": 1001}),
        ("get_range", (1,), {"limit": 1001}),
        ("get_range", (0,), {}),
    ],
)
async def test_plain_arguments_are_checked_locally(
    corp: FakeWeCom,
    svc: StrategyService,
    kind: Kind,
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError):
        await run(kind.method(svc, name)(*args, **kwargs))
    assert total_calls(corp, kind) == 0


# -- server-side rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "errcode"),
    [
        (body(admin_list=["nobody"]), 60111),
        (body(admin_list=["gone"]), 60111),
        (body(range=[member("stranger")]), 60111),
        (body(parent_id=99), 40058),
    ],
)
async def test_create_errors_from_the_server(
    corp: FakeWeCom, svc: StrategyService, kind: Kind, sent: dict[str, Any], errcode: int
) -> None:
    with pytest.raises(APIError) as raised:
        await kind.method(svc, "create")(sent)
    assert raised.value.errcode == errcode
    assert corp.state.ext(kind.store).groups == {}


@pytest.mark.parametrize(
    ("endpoint", "sent", "errcode"),
    [
        ("create", body(admin_list=[f"u{i}" for i in range(21)]), 40058),
        ("create", body(range=[member("u0")] * 101), 40058),
        ("create", body(range=[{"type": 3, "userid": "u0"}]), 40058),
        ("create", body(range=[{"type": 2}]), 40063),
        ("create", {"admin_list": ["u0"], "range": [member("u0")]}, 40063),
        ("create", body(range=[]), 40063),
        ("list", {"limit": 1001}, 40058),
        ("get", {}, 40063),
        ("get", {"strategy_id": 2}, 40058),
        ("get_range", {"strategy_id": 2}, 40058),
        ("edit", {"strategy_id": 2, "strategy_name": "x"}, 40058),
        ("edit", {"strategy_id": 1, "admin_list": ["nobody"]}, 60111),
        ("edit", {"strategy_id": 1, "range_add": [party(2)] * 101}, 40058),
        ("del", {"strategy_id": 2}, 40058),
    ],
)
async def test_the_fake_enforces_the_server_side_rules(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    svc: StrategyService,
    kind: Kind,
    endpoint: str,
    sent: dict[str, Any],
    errcode: int,
) -> None:
    """Raw requests (no local validation) get WeCom's errcode and change nothing."""
    await kind.method(svc, "create")(body())
    with pytest.raises(APIError) as raised:
        await wecom_client.request("POST", kind.path(endpoint), json=sent)
    assert raised.value.errcode == errcode
    group = await kind.method(svc, "get")(1)
    assert (group.strategy_name, group.admin_list) == ("华东区", ["u0"])
    assert [i async for i in kind.method(svc, "list")()] == [1]


async def test_empty_edit_fields_change_nothing(
    corp: FakeWeCom, wecom_client: WeComClient, svc: StrategyService, kind: Kind
) -> None:
    await kind.method(svc, "create")(body(privilege=kind.off()))
    sent = {"strategy_id": 1, "strategy_name": "", "admin_list": [], "privilege": {}}
    await wecom_client.request("POST", kind.path("edit"), json=sent)
    group = await kind.method(svc, "get")(1)
    assert (group.strategy_name, group.admin_list) == ("华东区", ["u0"])
    assert to_dict(group.privilege) == {**dict.fromkeys(kind.flags, True), **kind.off()}


async def test_child_groups_subset_inheritance_and_depth(
    corp: FakeWeCom, svc: StrategyService, kind: Kind
) -> None:
    create = kind.method(svc, "create")
    root = await create(body("root", range=[party(2), member("u5")], privilege=kind.off()))
    child = await create(body("c", parent_id=root, range=[member("u1"), member("u5")]))
    assert (await kind.method(svc, "get")(child)).parent_id == root
    inherited = (await kind.method(svc, "get")(child)).privilege
    assert to_dict(inherited) == {**dict.fromkeys(kind.flags, True), **kind.off()}

    for outside in (member("u6"), party(3)):
        with pytest.raises(APIError) as raised:
            await create(body("bad", parent_id=root, range=[outside]))
        assert raised.value.errcode == 40058
        with pytest.raises(APIError):
            await kind.method(svc, "edit")({"strategy_id": child, "range_add": [outside]})

    parent = child
    for level in range(3, 6):
        parent = await create(body(f"L{level}", parent_id=parent, range=[member("u1")]))
    with pytest.raises(APIError) as raised:
        await create(body("L6", parent_id=parent, range=[member("u1")]))
    assert raised.value.errcode == 40058

    await kind.method(svc, "edit")({"strategy_id": root, "range_del": [party(2)]})
    ranged = [n async for n in kind.method(svc, "get_range")(child)]
    assert [n.userid for n in ranged] == ["u5"]
    await kind.method(svc, "delete")(root)
    assert [i async for i in kind.method(svc, "list")()] == []


async def test_a_range_holds_at_most_3000_nodes(
    corp: FakeWeCom, svc: StrategyService, kind: Kind
) -> None:
    group = await kind.method(svc, "create")(body(range=[party(p) for p in range(2, 102)]))
    store = corp.state.ext(kind.store)
    store.append(store.groups[group], [(2, p) for p in range(1000, 3900)])
    with pytest.raises(APIError) as raised:
        await kind.method(svc, "edit")({"strategy_id": group, "range_add": [party(5000)]})
    assert raised.value.errcode == 40058
    edit = {"strategy_id": group, "range_del": [party(2)], "range_add": [party(5000)]}
    await kind.method(svc, "edit")(edit)
    assert len(store.groups[group].nodes) == 3000


async def test_bad_cursors_answer_50100(corp: FakeWeCom, svc: StrategyService, kind: Kind) -> None:
    for _ in range(3):
        await kind.method(svc, "create")(body(range=[member("u0"), member("u1")]))
    page = await kind.method(svc, "get_range")(1, limit=1)
    for call in (
        kind.method(svc, "list")(cursor="forged"),
        kind.method(svc, "get_range")(2, cursor=page.next_cursor),
    ):
        with pytest.raises(APIError) as raised:
            await call
        assert raised.value.errcode == 50100


async def test_permission_errcode_maps_to_its_class(
    corp: FakeWeCom, svc: StrategyService, kind: Kind
) -> None:
    corp.inject(kind.path("get"), errcode=48002)
    with pytest.raises(PermissionDeniedError):
        await kind.method(svc, "get")(1)


# -- retry safety ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "endpoint"), [("create", "create"), ("delete", "del")])
async def test_create_and_delete_are_never_resent(
    corp: FakeWeCom, svc: StrategyService, kind: Kind, name: str, endpoint: str
) -> None:
    await kind.method(svc, "create")(body())
    corp.clear_requests()
    corp.inject(kind.path(endpoint), errcode=-1)
    with pytest.raises(SystemBusyError):
        await kind.method(svc, name)(body() if name == "create" else 1)
    assert corp.calls(kind.path(endpoint)) == 1
    assert list(corp.state.ext(kind.store).groups) == [1]


async def test_reads_and_edit_are_retried(
    corp: FakeWeCom, svc: StrategyService, kind: Kind
) -> None:
    await kind.method(svc, "create")(body())
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("get", lambda: kind.method(svc, "get")(1)),
        ("list", lambda: kind.method(svc, "list")()),
        ("get_range", lambda: kind.method(svc, "get_range")(1)),
        ("edit", lambda: kind.method(svc, "edit")({"strategy_id": 1, "strategy_name": "R"})),
    ]
    for endpoint, make in calls:
        corp.inject(kind.path(endpoint), errcode=-1)
        await run(make())
        assert corp.calls(kind.path(endpoint)) == 2
    assert corp.state.ext(kind.store).groups[1].strategy_name == "R"


# -- seeding and models ------------------------------------------------------------------


async def test_the_seeded_corp_has_rule_groups(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, svc: StrategyService
) -> None:
    report = wecom_fake.seed(staff=4, customers_per_staff=1, seed=3)
    assert [i async for i in svc.list()] == [1, 2]
    assert [i async for i in svc.list_moment()] == [1]
    child = await svc.get(2)
    assert (child.parent_id, child.admin_list) == (1, [report.staff[1]])
    assert [n.userid async for n in svc.get_range(2)] == report.staff[1:3]
    tag_groups = await wecom_client.tags.list_strategy(strategy_id=1)
    assert tag_groups
    assert {g.strategy_id for g in tag_groups} == {1}


def test_unknown_privilege_flags_round_trip() -> None:
    wire = {"strategy_id": 7, "privilege": {"send_customer_msg": True, "new_flag": False}}
    model = from_dict(CustomerStrategy, wire)
    assert model.privilege is not None
    assert model.privilege.extra == {"new_flag": False}
    assert model.privilege.share_customer is None
    assert to_dict(model) == wire


async def test_base_customer_rights_cannot_be_revoked(
    corp: FakeWeCom, svc: StrategyService
) -> None:
    await svc.create(body(privilege={"view_customer_list": False, "share_customer": False}))
    privilege = (await svc.get(1)).privilege
    assert privilege is not None
    assert (privilege.view_customer_list, privilege.share_customer) == (True, False)
