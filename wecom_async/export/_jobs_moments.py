"""The ``moments`` export kind: customer moments (客户朋友圈) with who published them,
who they were meant for, who can see them, and their comments and likes.

Units: one per window of ``--since`` .. ``--until`` (default: the last 90 days), at most
30 days each (WeCom's limit for ``get_moment_list``; see :mod:`._windowed` for the window
edges), paged by WeCom's cursor. Each moment listed is read whole before it is written.
Its *members* are the executors of a corp moment (``get_moment_task``) or the creator of
a personal one. For each member: the customers it was meant for
(``get_moment_customer_list``) and, once the member has published it, the customers who
can see it (``get_moment_send_result``) and its comments and likes
(``get_moment_comments``); before that WeCom has none of them.

Record (JSON Lines), one per moment::

    {"moment": {...},          # the get_moment_list record as WeCom sent it
     "task_list": [...],       # get_moment_task (corp moments; [] for personal ones)
     "members": [{"userid": "...",
                  "published": true | false,  # task publish_status 1 (personal: true)
                  "customer_list": [...],   # get_moment_customer_list
                  "send_result": [...],     # get_moment_send_result's customer_list
                  "comment_list": [...],    # get_moment_comments
                  "like_list": [...]}]}     #   (the last three: [] until published)

The comments answer's fields unknown to this release are kept in each member's
``comments_extra``. CSV columns (one row per moment): ``moment_id``, ``create_type``,
``visible_type``, ``creator``, ``create_time``, ``text`` (the text's content), ``members``,
``published`` (members who published), ``customers`` (meant for, summed over members),
``visible_to`` (send results, summed), ``comments``, ``likes``, ``moment`` and
``members_detail`` (JSON).

Docs: https://developer.work.weixin.qq.com/document/path/93333
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .._client import WeComClient
from .._converter import to_dict
from ..models._base import JsonObject, JsonValue
from ..models.moments import Moment
from ..services.moments import MAX_MOMENT_LIST_SPAN
from ._job import Batch, fetch_each
from ._windowed import WindowedJob, gather, inside, wire_list

__all__ = ["MOMENT_PAGE", "MomentsJob"]

#: Moments per list page (WeCom's maximum is 20): each is then read member by member.
MOMENT_PAGE: Final = 10
_CORP_MOMENT: Final = 0
_PUBLISHED: Final = 1


def _sum(members: list[JsonObject], key: str) -> int:
    lists = [m.get(key) for m in members]
    return sum(len(items) for items in lists if isinstance(items, list))


class MomentsJob(WindowedJob):
    """Every moment of the range, with its members' customers, send results and comments."""

    name = "moments"
    max_span = MAX_MOMENT_LIST_SPAN
    columns = (
        "moment_id", "create_type", "visible_type", "creator", "create_time", "text",
        "members", "published", "customers", "visible_to", "comments", "likes", "moment",
        "members_detail",
    )  # fmt: skip
    identity = ("moment_id",)
    times = ("create_time",)

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/get_moment_list`` for the window, then per moment
        ``get_moment_task`` and, per member, ``get_moment_customer_list``,
        ``get_moment_send_result`` and ``get_moment_comments`` (all ``POST``)."""
        start, end = self.asked(spec)
        page = await client.moments.get_moment_list(start, end, limit=MOMENT_PAGE, cursor=cursor)
        moments = {m.moment_id: m for m in page.items if inside(m.create_time, spec)}

        async def read(moment_id: str) -> JsonObject:
            return await self._moment(client, moments[moment_id])

        records, failures = await fetch_each(list(moments), read, lambda record: record)
        return Batch(records, page.next_cursor or None, failures)

    async def _moment(self, client: WeComClient, moment: Moment) -> JsonObject:
        tasks: list[JsonValue] = []
        if moment.create_type == _CORP_MOMENT:
            tasks = await wire_list(client.moments.get_moment_task(moment.moment_id))
            published = {
                str(t["userid"]): t.get("publish_status") == _PUBLISHED
                for t in tasks
                if isinstance(t, dict) and "userid" in t
            }
        else:  # a personal moment: its creator posted it
            published = {moment.creator: True} if moment.creator else {}
        members = await gather(
            list(published.items()), lambda item: self._member(client, moment, *item)
        )
        return {"moment": to_dict(moment), "task_list": tasks, "members": list(members)}

    @staticmethod
    async def _member(
        client: WeComClient, moment: Moment, userid: str, published: bool
    ) -> JsonObject:
        moments, moment_id = client.moments, moment.moment_id
        member: JsonObject = {
            "userid": userid,
            "published": published,
            "customer_list": await wire_list(moments.get_moment_customer_list(moment_id, userid)),
            "send_result": [],
            "comment_list": [],
            "like_list": [],
        }
        if published:
            member["send_result"] = await wire_list(
                moments.get_moment_send_result(moment_id, userid)
            )
            comments = to_dict(await moments.get_moment_comments(moment_id, userid))
            member["comment_list"] = comments.pop("comment_list", [])
            member["like_list"] = comments.pop("like_list", [])
            if comments:
                member["comments_extra"] = comments
        return member

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per moment."""
        moment = record.get("moment")
        moment = moment if isinstance(moment, dict) else {}
        listed = record.get("members")
        members = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
        text = moment.get("text")
        published = sum(1 for m in members if m.get("published") is True)
        return [
            [
                *(moment.get(k) for k in self.columns[:5]),
                text.get("content") if isinstance(text, dict) else None,
                len(members),
                published,
                _sum(members, "customer_list"),
                _sum(members, "send_result"),
                _sum(members, "comment_list"),
                _sum(members, "like_list"),
                moment,
                list[JsonValue](members),
            ]
        ]
