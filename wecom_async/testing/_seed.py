"""A deterministic demo corp: staff, customers of both types, relations, tags, contacts.

Everything comes from one ``random.Random(seed)`` and the fake clock, so the same seed on
a fresh fake gives the same corp, ids included.  The work per customer is a few random
draws and two slots objects, so 100,000 customers take about a second.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from ._json import JSON
from ._route import SeedContext, Seeder
from ._state import WECHAT_PREFIX, WECOM_PREFIX, CorpState, Customer, Follow, NonCustomer, Staff

__all__ = ["SeedReport", "seed_corp"]

_T = TypeVar("_T")

_SURNAMES: Final = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"),
]  # fmt: skip
_GIVEN: Final = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("磊", "lei"), ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("杰", "jie"),
]  # fmt: skip
_NICKNAMES: Final = [
    "小鱼",
    "Sunny",
    "阿杰",
    "momo",
    "晴天",
    "Leo",
    "大橙子",
    "Echo",
    "一一",
    "Kiki",
]
_CORPS: Final = [
    ("腾讯", "腾讯科技(深圳)有限公司"),
    ("示例科技", "示例科技有限公司"),
    ("远航物流", "远航物流股份有限公司"),
    ("青禾食品", "青禾食品有限公司"),
]
_POSITIONS: Final = ["经理", "采购", "工程师", "总监", "销售", None]
#: add_way values (endpoints.md §2.4), each repeated by its weight: one uniform draw picks one.
_ADD_WAYS: Final = [1] * 6 + [2] * 2 + [3] * 3 + [4] * 2 + [5, 6, 6, 10, 16, 201, 202]
#: add_ways where the customer started the add, so oper_userid is the customer.
_CUSTOMER_INITIATED: Final = frozenset({1, 3, 10, 16})
_CORP_TAG_GROUPS: Final = [
    ("客户等级", ["重要", "普通", "一般"]),
    ("来源", ["线上", "线下", "转介绍"]),
]
_STRATEGY_TAG_GROUPS: Final = [("华东区规则组标签", ["华东重点", "华东普通"])]
_PERSONAL_TAGS: Final = [("", "老客户"), ("", "待回访"), ("", "价格敏感")]
_THREE_YEARS: Final = 3 * 365 * 86400
_PROFILE: Final[JSON] = {
    "external_attr": [
        {"type": 0, "name": "文本名称", "text": {"value": "文本"}},
        {"type": 1, "name": "官网", "web": {"url": "https://example.com", "title": "官网"}},
        {
            "type": 2,
            "name": "小程序",
            "miniprogram": {"appid": "wx8bd80126147df384", "pagepath": "/index", "title": "商城"},
        },
    ]
}


@dataclass(frozen=True)
class SeedReport:
    """What :meth:`FakeWeCom.seed` created, for tests to pick ids from."""

    #: Userids of the staff, in creation order (unlicensed ones included).
    staff: list[str]
    #: Number of customers created.
    customers: int
    #: Number of follow relations created.
    relations: int
    #: The external_userid followed by ``big_customer_followers`` members, if asked for.
    big_customer: str | None = None
    #: Ids of the corp and strategy tags created.
    tag_ids: list[str] = field(default_factory=list)


def seed_corp(
    state: CorpState,
    *,
    now: float,
    staff: int,
    customers_per_staff: int,
    seed: int,
    shared_ratio: float,
    wecom_ratio: float,
    big_customer_followers: int,
    non_customers_per_staff: int,
    unlicensed_staff: int,
    seeders: Sequence[tuple[str, Seeder]],
) -> SeedReport:
    """Fill an empty ``state``; see ``FakeWeCom.seed`` for the parameters."""
    if state.staff or state.customers:
        raise ValueError("seed() builds a whole corp: call it on a fresh FakeWeCom")
    rng = random.Random(seed)
    today = int(now)
    tag_ids = _seed_tags(state, today)
    members = _seed_staff(state, rng, max(staff, big_customer_followers), unlicensed_staff)
    builder = _Builder(state, rng, today, tag_ids)
    for index, owner in enumerate(members[:staff]):
        for _ in range(customers_per_staff):
            customer = builder.customer(rng.random() < wecom_ratio)
            builder.follow(customer, owner)
            if len(members) > 1 and rng.random() < shared_ratio:
                for extra in rng.sample(range(len(members)), k=min(3, len(members))):
                    if extra != index and rng.random() < 0.6:
                        builder.follow(customer, members[extra])
        for n in range(non_customers_per_staff):
            builder.non_customer(owner, n)
    big = None
    if big_customer_followers:
        customer = builder.customer(False)
        for member in members[:big_customer_followers]:
            builder.follow(customer, member)
        big = customer.external_userid
    active = [m for m in members if not state.staff[m].resigned]
    for name, seeder in seeders:
        seeder(SeedContext(state, random.Random(f"{seed}:{name}"), now, active))
    return SeedReport(members, len(state.customers), state.relation_count(), big, tag_ids)


def _seed_tags(state: CorpState, today: int) -> list[str]:
    ids: list[str] = []
    for order, (name, tags) in enumerate(_CORP_TAG_GROUPS):
        ids += state.tags.add_group(name, tags, create_time=today, order=order).tag_ids
    for name, tags in _STRATEGY_TAG_GROUPS:
        ids += state.tags.add_group(name, tags, create_time=today, strategy_id=1).tag_ids
    return ids


def _seed_staff(state: CorpState, rng: random.Random, count: int, unlicensed: int) -> list[str]:
    userids: list[str] = []
    for i in range(count):
        surname, surname_py = _pick(rng, _SURNAMES)
        given, given_py = _pick(rng, _GIVEN)
        userid = f"{surname_py}{given_py}{i + 1:04d}"
        state.add_staff(
            Staff(
                userid=userid,
                name=surname + given,
                department=[1 + i % 5],
                licensed=i < count - unlicensed,  # the last ``unlicensed`` members lack one
            )
        )
        userids.append(userid)
    return userids


def _pick(rng: random.Random, items: Sequence[_T]) -> _T:
    """``rng.choice`` without its per-call overhead (seeding calls it a million times)."""
    return items[int(rng.random() * len(items))]


class _Builder:
    """Creates seeded records; one instance per seed() call."""

    def __init__(self, state: CorpState, rng: random.Random, today: int, tags: list[str]) -> None:
        self.state, self.rng, self.today = state, rng, today
        #: Every set of 0 to 3 tags, so that one draw picks a relation's tags.
        self.tag_sets = [c for k in range(4) for c in itertools.combinations(tags, k)]

    def customer(self, wecom: bool) -> Customer:
        rng = self.rng
        ext = self.state.new_id(WECOM_PREFIX if wecom else WECHAT_PREFIX, rng)
        avatar = f"http://wx.qlogo.cn/mmhead/{rng.getrandbits(128):032x}/0"
        if not wecom:
            name = _pick(rng, _NICKNAMES) if rng.random() < 0.5 else self._real_name()
            unionid = "o" + self.state.new_id("", rng)[:27] if rng.random() < 0.6 else None
            record = Customer(ext, 1, name, avatar, int(rng.random() * 3), unionid=unionid)
        else:
            corp, full = _pick(rng, _CORPS)
            record = Customer(
                ext, 2, self._real_name(), avatar, int(rng.random() * 3),
                position=_pick(rng, _POSITIONS), corp_name=corp, corp_full_name=full,
                external_profile=_PROFILE if rng.random() < 0.3 else None,
            )  # fmt: skip
        return self.state.add_customer(record)

    def follow(self, customer: Customer, userid: str) -> None:
        rng = self.rng
        add_way = _ADD_WAYS[int(rng.random() * len(_ADD_WAYS))]
        roll = rng.random()
        follow = Follow(
            seq=self.state.next_seq(),
            external_userid=customer.external_userid,
            userid=userid,
            createtime=self.today - int(rng.random() * _THREE_YEARS),
            remark=f"{customer.name}-{userid[-4:]}" if roll < 0.4 else "",
            description="对接采购事务" if roll < 0.2 else "",
            tag_ids=list(_pick(rng, self.tag_sets)),
            add_way=add_way,
            oper_userid=customer.external_userid if add_way in _CUSTOMER_INITIATED else userid,
        )
        if roll < 0.1:
            follow.personal_tags = [_pick(rng, _PERSONAL_TAGS)]
        if roll < 0.2:
            follow.remark_mobiles = [f"138{rng.randrange(10**8):08d}"]
        if customer.type == 1 and roll < 0.1:
            follow.remark_corp_name = _pick(rng, _CORPS)[0]
        if add_way == 10:
            follow.wechat_channels = {
                "nickname": _pick(rng, _NICKNAMES),
                "source": rng.randrange(4),
            }
        if rng.random() < 0.15:
            follow.state = f"channel_{rng.randrange(1, 9)}"
        self.state.attach(follow)

    def non_customer(self, owner: str, n: int) -> None:
        rng = self.rng
        surname = _pick(rng, _SURNAMES)[0]
        contact = NonCustomer(
            seq=self.state.next_seq(),
            name=f"{surname}*",
            follow_userid=owner,
            add_time=self.today - rng.randrange(_THREE_YEARS),
        )
        if n % 2:
            contact.chat_id = self.state.new_id("wr", rng)
        else:
            contact.chat_name = f"产品交流群{rng.randrange(1, 100)}"
        self.state.add_non_customer(contact)

    def _real_name(self) -> str:
        return _pick(self.rng, _SURNAMES)[0] + _pick(self.rng, _GIVEN)[0]
