"""The whole service surface as a table: one valid call per public method, on a seeded fake.

``prepare`` builds what the calls need (a mass message, a moment, a welcome code, a
resigned member, ...) on a freshly seeded fake, with clean calls of the SDK and the fake's
helpers.  ``CASES`` then gives each public method of every service its arguments; every
case succeeds against that corp without chaos (``test_surface.py`` checks it), so what a
chaos run sees is the chaos and nothing else.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.provider.helpers import provider_tokens
from tests.test_api_surface import API
from wecom_async import WeComClient, to_dict
from wecom_async.pagination import AsyncPaginator
from wecom_async.testing import (
    FakeWeCom,
)
from wecom_async.testing.routes._moments_state import MomentsState
from wecom_async.testing.routes.id_convert import service_id

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\0" * 64
DAY = 86400
OPENGID = "oChaosGroupOpenGid000000000001"


@dataclass
class Corp:
    """The ids a seeded and prepared fake corp offers to the calls."""

    fake: FakeWeCom
    now: int
    staff: list[str]
    #: A customer of staff[0] that staff[1] does not follow.
    customer: str
    #: Customers of staff[0] that staff[1] does not follow, for the transfer.
    movable: list[str]
    corp_tags: list[str]
    strategy_tags: list[str]
    chats: list[str]
    config_ids: list[str]
    join_ways: list[str]
    temp_customer: str
    msgids: list[str]
    templates: list[str]
    welcome_code: str
    jobid: str
    moment_id: str
    moment_strategy: int
    moment_strategy_spare: int
    customer_strategy_child: int
    link_id: str
    spare_link: str
    chat_key: str
    resigned: str
    orphans: list[str]
    resigned_chat: str
    intercept_rules: list[str]
    album_image: str
    products: list[str]
    #: The provider-level id conversions carry their own token kind, given by the caller:
    #: tokens the fake issued once its corp authorized a suite.
    suite_token: str
    provider_token: str


def _customers_only_of(fake: FakeWeCom, owner: str, other: str) -> list[str]:
    theirs = set(fake.customers_of(other))
    return [c for c in fake.customers_of(owner) if c not in theirs]


async def prepare(fake: FakeWeCom, client: WeComClient, *, seed: int = 3) -> Corp:
    """Seed ``fake`` and create, with clean calls, everything the cases refer to."""
    report = fake.seed(staff=6, customers_per_staff=6, seed=seed, non_customers_per_staff=1)
    staff = report.staff
    now = int(fake.clock.now())
    corp_tags = [t for t in report.tag_ids if not t.startswith("st")]
    strategy_tags = [t for t in report.tag_ids if t.startswith("st")]
    movable = _customers_only_of(fake, staff[0], staff[1])
    # A resigned member with customers and a group chat, for the resigned inheritance calls.
    resigned = staff[5]
    resigned_chat = fake.add_group_chat(resigned, members=[staff[4]]).chat_id
    orphans = fake.customers_of(resigned)
    fake.resign_member(resigned)
    suite_token, provider_token = await provider_tokens(fake)
    fake.add_group_chat(staff[0], opengid=OPENGID)
    chats = [g.chat_id async for g in client.group_chat.list(owner_userid_list=[staff[0]])]

    ways = client.contact_way
    config_ids = [
        (await ways.add({"type": 1, "scene": 2, "user": [staff[0]]})).config_id for _ in range(2)
    ]
    temp = (await ways.add({"type": 1, "scene": 2, "user": [staff[0]], "is_temp": True})).config_id
    temp_customer = fake.add_customer()
    fake.add_via_contact_way(temp, temp_customer)
    join_ways = [
        await ways.add_join_way({"scene": 2, "chat_id_list": [chats[0]]}) for _ in range(2)
    ]

    messages = client.messages
    msgids = [
        (
            await messages.add_msg_template(
                {"sender": staff[0], "external_userid": movable[:2], "text": {"content": "hi"}}
            )
        ).msgid
        for _ in range(2)
    ]
    templates = [
        await messages.add_group_welcome_template({"text": {"content": f"欢迎 {n}"}})
        for n in range(2)
    ]
    welcome_code = fake.issue_welcome_code(staff[0], movable[0])

    jobid = await client.moments.add_moment_task({"text": {"content": "新品上市"}})
    fake.clock.advance(5)
    result = (await client.moments.get_moment_task_result(jobid)).result
    assert result is not None
    assert result.moment_id is not None
    moment_id = result.moment_id
    fake.state.ext(MomentsState).publish(moment_id, staff[0], fake.clock.now())

    strategy = client.strategy
    moment_strategies = [sid async for sid in strategy.list_moment()]
    spare = await strategy.create_moment(
        {
            "strategy_name": "备用",
            "admin_list": [staff[0]],
            "range": [{"type": 1, "userid": staff[1]}],
        }
    )
    customer_strategies = [sid async for sid in strategy.list()]

    acquisition = client.acquisition
    link_id = (
        await acquisition.create_link({"link_name": "官网", "range": {"user_list": staff[:2]}})
    ).link_id
    spare_link = (
        await acquisition.create_link({"link_name": "备用", "range": {"user_list": staff[:1]}})
    ).link_id
    assert link_id is not None
    assert spare_link is not None
    via_link = fake.add_via_acquisition_link(link_id)
    chat_key = fake.issue_acquisition_chat_key(link_id, via_link)

    rule = {
        "word_list": ["加微信"],
        "intercept_type": 1,
        "applicable_range": {"user_list": staff[:1]},
    }
    intercept_rules = [
        await client.intercept_rules.add({"rule_name": f"规则{n}", **rule}) for n in range(2)
    ]
    album_image = (
        await client.media.upload_attachment(PNG, media_type="image", attachment_type=2)
    ).media_id
    products = [
        await client.product_albums.add(
            {"description": f"商品{n}", "price": 100, "attachments": _album_images(album_image)}
        )
        for n in range(2)
    ]

    return Corp(
        fake=fake,
        now=now,
        staff=staff,
        customer=movable[0],
        movable=movable,
        corp_tags=corp_tags,
        strategy_tags=strategy_tags,
        chats=chats,
        config_ids=config_ids,
        join_ways=join_ways,
        temp_customer=temp_customer,
        msgids=msgids,
        templates=templates,
        welcome_code=welcome_code,
        jobid=jobid,
        moment_id=moment_id,
        moment_strategy=moment_strategies[0],
        moment_strategy_spare=spare,
        customer_strategy_child=customer_strategies[-1],
        link_id=link_id,
        spare_link=spare_link,
        chat_key=chat_key,
        resigned=resigned,
        orphans=orphans,
        resigned_chat=resigned_chat,
        intercept_rules=intercept_rules,
        album_image=album_image,
        products=products,
        suite_token=suite_token,
        provider_token=provider_token,
    )


Args = tuple[tuple[object, ...], dict[str, object]]


@dataclass(frozen=True)
class Case:
    """One call of the surface: which method, with what, and whether it only reads."""

    service: str
    method: str
    args: Callable[[Corp], Args]
    #: True for a pure read: the same call gives the same answer on the same corp.
    read: bool

    @property
    def name(self) -> str:
        return f"{self.service}.{self.method}"

    @property
    def path(self) -> str:
        return _ROWS[(self.service, self.method)][0]

    @property
    def retry_safe(self) -> bool:
        return _ROWS[(self.service, self.method)][1]


_ROWS = {(row[0], row[1]): (str(row[3]), bool(row[4])) for row in API}


def _album_images(media_id: str) -> list[dict[str, object]]:
    return [{"type": "image", "image": {"media_id": media_id}}]


def _a(*args: object, **kwargs: object) -> Args:
    return args, kwargs


def read(service: str, method: str, args: Callable[[Corp], Args] = lambda c: _a()) -> Case:
    return Case(service, method, args, read=True)


def write(service: str, method: str, args: Callable[[Corp], Args]) -> Case:
    return Case(service, method, args, read=False)


# Reads first, then writes, the deletes last: a write never removes what a later call uses.
CASES: list[Case] = [
    # external_contact
    read("external_contact", "get_follow_user_list"),
    read("external_contact", "list", lambda c: _a(c.staff[0])),
    read("external_contact", "get", lambda c: _a(c.customer)),
    read("external_contact", "batch_get_by_user", lambda c: _a(c.staff[:4], limit=3)),
    read("external_contact", "contact_list", lambda c: _a(limit=4)),
    # tags
    read("tags", "list"),
    read("tags", "list_strategy", lambda c: _a(strategy_id=1)),
    # transfer
    read("transfer", "get_unassigned_list", lambda c: _a(page_size=2)),
    read("transfer", "transfer_result", lambda c: _a(c.staff[0], c.staff[1])),
    read("transfer", "resigned_transfer_result", lambda c: _a(c.resigned, c.staff[4])),
    read("transfer", "get_transfer_result", lambda c: _a(c.customer, c.staff[0], c.staff[3])),
    # group_chat
    read("group_chat", "list", lambda c: _a(limit=2)),
    read("group_chat", "get", lambda c: _a(c.chats[0], need_name=True)),
    read("group_chat", "opengid_to_chatid", lambda c: _a(OPENGID)),
    # contact_way
    read("contact_way", "get", lambda c: _a(c.config_ids[0])),
    read("contact_way", "list", lambda c: _a(start_time=c.now - 30 * DAY, limit=2)),
    read("contact_way", "get_join_way", lambda c: _a(c.join_ways[0])),
    # messages
    read(
        "messages",
        "get_groupmsg_list",
        lambda c: _a("single", c.now - 2 * DAY, c.now + DAY, limit=1),
    ),
    read(
        "messages",
        "get_groupmsg_list_v1",
        lambda c: _a("single", c.now - 2 * DAY, c.now + DAY, limit=1),
    ),
    read("messages", "get_groupmsg_task", lambda c: _a(c.msgids[0], limit=1)),
    read("messages", "get_groupmsg_send_result", lambda c: _a(c.msgids[0], c.staff[0], limit=1)),
    read("messages", "get_group_msg_result", lambda c: _a(c.msgids[0])),
    read("messages", "get_group_welcome_template", lambda c: _a(c.templates[0])),
    # moments
    read("moments", "get_moment_task_result", lambda c: _a(c.jobid)),
    read("moments", "get_moment_list", lambda c: _a(c.now - 6 * DAY, c.now + DAY, limit=2)),
    read("moments", "get_moment_task", lambda c: _a(c.moment_id, limit=1)),
    read(
        "moments",
        "get_moment_customer_list",
        lambda c: _a(c.moment_id, c.staff[0], limit=1),
    ),
    read("moments", "get_moment_send_result", lambda c: _a(c.moment_id, c.staff[0], limit=1)),
    read("moments", "get_moment_comments", lambda c: _a(c.moment_id, c.staff[0])),
    # statistics
    read(
        "statistics",
        "get_user_behavior_data",
        lambda c: _a(c.now - 7 * DAY, c.now - DAY, userid=c.staff[:2]),
    ),
    read(
        "statistics",
        "group_chat_statistic",
        lambda c: _a(c.now - 2 * DAY, owner_userid_list=c.staff[:3], limit=2),
    ),
    read(
        "statistics",
        "group_chat_statistic_by_day",
        lambda c: _a(c.now - 3 * DAY, c.now - DAY, c.staff[:2]),
    ),
    # strategy
    read("strategy", "list", lambda c: _a(limit=1)),
    read("strategy", "get", lambda c: _a(1)),
    read("strategy", "get_range", lambda c: _a(1, limit=1)),
    read("strategy", "list_moment", lambda c: _a(limit=1)),
    read("strategy", "get_moment", lambda c: _a(c.moment_strategy)),
    read("strategy", "get_moment_range", lambda c: _a(c.moment_strategy, limit=1)),
    # acquisition
    read("acquisition", "list_link", lambda c: _a(limit=1)),
    read("acquisition", "get", lambda c: _a(c.link_id)),
    read("acquisition", "list_customers", lambda c: _a(c.link_id, limit=1)),
    read("acquisition", "get_quota"),
    read("acquisition", "statistic", lambda c: _a(c.link_id, c.now - 2 * DAY, c.now + DAY)),
    read("acquisition", "get_chat_info", lambda c: _a(c.chat_key)),
    # id_convert (the temp customer is a WeChat user: it has an openid)
    read("id_convert", "unionid_to_external_userid", lambda c: _a("ozChaosUnion", "oChaosOpen")),
    read(
        "id_convert",
        "unionid_to_external_userid_3rd",
        lambda c: _a("ozChaosUnion", "oChaosOpen", suite_access_token=c.suite_token),
    ),
    read("id_convert", "get_new_external_userid", lambda c: _a([c.customer, c.temp_customer])),
    read(
        "id_convert",
        "get_new_group_chat_external_userid",
        lambda c: _a(c.chats[0], [c.customer]),
    ),
    read("id_convert", "to_service_external_userid", lambda c: _a(c.temp_customer)),
    read(
        "id_convert",
        "from_service_external_userid",
        lambda c: _a(service_id(c.temp_customer), 1000002),
    ),
    read("id_convert", "convert_to_openid", lambda c: _a(c.temp_customer)),
    read(
        "id_convert",
        "finish_external_userid_migration",
        lambda c: _a(c.fake.corp_id, provider_access_token=c.provider_token),
    ),
    # infra
    read("infra", "get_callback_ip"),
    # intercept rules and the product album
    read("intercept_rules", "list"),
    read("intercept_rules", "get", lambda c: _a(c.intercept_rules[0])),
    read("product_albums", "get", lambda c: _a(c.products[0])),
    read("product_albums", "list", lambda c: _a(limit=1)),
    # -- writes ----------------------------------------------------------------------------
    write(
        "external_contact",
        "remark",
        lambda c: _a({"userid": c.staff[0], "external_userid": c.customer, "remark": "混沌"}),
    ),
    write("tags", "add", lambda c: _a({"group_name": "混沌", "tag": [{"name": "甲"}]})),
    write("tags", "edit", lambda c: _a(c.corp_tags[0], name="改名")),
    write("tags", "mark", lambda c: _a(c.staff[0], c.customer, add_tag=[c.corp_tags[1]])),
    write(
        "tags",
        "add_strategy",
        lambda c: _a({"strategy_id": 1, "group_name": "混沌", "tag": [{"name": "乙"}]}),
    ),
    write("tags", "edit_strategy", lambda c: _a(c.strategy_tags[0], name="改名")),
    write(
        "transfer",
        "transfer_customer",
        lambda c: _a(c.staff[0], c.staff[1], c.movable[1:3]),
    ),
    write("transfer", "transfer", lambda c: _a(c.customer, c.staff[0], c.staff[2])),
    write("transfer", "group_chat_onjob_transfer", lambda c: _a([c.chats[-1]], c.staff[2])),
    write(
        "transfer",
        "resigned_transfer_customer",
        lambda c: _a(c.resigned, c.staff[4], c.orphans[:2]),
    ),
    write("transfer", "group_chat_transfer", lambda c: _a([c.resigned_chat], c.staff[4])),
    write("contact_way", "add", lambda c: _a({"type": 1, "scene": 2, "user": [c.staff[1]]})),
    write("contact_way", "update", lambda c: _a({"config_id": c.config_ids[0], "remark": "改"})),
    write("contact_way", "close_temp_chat", lambda c: _a(c.staff[0], c.temp_customer)),
    write("contact_way", "add_join_way", lambda c: _a({"scene": 2, "chat_id_list": c.chats[:1]})),
    write(
        "contact_way",
        "update_join_way",
        lambda c: _a({"config_id": c.join_ways[0], "scene": 1, "chat_id_list": c.chats[:1]}),
    ),
    write(
        "messages",
        "add_msg_template",
        lambda c: _a({"sender": c.staff[0], "external_userid": [c.customer], **_HI}),
    ),
    write("messages", "remind_groupmsg_send", lambda c: _a(c.msgids[0])),
    write("messages", "send_welcome_msg", lambda c: _a({"welcome_code": c.welcome_code, **_HI})),
    write("messages", "add_group_welcome_template", lambda c: _a(_HI)),
    write(
        "messages",
        "edit_group_welcome_template",
        lambda c: _a({"template_id": c.templates[0], "text": {"content": "改"}}),
    ),
    write("moments", "add_moment_task", lambda c: _a({"text": {"content": "混沌"}})),
    write(
        "strategy",
        "create",
        lambda c: _a(
            {
                "strategy_name": "混沌",
                "admin_list": [c.staff[0]],
                "range": [{"type": 1, "userid": c.staff[0]}],
            }
        ),
    ),
    write("strategy", "edit", lambda c: _a({"strategy_id": 1, "strategy_name": "改名"})),
    write(
        "strategy",
        "create_moment",
        lambda c: _a(
            {
                "strategy_name": "混沌",
                "admin_list": [c.staff[0]],
                "range": [{"type": 1, "userid": c.staff[2]}],
            }
        ),
    ),
    write(
        "strategy",
        "edit_moment",
        lambda c: _a({"strategy_id": c.moment_strategy, "strategy_name": "改名"}),
    ),
    write(
        "acquisition",
        "create_link",
        lambda c: _a({"link_name": "混沌", "range": {"user_list": c.staff[:1]}}),
    ),
    write("acquisition", "update_link", lambda c: _a({"link_id": c.link_id, "link_name": "改名"})),
    write(
        "intercept_rules",
        "add",
        lambda c: _a(
            {
                "rule_name": "混沌",
                "word_list": ["混沌"],
                "intercept_type": 2,
                "applicable_range": {"department_list": [1]},
            }
        ),
    ),
    write(
        "intercept_rules",
        "update",
        lambda c: _a({"rule_id": c.intercept_rules[0], "word_list": ["改词"]}),
    ),
    write(
        "product_albums",
        "add",
        lambda c: _a(
            {"description": "混沌", "price": 1, "attachments": _album_images(c.album_image)}
        ),
    ),
    write("product_albums", "update", lambda c: _a({"product_id": c.products[0], "price": 2})),
    write("media", "upload", lambda c: _a(b"%PDF-1.7 chaos", media_type="file", filename="a.pdf")),
    write(
        "media",
        "upload_attachment",
        lambda c: _a(PNG, media_type="image", attachment_type=1, filename="a.png"),
    ),
    write("media", "upload_image", lambda c: _a(PNG, filename="b.png")),
    # -- deletes and cancels, last ---------------------------------------------------------
    write("tags", "delete", lambda c: _a(tag_id=[c.corp_tags[-1]])),
    write("tags", "delete_strategy", lambda c: _a(tag_id=[c.strategy_tags[-1]])),
    write("contact_way", "delete", lambda c: _a(c.config_ids[1])),
    write("contact_way", "delete_join_way", lambda c: _a(c.join_ways[1])),
    write("messages", "cancel_groupmsg_send", lambda c: _a(c.msgids[1])),
    write("messages", "delete_group_welcome_template", lambda c: _a(c.templates[1])),
    write("moments", "cancel_moment_task", lambda c: _a(c.moment_id)),
    write("strategy", "delete", lambda c: _a(c.customer_strategy_child)),
    write("strategy", "delete_moment", lambda c: _a(c.moment_strategy_spare)),
    write("acquisition", "delete_link", lambda c: _a(c.spare_link)),
    write("intercept_rules", "delete", lambda c: _a(c.intercept_rules[1])),
    write("product_albums", "delete", lambda c: _a(c.products[1])),
]

_HI: dict[str, Any] = {"text": {"content": "hi"}}


def dump(value: object) -> object:
    """A result as plain JSON-like data: models through ``to_dict``, lists item by item."""
    if isinstance(value, list):
        return [dump(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return to_dict(value)


async def invoke(client: WeComClient, case: Case, corp: Corp, **options: object) -> object:
    """Call ``case`` on ``client``; a paged method is read to its end, page by page."""
    method: Callable[..., Any] = getattr(getattr(client, case.service), case.method)
    args, kwargs = case.args(corp)
    result = method(*args, **kwargs, **options)
    if isinstance(result, AsyncPaginator):
        pages = []
        async for page in result.pages():
            pages.append(
                {
                    "items": dump(page.items),
                    "extra": dict(page.extra),
                    "fail_info": dump(page.fail_info),
                }
            )
        return pages
    assert inspect.isawaitable(result)
    awaited: Awaitable[object] = result
    return dump(await awaited)


def public_methods(client: WeComClient) -> set[str]:
    """``service.method`` of every public method of every service of ``client``."""
    names: set[str] = set()
    for service_name, value in inspect.getmembers(type(client)):
        if not isinstance(value, property) and not hasattr(value, "func"):
            continue
        if service_name.startswith("_") or service_name == "tokens":
            continue
        service = getattr(client, service_name)
        for method_name, _ in inspect.getmembers(service, inspect.ismethod):
            if not method_name.startswith("_"):
                names.add(f"{service_name}.{method_name}")
    return names
