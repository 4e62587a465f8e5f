"""Per-call options on every public service method: extra_query, extra_body, deadline.

Each method is called twice against the same fixture server, once plain and once with the
options; the second run's requests must be the first run's plus exactly the extra keys,
on every page of a paginator. What cannot apply is refused before anything is sent.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import wecom_async
from wecom_async import AsyncPaginator, ValidationError, WeComClient
from wecom_async._core import Endpoint
from wecom_async.models.external_contact import RemarkRequest

from .every_call import CALLS, FixtureWeCom, Sent, is_paged, method_of, two_pages

EXTRA_QUERY = {"x_new_param": "v1", "debug": 1}
EXTRA_BODY = {"x_new_field": {"nested": [1, "二"]}, "x_flag": True}


def _invoke(client: WeComClient, key: str, **options: Any) -> Any:
    service, _ = key.split(".")
    return CALLS[key](getattr(client, service), options)


async def _run(key: str, **options: Any) -> list[Sent]:
    """Make the call (every page of a paginator) and return what the server received."""
    server = FixtureWeCom(two_pages)
    async with server.client() as client:
        result = _invoke(client, key, **options)
        if isinstance(result, AsyncPaginator):
            [page async for page in result.pages()]
        else:
            await result
    return server.sent


async def _refused(key: str, **options: Any) -> ValidationError:
    """Make the call expecting ValidationError; check nothing at all was sent."""
    server = FixtureWeCom(two_pages)
    async with server.client() as client:
        with pytest.raises(ValidationError) as caught:
            await _invoke(client, key, **options)  # a paginator sends on await
    assert server.sent == []
    return caught.value


async def _baseline(key: str) -> list[Sent]:
    sent = await _run(key)
    assert sent, f"{key} sent nothing"
    return sent


def _json_post(sent: list[Sent]) -> bool:
    return sent[0].method == "POST" and not sent[0].multipart


ALL = sorted(CALLS)


def test_request_options_is_public() -> None:
    assert wecom_async.RequestOptions.__optional_keys__ == {"extra_body", "extra_query", "deadline"}


@pytest.mark.parametrize("key", ALL)
async def test_extra_query_and_deadline_reach_every_request(key: str) -> None:
    plain = await _baseline(key)
    sent = await _run(key, extra_query=EXTRA_QUERY, deadline=30.0)
    assert len(sent) == len(plain)
    for before, after in zip(plain, sent, strict=True):
        assert after.query == {**before.query, "x_new_param": "v1", "debug": "1"}
        assert after.body == before.body
    if is_paged(key):
        assert len(sent) == 2  # both pages carried them


@pytest.mark.parametrize("key", ALL)
async def test_extra_body_reaches_every_json_post_and_is_refused_elsewhere(key: str) -> None:
    plain = await _baseline(key)
    if not _json_post(plain):
        # A GET has no body and an upload is multipart: refused before sending.
        error = await _refused(key, extra_body=EXTRA_BODY)
        assert "extra_body" in str(error)
        return
    sent = await _run(key, extra_body=EXTRA_BODY)
    assert len(sent) == len(plain)
    for before, after in zip(plain, sent, strict=True):
        assert after.body == {**before.body, **EXTRA_BODY}
        assert after.query == before.query


@pytest.mark.parametrize("key", ALL)
@pytest.mark.parametrize("name", ["access_token", "ACCESS_TOKEN"])
async def test_extra_query_may_not_carry_the_access_token(key: str, name: str) -> None:
    await _refused(key, extra_query={name: "stolen"})


@pytest.mark.parametrize("key", ALL)
async def test_a_misspelt_keyword_argument_is_refused_not_dropped(key: str) -> None:
    error = await _refused(key, extra_bdy={"x": 1})
    assert "extra_bdy" in str(error)


@pytest.mark.parametrize(
    "options",
    [
        {"extra_body": ["not", "a", "mapping"]},
        {"extra_body": {1: "non-string key"}},
        {"extra_body": {"when": {1, 2}}},  # not JSON
        {"extra_query": "a=1"},
        {"extra_query": {"a": None}},
        {"extra_query": {"a": [1, 2]}},
    ],
    ids=repr,
)
@pytest.mark.parametrize("key", ["tags.mark", "external_contact.contact_list"])
async def test_options_of_the_wrong_shape_are_refused(key: str, options: dict[str, Any]) -> None:
    await _refused(key, **options)


BODY_METHODS = sorted(key for key in ALL if "body" in inspect.signature(method_of(key)).parameters)


@pytest.mark.parametrize("key", BODY_METHODS)
async def test_a_misspelt_key_in_a_mapping_body_is_still_refused(key: str) -> None:
    plain = await _baseline(key)
    assert plain[0].body
    server = FixtureWeCom(two_pages)
    async with server.client() as client:
        service = getattr(client, key.split(".")[0])
        method = getattr(service, key.split(".")[1])
        with pytest.raises(ValidationError, match="remakr"):
            await method({**plain[0].body, "remakr": "typo"})
        # The same key goes out when the caller says it is deliberate.
        await method(plain[0].body, extra_body={"remakr": "deliberate"})
    assert len(server.sent) == 1
    assert server.sent[0].body == {**plain[0].body, "remakr": "deliberate"}


def test_body_methods_found() -> None:
    assert len(BODY_METHODS) >= 18


async def test_client_request_hands_its_deadline_to_the_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The deadline's semantics live in Core.call; request() must pass it there.
    server = FixtureWeCom(two_pages)
    seen: list[object] = []
    async with server.client() as client:
        real = client._core.call

        async def spy(endpoint: Endpoint, **kwargs: Any) -> Any:
            if endpoint.path != "gettoken":
                seen.append(kwargs.get("options"))
            return await real(endpoint, **kwargs)

        monkeypatch.setattr(client._core, "call", spy)
        answer = await client.request("GET", "externalcontact/get_follow_user_list", deadline=9.5)
        await client.request("GET", "externalcontact/get_follow_user_list")
    assert answer["follow_user"]
    assert seen == [{"deadline": 9.5}, None]
    assert len(server.sent) == 2


async def test_a_request_model_built_with_extra_sends_those_fields_too() -> None:
    server = FixtureWeCom(two_pages)
    async with server.client() as client:
        request = RemarkRequest(
            userid="zhangsan", external_userid="wmA", remark="r", extra={"x_new": 1, "remark": "no"}
        )
        await client.external_contact.remark(request)
    # New keys go out as given; a declared field is never overridden through extra.
    assert server.sent[0].body == {
        "userid": "zhangsan",
        "external_userid": "wmA",
        "remark": "r",
        "x_new": 1,
    }
