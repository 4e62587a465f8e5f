"""The ``group-messages`` export kind: mass messages (企业群发) with their tasks and results.

Units: one per ``chat_type`` (``single``, to customers; ``group``, to customer groups)
and window of at most 30 days of ``--since`` .. ``--until`` (default: the last 90 days),
paged by ``get_groupmsg_list_v2``'s cursor (WeCom allows a month per call; see
:mod:`._windowed` for the window edges). Each message listed is read whole before it is
written: every page of its member tasks, then every page of each tasked member's send
results.

Record (JSON Lines), one per message::

    {"chat_type": "single" | "group",
     "group_msg": {...},      # the get_groupmsg_list_v2 record as WeCom sent it
     "task_list": [...],      # get_groupmsg_task: one per member asked to send it
     "send_list": [...]}      # get_groupmsg_send_result of every tasked member, in task order

CSV columns (one row per message): ``chat_type``, ``msgid``, ``create_type``,
``creator``, ``create_time``, ``text`` (the text's content), ``attachments``, ``tasks``
(members asked), ``sent_tasks`` (members who sent it, task status 2), ``recipients``
(send results), ``delivered`` (send status 1), ``task_list``, ``send_list`` (JSON).

A message whose tasks or results WeCom refuses on their own (e.g. 41063 while it is
still being dispatched) is reported by msgid as a partial failure; the others are written.

Docs: https://developer.work.weixin.qq.com/document/path/93338
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .._client import WeComClient
from .._converter import to_dict
from ..models._base import JsonObject, JsonValue
from ..models.messages import ChatType, GroupMsg
from ..services.messages import MAX_GROUPMSG_LIST_SPAN
from ._job import Batch, fetch_each
from ._range import DAY
from ._windowed import WindowedJob, gather, inside, wire_list

__all__ = ["GROUPMSG_PAGE", "GroupMessagesJob"]

#: Messages per list page: each is then read with its tasks and results, so a page
#: stays small enough to redo cheaply after an interruption.
GROUPMSG_PAGE: Final = 20
#: WeCom allows "a month" per call; 30 days holds in every month.
GROUPMSG_SPAN: Final = min(30 * DAY, MAX_GROUPMSG_LIST_SPAN)
_SENT_TASK: Final = 2
_DELIVERED: Final = 1


def _count(items: JsonValue, status: int) -> int:
    listed = items if isinstance(items, list) else []
    return sum(1 for item in listed if isinstance(item, dict) and item.get("status") == status)


class GroupMessagesJob(WindowedJob):
    """Every mass message of the range, single and group, with tasks and send results."""

    name = "group-messages"
    max_span = GROUPMSG_SPAN
    columns = (
        "chat_type", "msgid", "create_type", "creator", "create_time", "text",
        "attachments", "tasks", "sent_tasks", "recipients", "delivered", "task_list",
        "send_list",
    )  # fmt: skip
    identity = ("chat_type", "msgid")
    times = ("create_time",)

    def lists(self) -> list[JsonObject]:
        """Messages to customers, then to customer groups."""
        return [{"chat_type": "single"}, {"chat_type": "group"}]

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/get_groupmsg_list_v2`` for the window, then per
        message ``POST /cgi-bin/externalcontact/get_groupmsg_task`` and, per member,
        ``POST /cgi-bin/externalcontact/get_groupmsg_send_result``."""
        chat_type: ChatType = "group" if spec.get("chat_type") == "group" else "single"
        start, end = self.asked(spec)
        page = await client.messages.get_groupmsg_list(
            chat_type, start, end, limit=GROUPMSG_PAGE, cursor=cursor
        )
        messages = {m.msgid: m for m in page.items if inside(m.create_time, spec)}

        async def read(msgid: str) -> JsonObject:
            return await self._message(client, chat_type, messages[msgid])

        records, failures = await fetch_each(list(messages), read, lambda record: record)
        return Batch(records, page.next_cursor or None, failures)

    @staticmethod
    async def _message(client: WeComClient, chat_type: str, message: GroupMsg) -> JsonObject:
        msgid = message.msgid
        tasks = await wire_list(client.messages.get_groupmsg_task(msgid))
        members = [t["userid"] for t in tasks if isinstance(t, dict) and "userid" in t]
        results = await gather(
            [str(m) for m in members],
            lambda userid: wire_list(client.messages.get_groupmsg_send_result(msgid, userid)),
        )
        sends: list[JsonValue] = [item for result in results for item in result]
        return {
            "chat_type": chat_type,
            "group_msg": to_dict(message),
            "task_list": tasks,
            "send_list": sends,
        }

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per message."""
        message = record.get("group_msg")
        message = message if isinstance(message, dict) else {}
        text = message.get("text")
        tasks, sends = record.get("task_list"), record.get("send_list")
        return [
            [
                record.get("chat_type"),
                *(message.get(k) for k in ("msgid", "create_type", "creator", "create_time")),
                text.get("content") if isinstance(text, dict) else None,
                message.get("attachments"),
                len(tasks) if isinstance(tasks, list) else 0,
                _count(tasks, _SENT_TASK),
                len(sends) if isinstance(sends, list) else 0,
                _count(sends, _DELIVERED),
                tasks,
                sends,
            ]
        ]
