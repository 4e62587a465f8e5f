"""Helpers behind ``FakeWeCom.add_staff`` / ``add_customer`` / ``add_follow``.

They check what a real corp would never hold (a follower who is not a member, a WeCom
customer with a remark company, a tag that does not exist) and raise ValueError, so a
test setup mistake shows at once instead of as a puzzling answer later.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._json import JSON
from ._state import WECHAT_PREFIX, WECOM_PREFIX, CorpState, Customer, Follow, Staff

__all__ = ["Follower", "new_customer", "new_follow", "new_staff"]

#: add_way of a WeChat Channels (视频号) add, the only one with ``wechat_channels``.
ADD_WAY_CHANNELS = 10


@dataclass(frozen=True, kw_only=True)
class Follower:
    """How one member follows a customer, for ``add_customer(followers=[...])``.

    A plain userid string in ``followers`` means ``Follower(userid=...)`` with these
    defaults.  ``createtime`` defaults to the fake clock's now; ``oper_userid`` to the
    member; ``wechat_channels`` is ``(nickname, source)`` and requires ``add_way=10``.
    """

    userid: str
    remark: str = ""
    description: str = ""
    createtime: int | None = None
    tag_ids: Sequence[str] = ()
    personal_tags: Sequence[tuple[str, str]] = ()
    remark_corp_name: str | None = None
    remark_mobiles: Sequence[str] = ()
    add_way: int = 1
    wechat_channels: tuple[str, int] | None = None
    oper_userid: str | None = None
    state: str | None = None


def new_staff(
    state: CorpState,
    userid: str,
    *,
    name: str | None,
    department: Sequence[int],
    customer_contact: bool,
    licensed: bool,
    resigned: bool,
) -> Staff:
    """Create and register a member."""
    if not userid:
        raise ValueError("userid must not be empty")
    staff = Staff(
        userid=userid,
        name=name or userid,
        department=list(department),
        customer_contact=customer_contact,
        licensed=licensed,
        resigned=resigned,
    )
    return state.add_staff(staff)


def new_customer(
    state: CorpState,
    *,
    type: int = 1,
    external_userid: str | None = None,
    name: str | None = None,
    avatar: str | None = None,
    gender: int = 0,
    unionid: str | None = None,
    position: str | None = None,
    corp_name: str | None = None,
    corp_full_name: str | None = None,
    external_profile: Mapping[str, object] | None = None,
) -> Customer:
    """Create and register a customer with the fields its type really has."""
    if type not in (1, 2):
        raise ValueError("type must be 1 (WeChat user) or 2 (WeCom user)")
    if type == 1 and any(v is not None for v in (position, corp_name, corp_full_name)):
        raise ValueError("position, corp_name, corp_full_name are for WeCom (type 2) customers")
    if type == 1 and external_profile is not None:
        raise ValueError("external_profile is for WeCom (type 2) customers")
    if type == 2 and unionid is not None:
        raise ValueError("unionid is for WeChat (type 1) customers")
    prefix = WECHAT_PREFIX if type == 1 else WECOM_PREFIX
    external_userid = external_userid or state.new_id(prefix)
    customer = Customer(
        external_userid=external_userid,
        type=type,
        name=name or f"customer-{external_userid[-6:]}",
        avatar=avatar or f"http://wx.qlogo.cn/mmhead/{external_userid}/0",
        gender=gender,
        unionid=unionid,
        position=position,
        corp_name=corp_name if type == 1 else (corp_name or "示例科技"),
        corp_full_name=corp_full_name if type == 1 else (corp_full_name or "示例科技有限公司"),
        external_profile=copy.deepcopy(dict(external_profile)) if external_profile else None,
    )
    return state.add_customer(customer)


def new_follow(state: CorpState, customer: Customer, spec: Follower, *, now: int) -> Follow:
    """Create and attach the relation described by ``spec``."""
    if spec.remark_corp_name is not None and customer.type != 1:
        raise ValueError("remark_corp_name is only kept for WeChat (type 1) customers")
    if spec.wechat_channels is not None and spec.add_way != ADD_WAY_CHANNELS:
        raise ValueError("wechat_channels requires add_way=10")
    unknown = [t for t in spec.tag_ids if state.tags.lookup(t) is None]
    if unknown:
        raise ValueError(f"unknown tag ids {unknown}")
    channels: JSON | None = None
    if spec.wechat_channels is not None:
        channels = {"nickname": spec.wechat_channels[0], "source": spec.wechat_channels[1]}
    follow = Follow(
        seq=state.next_seq(),
        external_userid=customer.external_userid,
        userid=spec.userid,
        createtime=spec.createtime if spec.createtime is not None else now,
        remark=spec.remark,
        description=spec.description,
        tag_ids=list(spec.tag_ids),
        personal_tags=list(spec.personal_tags),
        remark_corp_name=spec.remark_corp_name,
        remark_mobiles=list(spec.remark_mobiles),
        add_way=spec.add_way,
        wechat_channels=channels,
        oper_userid=spec.oper_userid or spec.userid,
        state=spec.state,
    )
    return state.attach(follow)
