"""Customer transfers of the fake corp (在职继承 / 离职继承): records, the 24-hour takeover,
resigned members and their resignation times.

A transfer that starts waits until ``takeover_time`` (start + 24 h on the fake clock).
:meth:`TransferState.settle` completes every due transfer: by default the takeover member
gets the customer (the handover member's relation is detached, a relation with
``add_way`` 202 "assigned" is attached) and the status becomes 1; an outcome set with
``FakeWeCom.set_transfer_outcome`` makes it 3 (customer refused) or 4 (takeover member at the
customer limit) instead, leaving the relation where it was.  The transfer routes settle
before answering; move the clock with ``fake.clock.advance(24 * 3600)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from .._state import CorpState, Follow, Staff

__all__ = [
    "ONJOB",
    "RESIGNED",
    "STATUS_DONE",
    "STATUS_LIMIT",
    "STATUS_REFUSED",
    "STATUS_WAITING",
    "TAKEOVER_DELAY",
    "Transfer",
    "TransferState",
    "resign",
    "set_outcome",
]

ONJOB: Final = "onjob"
RESIGNED: Final = "resigned"
STATUS_DONE: Final = 1
STATUS_WAITING: Final = 2
STATUS_REFUSED: Final = 3
STATUS_LIMIT: Final = 4
#: The takeover happens this long after a transfer starts (endpoints.md §3.4).
TAKEOVER_DELAY: Final = 24 * 3600
#: On-job transfers: each customer at most twice within 90 natural days (40128).
ONJOB_WINDOW: Final = 90 * 86400
ONJOB_MAX_IN_WINDOW: Final = 2
#: add_way of the relation a takeover creates ("assigned by admin/owner", endpoints.md §2.4).
ADD_WAY_ASSIGNED: Final = 202


@dataclass(slots=True, eq=False)
class Transfer:
    """One customer hand-over, on-job or resigned."""

    seq: int
    kind: str
    handover_userid: str
    takeover_userid: str
    external_userid: str
    started: int
    takeover_time: int
    status: int = STATUS_WAITING
    #: What the transfer ends as when due: 1 done, 3 refused, 4 customer limit.
    outcome: int = STATUS_DONE


@dataclass(eq=False)
class TransferState:
    """Every transfer of one corp in seq order, plus resignation times."""

    transfers: list[Transfer] = field(default_factory=list)
    #: userid -> resignation time (Unix seconds) of resigned members.
    dimission: dict[str, int] = field(default_factory=dict)
    #: external_userid -> outcome of the next transfer of that customer (3 or 4).
    outcomes: dict[str, int] = field(default_factory=dict)
    #: Records per page of transfer_result / resigned/transfer_result (WeCom: 1000).
    result_page_size: int = 1000

    def start(
        self, state: CorpState, kind: str, handover: str, takeover: str, ext: str, now: int
    ) -> Transfer:
        """Record a transfer that starts now and completes after 24 hours."""
        transfer = Transfer(
            seq=state.next_seq(),
            kind=kind,
            handover_userid=handover,
            takeover_userid=takeover,
            external_userid=ext,
            started=now,
            takeover_time=now + TAKEOVER_DELAY,
            outcome=self.outcomes.pop(ext, STATUS_DONE),
        )
        self.transfers.append(transfer)
        return transfer

    def waiting(self, external_userid: str) -> Transfer | None:
        """Return the customer's transfer still waiting for its takeover, if any."""
        for transfer in reversed(self.transfers):
            if transfer.external_userid == external_userid and transfer.status == STATUS_WAITING:
                return transfer
        return None

    def recent_onjob(self, external_userid: str, now: int) -> int:
        """How many on-job transfers of the customer started in the last 90 days."""
        return sum(
            1
            for t in self.transfers
            if t.kind == ONJOB
            and t.external_userid == external_userid
            and now - t.started < ONJOB_WINDOW
        )

    def latest_between(self, kind: str, handover: str, takeover: str) -> list[Transfer]:
        """The latest transfer per customer between two members, in seq order."""
        latest: dict[str, Transfer] = {}
        for t in self.transfers:
            if t.kind == kind and t.handover_userid == handover and t.takeover_userid == takeover:
                latest[t.external_userid] = t
        return sorted(latest.values(), key=lambda t: t.seq)

    def dimission_time(self, userid: str, now: int) -> int:
        """A resigned member's resignation time (first seen now, if never recorded)."""
        return self.dimission.setdefault(userid, now)

    def settle(self, state: CorpState, now: int) -> None:
        """Complete every waiting transfer whose takeover time has come."""
        for transfer in self.transfers:
            if transfer.status == STATUS_WAITING and transfer.takeover_time <= now:
                _complete(state, transfer)


def _complete(state: CorpState, transfer: Transfer) -> None:
    if transfer.outcome != STATUS_DONE:
        transfer.status = transfer.outcome
        if transfer.outcome == STATUS_REFUSED:
            transfer.takeover_time = 0  # as in the official example of a refused transfer
        return
    ext = transfer.external_userid
    if state.follow(ext, transfer.handover_userid) is not None:
        state.detach(ext, transfer.handover_userid)
    if state.follow(ext, transfer.takeover_userid) is None:
        state.attach(
            Follow(
                seq=state.next_seq(),
                external_userid=ext,
                userid=transfer.takeover_userid,
                createtime=transfer.takeover_time,
                add_way=ADD_WAY_ASSIGNED,
                oper_userid=transfer.handover_userid,
            )
        )
    transfer.status = STATUS_DONE


def resign(state: CorpState, userid: str, *, at: int) -> Staff:
    """Mark a member resigned at ``at``; their customers await reassignment."""
    staff = state.staff[userid]
    staff.resigned = True
    state.ext(TransferState).dimission[userid] = at
    return staff


def set_outcome(state: CorpState, external_userid: str, status: int) -> None:
    """Make the next transfer of a customer end as 3 (refused) or 4 (limit) when due."""
    if status not in (STATUS_REFUSED, STATUS_LIMIT):
        raise ValueError("the outcome of a failed takeover is 3 (refused) or 4 (limit)")
    state.ext(TransferState).outcomes[external_userid] = status
