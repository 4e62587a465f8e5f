"""Customer acquisition links (获客助手), endpoints.md §3.11 (#78-#86).

A link is a URL that opens a chat with one of its members; a customer who adds the member
through it spends one unit of the corp's purchased quota. Append ``customer_channel=VALUE``
to the link's URL (see :func:`acquisition_channel_url` and
:meth:`AcquisitionLink.url_with_channel`) to tell channels apart: WeCom keeps the value
(at most 64 bytes) as the ``state`` of the new follow relation
(:attr:`wecom_async.models.external_contact.FollowUser.state`), of the
:class:`AcquisitionCustomer` record and of :class:`AcquisitionChatDetail`.

Request models refuse locally what the docs document (nothing is sent): an empty or over
30-character ``link_name``, a ``range`` with neither members nor departments, over 500
``user_list`` ids, a ``priority_type`` other than 1 or 2, ``priority_type`` 2 without
members, and over 1,000 ``priority_userid_list`` ids. How many people the departments
cover (at most 500 with ``user_list``) is WeCom's to check.

Docs: https://developer.work.weixin.qq.com/document/path/97297 (links),
https://developer.work.weixin.qq.com/document/path/97298 (customers),
https://developer.work.weixin.qq.com/document/path/97375 (quota and statistics),
https://developer.work.weixin.qq.com/document/path/100130 (chat info).
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from .._exceptions import ValidationError
from .._validation import check_ids, non_empty
from ._base import WireEnum, WireModel

__all__ = [
    "MAX_CHANNEL_BYTES",
    "AcquisitionChatDetail",
    "AcquisitionChatInfo",
    "AcquisitionChatStatus",
    "AcquisitionCustomer",
    "AcquisitionLink",
    "AcquisitionLinkDetail",
    "AcquisitionPriorityOption",
    "AcquisitionPriorityType",
    "AcquisitionQuota",
    "AcquisitionQuotaItem",
    "AcquisitionRange",
    "AcquisitionStatistic",
    "CreateAcquisitionLinkRequest",
    "CreateAcquisitionLinkResponse",
    "ListAcquisitionCustomersResponse",
    "ListAcquisitionLinksResponse",
    "UpdateAcquisitionLinkRequest",
    "acquisition_channel_url",
]

#: ``link_name``: characters.
MAX_LINK_NAME_CHARS: Final = 30
#: ``range.user_list``: ids (departments too may cover at most 500 people in all).
MAX_RANGE_USERS: Final = 500
#: ``priority_option.priority_userid_list``: ids.
MAX_PRIORITY_USERS: Final = 1000
#: ``customer_channel`` appended to a link URL: UTF-8 bytes (WeCom truncates longer ones).
MAX_CHANNEL_BYTES: Final = 64
#: The query parameter that tags a link URL with a channel.
CHANNEL_PARAM: Final = "customer_channel"


class AcquisitionPriorityType(WireEnum):
    """``priority_option.priority_type``: who gets a customer who already knows a member."""

    #: Prefer a member anywhere in the corp who is already the customer's contact.
    WHOLE_CORP = 1
    #: Prefer such a member among ``priority_userid_list``.
    LISTED_MEMBERS = 2


class AcquisitionChatStatus(WireEnum):
    """``customer_list[].chat_status``: whether the customer has sent a message."""

    NOT_MESSAGED = 0
    MESSAGED = 1
    UNKNOWN = 2


def acquisition_channel_url(url: str, channel: str) -> str:
    """Return ``url`` tagged with ``customer_channel=channel`` (URL-encoded).

    A customer who adds a member through the tagged URL gets ``channel`` as the ``state``
    of the follow relation (``externalcontact/get``'s ``follow_user[].state``), of the
    acquisition customer record and of the chat info. An existing ``customer_channel`` of
    ``url`` is replaced; other query parameters and the fragment are kept. For the WeChat
    scheme WeCom suggests, percent-encode the whole result:
    ``"weixin://biz/ww/profile/" + urllib.parse.quote(tagged, safe="")``.

    Args:
        url: the link's ``url`` as WeCom returned it.
        channel: the channel value, 1 to 64 bytes in UTF-8 (WeCom would silently truncate
            a longer one, so it is refused here).

    Returns:
        The tagged URL.

    Raises:
        ValidationError: ``url`` or ``channel`` is empty, or ``channel`` is over 64 bytes.

    Docs: https://developer.work.weixin.qq.com/document/path/97298
    """
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("url must be a non-empty string")
    if not isinstance(channel, str) or not channel:
        raise ValidationError(f"{CHANNEL_PARAM} must be a non-empty string")
    size = len(channel.encode("utf-8"))
    if size > MAX_CHANNEL_BYTES:
        raise ValidationError(
            f"{CHANNEL_PARAM} is {size} bytes long; WeCom keeps at most {MAX_CHANNEL_BYTES}"
        )
    parts = urlsplit(url)
    kept = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in kept if k != CHANNEL_PARAM] + [(CHANNEL_PARAM, channel)]
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- shapes shared by requests and answers -----------------------------------------------


@attrs.frozen(kw_only=True)
class AcquisitionRange(WireModel):
    """``range``: the members (``user_list``) and departments who serve a link."""

    user_list: list[str] | None = None
    department_list: list[int] | None = None


@attrs.frozen(kw_only=True)
class AcquisitionPriorityOption(WireModel):
    """``priority_option``: route a customer to a member who is already their contact.

    Only some business categories may set it (else 41200); ``priority_userid_list`` is
    used, and required, with ``priority_type`` 2.
    """

    priority_type: AcquisitionPriorityType | int | None = None
    priority_userid_list: list[str] | None = None


def _check_range(_: object, __: object, value: Any) -> None:
    if not isinstance(value, AcquisitionRange):
        return
    users, departments = value.user_list or [], value.department_list or []
    if not users and not departments:
        raise ValidationError("range needs a user_list or a department_list (both are empty)")
    check_ids(users, "range.user_list", max_count=MAX_RANGE_USERS, min_count=0)
    if any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in departments):
        raise ValidationError("range.department_list must hold department ids (positive ints)")


def _check_priority(_: object, __: object, value: Any) -> None:
    if not isinstance(value, AcquisitionPriorityOption):
        return
    kind = value.priority_type
    if kind is not None and (isinstance(kind, bool) or kind not in (1, 2)):
        raise ValidationError(f"priority_option.priority_type must be 1 or 2, got {kind!r}")
    users = value.priority_userid_list
    if kind == AcquisitionPriorityType.LISTED_MEMBERS and not users:
        raise ValidationError("priority_type 2 needs a priority_userid_list")
    if users is not None:
        name = "priority_option.priority_userid_list"
        check_ids(users, name, max_count=MAX_PRIORITY_USERS, min_count=0)


def _link_name(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validator: ``link_name`` (if given) is 1 to 30 characters, not only blanks."""
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{attribute.name} must be a non-empty string")
    if len(value) > MAX_LINK_NAME_CHARS:
        raise ValidationError(
            f"{attribute.name} is {len(value)} characters long; "
            f"WeCom allows at most {MAX_LINK_NAME_CHARS}"
        )


# -- requests -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CreateAcquisitionLinkRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/customer_acquisition/create_link`` (#80).

    ``link_name`` is 1 to 30 characters. ``range`` is required and not empty: up to 500
    ``user_list`` ids plus departments, at most 500 people covered in all (WeCom checks
    the departments). ``skip_verify`` (WeCom's default True) lets customers add a member
    without the member's confirmation; ``mark_source`` (default True) only matters for
    营销获客 apps.
    """

    link_name: str = attrs.field(validator=_link_name)
    range: AcquisitionRange = attrs.field(validator=_check_range)
    skip_verify: bool | None = None
    priority_option: AcquisitionPriorityOption | None = attrs.field(
        default=None, validator=_check_priority
    )
    mark_source: bool | None = None


@attrs.frozen(kw_only=True)
class UpdateAcquisitionLinkRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/customer_acquisition/update_link`` (#81).

    Only the fields given change; ``range`` and ``priority_option`` overwrite the old
    values whole. An empty ``range`` is refused as on creation (the docs state the rule
    there; an overwrite to nobody would leave the link without members).
    """

    link_id: str = attrs.field(validator=non_empty)
    link_name: str | None = attrs.field(default=None, validator=_link_name)
    range: AcquisitionRange | None = attrs.field(default=None, validator=_check_range)
    skip_verify: bool | None = None
    priority_option: AcquisitionPriorityOption | None = attrs.field(
        default=None, validator=_check_priority
    )
    mark_source: bool | None = None


# -- answers ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AcquisitionLink(WireModel):
    """``link``: an acquisition link.

    ``create_link`` returns ``link_id``, ``link_name``, ``url`` and ``create_time``;
    ``get`` returns every field but ``link_id`` (the id asked for).
    """

    link_id: str | None = None
    link_name: str | None = None
    url: str | None = None
    create_time: int | None = None
    skip_verify: bool | None = None
    mark_source: bool | None = None

    def url_with_channel(self, channel: str) -> str:
        """Return this link's URL tagged with ``customer_channel=channel``.

        See :func:`acquisition_channel_url`.

        Raises:
            ValidationError: the link has no ``url``, ``channel`` is empty or over 64 bytes.
        """
        if not self.url:
            raise ValidationError("this link has no url")
        return acquisition_channel_url(self.url, channel)


@attrs.frozen(kw_only=True)
class AcquisitionLinkDetail(WireModel):
    """Answer of ``customer_acquisition/get``: the link, its members and routing option."""

    link: AcquisitionLink
    range: AcquisitionRange | None = None
    priority_option: AcquisitionPriorityOption | None = None


@attrs.frozen(kw_only=True)
class CreateAcquisitionLinkResponse(WireModel):
    """Answer of ``customer_acquisition/create_link``."""

    link: AcquisitionLink


@attrs.frozen(kw_only=True)
class ListAcquisitionLinksResponse(WireModel):
    """One page of ``customer_acquisition/list_link`` (``next_cursor`` empty at the end)."""

    link_id_list: list[str] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class AcquisitionCustomer(WireModel):
    """One customer added through a link, with the member who added them.

    ``state`` is the link URL's ``customer_channel``, if it had one.
    """

    external_userid: str
    userid: str
    chat_status: AcquisitionChatStatus | int | None = None
    state: str | None = None


@attrs.frozen(kw_only=True)
class ListAcquisitionCustomersResponse(WireModel):
    """One page of ``customer_acquisition/customer`` (``next_cursor`` empty at the end)."""

    customer_list: list[AcquisitionCustomer] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class AcquisitionQuotaItem(WireModel):
    """``quota_list[]``: quota that expires on a day.

    ``expire_date`` is 00:00 of the expiry day; the quota really expires during that day,
    at the time of day it was bought.
    """

    expire_date: int
    balance: int


@attrs.frozen(kw_only=True)
class AcquisitionQuota(WireModel):
    """Answer of ``customer_acquisition_quota``: quota used so far, left, and expiring."""

    #: Customers added through links so far (cumulative use).
    total: int | None = None
    #: Quota left.
    balance: int | None = None
    quota_list: list[AcquisitionQuotaItem] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class AcquisitionStatistic(WireModel):
    """Answer of ``customer_acquisition/statistic`` over whole days."""

    #: Customers who opened the link.
    click_link_customer_cnt: int | None = None
    #: Customers added through it.
    new_customer_cnt: int | None = None


@attrs.frozen(kw_only=True)
class AcquisitionChatDetail(WireModel):
    """``chat_info``: how often the member heard from the customer, and where they came from."""

    recv_msg_cnt: int | None = None
    link_id: str | None = None
    state: str | None = None


@attrs.frozen(kw_only=True)
class AcquisitionChatInfo(WireModel):
    """Answer of ``customer_acquisition/get_chat_info`` for a callback's ChatKey."""

    userid: str | None = None
    external_userid: str | None = None
    chat_info: AcquisitionChatDetail | None = None


_BASE: Final = "externalcontact/customer_acquisition"
