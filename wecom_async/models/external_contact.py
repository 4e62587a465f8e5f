"""Customers and the members who follow them (客户管理), endpoints.md §2.1-2.4 and §3.2.

Docs: https://developer.work.weixin.qq.com/document/path/92114 (get),
https://developer.work.weixin.qq.com/document/path/92994 (batch/get_by_user),
https://developer.work.weixin.qq.com/document/path/92115 (remark).
"""

from __future__ import annotations

import attrs

from .._exceptions import ValidationError
from .._validation import max_chars, non_empty
from ..pagination import FailInfo
from ._base import WireEnum, WireModel

__all__ = [
    "AddWay",
    "BatchGetByUserResponse",
    "ContactListItem",
    "ContactListResponse",
    "CustomerDetail",
    "CustomerType",
    "CustomerWithFollowInfo",
    "ExternalAttr",
    "ExternalAttrMiniprogram",
    "ExternalAttrText",
    "ExternalAttrType",
    "ExternalAttrWeb",
    "ExternalContact",
    "ExternalProfile",
    "FollowUser",
    "FollowUserListResponse",
    "FollowUserTag",
    "Gender",
    "GetCustomerResponse",
    "ListCustomersResponse",
    "RemarkRequest",
    "TagType",
    "WechatChannels",
]


class CustomerType(WireEnum):
    """``external_contact.type``: who the customer is."""

    WECHAT = 1
    WECOM = 2


class Gender(WireEnum):
    """``external_contact.gender`` (third-party and 代开发 apps always get UNKNOWN)."""

    UNKNOWN = 0
    MALE = 1
    FEMALE = 2


class AddWay(WireEnum):
    """``follow_user.add_way``: how member and customer became contacts (endpoints.md §2.4)."""

    UNKNOWN = 0
    QR_CODE = 1
    PHONE_SEARCH = 2
    BUSINESS_CARD = 3
    GROUP_CHAT = 4
    PHONE_ADDRESS_BOOK = 5
    WECHAT_CONTACT = 6
    THIRD_PARTY_AUTO_ADD = 8
    EMAIL_SEARCH = 9
    WECHAT_CHANNELS = 10
    SCHEDULE_PARTICIPANT = 11
    MEETING_PARTICIPANT = 12
    WECOM_OF_WECHAT_FRIEND = 13
    SMART_HARDWARE = 14
    ON_SITE_SERVICE = 15
    ACQUISITION_LINK = 16
    CUSTOM_DEVELOPMENT = 17
    DEMAND_REPLY = 18
    THIRD_PARTY_PRE_SALES = 21
    POSSIBLE_PARTNER = 22
    WECHAT_FRIEND_REQUEST = 24
    SHARED_BY_MEMBER = 201
    ASSIGNED_BY_ADMIN = 202


class ExternalAttrType(WireEnum):
    """``external_attr[].type``."""

    TEXT = 0
    WEB = 1
    MINIPROGRAM = 2


class TagType(WireEnum):
    """``follow_user.tags[].type``."""

    CORP = 1
    PERSONAL = 2
    STRATEGY = 3


@attrs.frozen(kw_only=True)
class ExternalAttrText(WireModel):
    """A text attribute value."""

    value: str | None = None


@attrs.frozen(kw_only=True)
class ExternalAttrWeb(WireModel):
    """A web-page attribute."""

    url: str | None = None
    title: str | None = None


@attrs.frozen(kw_only=True)
class ExternalAttrMiniprogram(WireModel):
    """A mini-program attribute."""

    appid: str | None = None
    pagepath: str | None = None
    title: str | None = None


@attrs.frozen(kw_only=True)
class ExternalAttr(WireModel):
    """One ``external_profile.external_attr[]`` item; the sub-object matches ``type``."""

    type: ExternalAttrType | int
    name: str | None = None
    text: ExternalAttrText | None = None
    web: ExternalAttrWeb | None = None
    miniprogram: ExternalAttrMiniprogram | None = None


@attrs.frozen(kw_only=True)
class WechatChannels(WireModel):
    """WeChat Channels (视频号) info: on a profile, or on a follow relation with add_way 10."""

    nickname: str | None = None
    status: int | None = None
    source: int | None = None


@attrs.frozen(kw_only=True)
class ExternalProfile(WireModel):
    """``external_contact.external_profile`` of a WeCom (type 2) customer."""

    external_attr: list[ExternalAttr] | None = None
    external_corp_name: str | None = None
    wechat_channels: WechatChannels | None = None


@attrs.frozen(kw_only=True)
class ExternalContact(WireModel):
    """A customer's basic info (endpoints.md §2.1).

    Fields that only WeCom (type 2) customers have (``position``, ``corp_name``,
    ``corp_full_name``, ``external_profile``) and ``unionid`` (WeChat customers of a corp
    bound to a WeChat developer account) are None when absent.
    """

    external_userid: str
    name: str | None = None
    avatar: str | None = None
    type: CustomerType | int | None = None
    gender: Gender | int | None = None
    unionid: str | None = None
    position: str | None = None
    corp_name: str | None = None
    corp_full_name: str | None = None
    external_profile: ExternalProfile | None = None


@attrs.frozen(kw_only=True)
class FollowUserTag(WireModel):
    """A tag a member put on a customer (``follow_user[].tags[]`` of ``get``)."""

    group_name: str | None = None
    tag_name: str | None = None
    type: TagType | int | None = None
    tag_id: str | None = None


@attrs.frozen(kw_only=True)
class FollowUser(WireModel):
    """A member following a customer (endpoints.md §2.3).

    ``get`` fills ``tags``; ``batch/get_by_user`` fills ``tag_id`` (corp and strategy tag
    ids only) instead. ``createtime`` is Unix seconds (no underscore on the wire).
    """

    userid: str
    remark: str | None = None
    description: str | None = None
    createtime: int | None = None
    tags: list[FollowUserTag] | None = None
    tag_id: list[str] | None = None
    remark_corp_name: str | None = None
    remark_mobiles: list[str] | None = None
    add_way: AddWay | int | None = None
    wechat_channels: WechatChannels | None = None
    oper_userid: str | None = None
    state: str | None = None


@attrs.frozen(kw_only=True)
class CustomerDetail(WireModel):
    """``externalcontact/get``: the customer and every follower, all pages merged."""

    external_contact: ExternalContact
    follow_user: list[FollowUser] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class CustomerWithFollowInfo(WireModel):
    """One ``batch/get_by_user`` item: a (customer, follower) pair."""

    external_contact: ExternalContact
    follow_info: FollowUser


@attrs.frozen(kw_only=True)
class ContactListItem(WireModel):
    """One ``contact_list`` item: a customer (``external_userid``) or a non-customer contact.

    ``tmp_openid`` is a temporary id valid for 4 hours and unique only within one traversal.
    """

    is_customer: bool | None = None
    tmp_openid: str | None = None
    external_userid: str | None = None
    name: str | None = None
    follow_userid: str | None = None
    chat_id: str | None = None
    chat_name: str | None = None
    add_time: int | None = None


def _check_remark_mobiles(_: object, __: object, value: list[str] | None) -> None:
    if value is None:
        return
    if any(not isinstance(m, str) for m in value):
        raise ValidationError("remark_mobiles must be a list of strings")
    if "" in value and value != [""]:
        raise ValidationError(
            'remark_mobiles: send [""] (one empty string) to clear all, not mixed with numbers'
        )


@attrs.frozen(kw_only=True)
class RemarkRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/remark`` (endpoints.md #6).

    At least one of remark, description, remark_company, remark_mobiles and
    remark_pic_mediaid must be given. ``remark_mobiles`` overwrites the old list;
    ``[""]`` clears it. ``remark_company`` only takes effect for WeChat customers.
    """

    userid: str = attrs.field(validator=non_empty)
    external_userid: str = attrs.field(validator=non_empty)
    remark: str | None = attrs.field(default=None, validator=max_chars(20))
    description: str | None = attrs.field(default=None, validator=max_chars(150))
    remark_company: str | None = attrs.field(default=None, validator=max_chars(20))
    remark_mobiles: list[str] | None = attrs.field(default=None, validator=_check_remark_mobiles)
    remark_pic_mediaid: str | None = None

    def __attrs_post_init__(self) -> None:
        if all(
            v is None
            for v in (
                self.remark,
                self.description,
                self.remark_company,
                self.remark_mobiles,
                self.remark_pic_mediaid,
            )
        ):
            raise ValidationError(
                "remark needs at least one of remark, description, remark_company, "
                "remark_mobiles, remark_pic_mediaid"
            )


@attrs.frozen(kw_only=True)
class FollowUserListResponse(WireModel):
    """Answer of ``get_follow_user_list``."""

    follow_user: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class ListCustomersResponse(WireModel):
    """Answer of ``externalcontact/list``."""

    external_userid: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class GetCustomerResponse(CustomerDetail):
    """One page of ``externalcontact/get`` (``next_cursor`` only past 500 followers)."""

    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class BatchGetByUserResponse(WireModel):
    """One page of ``batch/get_by_user``."""

    external_contact_list: list[CustomerWithFollowInfo] = attrs.field(factory=list)
    next_cursor: str | None = None
    fail_info: FailInfo | None = None


@attrs.frozen(kw_only=True)
class ContactListResponse(WireModel):
    """One page of ``contact_list``."""

    info_list: list[ContactListItem] = attrs.field(factory=list)
    next_cursor: str | None = None
