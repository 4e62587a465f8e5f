"""Welcome messages and group welcome templates (endpoints.md #67-#71, shapes §2.6 and §2.8).

Also home of the content checks shared with mass messages (``models/messages.py``): the
documented limits of ``text``, ``attachments[]`` and the top-level content objects, applied
to request models before anything is sent.

Docs: https://developer.work.weixin.qq.com/document/path/92137 (send_welcome_msg),
https://developer.work.weixin.qq.com/document/path/92366 (group_welcome_template/*).
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import Final

import attrs

from .._exceptions import ValidationError
from .._validation import non_empty
from ._base import WireModel
from .attachments import (
    Attachment,
    File,
    FileAttachment,
    Image,
    ImageAttachment,
    Link,
    LinkAttachment,
    Miniprogram,
    MiniprogramAttachment,
    Text,
    UnknownAttachment,
    Video,
    VideoAttachment,
    WelcomeContent,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_TEMPLATE_TEXT_BYTES",
    "MAX_TEXT_BYTES",
    "NICKNAME_PLACEHOLDER",
    "AddGroupWelcomeTemplateRequest",
    "AddGroupWelcomeTemplateResponse",
    "EditGroupWelcomeTemplateRequest",
    "GroupWelcomeTemplate",
    "SendWelcomeMsgRequest",
    "check_count",
    "check_message_content",
]

#: At most this many ``attachments[]`` per message (41064 from WeCom).
MAX_ATTACHMENTS: Final = 9
#: ``text.content`` of a mass or welcome message, in UTF-8 bytes.
MAX_TEXT_BYTES: Final = 4000
#: ``text.content`` of a group welcome template, in UTF-8 bytes.
MAX_TEMPLATE_TEXT_BYTES: Final = 3000
#: Replaced by each new member's nickname in a group welcome template (case-sensitive).
NICKNAME_PLACEHOLDER: Final = "%NICKNAME%"


_KNOWN_ATTACHMENTS: Final = (
    ImageAttachment,
    LinkAttachment,
    MiniprogramAttachment,
    VideoAttachment,
    FileAttachment,
)


def _check_text(text: Text | None, where: str, limit: int) -> bool:
    """Check the byte limit of ``text.content``; return whether the text has content."""
    if text is None or not text.content:
        return False
    size = len(text.content.encode("utf-8"))
    if size > limit:
        raise ValidationError(f"{where}text.content is {size} bytes; WeCom allows at most {limit}")
    return True


def _missing(obj: object, *names: str) -> list[str]:
    return [name for name in names if not getattr(obj, name)]


def _check_objects(
    where: str,
    *,
    image: Image | None = None,
    link: Link | None = None,
    miniprogram: Miniprogram | None = None,
    video: Video | None = None,
    file: File | None = None,
) -> None:
    """Refuse a content object that lacks a field the docs mark required (endpoints.md §2.6)."""
    if image is not None and not (image.media_id or image.pic_url):
        raise ValidationError(f"{where}image needs media_id or pic_url")
    required: list[tuple[str, object, tuple[str, ...]]] = [
        ("link", link, ("title", "url")),
        ("miniprogram", miniprogram, ("title", "pic_media_id", "appid", "page")),
        ("video", video, ("media_id",)),
        ("file", file, ("media_id",)),
    ]
    for name, obj, fields in required:
        missing = _missing(obj, *fields) if obj is not None else []
        if missing:
            raise ValidationError(f"{where}{name} needs {', '.join(missing)}")


def _check_attachments(attachments: Sequence[Attachment]) -> None:
    for index, item in enumerate(attachments):
        where = f"attachments[{index}]."
        if isinstance(item, UnknownAttachment) or not isinstance(item, _KNOWN_ATTACHMENTS):
            raise ValidationError(
                f"{where}msgtype {item.msgtype!r} is not one of image, link, miniprogram, "
                "video, file (WeCom answers 41065)"
            )
        _check_objects(
            where,
            image=getattr(item, "image", None),
            link=getattr(item, "link", None),
            miniprogram=getattr(item, "miniprogram", None),
            video=getattr(item, "video", None),
            file=getattr(item, "file", None),
        )


def check_count(name: str, items: Sized | None, limit: int) -> None:
    """Refuse a list (if given) of more than ``limit`` items.

    Raises:
        ValidationError: ``items`` is longer than ``limit``.
    """
    if items is not None and len(items) > limit:
        raise ValidationError(f"{name} has {len(items)} items; WeCom allows at most {limit}")


def check_message_content(
    *,
    text: Text | None,
    attachments: Sequence[Attachment] | None,
    image: Image | None,
    link: Link | None,
    miniprogram: Miniprogram | None,
) -> None:
    """Check the content of a mass or welcome message, current or legacy shape.

    Current shape: ``text`` and/or ``attachments[]`` (at most 9, each with the object its
    msgtype names). Legacy shape: ``text`` and/or top-level ``image`` / ``link`` /
    ``miniprogram``. The two are not mixed; text and the rest are not all empty; text is at
    most 4000 bytes.

    Raises:
        ValidationError: a rule above is broken.
    """
    check_count("attachments", attachments, MAX_ATTACHMENTS)
    has_text = _check_text(text, "", MAX_TEXT_BYTES)
    given = (("image", image), ("link", link), ("miniprogram", miniprogram))
    legacy = [name for name, obj in given if obj is not None]
    if attachments and legacy:
        raise ValidationError(
            f"use either attachments (the current shape) or the legacy top-level "
            f"{'/'.join(legacy)}, not both"
        )
    if not has_text and not attachments and not legacy:
        raise ValidationError("text and attachments must not both be empty")
    _check_attachments(attachments or ())
    _check_objects("", image=image, link=link, miniprogram=miniprogram)


@attrs.frozen(kw_only=True)
class SendWelcomeMsgRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/send_welcome_msg`` (endpoints.md #67).

    ``attachments[]`` is the current shape (image, link, miniprogram, video, file; at most
    9). The older top-level ``image`` / ``link`` / ``miniprogram`` objects that some SDKs
    still send are accepted too and sent exactly as given (never converted); whether WeCom
    still honours them is unverified, so prefer ``attachments``. Text (at most 4000 bytes)
    and the rest must not both be empty.

    Attributes:
        welcome_code: the ``WelcomeCode`` of the add_external_contact event; valid 20
            seconds and usable once.
    """

    welcome_code: str = attrs.field(validator=non_empty)
    text: Text | None = None
    attachments: list[Attachment] | None = None
    image: Image | None = None
    link: Link | None = None
    miniprogram: Miniprogram | None = None

    def __attrs_post_init__(self) -> None:
        check_message_content(
            text=self.text,
            attachments=self.attachments,
            image=self.image,
            link=self.link,
            miniprogram=self.miniprogram,
        )


def _check_template(content: WelcomeContent, *, require_content: bool) -> None:
    has_text = _check_text(content.text, "", MAX_TEMPLATE_TEXT_BYTES)
    others = (content.image, content.link, content.miniprogram, content.file, content.video)
    if require_content and not has_text and all(obj is None for obj in others):
        raise ValidationError(
            "a group welcome template needs text or one of image, link, miniprogram, file, video"
        )
    _check_objects(
        "",
        image=content.image,
        link=content.link,
        miniprogram=content.miniprogram,
        video=content.video,
        file=content.file,
    )


@attrs.frozen(kw_only=True)
class GroupWelcomeTemplate(WelcomeContent):
    """A group welcome template as ``group_welcome_template/get`` returns it.

    The image comes back as ``image.pic_url`` only, even when it was set by media_id.
    """


@attrs.frozen(kw_only=True)
class AddGroupWelcomeTemplateRequest(WelcomeContent):
    """Body of ``POST /cgi-bin/externalcontact/group_welcome_template/add`` (endpoints.md #68).

    Text is at most 3000 bytes and may contain ``%NICKNAME%`` (case-sensitive) one or
    more times; text and the other objects are not all empty. Of image, link,
    miniprogram, file and video only one is used (priority in that order).

    Attributes:
        agentid: the app id, only for legacy multi-app suites.
        notify: 1 (WeCom's default) notifies members to apply the template to their
            groups, 0 does not.
    """

    agentid: int | None = None
    notify: int | None = attrs.field(default=None)

    @notify.validator
    def _check_notify(self, _: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and value not in (0, 1):
            raise ValidationError(f"notify must be 0 or 1, got {value!r}")

    def __attrs_post_init__(self) -> None:
        _check_template(self, require_content=True)


@attrs.frozen(kw_only=True)
class EditGroupWelcomeTemplateRequest(WelcomeContent):
    """Body of ``POST /cgi-bin/externalcontact/group_welcome_template/edit`` (endpoints.md #69).

    Same content rules as :class:`AddGroupWelcomeTemplateRequest` (text at most 3000
    bytes per the current doc; an older comment says 4000, the SDK keeps the stricter).
    Only templates created by the calling app may be edited (41058).
    """

    template_id: str = attrs.field(validator=non_empty)
    agentid: int | None = None

    def __attrs_post_init__(self) -> None:
        _check_template(self, require_content=False)


@attrs.frozen(kw_only=True)
class AddGroupWelcomeTemplateResponse(WireModel):
    """Answer of ``group_welcome_template/add``."""

    template_id: str
