"""The public surface promised in API.md: every service method exists, is documented with its
exact ``METHOD /cgi-bin/...`` line and doc link, takes the promised parameters, is a
coroutine or a paginator factory as promised, and its endpoint's retry safety is the one
API.md's column gives.

Every method also takes the per-call options ``**options: Unpack[RequestOptions]``.

The table below is API.md's, copied so that the suite never reads files outside the repo,
followed by the rows of the groups API.md lists as later groups (rule groups, customer
acquisition), named after the same pattern.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import wecom_async.services
from wecom_async import WeComClient
from wecom_async._core import Endpoint

# service, method, verb, path under /cgi-bin/, retry-safe, paged, promised parameters
# fmt: off
API = [
    (
        "external_contact",
        "get_follow_user_list",
        "GET",
        "externalcontact/get_follow_user_list",
        True,
        False,
        "",
    ),
    ("external_contact", "list", "GET", "externalcontact/list", True, False, "userid"),
    ("external_contact", "get", "GET", "externalcontact/get", True, False, "external_userid"),
    (
        "external_contact",
        "batch_get_by_user",
        "POST",
        "externalcontact/batch/get_by_user",
        True,
        True,
        "userid_list limit",
    ),
    ("external_contact", "remark", "POST", "externalcontact/remark", True, False, "body"),
    (
        "external_contact",
        "contact_list",
        "POST",
        "externalcontact/contact_list",
        True,
        True,
        "limit",
    ),
    ("tags", "list", "POST", "externalcontact/get_corp_tag_list", True, False, "tag_id group_id"),
    ("tags", "add", "POST", "externalcontact/add_corp_tag", False, False, "body"),
    ("tags", "edit", "POST", "externalcontact/edit_corp_tag", True, False, "id name order"),
    ("tags", "delete", "POST", "externalcontact/del_corp_tag", False, False, "tag_id group_id"),
    (
        "tags",
        "mark",
        "POST",
        "externalcontact/mark_tag",
        True,
        False,
        "userid external_userid add_tag remove_tag",
    ),
    (
        "tags",
        "list_strategy",
        "POST",
        "externalcontact/get_strategy_tag_list",
        True,
        False,
        "strategy_id tag_id group_id",
    ),
    ("tags", "add_strategy", "POST", "externalcontact/add_strategy_tag", False, False, "body"),
    (
        "tags",
        "edit_strategy",
        "POST",
        "externalcontact/edit_strategy_tag",
        True,
        False,
        "id name order",
    ),
    (
        "tags",
        "delete_strategy",
        "POST",
        "externalcontact/del_strategy_tag",
        False,
        False,
        "tag_id group_id",
    ),
    (
        "transfer",
        "transfer_customer",
        "POST",
        "externalcontact/transfer_customer",
        False,
        False,
        "handover_userid takeover_userid external_userid transfer_success_msg",
    ),
    (
        "transfer",
        "transfer_result",
        "POST",
        "externalcontact/transfer_result",
        True,
        True,
        "handover_userid takeover_userid",
    ),
    (
        "transfer",
        "group_chat_onjob_transfer",
        "POST",
        "externalcontact/groupchat/onjob_transfer",
        False,
        False,
        "chat_id_list new_owner",
    ),
    (
        "transfer",
        "get_unassigned_list",
        "POST",
        "externalcontact/get_unassigned_list",
        True,
        True,
        "page_size",
    ),
    (
        "transfer",
        "resigned_transfer_customer",
        "POST",
        "externalcontact/resigned/transfer_customer",
        False,
        False,
        "handover_userid takeover_userid external_userid",
    ),
    (
        "transfer",
        "resigned_transfer_result",
        "POST",
        "externalcontact/resigned/transfer_result",
        True,
        True,
        "handover_userid takeover_userid",
    ),
    (
        "transfer",
        "group_chat_transfer",
        "POST",
        "externalcontact/groupchat/transfer",
        False,
        False,
        "chat_id_list new_owner",
    ),
    (
        "group_chat",
        "list",
        "POST",
        "externalcontact/groupchat/list",
        True,
        True,
        "status_filter owner_userid_list limit",
    ),
    (
        "group_chat",
        "get",
        "POST",
        "externalcontact/groupchat/get",
        True,
        False,
        "chat_id need_name",
    ),
    (
        "group_chat",
        "opengid_to_chatid",
        "POST",
        "externalcontact/opengid_to_chatid",
        True,
        False,
        "opengid",
    ),
    ("contact_way", "add", "POST", "externalcontact/add_contact_way", False, False, "body"),
    ("contact_way", "get", "POST", "externalcontact/get_contact_way", True, False, "config_id"),
    (
        "contact_way",
        "list",
        "POST",
        "externalcontact/list_contact_way",
        True,
        True,
        "start_time end_time limit",
    ),
    ("contact_way", "update", "POST", "externalcontact/update_contact_way", True, False, "body"),
    ("contact_way", "delete", "POST", "externalcontact/del_contact_way", False, False, "config_id"),
    (
        "contact_way",
        "close_temp_chat",
        "POST",
        "externalcontact/close_temp_chat",
        False,
        False,
        "userid external_userid",
    ),
    (
        "contact_way",
        "add_join_way",
        "POST",
        "externalcontact/groupchat/add_join_way",
        False,
        False,
        "body",
    ),
    (
        "contact_way",
        "get_join_way",
        "POST",
        "externalcontact/groupchat/get_join_way",
        True,
        False,
        "config_id",
    ),
    (
        "contact_way",
        "update_join_way",
        "POST",
        "externalcontact/groupchat/update_join_way",
        True,
        False,
        "body",
    ),
    (
        "contact_way",
        "delete_join_way",
        "POST",
        "externalcontact/groupchat/del_join_way",
        False,
        False,
        "config_id",
    ),
    (
        "messages",
        "add_msg_template",
        "POST",
        "externalcontact/add_msg_template",
        False,
        False,
        "body",
    ),
    (
        "messages",
        "get_groupmsg_list",
        "POST",
        "externalcontact/get_groupmsg_list_v2",
        True,
        True,
        "chat_type start_time end_time creator filter_type limit",
    ),
    (
        "messages",
        "get_groupmsg_task",
        "POST",
        "externalcontact/get_groupmsg_task",
        True,
        True,
        "msgid limit",
    ),
    (
        "messages",
        "get_groupmsg_send_result",
        "POST",
        "externalcontact/get_groupmsg_send_result",
        True,
        True,
        "msgid userid limit",
    ),
    (
        "messages",
        "remind_groupmsg_send",
        "POST",
        "externalcontact/remind_groupmsg_send",
        False,
        False,
        "msgid",
    ),
    (
        "messages",
        "cancel_groupmsg_send",
        "POST",
        "externalcontact/cancel_groupmsg_send",
        False,
        False,
        "msgid",
    ),
    (
        "messages",
        "get_group_msg_result",
        "POST",
        "externalcontact/get_group_msg_result",
        True,
        False,
        "msgid",
    ),
    (
        "messages",
        "send_welcome_msg",
        "POST",
        "externalcontact/send_welcome_msg",
        False,
        False,
        "body",
    ),
    (
        "messages",
        "add_group_welcome_template",
        "POST",
        "externalcontact/group_welcome_template/add",
        False,
        False,
        "body",
    ),
    (
        "messages",
        "edit_group_welcome_template",
        "POST",
        "externalcontact/group_welcome_template/edit",
        True,
        False,
        "body",
    ),
    (
        "messages",
        "get_group_welcome_template",
        "POST",
        "externalcontact/group_welcome_template/get",
        True,
        False,
        "template_id",
    ),
    (
        "messages",
        "delete_group_welcome_template",
        "POST",
        "externalcontact/group_welcome_template/del",
        False,
        False,
        "template_id",
    ),
    ("moments", "add_moment_task", "POST", "externalcontact/add_moment_task", False, False, "body"),
    (
        "moments",
        "get_moment_task_result",
        "GET",
        "externalcontact/get_moment_task_result",
        True,
        False,
        "jobid",
    ),
    (
        "moments",
        "cancel_moment_task",
        "POST",
        "externalcontact/cancel_moment_task",
        False,
        False,
        "moment_id",
    ),
    (
        "moments",
        "get_moment_list",
        "POST",
        "externalcontact/get_moment_list",
        True,
        True,
        "start_time end_time creator filter_type limit",
    ),
    (
        "moments",
        "get_moment_task",
        "POST",
        "externalcontact/get_moment_task",
        True,
        True,
        "moment_id limit",
    ),
    (
        "moments",
        "get_moment_customer_list",
        "POST",
        "externalcontact/get_moment_customer_list",
        True,
        True,
        "moment_id userid limit",
    ),
    (
        "moments",
        "get_moment_send_result",
        "POST",
        "externalcontact/get_moment_send_result",
        True,
        True,
        "moment_id userid limit",
    ),
    (
        "moments",
        "get_moment_comments",
        "POST",
        "externalcontact/get_moment_comments",
        True,
        False,
        "moment_id userid",
    ),
    (
        "statistics",
        "get_user_behavior_data",
        "POST",
        "externalcontact/get_user_behavior_data",
        True,
        False,
        "start_time end_time userid partyid",
    ),
    (
        "statistics",
        "group_chat_statistic",
        "POST",
        "externalcontact/groupchat/statistic",
        True,
        True,
        "day_begin_time day_end_time owner_userid_list order_by order_asc limit",
    ),
    (
        "statistics",
        "group_chat_statistic_by_day",
        "POST",
        "externalcontact/groupchat/statistic_group_by_day",
        True,
        False,
        "day_begin_time day_end_time owner_userid_list",
    ),
    (
        "media",
        "upload_attachment",
        "POST",
        "media/upload_attachment",
        False,
        False,
        "file media_type attachment_type filename",
    ),
    ("media", "upload", "POST", "media/upload", False, False, "file media_type filename"),
    ("media", "upload_image", "POST", "media/uploadimg", False, False, "file filename"),
    # Later groups (API.md, "Later groups"): rule groups under client.strategy.
    ("strategy", "list", "POST", "externalcontact/customer_strategy/list", True, True, "limit cursor"),
    ("strategy", "get", "POST", "externalcontact/customer_strategy/get", True, False, "strategy_id"),
    ("strategy", "get_range", "POST", "externalcontact/customer_strategy/get_range", True, True, "strategy_id limit cursor"),
    ("strategy", "create", "POST", "externalcontact/customer_strategy/create", False, False, "body"),
    ("strategy", "edit", "POST", "externalcontact/customer_strategy/edit", True, False, "body"),
    ("strategy", "delete", "POST", "externalcontact/customer_strategy/del", False, False, "strategy_id"),
    ("strategy", "list_moment", "POST", "externalcontact/moment_strategy/list", True, True, "limit cursor"),
    ("strategy", "get_moment", "POST", "externalcontact/moment_strategy/get", True, False, "strategy_id"),
    ("strategy", "get_moment_range", "POST", "externalcontact/moment_strategy/get_range", True, True, "strategy_id limit cursor"),
    ("strategy", "create_moment", "POST", "externalcontact/moment_strategy/create", False, False, "body"),
    ("strategy", "edit_moment", "POST", "externalcontact/moment_strategy/edit", True, False, "body"),
    ("strategy", "delete_moment", "POST", "externalcontact/moment_strategy/del", False, False, "strategy_id"),
    # Later groups: customer acquisition (获客助手) under client.acquisition.
    ("acquisition", "list_link", "POST", "externalcontact/customer_acquisition/list_link", True, True, "limit cursor"),
    ("acquisition", "get", "POST", "externalcontact/customer_acquisition/get", True, False, "link_id"),
    ("acquisition", "create_link", "POST", "externalcontact/customer_acquisition/create_link", False, False, "body"),
    ("acquisition", "update_link", "POST", "externalcontact/customer_acquisition/update_link", True, False, "body"),
    ("acquisition", "delete_link", "POST", "externalcontact/customer_acquisition/delete_link", False, False, "link_id"),
    ("acquisition", "list_customers", "POST", "externalcontact/customer_acquisition/customer", True, True, "link_id limit cursor"),
    ("acquisition", "get_quota", "GET", "externalcontact/customer_acquisition_quota", True, False, ""),
    ("acquisition", "statistic", "POST", "externalcontact/customer_acquisition/statistic", True, False, "link_id start_time end_time"),
    ("acquisition", "get_chat_info", "POST", "externalcontact/customer_acquisition/get_chat_info", True, False, "chat_key"),
]
# fmt: on

DOC_LINK = "https://developer.work.weixin.qq.com/document/path/"


def _endpoints() -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}
    for info in pkgutil.iter_modules(wecom_async.services.__path__):
        module = importlib.import_module(f"wecom_async.services.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Endpoint):
                found[value.path] = value
    return found


@pytest.fixture(scope="module")
def client() -> WeComClient:
    return WeComClient("wwsurface", "surface-secret")


@pytest.mark.parametrize(
    ("service", "name", "verb", "path", "retry_safe", "paged", "params"),
    API,
    ids=[f"{row[0]}.{row[1]}" for row in API],
)
def test_promised_method(
    client: WeComClient,
    service: str,
    name: str,
    verb: str,
    path: str,
    retry_safe: bool,
    paged: bool,
    params: str,
) -> None:
    method = getattr(getattr(client, service), name, None)
    assert method is not None, f"client.{service}.{name} is missing"
    doc = inspect.getdoc(method) or ""
    assert f"{verb} /cgi-bin/{path}" in doc, f"docstring lacks '{verb} /cgi-bin/{path}'"
    assert DOC_LINK in doc, "docstring lacks the official doc link"
    assert doc.splitlines()[0].strip(), "docstring lacks a summary line"
    assert inspect.iscoroutinefunction(method) is not paged
    signature = inspect.signature(method)
    missing = [p for p in params.split() if p not in signature.parameters]
    assert not missing, f"parameters promised by API.md are missing: {missing}"
    # Every method takes the per-call options (extra_body, extra_query, deadline).
    options = signature.parameters.get("options")
    assert options is not None, "no **options"
    assert options.kind is inspect.Parameter.VAR_KEYWORD
    assert options.annotation == "Unpack[RequestOptions]"
    endpoint = _endpoints().get(path)
    assert endpoint is not None, f"no Endpoint for {path}"
    assert (endpoint.method, endpoint.retry_safe) == (verb, retry_safe)


def test_every_service_endpoint_is_promised() -> None:
    promised = {row[3] for row in API}
    extra = {p for p in _endpoints() if p not in promised and p != "gettoken"}
    assert not extra, f"endpoints without an API.md row: {extra}"
