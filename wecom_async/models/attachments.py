"""Message content shapes shared by messages, welcome messages, moments and contact ways.

Defined once here (endpoints.md §2.6-2.8):

* the content objects ``text``, ``image``, ``link``, ``miniprogram``, ``video``, ``file``;
* the ``attachments[]`` union tagged by ``msgtype`` (an unknown msgtype is kept as
  :class:`UnknownAttachment`, not rejected);
* :class:`Conclusions` (contact-way temp sessions) and :class:`WelcomeContent` (group welcome
  templates, and the legacy top-level message shape).

Docs: https://developer.work.weixin.qq.com/document/path/92135
"""

from __future__ import annotations

from typing import ClassVar, TypeAlias

import attrs

from .._exceptions import ValidationError
from .._validation import max_bytes
from ._base import WireModel

__all__ = [
    "Attachment",
    "Conclusions",
    "File",
    "FileAttachment",
    "Image",
    "ImageAttachment",
    "Link",
    "LinkAttachment",
    "Miniprogram",
    "MiniprogramAttachment",
    "TaggedModel",
    "Text",
    "UnknownAttachment",
    "Video",
    "VideoAttachment",
    "WelcomeContent",
    "check_settable_conclusions",
]


@attrs.frozen(kw_only=True)
class Text(WireModel):
    """``text``: the message text (each caller checks its own byte limit)."""

    content: str | None = None


@attrs.frozen(kw_only=True)
class Image(WireModel):
    """``image``: a temporary ``media_id`` or a permanent ``pic_url`` (media_id wins if both)."""

    media_id: str | None = None
    pic_url: str | None = None


@attrs.frozen(kw_only=True)
class Link(WireModel):
    """``link``: a web page; moments use ``media_id`` as the cover instead of ``picurl``."""

    title: str | None = attrs.field(default=None, validator=max_bytes(128))
    url: str | None = attrs.field(default=None, validator=max_bytes(2048))
    picurl: str | None = attrs.field(default=None, validator=max_bytes(2048))
    desc: str | None = attrs.field(default=None, validator=max_bytes(512))
    media_id: str | None = None


@attrs.frozen(kw_only=True)
class Miniprogram(WireModel):
    """``miniprogram``: a mini-program card linked to the corp."""

    title: str | None = attrs.field(default=None, validator=max_bytes(64))
    pic_media_id: str | None = None
    appid: str | None = None
    page: str | None = None


@attrs.frozen(kw_only=True)
class Video(WireModel):
    """``video``: a video from ``media/upload`` (moments also report ``thumb_media_id``)."""

    media_id: str | None = None
    thumb_media_id: str | None = None


@attrs.frozen(kw_only=True)
class File(WireModel):
    """``file``: a file from ``media/upload``."""

    media_id: str | None = None


@attrs.frozen(kw_only=True)
class TaggedModel(WireModel):
    """Base of a union member chosen by a tag field; ``TAG`` None marks the fallback member."""

    TAG_FIELD: ClassVar[str] = "msgtype"
    TAG: ClassVar[str | None] = None


@attrs.frozen(kw_only=True)
class ImageAttachment(TaggedModel):
    """``{"msgtype": "image", "image": {...}}``; the image needs media_id or pic_url."""

    TAG: ClassVar[str | None] = "image"
    msgtype: str = "image"
    image: Image

    def __attrs_post_init__(self) -> None:
        if not (self.image.media_id or self.image.pic_url):
            raise ValidationError("an image attachment needs image.media_id or image.pic_url")


@attrs.frozen(kw_only=True)
class LinkAttachment(TaggedModel):
    """``{"msgtype": "link", "link": {...}}``; title and url are required."""

    TAG: ClassVar[str | None] = "link"
    msgtype: str = "link"
    link: Link


@attrs.frozen(kw_only=True)
class MiniprogramAttachment(TaggedModel):
    """``{"msgtype": "miniprogram", "miniprogram": {...}}``."""

    TAG: ClassVar[str | None] = "miniprogram"
    msgtype: str = "miniprogram"
    miniprogram: Miniprogram


@attrs.frozen(kw_only=True)
class VideoAttachment(TaggedModel):
    """``{"msgtype": "video", "video": {"media_id": ...}}``."""

    TAG: ClassVar[str | None] = "video"
    msgtype: str = "video"
    video: Video


@attrs.frozen(kw_only=True)
class FileAttachment(TaggedModel):
    """``{"msgtype": "file", "file": {"media_id": ...}}``."""

    TAG: ClassVar[str | None] = "file"
    msgtype: str = "file"
    file: File


@attrs.frozen(kw_only=True)
class UnknownAttachment(TaggedModel):
    """An attachment whose msgtype this release does not know; every field is kept in extra."""

    msgtype: str


Attachment: TypeAlias = (
    ImageAttachment
    | LinkAttachment
    | MiniprogramAttachment
    | VideoAttachment
    | FileAttachment
    | UnknownAttachment
)


@attrs.frozen(kw_only=True)
class Conclusions(WireModel):
    """结束语 of a temp-session contact way (endpoints.md §2.7).

    Text (at most 4000 bytes) may go with one of image, link, miniprogram. When setting an
    image only ``media_id`` is accepted; reading it back gives ``pic_url``. A request must
    not send an empty one (:func:`check_settable_conclusions`); a response may hold one.
    """

    text: Text | None = None
    image: Image | None = None
    link: Link | None = None
    miniprogram: Miniprogram | None = None

    def __attrs_post_init__(self) -> None:
        if self.text and self.text.content and len(self.text.content.encode()) > 4000:
            raise ValidationError("conclusions.text.content is over 4000 bytes")


def check_settable_conclusions(value: Conclusions) -> None:
    """Refuse conclusions a request may not set: empty ones.

    Raises:
        ValidationError: none of text, image, link and miniprogram is given.
    """
    if not any((value.text, value.image, value.link, value.miniprogram)):
        raise ValidationError("conclusions must not be empty")


@attrs.frozen(kw_only=True)
class WelcomeContent(WireModel):
    """Top-level content objects (endpoints.md §2.8): group welcome templates, legacy messages.

    Of image, link, miniprogram, file and video only one is used (priority in that order);
    text goes with it as a separate message.
    """

    text: Text | None = None
    image: Image | None = None
    link: Link | None = None
    miniprogram: Miniprogram | None = None
    file: File | None = None
    video: Video | None = None
