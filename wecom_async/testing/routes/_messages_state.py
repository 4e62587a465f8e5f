"""Mass messages of the fake corp.

State lives in ``ctx.state.ext(MessagesState)``.  ``FakeWeCom.confirm_groupmsg`` plays a
member confirming a message in the client (:func:`confirm`): their task becomes sent
(status 2) and each recipient gets status 1 (sent), 2 (no longer a customer of the member)
or 3 (the recipient's monthly quota is used up).  A recipient may receive as many mass
messages per calendar month (China time) as :attr:`MessagesState.quota_per_month`; None
(the default) means the number of days in that month (endpoints.md §5.4; older docs said
4).  For :attr:`MessagesState.dispatch_seconds` after creation the task and result APIs
answer 41063 "still dispatching" (default 0: off).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Final

from .._route import JSON
from .._state import CorpState
from ._group_chat_state import GroupChatState

__all__ = [
    "SEND_NOT_FRIEND",
    "SEND_NOT_SENT",
    "SEND_OVER_QUOTA",
    "SEND_SENT",
    "TASK_NOT_SENT",
    "TASK_SENT",
    "Delivery",
    "GroupMessage",
    "MemberTask",
    "MessagesState",
    "confirm",
]

#: task_list[].status
TASK_NOT_SENT: Final = 0
TASK_SENT: Final = 2
#: send_list[].status
SEND_NOT_SENT: Final = 0
SEND_SENT: Final = 1
SEND_NOT_FRIEND: Final = 2
SEND_OVER_QUOTA: Final = 3
#: Months of the quota are calendar months in China time.
_CHINA: Final = timezone(timedelta(hours=8))


@dataclass(slots=True, eq=False)
class Delivery:
    """One recipient (a customer or a customer group) of one member's task."""

    userid: str
    external_userid: str | None = None
    chat_id: str | None = None
    status: int = SEND_NOT_SENT
    send_time: int | None = None

    @property
    def recipient(self) -> str:
        """The external_userid or chat_id."""
        return self.external_userid or self.chat_id or ""


@dataclass(slots=True, eq=False)
class MemberTask:
    """A member's part of a mass message."""

    userid: str
    status: int = TASK_NOT_SENT
    send_time: int | None = None
    deliveries: list[Delivery] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class GroupMessage:
    """A mass message created by add_msg_template."""

    seq: int
    msgid: str
    chat_type: str
    create_time: int
    #: The request's content keys as sent (text, attachments, or legacy objects).
    content: JSON
    #: Absent for messages created through the API (create_type 0).
    creator: str | None = None
    create_type: int = 0
    #: The member may deselect recipients (single) or picks the groups (group, no list).
    selectable: bool = False
    cancelled: bool = False
    #: Fake times of remind_groupmsg_send calls.
    reminders: list[float] = field(default_factory=list)
    tasks: dict[str, MemberTask] = field(default_factory=dict)


class MessagesState:
    """The corp's mass messages and quota counters."""

    def __init__(self) -> None:
        """Create empty state with the documented defaults."""
        #: Mass messages by msgid, in creation (seq) order.
        self.messages: dict[str, GroupMessage] = {}
        #: Messages per recipient per month; None: the number of days in the month.
        self.quota_per_month: int | None = None
        self.dispatch_seconds: float = 0.0
        #: (recipient id, "YYYY-MM") -> mass messages received that month.
        self.received: dict[tuple[str, str], int] = {}

    def dispatching(self, message: GroupMessage, now: float) -> bool:
        """Whether the message is still being dispatched (41063)."""
        return now < message.create_time + self.dispatch_seconds

    def deliver(self, state: CorpState, delivery: Delivery, now: int) -> None:
        """Settle one recipient when its member sends: status 1, 2 or 3."""
        if delivery.external_userid is not None and (
            state.follow(delivery.external_userid, delivery.userid) is None
        ):
            delivery.status = SEND_NOT_FRIEND
            return
        moment = datetime.fromtimestamp(now, _CHINA)
        month = f"{moment.year:04d}-{moment.month:02d}"
        quota = self.quota_per_month or calendar.monthrange(moment.year, moment.month)[1]
        key = (delivery.recipient, month)
        if self.received.get(key, 0) >= quota:
            delivery.status = SEND_OVER_QUOTA
            return
        self.received[key] = self.received.get(key, 0) + 1
        delivery.status, delivery.send_time = SEND_SENT, now


def confirm(
    state: CorpState,
    msgid: str,
    userid: str,
    *,
    now: int,
    recipients: Sequence[str] | None = None,
) -> list[Delivery]:
    """Play member ``userid`` confirming mass message ``msgid`` in the client at ``now``.

    See ``FakeWeCom.confirm_groupmsg``.
    """
    messages = state.ext(MessagesState)
    message = messages.messages[msgid]
    task = message.tasks[userid]
    if message.cancelled:
        raise ValueError(f"mass message {msgid!r} was cancelled")
    if task.status != TASK_NOT_SENT:
        raise ValueError(f"{userid!r} already sent mass message {msgid!r}")
    if recipients is not None and not message.selectable:
        raise ValueError("this mass message does not let the member choose recipients")
    if message.chat_type == "group" and message.selectable:
        groups = state.ext(GroupChatState)
        owned = [g.chat_id for g in groups.ordered() if g.owner == userid]
        chosen = owned if recipients is None else [c for c in recipients if c in owned]
        task.deliveries = [Delivery(userid=userid, chat_id=c) for c in chosen]
    keep = None if recipients is None else set(recipients)
    for delivery in task.deliveries:
        if keep is None or delivery.recipient in keep:  # deselected ones stay unsent
            messages.deliver(state, delivery, now)
    task.status, task.send_time = TASK_SENT, now
    return list(task.deliveries)
