"""``FakeWeCom``'s methods that play what happens outside the API, group by group.

A member confirming a mass message in the client, a customer adding a member and getting
a welcome code, a member resigning, a customer refusing a transfer, a customer group
forming, someone opening an acquisition link: none of these has an endpoint, so a test
plays them through these methods.  Each takes the fake's lock and its clock's now and
calls a plain function of the group's records (``routes/_<group>_state.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from .._validation import check_seconds, check_whole
from ._clock import FakeClock
from ._state import CorpState, Follow, Staff
from .routes import _acquisition_state as acquisition
from .routes import _contact_way_state as contact_way
from .routes import _group_chat_state as group_chat
from .routes import _messages_state as messages
from .routes import _transfer_state as transfer
from .routes import _welcome_state as welcome
from .routes._group_chat_state import GroupChat, GroupMember
from .routes._messages_state import Delivery, GroupMessage
from .routes._welcome_state import WelcomeMessage

__all__ = ["ClientActions"]


class ClientActions:
    """The part of :class:`~wecom_async.testing.FakeWeCom` that plays the world outside
    the API; every method is thread-safe."""

    lock: AbstractContextManager[object]
    state: CorpState
    clock: FakeClock

    def _now(self) -> int:
        return int(self.clock.now())

    # -- mass messages and welcome messages -----------------------------------------------

    def confirm_groupmsg(
        self, msgid: str, userid: str, *, recipients: Sequence[str] | None = None
    ) -> list[Delivery]:
        """Play member ``userid`` confirming mass message ``msgid`` in the client.

        The member's task becomes sent (status 2) and each of their recipients gets status
        1 (sent), 2 (no longer a customer of the member) or 3 (the recipient's monthly quota
        is used up).  ``recipients`` chooses a subset of external_userids when the message
        has ``allow_select``, or the customer groups (chat_ids the member owns) of a group
        message created without ``chat_id_list`` (default: all the member's groups).

        Returns:
            The member's deliveries after sending.

        Raises:
            KeyError: unknown msgid or no task for the member.
            ValueError: the message was cancelled, was already sent by the member, or
                ``recipients`` is given where the member may not choose.
        """
        with self.lock:
            return messages.confirm(
                self.state, msgid, userid, now=self._now(), recipients=recipients
            )

    def groupmsg(self, msgid: str) -> GroupMessage:
        """Return the record of mass message ``msgid`` (KeyError when unknown)."""
        with self.lock:
            return self.state.ext(messages.MessagesState).messages[msgid]

    def set_groupmsg_quota(self, per_month: int | None) -> None:
        """Set the mass messages one recipient may receive per calendar month (China
        time); None, the default, is the number of days in that month."""
        if per_month is not None:
            check_whole(per_month, "per_month")
        with self.lock:
            self.state.ext(messages.MessagesState).quota_per_month = per_month

    def set_groupmsg_dispatch_delay(self, seconds: float) -> None:
        """Answer 41063 "still dispatching" on the task and result reads of a mass message
        for this many seconds after its creation (0, the default: off)."""
        check_seconds(seconds, "seconds", zero=True)
        with self.lock:
            self.state.ext(messages.MessagesState).dispatch_seconds = seconds

    def issue_welcome_code(self, userid: str, external_userid: str) -> str:
        """Return a fresh welcome code for a (member, customer) pair, as an event carries it.

        The code is valid for 20 seconds of the fake clock and usable once; the ids are
        recorded with the welcome message sent with it (they are not checked against the
        corp, so a callback test needs no seeded data).
        """
        with self.lock:
            return welcome.issue_code(self.state, userid, external_userid, now=self.clock.now())

    def welcome_messages(self) -> list[WelcomeMessage]:
        """Return every welcome message the fake accepted, oldest first."""
        with self.lock:
            return list(self.state.ext(welcome.WelcomeState).welcome_messages)

    # -- customers joining: contact ways, groups, acquisition links ------------------------

    def add_via_contact_way(
        self, config_id: str, external_userid: str, *, userid: str | None = None
    ) -> Follow:
        """Play a customer adding a member through a contact way and return the relation.

        The customer (already in the fake) follows ``userid`` (default: the way's first
        user) with ``add_way`` 1 and the way's ``state``.  Through a temp-session way this
        starts a temp session lasting ``chat_expires_in`` and uses up the QR code.

        Raises:
            ValueError: an unknown or expired way, an unknown customer, or a member not
                on the way.
        """
        with self.lock:
            return contact_way.add_via_way(
                self.state, config_id, external_userid, now=self._now(), userid=userid
            )

    def add_group_chat(
        self,
        owner: str,
        *,
        members: Sequence[str | GroupMember] = (),
        name: str | None = None,
        chat_id: str | None = None,
        notice: str = "",
        admins: Sequence[str] = (),
        create_time: int | None = None,
        status: int = group_chat.STATUS_NORMAL,
        customer_group: bool = True,
        opengid: str | None = None,
    ) -> GroupChat:
        """Add a group owned by the member ``owner`` and return it.

        ``members`` are userids of members (type 1) or external_userids of customers
        (type 2), or ready :class:`GroupMember` records; the owner is always a member.
        ``create_time`` defaults to now on the fake clock.

        Raises:
            ValueError: unknown ids, or an owner who is not a member of the corp.
        """
        with self.lock:
            return group_chat.new_group_chat(
                self.state,
                owner,
                now=self._now(),
                members=members,
                name=name,
                chat_id=chat_id,
                notice=notice,
                admins=admins,
                create_time=create_time,
                status=status,
                customer_group=customer_group,
                opengid=opengid,
            )

    def set_acquisition_quota(self, balance: int, *, expire_date: int | None = None) -> None:
        """Replace the corp's acquisition quota with ``balance`` units.

        ``expire_date`` (Unix seconds, floored to its day in China time) defaults to a
        year after the fake clock's now.  The cumulative ``total`` is kept.
        """
        with self.lock:
            acquisition.set_quota(self.state, balance, now=self._now(), expire_date=expire_date)

    def click_acquisition_link(self, link_id: str) -> None:
        """Play someone opening a link without adding anyone (counted in the statistics).

        Raises:
            ValueError: an unknown or deleted link.
        """
        with self.lock:
            acquisition.click(self.state, link_id, now=self._now())

    def add_via_acquisition_link(self, link_id: str, *, channel: str | None = None) -> str:
        """Play a new WeChat customer opening a link and adding one of its members.

        The customer is created and followed by the next member of the link in turn
        (``user_list`` first, then its departments' members) with ``add_way`` 16,
        ``oper_userid`` the customer, and ``state`` = ``channel`` (the URL's
        ``customer_channel``, truncated to 64 bytes as WeCom does).  The click and the
        customer are recorded for ``statistic`` and ``customer`` (``chat_status`` 0), and
        one unit of quota is spent.  Returns the new external_userid.

        Raises:
            ValueError: an unknown or deleted link, a link without active members, or no
                quota left (the click is still recorded: the customer opened the link).
        """
        with self.lock:
            return acquisition.add_via_link(self.state, link_id, now=self._now(), channel=channel)

    def issue_acquisition_chat_key(
        self, link_id: str, external_userid: str, *, recv_msg_cnt: int = 2
    ) -> str:
        """Play a customer added through a link sending its member repeated messages.

        Marks the customer's ``chat_status`` 1 (messaged) and returns the ChatKey the
        callback would carry: ``get_chat_info`` answers it for 30 minutes of fake time.

        Raises:
            ValueError: the customer did not come through this link.
        """
        with self.lock:
            return acquisition.issue_chat_key(
                self.state, link_id, external_userid, now=self._now(), recv_msg_cnt=recv_msg_cnt
            )

    # -- members leaving: transfers ---------------------------------------------------------

    def resign_member(self, userid: str, *, at: int | None = None) -> Staff:
        """Mark a member resigned at ``at`` (default: now on the fake clock) and return it;
        their customers and groups then await reassignment."""
        with self.lock:
            return transfer.resign(self.state, userid, at=self._now() if at is None else at)

    def set_transfer_outcome(self, external_userid: str, status: int) -> None:
        """Make the next transfer of a customer end as 3 (customer refused) or 4 (takeover
        member at the customer limit) when it is due, instead of 1 (done)."""
        with self.lock:
            transfer.set_outcome(self.state, external_userid, status)
