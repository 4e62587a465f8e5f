"""client.id_convert (endpoints.md #100-#107) end to end against the fake WeCom."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest

from tests.provider.helpers import provider_tokens
from wecom_async import APIError, SystemBusyError, ValidationError, WeComClient
from wecom_async.models.id_convert import CorpExternalUserid, NewExternalUserid
from wecom_async.testing import JSON, FakeWeCom, RequestContext, Route

UNIONID = "idconvert/unionid_to_external_userid"
UNIONID_3RD = "service/externalcontact/unionid_to_external_userid_3rd"
NEW_IDS = "externalcontact/get_new_external_userid"
GROUP_NEW_IDS = "externalcontact/groupchat/get_new_external_userid"
TO_SERVICE = "externalcontact/to_service_external_userid"
FROM_SERVICE = "externalcontact/from_service_external_userid"
FINISH = "service/externalcontact/finish_external_userid_migration"
OPENID = "externalcontact/convert_to_openid"
#: Only for calls refused before sending: every token sent is one the fake issued.
SUITE_TOKEN = "suite-token-0123456789abcdef"
PROVIDER_TOKEN = "provider-token-0123456789abcdef"


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    wecom_fake.add_staff("zhangsan")
    return wecom_fake


@attrs.frozen
class Tokens:
    suite: str
    provider: str


@pytest.fixture
async def tokens(corp: FakeWeCom) -> Tokens:
    """The fake's corp authorized a suite; the suite and provider tokens the fake issued."""
    return Tokens(*await provider_tokens(corp))


def _sent(fake: FakeWeCom, path: str) -> Any:
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", path)
    return request


# -- unionid lookups -------------------------------------------------------------------


async def test_unionid_of_a_customer_gives_its_external_userid(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.add_customer(followers=["zhangsan"], unionid="ozUnionA")
    found = await wecom_client.id_convert.unionid_to_external_userid(
        "ozUnionA", "oOpenA", subject_type=1
    )
    assert (found.external_userid, found.pending_id) == (customer, None)
    assert _sent(corp, UNIONID).json == {
        "unionid": "ozUnionA",
        "openid": "oOpenA",
        "subject_type": 1,
    }


async def test_unionid_of_no_customer_gives_a_stable_pending_id(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    first = await wecom_client.id_convert.unionid_to_external_userid("ozNobody", "oOpen")
    again = await wecom_client.id_convert.unionid_to_external_userid("ozNobody", "oOpen")
    assert first.external_userid is None
    assert first.pending_id is not None
    assert first.pending_id == again.pending_id
    assert _sent(corp, UNIONID).json == {"unionid": "ozNobody", "openid": "oOpen"}


async def test_unionid_3rd_sends_the_suite_token_and_never_the_corp_token(
    corp: FakeWeCom, wecom_client: WeComClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    customer = corp.add_customer(followers=["zhangsan"], unionid="ozUnionB")
    caplog.set_level(logging.DEBUG, logger="wecom_async")
    found = await wecom_client.id_convert.unionid_to_external_userid_3rd(
        "ozUnionB", "oOpenB", suite_access_token=tokens.suite
    )
    assert found == [CorpExternalUserid(corpid=corp.corp_id, external_userid=customer)]
    request = _sent(corp, UNIONID_3RD)
    # Sent under its own name, and masked in the fake's own request log like every credential.
    assert dict(request.query) == {"suite_access_token": "***"}
    assert request.json == {"unionid": "ozUnionB", "openid": "oOpenB"}
    assert corp.calls("gettoken") == 0  # no corp token is fetched for it
    assert tokens.suite not in caplog.text


async def test_unionid_3rd_for_another_corp_finds_nothing(
    corp: FakeWeCom, wecom_client: WeComClient, tokens: Tokens
) -> None:
    corp.add_customer(followers=["zhangsan"], unionid="ozUnionC")
    found = await wecom_client.id_convert.unionid_to_external_userid_3rd(
        "ozUnionC", "oOpenC", suite_access_token=tokens.suite, corpid="wpOtherCorp"
    )
    assert found == []
    assert _sent(corp, UNIONID_3RD).json == {
        "unionid": "ozUnionC",
        "openid": "oOpenC",
        "corpid": "wpOtherCorp",
    }


# -- the upgraded ids ------------------------------------------------------------------


async def test_get_new_external_userid_translates_known_customers_only(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    a = corp.add_customer(followers=["zhangsan"])
    b = corp.add_customer(followers=["zhangsan"])
    pairs = await wecom_client.id_convert.get_new_external_userid([a, "wmUnknown", b])
    assert [p.external_userid for p in pairs] == [a, b]
    assert all(isinstance(p, NewExternalUserid) for p in pairs)
    assert len({p.new_external_userid for p in pairs} - {a, b}) == 2
    assert _sent(corp, NEW_IDS).json == {"external_userid_list": [a, "wmUnknown", b]}
    assert pairs.response.items == list(pairs)


async def test_group_chat_new_ids_cover_only_the_groups_members(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    member = corp.add_customer(followers=["zhangsan"])
    outsider = corp.add_customer(followers=["zhangsan"])
    group = corp.add_group_chat("zhangsan", members=[member])
    pairs = await wecom_client.id_convert.get_new_group_chat_external_userid(
        group.chat_id, [member, outsider]
    )
    alone = await wecom_client.id_convert.get_new_external_userid([member])
    assert pairs == alone  # the same upgraded id either way
    assert _sent(corp, NEW_IDS).json == {"external_userid_list": [member]}
    assert corp.requests[-2].json == {
        "chat_id": group.chat_id,
        "external_userid_list": [member, outsider],
    }


async def test_group_chat_new_ids_of_an_unknown_group_is_86003(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.id_convert.get_new_group_chat_external_userid("wrNone", ["wmA"])
    assert caught.value.errcode == 86003


# -- corp and provider ids, openids ----------------------------------------------------


async def test_to_and_from_service_external_userid_round_trip(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.add_customer(followers=["zhangsan"])
    provider_id = await wecom_client.id_convert.to_service_external_userid(customer)
    assert provider_id != customer
    assert _sent(corp, TO_SERVICE).json == {"external_userid": customer}
    back = await wecom_client.id_convert.from_service_external_userid(provider_id, 1000005)
    assert back == customer
    assert _sent(corp, FROM_SERVICE).json == {
        "external_userid": provider_id,
        "source_agentid": 1000005,
    }


@pytest.mark.parametrize("path", [TO_SERVICE, FROM_SERVICE, OPENID])
async def test_an_unknown_customer_is_40096(
    corp: FakeWeCom, wecom_client: WeComClient, path: str
) -> None:
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        TO_SERVICE: lambda: wecom_client.id_convert.to_service_external_userid("wmNone"),
        FROM_SERVICE: lambda: wecom_client.id_convert.from_service_external_userid("wmNone", 1),
        OPENID: lambda: wecom_client.id_convert.convert_to_openid("wmNone"),
    }
    with pytest.raises(APIError) as caught:
        await calls[path]()
    assert caught.value.errcode == 40096
    assert corp.calls(path) == 1


async def test_convert_to_openid_of_a_wechat_customer(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    customer = corp.add_customer(followers=["zhangsan"])
    openid = await wecom_client.id_convert.convert_to_openid(customer)
    assert openid.startswith("o")
    assert openid == openid.response.openid
    assert _sent(corp, OPENID).json == {"external_userid": customer}


async def test_convert_to_openid_refuses_a_wecom_users_id(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_user = corp.add_customer(type=2, followers=["zhangsan"], corp_name="腾讯")
    with pytest.raises(APIError) as caught:
        await wecom_client.id_convert.convert_to_openid(wecom_user)
    assert caught.value.errcode == 40096


# -- the migration flag ----------------------------------------------------------------


async def test_finish_migration_sends_the_provider_token(
    corp: FakeWeCom, wecom_client: WeComClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="wecom_async")
    assert (
        await wecom_client.id_convert.finish_external_userid_migration(
            corp.corp_id, provider_access_token=tokens.provider
        )
        is None
    )
    request = _sent(corp, FINISH)
    assert dict(request.query) == {"provider_access_token": "***"}
    assert request.json == {"corpid": corp.corp_id}
    assert corp.calls("gettoken") == 0
    assert tokens.provider not in caplog.text


async def test_finish_migration_of_a_corp_not_authorized_is_40013(
    corp: FakeWeCom, wecom_client: WeComClient, tokens: Tokens
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.id_convert.finish_external_userid_migration(
            "wpStranger", provider_access_token=tokens.provider
        )
    assert caught.value.errcode == 40013
    assert tokens.provider not in str(caught.value)


# -- local checks and retry safety -----------------------------------------------------


LOCAL_REFUSALS: list[tuple[str, Callable[[WeComClient], Awaitable[object]], str]] = [
    (UNIONID, lambda c: c.id_convert.unionid_to_external_userid("", "o"), "unionid"),
    (UNIONID, lambda c: c.id_convert.unionid_to_external_userid("u", " "), "openid"),
    (
        UNIONID,
        lambda c: c.id_convert.unionid_to_external_userid("u", "o", subject_type=2),
        "subject_type",
    ),
    (
        UNIONID_3RD,
        lambda c: c.id_convert.unionid_to_external_userid_3rd("u", "o", suite_access_token=""),
        "suite_access_token",
    ),
    (
        UNIONID_3RD,
        lambda c: c.id_convert.unionid_to_external_userid_3rd(
            "u", "o", suite_access_token=SUITE_TOKEN, corpid=""
        ),
        "corpid",
    ),
    (NEW_IDS, lambda c: c.id_convert.get_new_external_userid([]), "at least"),
    (NEW_IDS, lambda c: c.id_convert.get_new_external_userid("wmA"), "list"),
    (
        NEW_IDS,
        lambda c: c.id_convert.get_new_external_userid([f"wm{n}" for n in range(1001)]),
        "1000",
    ),
    (
        GROUP_NEW_IDS,
        lambda c: c.id_convert.get_new_group_chat_external_userid("", ["wmA"]),
        "chat_id",
    ),
    (TO_SERVICE, lambda c: c.id_convert.to_service_external_userid(""), "external_userid"),
    (
        FROM_SERVICE,
        lambda c: c.id_convert.from_service_external_userid("wmA", 0),
        "source_agentid",
    ),
    (
        FROM_SERVICE,
        lambda c: c.id_convert.from_service_external_userid("wmA", True),  # type: ignore[arg-type]
        "source_agentid",
    ),
    (
        FINISH,
        lambda c: c.id_convert.finish_external_userid_migration("ww1", provider_access_token=" "),
        "provider_access_token",
    ),
    (OPENID, lambda c: c.id_convert.convert_to_openid(""), "external_userid"),
]


@pytest.mark.parametrize(
    ("path", "call", "match"), LOCAL_REFUSALS, ids=[f"{p}-{m}" for p, _, m in LOCAL_REFUSALS]
)
async def test_bad_arguments_are_refused_before_sending(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    path: str,
    call: Callable[[WeComClient], Awaitable[object]],
    match: str,
) -> None:
    with pytest.raises(ValidationError, match=match):
        await call(wecom_client)
    assert corp.calls(path) == 0


async def test_a_token_given_as_another_type_is_not_echoed(wecom_client: WeComClient) -> None:
    with pytest.raises(ValidationError) as caught:
        await wecom_client.id_convert.finish_external_userid_migration(
            "ww1",
            provider_access_token=b"provider-secret-bytes",  # type: ignore[arg-type]
        )
    assert "provider-secret-bytes" not in str(caught.value)


RETRIED: list[tuple[str, Callable[[WeComClient, FakeWeCom, Tokens], Awaitable[object]]]] = [
    (UNIONID, lambda c, _, __: c.id_convert.unionid_to_external_userid("u", "o")),
    (
        UNIONID_3RD,
        lambda c, _, t: c.id_convert.unionid_to_external_userid_3rd(
            "u", "o", suite_access_token=t.suite
        ),
    ),
    (NEW_IDS, lambda c, _, __: c.id_convert.get_new_external_userid(["wmA"])),
    (
        FINISH,
        lambda c, fake, t: c.id_convert.finish_external_userid_migration(
            fake.corp_id, provider_access_token=t.provider
        ),
    ),
]


@pytest.mark.parametrize(("path", "call"), RETRIED, ids=[p for p, _ in RETRIED])
async def test_conversions_are_resent_after_system_busy(
    corp: FakeWeCom,
    wecom_client: WeComClient,
    tokens: Tokens,
    path: str,
    call: Callable[[WeComClient, FakeWeCom, Tokens], Awaitable[object]],
) -> None:
    corp.inject(path, errcode=-1, times=2)
    await call(wecom_client, corp, tokens)
    assert corp.calls(path) == 3


async def test_system_busy_past_the_attempts_is_the_callers_error(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    corp.inject(OPENID, errcode=-1, times=10)
    with pytest.raises(SystemBusyError):
        await wecom_client.id_convert.convert_to_openid("wmA")
    assert corp.calls(OPENID) == 4


async def test_an_item_without_its_new_id_is_read_not_refused(
    corp: FakeWeCom, wecom_client: WeComClient
) -> None:
    """The docs do not promise new_external_userid on every item: one without it is kept."""

    def answer(ctx: RequestContext) -> JSON:
        return {"items": [{"external_userid": "wmOld"}, {"external_userid": "wmA", "x": 1}]}

    corp.add_route(Route("POST", NEW_IDS, answer))
    pairs = await wecom_client.id_convert.get_new_external_userid(["wmOld", "wmA"])
    assert [(p.external_userid, p.new_external_userid) for p in pairs] == [
        ("wmOld", None),
        ("wmA", None),
    ]
    assert pairs[1].extra == {"x": 1}
