"""client.intercept_rules (endpoints.md #88-#92) end to end against the fake WeCom."""

from __future__ import annotations

from typing import Any

import pytest

from wecom_async import (
    APIError,
    PermissionDeniedError,
    ResponseError,
    StructureError,
    SystemBusyError,
    TransportError,
    ValidationError,
    WeComClient,
    from_dict,
    to_dict,
)
from wecom_async.models import (
    AddInterceptRuleRequest,
    GetInterceptRuleResponse,
    InterceptExtraRule,
    InterceptRule,
    InterceptRuleRange,
    InterceptSemantics,
    InterceptType,
    UpdateInterceptRuleRequest,
)
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._intercept_rules_state import InterceptRuleState

P = "externalcontact/"
PATHS = {
    "add": P + "add_intercept_rule",
    "list": P + "get_intercept_rule_list",
    "get": P + "get_intercept_rule",
    "update": P + "update_intercept_rule",
    "delete": P + "del_intercept_rule",
}


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    """Members u0-u4, and a resigned one."""
    for i in range(5):
        wecom_fake.add_staff(f"u{i}", department=[2])
    wecom_fake.add_staff("gone", resigned=True)
    return wecom_fake


def body(**fields: Any) -> dict[str, Any]:
    return {
        "rule_name": "禁止索要联系方式",
        "word_list": ["加微信", "转账"],
        "intercept_type": 1,
        "applicable_range": {"user_list": ["u0"], "department_list": [2]},
        **fields,
    }


def calls(fake: FakeWeCom) -> int:
    return sum(fake.calls(path) for path in PATHS.values())


def rules(fake: FakeWeCom) -> InterceptRuleState:
    return fake.state.ext(InterceptRuleState)


# -- the lifecycle -----------------------------------------------------------------------


async def test_add_list_get_update_delete(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    svc = wecom_client.intercept_rules
    first = await svc.add(body(semantics_list=[1, 3]))
    second = await svc.add(
        AddInterceptRuleRequest(
            rule_name="二号",
            word_list=["w"],
            intercept_type=InterceptType.WARN_ONLY,
            applicable_range=InterceptRuleRange(department_list=[3]),
        )
    )
    assert isinstance(first, str)
    assert first != second
    assert first.response.extra == {}

    listed = await svc.list()
    assert [(r.rule_id, r.rule_name) for r in listed] == [
        (first, "禁止索要联系方式"),
        (second, "二号"),
    ]
    assert all(r.create_time == int(corp.clock.now()) for r in listed)

    rule = await svc.get(first)
    assert (rule.rule_id, rule.word_list, rule.intercept_type) == (first, ["加微信", "转账"], 1)
    assert rule.extra_rule == InterceptExtraRule(
        semantics_list=[InterceptSemantics.PHONE, InterceptSemantics.RED_PACKET]
    )
    assert rule.applicable_range == InterceptRuleRange(user_list=["u0"], department_list=[2])
    assert rule.response is not None
    assert rule.response.extra == {}

    await svc.update(
        {
            "rule_id": first,
            "rule_name": "改名",
            "word_list": ["新词"],
            "extra_rule": {"semantics_list": []},
            "intercept_type": 2,
            "add_applicable_range": {"user_list": ["u1", "u0"]},
            "remove_applicable_range": {"department_list": [2]},
        }
    )
    rule = await svc.get(first)
    assert (rule.rule_name, rule.word_list, rule.intercept_type) == ("改名", ["新词"], 2)
    assert rule.extra_rule == InterceptExtraRule(semantics_list=[])
    assert rule.applicable_range == InterceptRuleRange(user_list=["u0", "u1"], department_list=[])

    await svc.delete(first)
    with pytest.raises(APIError) as raised:
        await svc.get(first)
    assert type(raised.value) is APIError
    assert raised.value.errcode == 40058
    assert [r.rule_id for r in await svc.list()] == [second]


async def test_request_shapes_of_all_five_endpoints(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    svc = wecom_client.intercept_rules
    new = body(semantics_list=[2])
    rule_id = await svc.add(new)
    edit = {"rule_id": rule_id, "extra_rule": {"semantics_list": [1]}, "word_list": ["x"]}
    made = [
        ("add", "POST", new),
        ("list", "GET", None),
        ("get", "POST", {"rule_id": rule_id}),
        ("update", "POST", edit),
        ("delete", "POST", {"rule_id": rule_id}),
    ]
    calls_made = [None, svc.list(), svc.get(rule_id), svc.update(edit), svc.delete(rule_id)]
    for (name, verb, sent), call in zip(made, calls_made, strict=True):
        if call is not None:
            await call
        request = [r for r in corp.requests if r.path.endswith(PATHS[name])][-1]
        assert (request.method, request.json) == (verb, sent)


async def test_update_accepts_its_request_model(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    rule_id = await wecom_client.intercept_rules.add(body())
    await wecom_client.intercept_rules.update(
        UpdateInterceptRuleRequest(
            rule_id=rule_id,
            extra_rule=InterceptExtraRule(semantics_list=[InterceptSemantics.EMAIL]),
            remove_applicable_range=InterceptRuleRange(user_list=["u0"]),
        )
    )
    assert corp.requests[-1].json == {
        "rule_id": rule_id,
        "extra_rule": {"semantics_list": [2]},
        "remove_applicable_range": {"user_list": ["u0"]},
    }
    record = rules(corp).rules[rule_id]
    assert (record.semantics_list, record.user_list, record.department_list) == ([2], [], [2])


# -- local validation --------------------------------------------------------------------

BAD_ADDS = [
    (body(rule_name=""), "rule_name"),
    (body(rule_name="名" * 21), "rule_name is 21 characters"),
    (body(word_list=[]), "word_list must not be empty"),
    (body(word_list=["w"] * 301), "301 words"),
    (body(word_list=["字" * 33]), r"word_list\[0\] must be 1 to 32"),
    (body(word_list=["ok", ""]), r"word_list\[1\]"),
    (body(semantics_list=[4]), r"semantics_list\[0\] must be 1"),
    (body(intercept_type=3), "intercept_type must be 1"),
    (body(intercept_type=0), "intercept_type"),
    (body(applicable_range={}), "applicable_range needs user_list or department_list"),
    (body(applicable_range={"user_list": [], "department_list": []}), "applicable_range"),
    (body(applicable_range={"user_list": [f"u{i}" for i in range(1001)]}), "1001 ids"),
    (body(applicable_range={"user_list": [""]}), "user_list"),
    (body(applicable_range={"department_list": list(range(1, 1002))}), "1001 ids"),
    (body(applicable_range={"department_list": [0]}), "department_list"),
    ({k: v for k, v in body().items() if k != "applicable_range"}, "applicable_range"),
    ({k: v for k, v in body().items() if k != "intercept_type"}, "intercept_type"),
    (body(extra_rule={"semantics_list": [1]}), "extra_rule"),  # not a field of add
]


@pytest.mark.parametrize(("sent", "match"), BAD_ADDS)
async def test_add_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, sent: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.intercept_rules.add(sent)
    assert calls(corp) == 0


def test_models_built_by_a_caller_are_checked() -> None:
    with pytest.raises(ValidationError, match="semantics_list"):
        AddInterceptRuleRequest(
            rule_name="r",
            word_list=["w"],
            intercept_type=1,
            applicable_range=InterceptRuleRange(user_list=["u0"]),
            semantics_list=[True],  # a bool is no code
        )
    with pytest.raises(ValidationError, match="intercept_type"):
        UpdateInterceptRuleRequest(rule_id="r", intercept_type=False)


BAD_UPDATES = [
    ({"rule_name": "x"}, "rule_id"),
    ({"rule_id": ""}, "rule_id"),
    ({"rule_id": "r", "word_list": []}, "word_list must not be empty"),
    ({"rule_id": "r", "extra_rule": {"semantics_list": [9]}}, r"extra_rule.semantics_list\[0\]"),
    ({"rule_id": "r", "add_applicable_range": {}}, "add_applicable_range needs"),
    ({"rule_id": "r", "remove_applicable_range": {"user_list": ["u"] * 1001}}, "1001"),
    ({"rule_id": "r", "applicable_range": {"user_list": ["u0"]}}, "applicable_range"),
]


@pytest.mark.parametrize(("sent", "match"), BAD_UPDATES)
async def test_update_refuses_locally(
    corp: FakeWeCom, wecom_client: WeComClient, sent: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.intercept_rules.update(sent)
    assert calls(corp) == 0


@pytest.mark.parametrize("method", ["get", "delete"])
@pytest.mark.parametrize("rule_id", ["", "  ", -1, True, None, 1.5, ["r"]])
async def test_rule_ids_are_checked_locally(
    corp: FakeWeCom, wecom_client: WeComClient, method: str, rule_id: Any
) -> None:
    with pytest.raises(ValidationError, match="rule_id"):
        await getattr(wecom_client.intercept_rules, method)(rule_id)
    assert calls(corp) == 0


async def test_integer_rule_ids_are_read_and_sent_back_as_given(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    """The official get example shows an integer rule_id: such a list stays readable and
    its ids work as arguments, sent unchanged."""
    rule_id = await wecom_client.intercept_rules.add(body())
    corp.inject(
        PATHS["list"], rewrite=lambda data: {"rule_list": [{"rule_id": 1, "rule_name": "r"}]}
    )
    (summary,) = await wecom_client.intercept_rules.list()
    assert summary.rule_id == 1
    with pytest.raises(APIError) as raised:
        await wecom_client.intercept_rules.get(summary.rule_id)
    assert raised.value.errcode == 40058  # the fake's ids are strings
    assert corp.requests[-1].json == {"rule_id": 1}
    await wecom_client.intercept_rules.update(
        UpdateInterceptRuleRequest(rule_id=rule_id, rule_name="n")
    )
    with pytest.raises(ValidationError, match="rule_id"):
        UpdateInterceptRuleRequest(rule_id=-5)


# -- server-side rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sent", "errcode"),
    [
        ("add", body(applicable_range={"user_list": ["nobody"]}), 60111),
        ("add", body(applicable_range={"user_list": ["gone"]}), 60111),
        ("add", body(rule_name="名" * 21), 40058),
        ("add", body(word_list=["w"] * 301), 40058),
        ("add", body(word_list=["字" * 33]), 40058),
        ("add", body(semantics_list=[4]), 40058),
        ("add", body(intercept_type=3), 40058),
        ("add", body(applicable_range={}), 40063),
        ("add", body(word_list=[]), 40063),
        ("add", {"word_list": ["w"], "intercept_type": 1}, 40063),
        ("get", {}, 40063),
        ("get", {"rule_id": "nope"}, 40058),
        ("update", {"rule_id": "nope", "rule_name": "x"}, 40058),
        ("update", {"rule_id": "RULE", "remove_applicable_range": {"department_list": [2]}}, None),
        ("update", {"rule_id": "RULE", "add_applicable_range": {"user_list": ["x"]}}, 60111),
        ("delete", {"rule_id": "nope"}, 40058),
    ],
)
async def test_the_fake_enforces_the_server_side_rules(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    name: str,
    sent: dict[str, Any],
    errcode: int | None,
) -> None:
    """Raw requests (no local validation) get WeCom's errcode and change nothing."""
    rule_id = await wecom_client.intercept_rules.add(
        body(applicable_range={"department_list": [2]})
    )
    if sent.get("rule_id") == "RULE":
        sent = {**sent, "rule_id": rule_id}
    with pytest.raises(APIError) as raised:
        await wecom_client.request("POST", PATHS[name], json=sent)
    # Removing the whole range would leave a rule that applies to no one.
    assert raised.value.errcode == (errcode or 40058)
    assert [r.rule_id for r in await wecom_client.intercept_rules.list()] == [rule_id]
    rule = await wecom_client.intercept_rules.get(rule_id)
    assert rule.applicable_range == InterceptRuleRange(user_list=[], department_list=[2])


async def test_the_corp_holds_at_most_its_rule_limit(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    rules(corp).rule_limit = 2
    for _ in range(2):
        await wecom_client.intercept_rules.add(body())
    with pytest.raises(APIError) as raised:
        await wecom_client.intercept_rules.add(body())
    assert raised.value.errcode == 40058
    assert len(await wecom_client.intercept_rules.list()) == 2


async def test_a_rule_made_in_the_admin_console_is_read_but_not_changed(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    console = rules(corp).add(
        corp.state, rule_name="后台", word_list=["x"], intercept_type=1, now=0, by_api=False
    )
    svc = wecom_client.intercept_rules
    assert [r.rule_id for r in await svc.list()] == [console.rule_id]
    assert (await svc.get(console.rule_id)).rule_name == "后台"
    for call in (
        svc.update({"rule_id": console.rule_id, "rule_name": "x"}),
        svc.delete(console.rule_id),
    ):
        with pytest.raises(PermissionDeniedError) as raised:
            await call
        assert raised.value.errcode == 48002
    assert rules(corp).rules[console.rule_id].rule_name == "后台"


# -- retry safety and broken answers -----------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"errcode": -1}, SystemBusyError),
        ({"reset": True}, TransportError),
        ({"status": 502}, ResponseError),
        ({"truncated": True}, ResponseError),
    ],
)
async def test_add_is_never_resent(
    corp: FakeWeCom, wecom_client: WeComClient, fault: dict[str, Any], error: type[Exception]
) -> None:
    corp.inject(PATHS["add"], **fault)
    with pytest.raises(error):
        await wecom_client.intercept_rules.add(body())
    assert corp.calls(PATHS["add"]) == 1
    # A spoiled answer after processing: the rule exists once, never twice.
    assert len(rules(corp).rules) == (0 if "errcode" in fault else 1)


async def test_delete_is_never_resent(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    rule_id = await wecom_client.intercept_rules.add(body())
    corp.inject(PATHS["delete"], reset=True)
    with pytest.raises(TransportError) as raised:
        await wecom_client.intercept_rules.delete(rule_id)
    assert raised.value.sent
    assert corp.calls(PATHS["delete"]) == 1
    assert rules(corp).rules == {}


async def test_reads_and_update_are_retried(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    svc = wecom_client.intercept_rules
    rule_id = await svc.add(body())
    for name, call in [
        ("list", svc.list),
        ("get", lambda: svc.get(rule_id)),
        ("update", lambda: svc.update({"rule_id": rule_id, "rule_name": "重试"})),
    ]:
        corp.inject(PATHS[name], reset=True)
        await call()
        assert corp.calls(PATHS[name]) == 2
    assert rules(corp).rules[rule_id].rule_name == "重试"


@pytest.mark.parametrize(
    ("name", "rewrite"),
    [
        ("add", lambda data: {**data, "rule_id": 42}),
        ("add", lambda data: {}),
        ("get", lambda data: {"rule": "not an object"}),
        ("list", lambda data: {"rule_list": {"rule_id": "x"}}),
        ("list", lambda data: {"rule_list": [{"rule_name": "no id"}]}),
    ],
)
async def test_an_answer_of_the_wrong_shape_is_a_structure_error(
    corp: FakeWeCom, wecom_client: WeComClient, name: str, rewrite: Any
) -> None:
    rule_id = await wecom_client.intercept_rules.add(body())
    corp.inject(PATHS[name], rewrite=rewrite)
    call = {
        "add": lambda: wecom_client.intercept_rules.add(body()),
        "get": lambda: wecom_client.intercept_rules.get(rule_id),
        "list": wecom_client.intercept_rules.list,
    }[name]
    with pytest.raises(StructureError):
        await call()


async def test_fields_wecom_adds_later_are_kept(corp: FakeWeCom, wecom_client: WeComClient) -> None:
    rule_id = await wecom_client.intercept_rules.add(body())

    def newer(data: dict[str, Any]) -> dict[str, Any]:
        rule = {**data["rule"], "rule_id": 7, "intercept_type": 9, "status": 1}
        rule["extra_rule"] = {"semantics_list": [1, 4], "regex_list": ["a.*"]}
        return {"rule": rule, "total_hits": 3}

    corp.inject(PATHS["get"], rewrite=newer)
    rule = await wecom_client.intercept_rules.get(rule_id)
    assert (rule.rule_id, rule.intercept_type, rule.extra) == (7, 9, {"status": 1})
    assert rule.extra_rule is not None
    assert rule.extra_rule.semantics_list == [InterceptSemantics.PHONE, 4]
    assert rule.extra_rule.extra == {"regex_list": ["a.*"]}
    assert rule.response is not None
    assert rule.response.extra == {"total_hits": 3}


def test_the_official_get_example_round_trips() -> None:
    wire = {
        "rule": {
            "rule_id": 1,
            "rule_name": "rulename",
            "word_list": ["敏感词1", "敏感词2"],
            "extra_rule": {"semantics_list": [1, 2, 3]},
            "intercept_type": 1,
            "applicable_range": {"user_list": ["zhangshan"], "department_list": [2, 3]},
        }
    }
    model = from_dict(GetInterceptRuleResponse, wire)
    assert isinstance(model.rule, InterceptRule)
    assert model.rule.rule_id == 1
    assert to_dict(model) == wire
    long_words = {"rule": {"word_list": ["字" * 40] * 400, "rule_name": "名" * 30}}
    assert to_dict(from_dict(GetInterceptRuleResponse, long_words)) == long_words


async def test_the_seeded_corp_has_a_console_rule(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    report = wecom_fake.seed(staff=3, customers_per_staff=1, seed=5)
    (summary,) = await wecom_client.intercept_rules.list()
    rule = await wecom_client.intercept_rules.get(summary.rule_id)
    assert rule.applicable_range is not None
    assert rule.applicable_range.user_list == [report.staff[0]]
    with pytest.raises(PermissionDeniedError):
        await wecom_client.intercept_rules.delete(summary.rule_id)
