"""A fake corp holding data of every time-ranged and event kind, and what it must export.

Built through the API and the fake's client actions, as a corp would get it: mass
messages created over two months (some confirmed by their members), corp moments
published by some executors, transfers started on the job and after a resignation, and
customers brought by acquisition links. :class:`World` keeps the ground truth: the ids
created, the pairs used, and the range that covers them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tests.export.helpers import read_lines
from wecom_async import WeComClient
from wecom_async.export import EngineOptions
from wecom_async.testing import FakeWeCom

DAY: Final = 86_400
FAST = EngineOptions(concurrency=4, checkpoint_interval=0)


@dataclass
class World:
    """What was created in the fake, and the range an export of it covers."""

    fake: FakeWeCom
    members: list[str]
    since: int
    until: int
    #: msgid -> chat_type of every mass message created.
    messages: dict[str, str] = field(default_factory=dict)
    #: moment_id of every corp moment created through add_moment_task.
    corp_moments: list[str] = field(default_factory=list)
    #: (handover, takeover) pairs of the transfers started.
    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: link_id -> external_userids the link brought.
    acquired: dict[str, list[str]] = field(default_factory=dict)

    def clock(self) -> Callable[[], float]:
        """The fake's clock, for the jobs' defaults."""
        return self.fake.clock.now


async def build_world(fake: FakeWeCom, client: WeComClient) -> World:
    """Seed ``fake`` and play two months of a corp's activity through ``client``."""
    fake.seed(staff=6, customers_per_staff=12, seed=3)
    members = sorted(await client.external_contact.get_follow_user_list())
    world = World(fake, members, since=int(fake.clock.now()) - 7 * DAY, until=0)
    await _messages(world, client)
    await _moments(world, client)
    await _transfers(world, client)
    await _acquisition(world, client)
    world.until = int(fake.clock.now())
    return world


async def _messages(world: World, client: WeComClient) -> None:
    """Six messages to customers, nine days apart (across several 30-day windows), and
    one to groups; every other one confirmed by its member."""
    fake = world.fake
    for n in range(6):
        sender = world.members[n % 3]
        body = {"chat_type": "single", "sender": sender, "text": {"content": f"新品 {n}"}}
        sent = await client.messages.add_msg_template(body)
        world.messages[sent.msgid] = "single"
        if n % 2 == 0:
            fake.confirm_groupmsg(sent.msgid, sender)
        fake.clock.advance(9 * DAY)
    group = await client.messages.add_msg_template(
        {"chat_type": "group", "sender": world.members[0], "text": {"content": "群发"}}
    )
    world.messages[group.msgid] = "group"
    fake.confirm_groupmsg(group.msgid, world.members[0])
    fake.clock.advance(3600)


async def _moments(world: World, client: WeComClient) -> None:
    """Two corp moments of two executors each; the first executor of each publishes."""
    for n in range(2):
        senders = world.members[2 * n : 2 * n + 2]
        jobid = await client.moments.add_moment_task(
            {
                "text": {"content": f"朋友圈 {n}"},
                "visible_range": {"sender_list": {"user_list": senders}},
            }
        )
        world.fake.clock.advance(10)
        result = await client.moments.get_moment_task_result(jobid)
        assert result.result is not None
        assert result.result.moment_id
        world.corp_moments.append(result.result.moment_id)
        world.fake.clock.advance(700)  # the first executor publishes after 600 s


async def _transfers(world: World, client: WeComClient) -> None:
    """An on-job transfer (members[3] -> [4]) and, after members[5] resigned, a resigned
    one (-> [4]) of part of their customers; the rest stays unassigned."""
    fake, (handover, takeover, leaver) = world.fake, world.members[3:6]
    await client.transfer.transfer_customer(handover, takeover, fake.customers_of(handover)[:3])
    fake.resign_member(leaver)
    fake.clock.advance(60)
    await client.transfer.resigned_transfer_customer(
        leaver, takeover, fake.customers_of(leaver)[:2]
    )
    world.pairs = [(handover, takeover), (leaver, takeover)]
    fake.clock.advance(60)


async def _acquisition(world: World, client: WeComClient) -> None:
    """The seeded link brings three customers; a new link brings none."""
    fake = world.fake
    fake.set_acquisition_quota(100)
    links = [link async for link in client.acquisition.list_link()]
    world.acquired = {link: [] for link in links}
    world.acquired[links[0]] = [fake.add_via_acquisition_link(links[0]) for _ in range(3)]
    created = await client.acquisition.create_link(
        {"link_name": "无人问津", "range": {"user_list": world.members[:1]}}
    )
    assert created.link_id
    world.acquired[created.link_id] = []


def records(path: Path) -> list[dict[str, object]]:
    """Every record of a JSON Lines export (each line whole)."""
    return [json.loads(line) for line in read_lines(path)]


def sorted_lines(path: Path) -> list[str]:
    """The output's lines, sorted: records of different units interleave."""
    return sorted(read_lines(path))


class CancelAfter:
    """A progress display that runs ``action`` once ``items`` records are written (an
    interruption at a known point)."""

    def __init__(self, items: int, action: Callable[[], None]) -> None:
        self.items, self.action, self.fired = items, action, False

    def start(self, *, title: str, unit_label: str, total: int, done: int, items: int) -> None:
        """Nothing to show."""

    def update(self, *, done: int, items: int, pages: int) -> None:
        """Fire once the records are written."""
        if not self.fired and items >= self.items:
            self.fired = True
            self.action()

    def close(self) -> None:
        """Nothing to close."""
