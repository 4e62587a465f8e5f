"""One valid call of every public service method, and a WeCom that answers them all.

``CALLS`` maps ``"service.method"`` to a function that makes that call with the given
per-call options; ``public_methods()`` lists what the services expose, so a test can
check the table leaves none out. ``FixtureWeCom`` answers each path with its JSON fixture
from ``tests/fixtures`` (the envelope only where there is none) and lets the test choose
the paging fields of each answer (``next_cursor``, or ``next_offset`` and ``total`` on the
one offset-paged path), so a cursor can be made to cycle on any endpoint.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import anyio.lowlevel
import attrs
import httpx

from wecom_async import RetryPolicy, WeComClient
from wecom_async.services._base import Service

CORP_ID = "wweverycall"
SECRET = "core-test-secret-Zq81xv"
TOKEN = "TOKEN-1-f3b9c2d1e8a7"
#: What the provider-level calls are given (they carry their own token kind).
SUITE_TOKEN = "SUITE-TOKEN-7c1e09b2d4"
PROVIDER_TOKEN = "PROVIDER-TOKEN-5a8d3f60e1"
FIXTURES = Path(__file__).parent.parent / "fixtures"
#: The one offset-paged endpoint: its page token is the body's ``offset``.
OFFSET_PATH = "externalcontact/groupchat/statistic"

START = 1_700_000_000
DAY = 86_400
FILE = b"\x89PNG\r\n\x1a\n" + b"0" * 32
STRATEGY_RANGE = [{"type": 1, "userid": "zhangsan"}]
ALBUM_IMAGES = [{"type": "image", "image": {"media_id": "MEDIA_ID"}}]

Invoke = Callable[[Any, dict[str, Any]], Any]

# fmt: off
CALLS: dict[str, Invoke] = {
    "external_contact.get_follow_user_list": lambda s, o: s.get_follow_user_list(**o),
    "external_contact.list": lambda s, o: s.list("zhangsan", **o),
    "external_contact.get": lambda s, o: s.get("wmCustomer", **o),
    "external_contact.batch_get_by_user": lambda s, o: s.batch_get_by_user(["zhangsan"], **o),
    "external_contact.remark": lambda s, o: s.remark(
        {"userid": "zhangsan", "external_userid": "wmA", "remark": "r"}, **o),
    "external_contact.contact_list": lambda s, o: s.contact_list(**o),
    "tags.list": lambda s, o: s.list(**o),
    "tags.add": lambda s, o: s.add({"group_name": "g", "tag": [{"name": "t"}]}, **o),
    "tags.edit": lambda s, o: s.edit("etTag", name="n", **o),
    "tags.delete": lambda s, o: s.delete(tag_id=["etTag"], **o),
    "tags.mark": lambda s, o: s.mark("zhangsan", "wmA", add_tag=["etTag"], **o),
    "tags.list_strategy": lambda s, o: s.list_strategy(strategy_id=1, **o),
    "tags.add_strategy": lambda s, o: s.add_strategy(
        {"strategy_id": 1, "group_name": "g", "tag": [{"name": "t"}]}, **o),
    "tags.edit_strategy": lambda s, o: s.edit_strategy("stTag", order=1, **o),
    "tags.delete_strategy": lambda s, o: s.delete_strategy(group_id=["stGroup"], **o),
    "transfer.transfer_customer": lambda s, o: s.transfer_customer("a", "b", ["wmA"], **o),
    "transfer.transfer_result": lambda s, o: s.transfer_result("a", "b", **o),
    "transfer.group_chat_onjob_transfer": lambda s, o: s.group_chat_onjob_transfer(
        ["wrA"], "b", **o),
    "transfer.get_unassigned_list": lambda s, o: s.get_unassigned_list(**o),
    "transfer.resigned_transfer_customer": lambda s, o: s.resigned_transfer_customer(
        "a", "b", ["wmA"], **o),
    "transfer.resigned_transfer_result": lambda s, o: s.resigned_transfer_result("a", "b", **o),
    "transfer.group_chat_transfer": lambda s, o: s.group_chat_transfer(["wrA"], "b", **o),
    "transfer.transfer": lambda s, o: s.transfer("wmA", "a", "b", **o),
    "transfer.get_transfer_result": lambda s, o: s.get_transfer_result("wmA", "a", "b", **o),
    "group_chat.list": lambda s, o: s.list(**o),
    "group_chat.get": lambda s, o: s.get("wrA", **o),
    "group_chat.opengid_to_chatid": lambda s, o: s.opengid_to_chatid("opengid", **o),
    "contact_way.add": lambda s, o: s.add({"type": 1, "scene": 2, "user": ["zhangsan"]}, **o),
    "contact_way.get": lambda s, o: s.get("c1", **o),
    "contact_way.list": lambda s, o: s.list(**o),
    "contact_way.update": lambda s, o: s.update({"config_id": "c1", "remark": "r"}, **o),
    "contact_way.delete": lambda s, o: s.delete("c1", **o),
    "contact_way.close_temp_chat": lambda s, o: s.close_temp_chat("zhangsan", "wmA", **o),
    "contact_way.add_join_way": lambda s, o: s.add_join_way(
        {"scene": 2, "chat_id_list": ["wrA"]}, **o),
    "contact_way.get_join_way": lambda s, o: s.get_join_way("c1", **o),
    "contact_way.update_join_way": lambda s, o: s.update_join_way(
        {"config_id": "c1", "scene": 2, "chat_id_list": ["wrA"]}, **o),
    "contact_way.delete_join_way": lambda s, o: s.delete_join_way("c1", **o),
    "messages.add_msg_template": lambda s, o: s.add_msg_template(
        {"sender": "zhangsan", "text": {"content": "hi"}}, **o),
    "messages.get_groupmsg_list": lambda s, o: s.get_groupmsg_list(
        "single", START, START + DAY, **o),
    "messages.get_groupmsg_task": lambda s, o: s.get_groupmsg_task("msg1", **o),
    "messages.get_groupmsg_send_result": lambda s, o: s.get_groupmsg_send_result(
        "msg1", "zhangsan", **o),
    "messages.remind_groupmsg_send": lambda s, o: s.remind_groupmsg_send("msg1", **o),
    "messages.cancel_groupmsg_send": lambda s, o: s.cancel_groupmsg_send("msg1", **o),
    "messages.get_group_msg_result": lambda s, o: s.get_group_msg_result("msg1", **o),
    "messages.get_groupmsg_list_v1": lambda s, o: s.get_groupmsg_list_v1(
        "single", START, START + DAY, **o),
    "messages.send_welcome_msg": lambda s, o: s.send_welcome_msg(
        {"welcome_code": "code", "text": {"content": "hi"}}, **o),
    "messages.add_group_welcome_template": lambda s, o: s.add_group_welcome_template(
        {"text": {"content": "hi"}}, **o),
    "messages.edit_group_welcome_template": lambda s, o: s.edit_group_welcome_template(
        {"template_id": "t1", "text": {"content": "hi"}}, **o),
    "messages.get_group_welcome_template": lambda s, o: s.get_group_welcome_template("t1", **o),
    "messages.delete_group_welcome_template": lambda s, o: s.delete_group_welcome_template(
        "t1", **o),
    "moments.add_moment_task": lambda s, o: s.add_moment_task({"text": {"content": "hi"}}, **o),
    "moments.get_moment_task_result": lambda s, o: s.get_moment_task_result("job1", **o),
    "moments.cancel_moment_task": lambda s, o: s.cancel_moment_task("m1", **o),
    "moments.get_moment_list": lambda s, o: s.get_moment_list(START, START + DAY, **o),
    "moments.get_moment_task": lambda s, o: s.get_moment_task("m1", **o),
    "moments.get_moment_customer_list": lambda s, o: s.get_moment_customer_list(
        "m1", "zhangsan", **o),
    "moments.get_moment_send_result": lambda s, o: s.get_moment_send_result(
        "m1", "zhangsan", **o),
    "moments.get_moment_comments": lambda s, o: s.get_moment_comments("m1", "zhangsan", **o),
    "statistics.get_user_behavior_data": lambda s, o: s.get_user_behavior_data(
        START, START + DAY, userid=["zhangsan"], **o),
    "statistics.group_chat_statistic": lambda s, o: s.group_chat_statistic(
        START, owner_userid_list=["zhangsan"], **o),
    "statistics.group_chat_statistic_by_day": lambda s, o: s.group_chat_statistic_by_day(
        START, START + DAY, ["zhangsan"], **o),
    "strategy.list": lambda s, o: s.list(**o),
    "strategy.get": lambda s, o: s.get(1, **o),
    "strategy.get_range": lambda s, o: s.get_range(1, **o),
    "strategy.create": lambda s, o: s.create(
        {"strategy_name": "s", "admin_list": ["zhangsan"], "range": STRATEGY_RANGE}, **o),
    "strategy.edit": lambda s, o: s.edit({"strategy_id": 1, "strategy_name": "s"}, **o),
    "strategy.delete": lambda s, o: s.delete(1, **o),
    "strategy.list_moment": lambda s, o: s.list_moment(**o),
    "strategy.get_moment": lambda s, o: s.get_moment(1, **o),
    "strategy.get_moment_range": lambda s, o: s.get_moment_range(1, **o),
    "strategy.create_moment": lambda s, o: s.create_moment(
        {"strategy_name": "s", "admin_list": ["zhangsan"], "range": STRATEGY_RANGE}, **o),
    "strategy.edit_moment": lambda s, o: s.edit_moment(
        {"strategy_id": 1, "strategy_name": "s"}, **o),
    "strategy.delete_moment": lambda s, o: s.delete_moment(1, **o),
    "acquisition.list_link": lambda s, o: s.list_link(**o),
    "acquisition.get": lambda s, o: s.get("ca1", **o),
    "acquisition.create_link": lambda s, o: s.create_link(
        {"link_name": "l", "range": {"user_list": ["zhangsan"]}}, **o),
    "acquisition.update_link": lambda s, o: s.update_link(
        {"link_id": "ca1", "link_name": "l"}, **o),
    "acquisition.delete_link": lambda s, o: s.delete_link("ca1", **o),
    "acquisition.list_customers": lambda s, o: s.list_customers("ca1", **o),
    "acquisition.get_quota": lambda s, o: s.get_quota(**o),
    "acquisition.statistic": lambda s, o: s.statistic("ca1", START, START + DAY, **o),
    "acquisition.get_chat_info": lambda s, o: s.get_chat_info("key", **o),
    "intercept_rules.add": lambda s, o: s.add(
        {"rule_name": "r", "word_list": ["w"], "intercept_type": 1,
         "applicable_range": {"user_list": ["zhangsan"]}}, **o),
    "intercept_rules.list": lambda s, o: s.list(**o),
    "intercept_rules.get": lambda s, o: s.get("xxx", **o),
    "intercept_rules.update": lambda s, o: s.update({"rule_id": "xxx", "rule_name": "r"}, **o),
    "intercept_rules.delete": lambda s, o: s.delete("xxx", **o),
    "product_albums.add": lambda s, o: s.add(
        {"description": "d", "price": 1, "attachments": ALBUM_IMAGES}, **o),
    "product_albums.get": lambda s, o: s.get("pd1", **o),
    "product_albums.list": lambda s, o: s.list(**o),
    "product_albums.update": lambda s, o: s.update({"product_id": "pd1", "price": 2}, **o),
    "product_albums.delete": lambda s, o: s.delete("pd1", **o),
    "media.upload_attachment": lambda s, o: s.upload_attachment(
        FILE, media_type="image", attachment_type=1, **o),
    "media.upload": lambda s, o: s.upload(FILE, media_type="image", **o),
    "media.upload_image": lambda s, o: s.upload_image(FILE, **o),
    "id_convert.unionid_to_external_userid": lambda s, o: s.unionid_to_external_userid(
        "ozUnion", "oOpen", **o),
    "id_convert.unionid_to_external_userid_3rd": lambda s, o: s.unionid_to_external_userid_3rd(
        "ozUnion", "oOpen", suite_access_token=SUITE_TOKEN, **o),
    "id_convert.get_new_external_userid": lambda s, o: s.get_new_external_userid(["wmA"], **o),
    "id_convert.get_new_group_chat_external_userid": lambda s, o: (
        s.get_new_group_chat_external_userid("wrA", ["wmA"], **o)),
    "id_convert.to_service_external_userid": lambda s, o: s.to_service_external_userid(
        "wmA", **o),
    "id_convert.from_service_external_userid": lambda s, o: s.from_service_external_userid(
        "wmA", 1000001, **o),
    "id_convert.finish_external_userid_migration": lambda s, o: (
        s.finish_external_userid_migration("wwCorp", provider_access_token=PROVIDER_TOKEN, **o)),
    "id_convert.convert_to_openid": lambda s, o: s.convert_to_openid("wmA", **o),
    "infra.get_callback_ip": lambda s, o: s.get_callback_ip(**o),
}
# fmt: on

#: The methods whose answer is one model merged from every page.
MERGES = frozenset({"external_contact.get", "messages.get_group_msg_result"})


_INSPECTED = WeComClient(CORP_ID, SECRET)  # never opened: only its services are looked at


def public_methods() -> set[str]:
    """``service.method`` of every public method of every service of a client."""
    found: set[str] = set()
    for name, attr in vars(WeComClient).items():
        if isinstance(attr, cached_property):
            service = getattr(_INSPECTED, name)
            assert isinstance(service, Service), name
            for method, _ in inspect.getmembers(type(service), inspect.isfunction):
                if not method.startswith("_"):
                    found.add(f"{name}.{method}")
    return found


def method_of(key: str) -> Callable[..., Any]:
    """The bound method named ``service.method``."""
    service, method = key.split(".")
    bound: Callable[..., Any] = getattr(getattr(_INSPECTED, service), method)
    return bound


def is_paged(key: str) -> bool:
    """Whether the method returns a paginator (a paged method is not a coroutine function)."""
    return not inspect.iscoroutinefunction(method_of(key))


PagingFields = Callable[[str, "str | int | None"], dict[str, Any]]


@attrs.frozen
class Sent:
    """One business request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    multipart: bool


class FixtureWeCom:
    """Answers every path with its fixture; ``paging`` chooses each answer's paging fields.

    ``paging(path, token)`` gets the page token of the request (its ``cursor``, or the
    ``offset`` on the offset-paged path; None on a first page) and returns the fields to
    put in the answer. ``max_requests`` stops a runaway client: past it the server raises.
    """

    def __init__(self, paging: PagingFields, *, max_requests: int = 50) -> None:
        self.paging = paging
        self.max_requests = max_requests
        self.sent: list[Sent] = []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        await anyio.lowlevel.checkpoint()
        path = request.url.path.removeprefix("/cgi-bin/")
        if path == "gettoken":
            return httpx.Response(
                200, json={"errcode": 0, "errmsg": "ok", "access_token": TOKEN, "expires_in": 7200}
            )
        multipart = request.headers.get("content-type", "").startswith("multipart/")
        body = json.loads(request.content) if request.content and not multipart else None
        query = {k: v for k, v in request.url.params.items() if k != "access_token"}
        self.sent.append(Sent(request.method, path, query, body, multipart))
        if len(self.sent) > self.max_requests:
            raise AssertionError(f"more than {self.max_requests} requests: a paging loop")
        source = body if isinstance(body, dict) else query
        token = source.get("offset" if path == OFFSET_PATH else "cursor")
        return httpx.Response(200, json={**fixture(path), **self.paging(path, token)})

    def client(self) -> WeComClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return WeComClient(
            CORP_ID,
            SECRET,
            http_client=http,
            base_url="https://wecom.test",
            retry=RetryPolicy.no_delay(),
        )


def fixture(path: str) -> dict[str, Any]:
    """The fixture answer of ``path`` (the bare envelope where there is none)."""
    file = FIXTURES / f"{path}.json"
    if not file.exists():
        return {"errcode": 0, "errmsg": "ok"}
    data: dict[str, Any] = json.loads(file.read_text())
    return data


def cycling(period: int) -> PagingFields:
    """Cursors ``'' -> A -> B -> ... -> A`` (offsets 0 -> 5 -> 10 -> ... -> 5) of ``period``."""
    cursors = ["A", "B", "C", "D"][:period]
    offsets = [5, 10, 15, 20][:period]

    def paging(path: str, token: str | int | None) -> dict[str, Any]:
        ring: list[Any] = offsets if path == OFFSET_PATH else cursors
        following = ring[(ring.index(token) + 1) % period if token in ring else 0]
        if path == OFFSET_PATH:
            return {"next_offset": following, "total": 1000}
        return {"next_cursor": following}

    return paging


def two_pages(path: str, token: str | int | None) -> dict[str, Any]:
    """A first page that points to a second, last page."""
    if path == OFFSET_PATH:
        items = len(fixture(path)["items"])
        return {"next_offset": items if not token else 2 * items, "total": 2 * items}
    return {"next_cursor": "" if token else "PAGE2"}
