"""「联系我」 contact ways and 「加入群聊」 join ways, endpoints.md §3.6 (#35-#44).

Request models refuse locally what the docs document (nothing is sent): unknown ``type`` /
``scene`` codes, a single-member way without exactly one user, over 100 users, ``remark``
and ``state`` over 30 characters, a button ``style`` out of range, temp-session fields on a
way that is not a temp session, temp sessions with several members, validity periods over
14 days, and a conclusions image given as ``pic_url``. A field the docs call "only
effective" in another mode (``style`` outside scene 1, ``party`` outside type 2, the
temp-session fields outside temp mode) is refused too: WeCom would silently ignore it.

Docs: https://developer.work.weixin.qq.com/document/path/92228 (contact ways),
https://developer.work.weixin.qq.com/document/path/92229 (join ways).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from .._exceptions import ValidationError
from .._validation import check_ids, max_chars, non_empty
from ._base import WireEnum, WireModel
from .attachments import Conclusions, check_settable_conclusions

__all__ = [
    "AddContactWayRequest",
    "AddContactWayResult",
    "AddJoinWayRequest",
    "AddJoinWayResponse",
    "ContactWay",
    "ContactWayListItem",
    "ContactWayScene",
    "ContactWayType",
    "GetContactWayResponse",
    "GetJoinWayResponse",
    "JoinWay",
    "JoinWayScene",
    "ListContactWayResponse",
    "UpdateContactWayRequest",
    "UpdateJoinWayRequest",
]

#: At most this many members use one contact way (departments expanded; 41041).
MAX_USERS: Final = 100
#: ``remark`` and ``state`` of a contact way, ``state`` of a join way: characters.
MAX_REMARK_CHARS: Final = 30
MAX_STATE_CHARS: Final = 30
#: ``room_base_name`` of a join way: characters.
MAX_ROOM_BASE_NAME_CHARS: Final = 40
#: A join way references 1 to 5 customer groups (41091).
MAX_JOIN_WAY_CHATS: Final = 5
#: ``expires_in`` / ``chat_expires_in`` of a temp session: at most 14 days, in seconds.
MAX_TEMP_SECONDS: Final = 14 * 86400
#: Button styles of scene 1 (mini-program) per type: single 1-3, multiple 1-2.
STYLES: Final[dict[int, range]] = {1: range(1, 4), 2: range(1, 3)}
MAX_STYLE: Final = max(r.stop for r in STYLES.values()) - 1


class ContactWayType(WireEnum):
    """``type`` of a contact way: who answers it."""

    SINGLE = 1
    MULTIPLE = 2


class ContactWayScene(WireEnum):
    """``scene`` of a contact way: where the customer meets it."""

    MINIPROGRAM = 1
    QR_CODE = 2


class JoinWayScene(WireEnum):
    """``scene`` of a join way: a mini-program plugin or a QR code."""

    MINIPROGRAM = 1
    QR_CODE = 2


#: An attrs validator of any field type (the field's own annotation says what it holds).
Check = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _code(enum_cls: type[WireEnum]) -> Check:
    """Validator: the value is one of ``enum_cls``'s codes (requests refuse unknown ones)."""
    allowed = sorted(int(member) for member in enum_cls)

    def validate(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise ValidationError(f"{attribute.name} must be one of {allowed}, got {value!r}")

    return validate


def _int_in(low: int, high: int | None = None) -> Check:
    """Validator: the value (if given) is an int (not a bool), ``low <= value <= high``."""

    def validate(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            bound = f"[{low}, {high}]" if high is not None else f">= {low}"
            raise ValidationError(f"{attribute.name} must be an integer {bound}, got {value!r}")

    return validate


def _userids(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        check_ids(value, attribute.name, max_count=MAX_USERS, min_count=0)


def _party(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list | tuple) or any(
        isinstance(p, bool) or not isinstance(p, int) or p <= 0 for p in value
    ):
        raise ValidationError(f"{attribute.name} must be a list of department ids (positive ints)")


def _chat_ids(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_ids(value, attribute.name, max_count=MAX_JOIN_WAY_CHATS)


def _settable_conclusions(_: object, __: object, value: Conclusions | None) -> None:
    if value is not None:
        check_settable_conclusions(value)
    image = value.image if value is not None else None
    if image is not None and (image.pic_url is not None or not image.media_id):
        raise ValidationError(
            "conclusions.image takes only a media_id when setting it "
            "(WeCom returns pic_url when reading it back)"
        )


@attrs.frozen(kw_only=True)
class _ContactWayFields(WireModel):
    """Fields shared by adding and updating a contact way."""

    remark: str | None = attrs.field(default=None, validator=max_chars(MAX_REMARK_CHARS))
    skip_verify: bool | None = None
    style: int | None = attrs.field(default=None, validator=_int_in(1, MAX_STYLE))
    state: str | None = attrs.field(default=None, validator=max_chars(MAX_STATE_CHARS))
    user: list[str] | None = attrs.field(default=None, validator=_userids)
    party: list[int] | None = attrs.field(default=None, validator=_party)
    expires_in: int | None = attrs.field(default=None, validator=_int_in(1, MAX_TEMP_SECONDS))
    chat_expires_in: int | None = attrs.field(default=None, validator=_int_in(1, MAX_TEMP_SECONDS))
    unionid: str | None = None
    mark_source: bool | None = None
    conclusions: Conclusions | None = attrs.field(default=None, validator=_settable_conclusions)

    def _temp_fields(self) -> list[str]:
        names = ("expires_in", "chat_expires_in", "unionid", "conclusions")
        return [name for name in names if getattr(self, name) is not None]


@attrs.frozen(kw_only=True)
class AddContactWayRequest(_ContactWayFields):
    """Body of ``POST /cgi-bin/externalcontact/add_contact_way`` (endpoints.md #35).

    ``type`` 1 (single) needs exactly one ``user``; type 2 takes ``user`` and/or ``party``,
    at most 100 members in all (departments expanded, checked by WeCom: 41041). ``style``
    is the mini-program button style (scene 1 only): 1-3 for type 1, 1-2 for type 2.
    ``is_temp=True`` (temp session, medical corps only) is single-member only; only then
    may ``expires_in`` (QR validity, default 7 days), ``chat_expires_in`` (session after
    adding, default 24 h), both at most 14 days, ``unionid`` and ``conclusions`` be set.
    """

    type: ContactWayType | int = attrs.field(validator=_code(ContactWayType))
    scene: ContactWayScene | int = attrs.field(validator=_code(ContactWayScene))
    is_temp: bool | None = None
    is_exclusive: bool | None = None

    def __attrs_post_init__(self) -> None:
        if self.type == ContactWayType.SINGLE:
            if self.user is None or len(self.user) != 1:
                raise ValidationError("a type 1 (single) contact way needs exactly one user")
            if self.party is not None:
                raise ValidationError("party is only used by type 2 (multiple) contact ways")
        if self.style is not None:
            if self.scene != ContactWayScene.MINIPROGRAM:
                raise ValidationError("style is only used by scene 1 (mini-program button)")
            allowed = STYLES[int(self.type)]
            if self.style not in allowed:
                raise ValidationError(
                    f"style of a type {int(self.type)} button must be in "
                    f"[{allowed.start}, {allowed.stop - 1}], got {self.style}"
                )
        if self.is_temp:
            if self.type != ContactWayType.SINGLE:
                raise ValidationError("a temp-session (is_temp) contact way must be type 1")
        elif self._temp_fields():
            raise ValidationError(f"{', '.join(self._temp_fields())} need is_temp=True")


@attrs.frozen(kw_only=True)
class UpdateContactWayRequest(_ContactWayFields):
    """Body of ``POST /cgi-bin/externalcontact/update_contact_way`` (endpoints.md #38).

    Only the fields given change; ``remark``, ``user`` and ``party`` overwrite the old
    values. ``style`` only affects scene 1 ways, ``party`` only type 2 ways, and the
    temp-session fields only temp ways (WeCom knows the way's mode, the SDK does not).
    An expired temp-session way can no longer be edited, and a temp way keeps one member.
    """

    config_id: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class _JoinWayFields(WireModel):
    """Fields shared by adding and updating a join way."""

    scene: JoinWayScene | int = attrs.field(validator=_code(JoinWayScene))
    chat_id_list: list[str] = attrs.field(validator=_chat_ids)
    #: WeCom truncates a remark over 30 characters (it is not refused).
    remark: str | None = None
    auto_create_room: int | None = attrs.field(default=None, validator=_int_in(0, 1))
    room_base_name: str | None = attrs.field(
        default=None, validator=max_chars(MAX_ROOM_BASE_NAME_CHARS)
    )
    room_base_id: int | None = attrs.field(default=None, validator=_int_in(0))
    state: str | None = attrs.field(default=None, validator=max_chars(MAX_STATE_CHARS))
    mark_source: bool | None = None


@attrs.frozen(kw_only=True)
class AddJoinWayRequest(_JoinWayFields):
    """Body of ``POST /cgi-bin/externalcontact/groupchat/add_join_way`` (endpoints.md #41).

    ``chat_id_list`` holds 1 to 5 customer group ids. ``auto_create_room`` 1 (WeCom's
    default) creates a new group named ``room_base_name`` (at most 40 characters) plus a
    number counting from ``room_base_id`` when the groups are full. ``remark`` over 30
    characters is truncated by WeCom; ``state`` is at most 30 characters.
    """


@attrs.frozen(kw_only=True)
class UpdateJoinWayRequest(_JoinWayFields):
    """Body of ``POST /cgi-bin/externalcontact/groupchat/update_join_way`` (endpoints.md #43).

    A full overwrite: ``scene`` and ``chat_id_list`` are required, and every optional
    field left out is reset to WeCom's default, not kept.
    """

    config_id: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class AddContactWayResult(WireModel):
    """Answer of ``add_contact_way``: the new config id and, for scene 2, the QR code URL.

    Store ``config_id``: WeCom's admin console does not list ways created through the API,
    so a lost id means the way can no longer be edited or deleted.
    """

    config_id: str
    qr_code: str | None = None


@attrs.frozen(kw_only=True)
class ContactWay(WireModel):
    """A contact way as ``get_contact_way`` returns it.

    ``style`` comes only for scene 1, ``qr_code`` only for scene 2; the temp-session
    fields only for temp ways. A conclusions image comes back as ``pic_url``.
    """

    config_id: str
    type: ContactWayType | int | None = None
    scene: ContactWayScene | int | None = None
    style: int | None = None
    remark: str | None = None
    skip_verify: bool | None = None
    state: str | None = None
    qr_code: str | None = None
    user: list[str] | None = None
    party: list[int] | None = None
    is_temp: bool | None = None
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str | None = None
    is_exclusive: bool | None = None
    mark_source: bool | None = None
    conclusions: Conclusions | None = None


@attrs.frozen(kw_only=True)
class GetContactWayResponse(WireModel):
    """Answer of ``get_contact_way``."""

    contact_way: ContactWay


@attrs.frozen(kw_only=True)
class ContactWayListItem(WireModel):
    """One ``list_contact_way`` item."""

    config_id: str


@attrs.frozen(kw_only=True)
class ListContactWayResponse(WireModel):
    """One page of ``list_contact_way`` (``next_cursor`` empty on the last page)."""

    contact_way: list[ContactWayListItem] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class JoinWay(WireModel):
    """A join way as ``groupchat/get_join_way`` returns it.

    ``qr_code`` is the QR code URL (scene 2) or the plugin URL (scene 1).
    """

    config_id: str
    scene: JoinWayScene | int | None = None
    remark: str | None = None
    auto_create_room: int | None = None
    room_base_name: str | None = None
    room_base_id: int | None = None
    chat_id_list: list[str] | None = None
    qr_code: str | None = None
    state: str | None = None
    mark_source: bool | None = None


@attrs.frozen(kw_only=True)
class AddJoinWayResponse(WireModel):
    """Answer of ``groupchat/add_join_way``."""

    config_id: str


@attrs.frozen(kw_only=True)
class GetJoinWayResponse(WireModel):
    """Answer of ``groupchat/get_join_way``."""

    join_way: JoinWay
