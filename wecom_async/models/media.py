"""Media uploads used by the external-contact family, endpoints.md §3.10 (#75-#77).

Docs: https://developer.work.weixin.qq.com/document/path/95098 (upload_attachment),
https://developer.work.weixin.qq.com/document/path/90253 (upload),
https://developer.work.weixin.qq.com/document/path/90256 (uploadimg).
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import attrs

from ._base import WireEnum, WireModel, unix_seconds

__all__ = [
    "AttachmentMediaType",
    "AttachmentType",
    "MediaType",
    "UploadImageResult",
    "UploadResult",
    "unix_seconds",
]

#: ``type`` of ``media/upload``: what the temporary media is.
MediaType: TypeAlias = Literal["image", "voice", "video", "file"]
#: ``media_type`` of ``media/upload_attachment``.
AttachmentMediaType: TypeAlias = Literal["image", "video", "file"]


class AttachmentType(WireEnum):
    """``attachment_type`` of ``media/upload_attachment``: where the attachment is used."""

    #: Customer moments (客户朋友圈): images and videos only.
    MOMENTS = 1
    #: Product album (商品图册): images only.
    PRODUCT_ALBUM = 2


@attrs.frozen(kw_only=True)
class UploadResult(WireModel):
    """Answer of ``media/upload`` and ``media/upload_attachment``.

    ``media_id`` is valid for 3 days. ``created_at`` is Unix seconds: an int in the
    upload_attachment doc example, a string in media/upload's (endpoints.md discrepancy #19),
    so it is kept as sent; :attr:`created_timestamp` gives the int either way.
    """

    media_id: str
    type: str | None = None
    created_at: int | str | None = None

    @property
    def created_timestamp(self) -> int | None:
        """``created_at`` as Unix seconds, whether WeCom sent an int or a numeric string."""
        return unix_seconds(self.created_at)


@attrs.frozen(kw_only=True)
class UploadImageResult(WireModel):
    """Answer of ``media/uploadimg``: the permanent image URL."""

    url: str
