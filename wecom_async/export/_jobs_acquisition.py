"""The ``acquisition`` export kind: acquisition links (获客助手) and the customers each brought.

Plan: every link id (``customer_acquisition/list_link``, all pages; WeCom lists the valid
links this app created). Units: one per link, read whole in one step: its settings
(``customer_acquisition/get``) and every page of its customers
(``customer_acquisition/customer``). A link WeCom refuses on its own (deleted since the
plan) is reported by link id as a partial failure.

Record (JSON Lines), one per link::

    {"link_id": "...",
     "detail": {"link": {...}, "range": {...}, "priority_option": {...}},  # get, as sent
     "customer_list": [...]}     # every customer the link brought, as sent

CSV columns (one row per customer; a link without customers gets one row with the
customer columns empty): ``link_id``, ``link_name``, ``url``, ``create_time``,
``skip_verify``, ``mark_source``, ``user_list``, ``department_list``,
``priority_option`` (JSON), ``external_userid``, ``userid``, ``chat_status`` (0 not
messaged, 1 messaged, 2 unknown), ``state`` (the link's ``customer_channel``).

Docs: https://developer.work.weixin.qq.com/document/path/97297
"""

from __future__ import annotations

from collections.abc import Sequence

from .._client import WeComClient
from .._converter import to_dict
from ..models._base import JsonObject, JsonValue
from ._checkpoint import lost
from ._job import Batch, Job, Unit
from ._windowed import wire_list

__all__ = ["AcquisitionJob"]


def _dict(value: JsonValue) -> JsonObject:
    return value if isinstance(value, dict) else {}


def _link_id(spec: JsonObject) -> str:
    link_id = spec.get("link_id")
    if not isinstance(link_id, str):
        raise lost("link_id")
    return link_id


class AcquisitionJob(Job):
    """Every acquisition link with its settings and the customers it brought."""

    name = "acquisition"
    unit_label = "links"
    LINK_COLUMNS = (
        "link_id", "link_name", "url", "create_time", "skip_verify", "mark_source",
        "user_list", "department_list", "priority_option",
    )  # fmt: skip
    CUSTOMER_COLUMNS = ("external_userid", "userid", "chat_status", "state")
    columns = (*LINK_COLUMNS, *CUSTOMER_COLUMNS)
    times = ("create_time",)

    async def plan(self, client: WeComClient) -> list[Unit]:
        """One unit per link: ``POST /cgi-bin/externalcontact/customer_acquisition/list_link``."""
        return [Unit({"link_id": link_id}) async for link_id in client.acquisition.list_link()]

    def ids(self, spec: JsonObject) -> tuple[str, ...]:
        """The link id."""
        return (_link_id(spec),)

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/customer_acquisition/get``, then every page of
        ``POST /cgi-bin/externalcontact/customer_acquisition/customer``."""
        link_id = _link_id(spec)
        detail = await client.acquisition.get(link_id)
        customers = await wire_list(client.acquisition.list_customers(link_id))
        record: JsonObject = {
            "link_id": link_id,
            "detail": to_dict(detail),
            "customer_list": customers,
        }
        return Batch([record], None)

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per customer (one with empty customer cells for a link without any)."""
        detail = _dict(record.get("detail"))
        link, members = _dict(detail.get("link")), _dict(detail.get("range"))
        head = [
            record.get("link_id"),
            *(link.get(k) for k in self.LINK_COLUMNS[1:6]),
            members.get("user_list"),
            members.get("department_list"),
            detail.get("priority_option"),
        ]
        listed = record.get("customer_list")
        customers = [_dict(c) for c in listed] if isinstance(listed, list) else []
        return [[*head, *(c.get(k) for k in self.CUSTOMER_COLUMNS)] for c in customers] or [
            [*head, *(None for _ in self.CUSTOMER_COLUMNS)]
        ]
