"""The content checks shared by mass messages and welcome messages (and templates).

A shared module of ``models/``: ``messages.py`` and ``welcome.py`` both apply these
documented limits of ``text``, ``attachments[]`` and the top-level content objects to
their request models before anything is sent (endpoints.md §2.6 and §2.8).
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import Final

from .._exceptions import ValidationError
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
)

__all__ = ["MAX_ATTACHMENTS", "MAX_TEXT_BYTES", "check_count", "check_message_content"]

#: At most this many ``attachments[]`` per message (41064 from WeCom).
MAX_ATTACHMENTS: Final = 9
#: ``text.content`` of a mass or welcome message, in UTF-8 bytes.
MAX_TEXT_BYTES: Final = 4000


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
