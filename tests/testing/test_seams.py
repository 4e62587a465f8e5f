"""The fake's seams: the dispatcher runs on a Backend alone, handlers see a narrow context,
and the fake's whole public API is its methods."""

from __future__ import annotations

import dataclasses
import inspect
import json
import threading

import pytest

import wecom_async.testing
from tests.testing.wire import CORP_ID, SECRET, Api
from wecom_async.testing import (
    JSON,
    CorpState,
    CursorCodec,
    FakeClock,
    FakeRequest,
    FakeWeCom,
    RequestContext,
    Route,
)
from wecom_async.testing._dispatch import Backend, Dispatcher
from wecom_async.testing._faults import FaultBook
from wecom_async.testing._limits import ConcurrencyLimiter, RateLimiter
from wecom_async.testing.routes import discover

BATCH = "externalcontact/batch/get_by_user"


def test_a_handler_sees_the_request_state_clock_and_cursors_and_not_the_fake() -> None:
    fields = {f.name for f in dataclasses.fields(RequestContext)}
    assert fields == {
        "state",
        "clock",
        "cursors",
        "method",
        "path",
        "query",
        "body",
        "raw_body",
        "content_type",
    }


def _backend(clock: FakeClock) -> Backend:
    state = CorpState(CORP_ID)
    state.tokens.add_secret(SECRET)
    return Backend(
        lock=threading.RLock(),
        clock=clock,
        state=state,
        cursors=CursorCodec(b"k" * 32),
        rate=RateLimiter(None),
        concurrency=ConcurrencyLimiter(),
        faults=FaultBook(),
    )


def _get(dispatcher: Dispatcher, path: str, query: str) -> JSON:
    response, in_flight = dispatcher.dispatch(
        FakeRequest("GET", f"/cgi-bin/{path}", query=query.encode())
    )
    if in_flight is not None:
        dispatcher.leave(in_flight)
    data = json.loads(response.body)
    assert isinstance(data, dict)
    return data


def test_the_dispatcher_serves_every_route_from_a_backend_without_any_fake() -> None:
    clock = FakeClock(1_700_000_000)
    seen: list[RequestContext] = []

    def whoami(ctx: RequestContext) -> JSON:
        seen.append(ctx)
        return {"corp": ctx.state.corp_id, "now": ctx.clock.now()}

    routes, _, tickers = discover()
    backend = _backend(clock)
    dispatcher = Dispatcher(
        backend, {**routes, "whoami": Route("GET", "whoami", whoami)}, tickers, record_limit=10
    )

    token = _get(dispatcher, "gettoken", f"corpid={CORP_ID}&corpsecret={SECRET}")
    assert token["errcode"] == 0
    assert _get(dispatcher, "whoami", "access_token=nope")["errcode"] == 40014
    answer = _get(dispatcher, "whoami", f"access_token={token['access_token']}")
    assert answer == {"errcode": 0, "errmsg": "ok", "corp": CORP_ID, "now": 1_700_000_000}
    assert seen[0].state is backend.state
    assert seen[0].clock is clock
    assert dispatcher.counts == {"gettoken": 1, "whoami": 2}


async def test_gettoken_issues_tokens_from_the_corps_records(fake: FakeWeCom, api: Api) -> None:
    assert fake.tokens is fake.state.tokens
    fake.add_secret("second-secret")
    first = await api.gettoken(corpsecret="second-secret")
    assert first["errcode"] == 0
    assert fake.state.tokens.issued == 1


async def test_expire_cursors_makes_every_earlier_cursor_answer_50100(
    fake: FakeWeCom, api: Api
) -> None:
    fake.add_staff("zhangsan")
    for _ in range(3):
        fake.add_customer(followers=["zhangsan"])
    body = {"userid_list": ["zhangsan"], "limit": 1}
    stale = (await api.post(BATCH, body))["next_cursor"]

    fake.expire_cursors()

    assert (await api.post(BATCH, {**body, "cursor": stale}))["errcode"] == 50100
    fresh = (await api.post(BATCH, body))["next_cursor"]
    assert (await api.post(BATCH, {**body, "cursor": fresh}))["errcode"] == 0
    with pytest.raises(AttributeError):
        fake.cursors = CursorCodec(b"x")  # type: ignore[misc]


OUTSIDE_THE_API = [
    "add_group_chat",
    "add_via_acquisition_link",
    "add_via_contact_way",
    "click_acquisition_link",
    "confirm_groupmsg",
    "groupmsg",
    "issue_acquisition_chat_key",
    "issue_welcome_code",
    "resign_member",
    "set_acquisition_quota",
    "set_groupmsg_dispatch_delay",
    "set_groupmsg_quota",
    "set_transfer_outcome",
    "welcome_messages",
]


@pytest.mark.parametrize("name", OUTSIDE_THE_API)
def test_what_happens_outside_the_api_is_a_method_of_the_fake(name: str) -> None:
    assert callable(getattr(FakeWeCom, name))
    assert not hasattr(wecom_async.testing, name)


def test_the_testing_package_exports_no_function_taking_a_fake() -> None:
    functions = [
        name
        for name in wecom_async.testing.__all__
        if inspect.isfunction(getattr(wecom_async.testing, name))
    ]
    assert functions == []
