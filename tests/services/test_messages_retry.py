"""client.messages under ambiguous failures: writes are never sent twice, reads are resent.

A mass message, a welcome message (its code is single-use), a reminder (3 per day), a
cancellation and a template add/delete must not be repeated because an answer was lost:
after errcode -1, a response slower than the client's timeout or a dropped connection,
exactly one request reached the fake and the error surfaces. A connect error proves the
request never left, so it is resent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from wecom_async import (
    APITimeoutError,
    RetryPolicy,
    SystemBusyError,
    TransportError,
    WeComClient,
)
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._messages_state import MessagesState
from wecom_async.testing.routes._welcome_state import (
    WelcomeState,
)

Call = Callable[[WeComClient], Awaitable[object]]
HI = {"text": {"content": "hi"}}


@dataclass(frozen=True)
class Case:
    """One endpoint: how to set it up, and how many times its effect happened."""

    path: str
    prepare: Callable[[FakeWeCom, WeComClient], Awaitable[Call]]
    effect: Callable[[FakeWeCom], int]


def _messages(fake: FakeWeCom) -> MessagesState:
    return fake.state.ext(MessagesState)


async def _msgid(fake: FakeWeCom, client: WeComClient) -> str:
    return (await client.messages.add_msg_template({"sender": "zhangsan", **HI})).msgid


async def _template(client: WeComClient) -> str:
    return await client.messages.add_group_welcome_template(HI)


async def _add(fake: FakeWeCom, client: WeComClient) -> Call:
    return lambda c: c.messages.add_msg_template({"sender": "zhangsan", **HI})


async def _welcome(fake: FakeWeCom, client: WeComClient) -> Call:
    code = fake.issue_welcome_code("zhangsan", "wmA")
    return lambda c: c.messages.send_welcome_msg({"welcome_code": code, **HI})


async def _remind(fake: FakeWeCom, client: WeComClient) -> Call:
    msgid = await _msgid(fake, client)
    return lambda c: c.messages.remind_groupmsg_send(msgid)


async def _cancel(fake: FakeWeCom, client: WeComClient) -> Call:
    msgid = await _msgid(fake, client)
    return lambda c: c.messages.cancel_groupmsg_send(msgid)


async def _template_add(fake: FakeWeCom, client: WeComClient) -> Call:
    return lambda c: c.messages.add_group_welcome_template(HI)


async def _template_del(fake: FakeWeCom, client: WeComClient) -> Call:
    template_id = await _template(client)
    return lambda c: c.messages.delete_group_welcome_template(template_id)


WRITES = [
    Case("externalcontact/add_msg_template", _add, lambda f: len(_messages(f).messages)),
    Case("externalcontact/send_welcome_msg", _welcome, lambda f: len(f.welcome_messages())),
    Case(
        "externalcontact/remind_groupmsg_send",
        _remind,
        lambda f: sum(len(m.reminders) for m in _messages(f).messages.values()),
    ),
    Case(
        "externalcontact/cancel_groupmsg_send",
        _cancel,
        lambda f: sum(m.cancelled for m in _messages(f).messages.values()),
    ),
    Case(
        "externalcontact/group_welcome_template/add",
        _template_add,
        lambda f: len(f.state.ext(WelcomeState).templates),
    ),
    Case(
        "externalcontact/group_welcome_template/del",
        _template_del,
        lambda f: 1 - len(f.state.ext(WelcomeState).templates),
    ),
]


@pytest.fixture
def corp(wecom_fake: FakeWeCom) -> FakeWeCom:
    wecom_fake.add_staff("zhangsan")
    wecom_fake.add_customer(external_userid="wmA", followers=["zhangsan"])
    return wecom_fake


def _ids(case: Case) -> str:
    return case.path.removeprefix("externalcontact/")


@pytest.mark.parametrize("case", WRITES, ids=_ids)
async def test_system_busy_is_not_resent(
    corp: FakeWeCom, wecom_client: WeComClient, case: Case
) -> None:
    call = await case.prepare(corp, wecom_client)
    corp.inject(case.path, errcode=-1)
    with pytest.raises(SystemBusyError) as caught:
        await call(wecom_client)
    assert caught.value.errcode == -1
    assert (corp.calls(case.path), case.effect(corp)) == (1, 0)


@pytest.mark.parametrize("case", WRITES, ids=_ids)
async def test_an_answer_later_than_the_timeout_is_not_resent(
    corp: FakeWeCom, wecom_client: WeComClient, case: Case
) -> None:
    call = await case.prepare(corp, wecom_client)
    corp.inject(case.path, delay=3600)  # far past the client's read timeout
    with pytest.raises(APITimeoutError):
        await call(wecom_client)
    assert (corp.calls(case.path), case.effect(corp)) == (1, 1)


@pytest.mark.parametrize("case", WRITES, ids=_ids)
async def test_a_dropped_connection_is_not_resent(
    corp: FakeWeCom, wecom_client: WeComClient, case: Case
) -> None:
    call = await case.prepare(corp, wecom_client)
    corp.inject(case.path, drop=True)
    with pytest.raises(TransportError) as caught:
        await call(wecom_client)
    assert caught.value.sent
    assert not isinstance(caught.value, APITimeoutError)
    assert (corp.calls(case.path), case.effect(corp)) == (1, 1)


class RefuseFirstConnect(httpx.AsyncBaseTransport):
    """Fails the first connection attempt for one path; everything else reaches the fake."""

    def __init__(self, fake: FakeWeCom, path: str) -> None:
        self._inner = fake.transport()
        self._path = f"/cgi-bin/{path}"
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == self._path:
            self.attempts += 1
            if self.attempts == 1:
                raise httpx.ConnectError("connection refused", request=request)
        return await self._inner.handle_async_request(request)


@pytest.mark.parametrize("case", WRITES, ids=_ids)
async def test_a_connect_error_is_resent(
    corp: FakeWeCom, wecom_client: WeComClient, case: Case
) -> None:
    call = await case.prepare(corp, wecom_client)
    transport = RefuseFirstConnect(corp, case.path)
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
        await call(client)
    assert transport.attempts == 2
    assert (corp.calls(case.path), case.effect(corp)) == (1, 1)


async def _read(path: str, fake: FakeWeCom, client: WeComClient) -> Call:
    msgid = await _msgid(fake, client)
    template_id = await _template(client)
    now = int(fake.clock.now())
    calls: dict[str, Call] = {
        "get_groupmsg_list_v2": lambda c: c.messages.get_groupmsg_list("single", now, now),
        "get_groupmsg_task": lambda c: c.messages.get_groupmsg_task(msgid),
        "get_groupmsg_send_result": lambda c: c.messages.get_groupmsg_send_result(
            msgid, "zhangsan"
        ),
        "get_group_msg_result": lambda c: c.messages.get_group_msg_result(msgid),
        "group_welcome_template/edit": lambda c: c.messages.edit_group_welcome_template(
            {"template_id": template_id, "text": {"content": "edited"}}
        ),
        "group_welcome_template/get": lambda c: c.messages.get_group_welcome_template(template_id),
    }
    return calls[path.removeprefix("externalcontact/")]


@pytest.mark.parametrize(
    "name",
    [
        "get_groupmsg_list_v2",
        "get_groupmsg_task",
        "get_groupmsg_send_result",
        "get_group_msg_result",
        "group_welcome_template/edit",
        "group_welcome_template/get",
    ],
)
@pytest.mark.parametrize("fault", ["errcode", "drop"])
async def test_retry_safe_calls_are_resent(
    corp: FakeWeCom, wecom_client: WeComClient, name: str, fault: str
) -> None:
    path = f"externalcontact/{name}"
    call = await _read(path, corp, wecom_client)
    if fault == "errcode":
        corp.inject(path, errcode=-1)
    else:
        corp.inject(path, drop=True)
    await call(wecom_client)
    assert corp.calls(path) == 2
