"""Typed models of the external-contact callback events (self-built app format).

:func:`wecom_async.callback.parse_event` turns decrypted XML into one of these frozen
classes; :func:`wecom_async.callback.event_to_xml` writes one back.  Each attribute
names its XML tag in the comment beside it (and in ``metadata["xml"]``).  Tags that a
class does not model are kept in ``extra``, so nothing WeCom sends is lost, and an
event or change type this release does not know becomes a :class:`GenericEvent`.

Times stay ``int`` Unix seconds, as everywhere in the SDK.  Event classes compare
and hash by value; the receiver uses that to drop repeated deliveries.

Docs: https://developer.work.weixin.qq.com/document/path/92130 (events) and
https://developer.work.weixin.qq.com/document/path/90930 (callback format).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Final

import attrs

from wecom_async.callback._xml import XmlValue

__all__ = [
    "EVENT_CLASSES",
    "INFO_CLASSES",
    "AddExternalContact",
    "AddHalfExternalContact",
    "CancelAuth",
    "ChangeAuth",
    "CreateAuth",
    "DelExternalContact",
    "DelFollowUser",
    "EditExternalContact",
    "Event",
    "ExternalChatCreate",
    "ExternalChatDismiss",
    "ExternalChatEvent",
    "ExternalChatUpdate",
    "ExternalContactEvent",
    "ExternalTagCreate",
    "ExternalTagDelete",
    "ExternalTagEvent",
    "ExternalTagShuffle",
    "ExternalTagUpdate",
    "GenericEvent",
    "InfoEvent",
    "ResetPermanentCode",
    "SuiteTicket",
    "TransferFail",
    "XmlValue",
]


def _tag(tag: str) -> dict[str, str]:
    return {"xml": tag}


_COMMON_TAGS: Final = frozenset(
    {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "ChangeType"}
)


@attrs.frozen(kw_only=True)
class Event:
    """Base of every callback event: the fields all pushes share.

    Not created directly: :func:`parse_event` returns a subclass.
    """

    to_user_name: str = attrs.field(metadata=_tag("ToUserName"))  # CorpID
    from_user_name: str = attrs.field(default="sys", metadata=_tag("FromUserName"))
    create_time: int = attrs.field(metadata=_tag("CreateTime"))  # Unix seconds
    msg_type: str = attrs.field(default="event", metadata=_tag("MsgType"))
    event: str = attrs.field(metadata=_tag("Event"))
    change_type: str = attrs.field(metadata=_tag("ChangeType"))
    #: Tags this class does not model, in document order (nested tags kept as mappings).
    extra: Mapping[str, XmlValue] = attrs.field(factory=dict, hash=False)


@attrs.frozen(kw_only=True)
class GenericEvent(Event):
    """Any push this release has no class for, with every tag kept.

    Build it from the mapping alone; the common attributes are read from it ("" or 0
    when a tag is absent) and ``extra`` holds every other tag.

    Args:
        fields: every tag of the push, ``tag -> text``, nested tags as mappings and a
            repeated tag as a list, in document order.
    """

    fields: Mapping[str, XmlValue] = attrs.field(eq=lambda fields: _frozen(fields))
    to_user_name: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "ToUserName"), takes_self=True)
    )
    from_user_name: str = attrs.field(
        init=False,
        default=attrs.Factory(lambda s: _text(s.fields, "FromUserName"), takes_self=True),
    )
    create_time: int = attrs.field(
        init=False, default=attrs.Factory(lambda s: _int(s.fields, "CreateTime"), takes_self=True)
    )
    msg_type: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "MsgType"), takes_self=True)
    )
    event: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "Event"), takes_self=True)
    )
    change_type: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "ChangeType"), takes_self=True)
    )
    extra: Mapping[str, XmlValue] = attrs.field(
        init=False,
        hash=False,
        default=attrs.Factory(
            lambda s: {k: v for k, v in s.fields.items() if k not in _COMMON_TAGS}, takes_self=True
        ),
    )


@attrs.frozen(kw_only=True)
class InfoEvent(GenericEvent):
    """A third-party app's instruction callback, named by ``InfoType`` instead of ``Event``.

    Third-party and 代开发 apps receive external-contact changes as
    ``<SuiteId/><AuthCorpId/><InfoType/><TimeStamp/><ChangeType/>...``; ``event`` holds the
    ``InfoType`` and ``create_time`` the ``TimeStamp``, so ``receiver.on("change_external_contact",
    "add_external_contact")`` routes both formats.  Every tag stays in ``fields``.

    Args:
        fields: every tag of the push (see :class:`GenericEvent`).

    Docs: https://developer.work.weixin.qq.com/document/path/92277.
    """

    info_type: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "InfoType"), takes_self=True)
    )
    suite_id: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "SuiteId"), takes_self=True)
    )
    auth_corp_id: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "AuthCorpId"), takes_self=True)
    )
    event: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "InfoType"), takes_self=True)
    )
    create_time: int = attrs.field(
        init=False, default=attrs.Factory(lambda s: _int(s.fields, "TimeStamp"), takes_self=True)
    )


# -- a service provider's instruction callbacks (指令回调) ---------------------------------


def _masked_repr(self: InfoEvent) -> str:
    # The ticket and the auth code are credentials: the repr names the push, never them.
    return (
        f"{type(self).__name__}(suite_id={self.suite_id!r}, auth_corp_id={self.auth_corp_id!r}, "
        f"create_time={self.create_time!r})"
    )


@attrs.frozen(kw_only=True, repr=False)
class SuiteTicket(InfoEvent):
    """WeCom's ``suite_ticket`` push (every ten minutes; a ticket is valid 30 minutes).

    ``suite_ticket`` is a credential: it is not in the repr.

    Docs: https://developer.work.weixin.qq.com/document/path/90628.
    """

    suite_ticket: str = attrs.field(
        init=False,
        default=attrs.Factory(lambda s: _text(s.fields, "SuiteTicket"), takes_self=True),
    )
    __repr__ = _masked_repr


@attrs.frozen(kw_only=True, repr=False)
class CreateAuth(InfoEvent):
    """A corp authorized (installed) the app (``create_auth``).

    ``auth_code`` (valid 10 minutes, single use) is exchanged for the permanent code with
    ``ProviderApp.authorize``; it is not in the repr.  ``state`` is the one given in the
    authorization link.

    Docs: https://developer.work.weixin.qq.com/document/path/90642.
    """

    auth_code: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "AuthCode"), takes_self=True)
    )
    state: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "State"), takes_self=True)
    )
    __repr__ = _masked_repr


@attrs.frozen(kw_only=True)
class ChangeAuth(InfoEvent):
    """A corp changed the app's authorization (visible range, permissions, disabled or
    re-enabled a 代开发 app) (``change_auth``): read it again with ``get_auth_info``.

    Docs: https://developer.work.weixin.qq.com/document/path/90642.
    """


@attrs.frozen(kw_only=True)
class CancelAuth(InfoEvent):
    """A corp cancelled its authorization (``cancel_auth``): its permanent code is void,
    and WeCom asks the provider to delete the corp's data.

    Docs: https://developer.work.weixin.qq.com/document/path/90642.
    """


@attrs.frozen(kw_only=True, repr=False)
class ResetPermanentCode(InfoEvent):
    """A 代开发 app's secret was reset in the provider console (``reset_permanent_code``):
    exchange ``auth_code`` for the new permanent code (``ProviderApp.authorize``).

    Docs: https://developer.work.weixin.qq.com/document/path/97175.
    """

    auth_code: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: _text(s.fields, "AuthCode"), takes_self=True)
    )
    __repr__ = _masked_repr


#: ``InfoType`` -> class, for the provider pushes this release models.
INFO_CLASSES: Final[dict[str, type[InfoEvent]]] = {
    "suite_ticket": SuiteTicket,
    "create_auth": CreateAuth,
    "change_auth": ChangeAuth,
    "cancel_auth": CancelAuth,
    "reset_permanent_code": ResetPermanentCode,
}


def _frozen(value: XmlValue | Mapping[str, XmlValue]) -> object:
    """A hashable copy of parsed XML values, so generic events compare and hash by value."""
    if isinstance(value, Mapping):
        return tuple((tag, _frozen(item)) for tag, item in value.items())
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def _text(fields: Mapping[str, XmlValue], tag: str) -> str:
    value = fields.get(tag, "")
    return value if isinstance(value, str) else ""


def _int(fields: Mapping[str, XmlValue], tag: str) -> int:
    value = _text(fields, tag).strip()
    return int(value) if value.isascii() and value.isdigit() else 0


# -- change_external_contact ------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ExternalContactEvent(Event):
    """Base of ``change_external_contact`` events: a member and one of their customers.

    ``userid`` and ``external_userid`` carry the API's names, so they pass straight to
    calls such as ``client.external_contact.get(event.external_userid)``.
    """

    event: str = attrs.field(default="change_external_contact", init=False, metadata=_tag("Event"))
    userid: str = attrs.field(metadata=_tag("UserID"))  # the member
    external_userid: str = attrs.field(metadata=_tag("ExternalUserID"))  # the customer

    @property
    def user_id(self) -> str:
        """Deprecated alias of :attr:`userid` (read-only)."""
        warnings.warn("use event.userid", DeprecationWarning, stacklevel=2)
        return self.userid

    @property
    def external_user_id(self) -> str:
        """Deprecated alias of :attr:`external_userid` (read-only)."""
        warnings.warn("use event.external_userid", DeprecationWarning, stacklevel=2)
        return self.external_userid


@attrs.frozen(kw_only=True)
class AddExternalContact(ExternalContactEvent):
    """A member added a customer (``add_external_contact``).

    ``welcome_code`` is present only when the app may send the welcome message
    (``client.messages.send_welcome_msg``, valid 20 s, single use).
    """

    change_type: str = attrs.field(
        default="add_external_contact", init=False, metadata=_tag("ChangeType")
    )
    state: str | None = attrs.field(default=None, metadata=_tag("State"))  # contact-way state
    welcome_code: str | None = attrs.field(default=None, metadata=_tag("WelcomeCode"))


@attrs.frozen(kw_only=True)
class AddHalfExternalContact(ExternalContactEvent):
    """A customer added a skip-verify member who has not confirmed yet
    (``add_half_external_contact``)."""

    change_type: str = attrs.field(
        default="add_half_external_contact", init=False, metadata=_tag("ChangeType")
    )
    state: str | None = attrs.field(default=None, metadata=_tag("State"))
    welcome_code: str | None = attrs.field(default=None, metadata=_tag("WelcomeCode"))


@attrs.frozen(kw_only=True)
class EditExternalContact(ExternalContactEvent):
    """A member edited a customer's remark, phone or tags (``edit_external_contact``)."""

    change_type: str = attrs.field(
        default="edit_external_contact", init=False, metadata=_tag("ChangeType")
    )


@attrs.frozen(kw_only=True)
class DelExternalContact(ExternalContactEvent):
    """A member deleted a customer (``del_external_contact``).

    ``source`` is ``DELETE_BY_TRANSFER`` when an on-job transfer removed the customer.
    """

    change_type: str = attrs.field(
        default="del_external_contact", init=False, metadata=_tag("ChangeType")
    )
    source: str | None = attrs.field(default=None, metadata=_tag("Source"))


@attrs.frozen(kw_only=True)
class DelFollowUser(ExternalContactEvent):
    """A customer deleted the member (``del_follow_user``)."""

    change_type: str = attrs.field(
        default="del_follow_user", init=False, metadata=_tag("ChangeType")
    )


@attrs.frozen(kw_only=True)
class TransferFail(ExternalContactEvent):
    """Taking over a customer failed (``transfer_fail``); ``userid`` is the takeover member.

    ``fail_reason`` is ``customer_refused`` or ``customer_limit_exceed``.
    """

    change_type: str = attrs.field(default="transfer_fail", init=False, metadata=_tag("ChangeType"))
    fail_reason: str | None = attrs.field(default=None, metadata=_tag("FailReason"))


# -- change_external_chat ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ExternalChatEvent(Event):
    """Base of ``change_external_chat`` events: one customer group."""

    event: str = attrs.field(default="change_external_chat", init=False, metadata=_tag("Event"))
    chat_id: str = attrs.field(metadata=_tag("ChatId"))


@attrs.frozen(kw_only=True)
class ExternalChatCreate(ExternalChatEvent):
    """A customer group was created (``create``)."""

    change_type: str = attrs.field(default="create", init=False, metadata=_tag("ChangeType"))


@attrs.frozen(kw_only=True)
class ExternalChatUpdate(ExternalChatEvent):
    """A customer group's name, members, owner or notice changed (``update``).

    The member fields are sent only for ``add_member`` / ``del_member``; compare
    ``last_mem_ver`` with the group's ``member_version`` to detect lost events.
    """

    change_type: str = attrs.field(default="update", init=False, metadata=_tag("ChangeType"))
    #: add_member, del_member, change_owner, change_name or change_notice
    update_detail: str | None = attrs.field(default=None, metadata=_tag("UpdateDetail"))
    #: 0 invited directly or by link, 3 scanned the group QR code
    join_scene: int | None = attrs.field(default=None, metadata=_tag("JoinScene"))
    #: 0 left, 1 removed by the owner or an admin
    quit_scene: int | None = attrs.field(default=None, metadata=_tag("QuitScene"))
    mem_change_cnt: int | None = attrs.field(default=None, metadata=_tag("MemChangeCnt"))
    #: member ids from <MemChangeList><Item>...</Item></MemChangeList>
    mem_change_list: tuple[str, ...] = attrs.field(default=(), metadata=_tag("MemChangeList"))
    last_mem_ver: str | None = attrs.field(default=None, metadata=_tag("LastMemVer"))
    cur_mem_ver: str | None = attrs.field(default=None, metadata=_tag("CurMemVer"))


@attrs.frozen(kw_only=True)
class ExternalChatDismiss(ExternalChatEvent):
    """The owner dismissed a customer group (``dismiss``)."""

    change_type: str = attrs.field(default="dismiss", init=False, metadata=_tag("ChangeType"))


# -- change_external_tag ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ExternalTagEvent(Event):
    """Base of ``change_external_tag`` events: one corp tag or tag group."""

    event: str = attrs.field(default="change_external_tag", init=False, metadata=_tag("Event"))
    id: str = attrs.field(metadata=_tag("Id"))  # tag id or tag group id
    tag_type: str | None = attrs.field(default=None, metadata=_tag("TagType"))  # tag, tag_group
    #: rule-group id for rule-group tags (sent only to the customer-contact app)
    strategy_id: int | None = attrs.field(default=None, metadata=_tag("StrategyId"))


@attrs.frozen(kw_only=True)
class ExternalTagCreate(ExternalTagEvent):
    """A tag or tag group was created (``create``)."""

    change_type: str = attrs.field(default="create", init=False, metadata=_tag("ChangeType"))


@attrs.frozen(kw_only=True)
class ExternalTagUpdate(ExternalTagEvent):
    """A tag or tag group was changed (``update``)."""

    change_type: str = attrs.field(default="update", init=False, metadata=_tag("ChangeType"))


@attrs.frozen(kw_only=True)
class ExternalTagDelete(ExternalTagEvent):
    """A tag or tag group was deleted (``delete``); a group's tags get no events of their own."""

    change_type: str = attrs.field(default="delete", init=False, metadata=_tag("ChangeType"))


@attrs.frozen(kw_only=True)
class ExternalTagShuffle(ExternalTagEvent):
    """An admin reordered tags (``shuffle``): re-read every ``order``.

    ``id`` is the group whose tags moved, ``""`` for all groups.
    """

    change_type: str = attrs.field(default="shuffle", init=False, metadata=_tag("ChangeType"))
    id: str = attrs.field(default="", metadata=_tag("Id"))


#: Every concrete event class, in the order of doc 92130.
EVENT_CLASSES: Final[tuple[type[Event], ...]] = (
    AddExternalContact,
    EditExternalContact,
    AddHalfExternalContact,
    DelExternalContact,
    DelFollowUser,
    TransferFail,
    ExternalChatCreate,
    ExternalChatUpdate,
    ExternalChatDismiss,
    ExternalTagCreate,
    ExternalTagUpdate,
    ExternalTagDelete,
    ExternalTagShuffle,
)
