"""``client.media``: the uploads the external-contact family depends on, endpoints.md #75-#77.

Every upload is one ``multipart/form-data`` part named ``media`` that carries the file
name and content type. A file is given as ``bytes``, a path (``str`` or ``os.PathLike``) or
a binary file object; paths and file objects are read in a worker thread, so the event loop
never blocks on disk I/O. Sizes are checked before anything is sent, and a path or file
object is never read past its limit.

The official example also shows a ``filelength`` parameter in the part's
Content-Disposition. httpx does not write it, and neither do the requests-based uploads of
existing SDKs (wechatpy); that WeCom needs it is unverified, so the SDK sends the standard
form: the file name and a Content-Type.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Collection, Mapping
from typing import BinaryIO, Final, TypeAlias

import anyio.to_thread
from typing_extensions import Unpack

from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from ..models._base import WireStr
from ..models.media import (
    AttachmentMediaType,
    AttachmentType,
    MediaType,
    UploadImageResult,
    UploadResult,
)
from ._base import Service

__all__ = [
    "ATTACHMENT_MAX_BYTES",
    "ATTACHMENT_MEDIA_TYPES",
    "MIN_MEDIA_BYTES",
    "UPLOADIMG_MAX_BYTES",
    "UPLOAD_MAX_BYTES",
    "FileInput",
    "MediaService",
]

#: What an upload accepts: the content itself, a path, or a file object opened in binary mode.
FileInput: TypeAlias = bytes | str | os.PathLike[str] | BinaryIO

_MB: Final = 1024 * 1024
#: Every uploaded file must be larger than 5 bytes.
MIN_MEDIA_BYTES: Final = 6
#: media/upload size limits per ``type``.
UPLOAD_MAX_BYTES: Final[Mapping[str, int]] = {
    "image": 10 * _MB,
    "voice": 2 * _MB,
    "video": 10 * _MB,
    "file": 20 * _MB,
}
#: media/upload_attachment: 10 MB for every media_type.
ATTACHMENT_MAX_BYTES: Final = 10 * _MB
#: media/upload_attachment: the media types each attachment_type accepts.
ATTACHMENT_MEDIA_TYPES: Final[Mapping[AttachmentType, frozenset[str]]] = {
    AttachmentType.MOMENTS: frozenset({"image", "video"}),
    AttachmentType.PRODUCT_ALBUM: frozenset({"image"}),
}
_ATTACHMENT_KINDS: Final = frozenset({"image", "video", "file"})
#: media/uploadimg: at most 2 MB.
UPLOADIMG_MAX_BYTES: Final = 2 * _MB

_UPLOAD_ATTACHMENT = Endpoint(
    "POST", "media/upload_attachment", retry_safe=False, response=UploadResult
)
_UPLOAD = Endpoint("POST", "media/upload", retry_safe=False, response=UploadResult)
_UPLOADIMG = Endpoint(
    "POST", "media/uploadimg", retry_safe=False, response=UploadImageResult, key="url"
)

#: Magic numbers of the formats WeCom takes, for a default file name and content type.
_SIGNATURES: Final = (
    (0, b"\x89PNG\r\n\x1a\n", ".png", "image/png"),
    (0, b"\xff\xd8\xff", ".jpg", "image/jpeg"),
    (0, b"GIF8", ".gif", "image/gif"),
    (0, b"#!AMR", ".amr", "audio/amr"),
    (4, b"ftyp", ".mp4", "video/mp4"),
)
_OCTET_STREAM: Final = "application/octet-stream"


class MediaService(Service):
    """Media uploads: moment / product-album attachments, temporary media, permanent images."""

    async def upload_attachment(
        self,
        file: FileInput,
        *,
        media_type: AttachmentMediaType,
        attachment_type: AttachmentType | int,
        filename: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> UploadResult:
        """Upload an attachment for customer moments or the product album.

        ``POST /cgi-bin/media/upload_attachment`` (multipart; ``media_type`` and
        ``attachment_type`` go in the query string)

        Not resent after an ambiguous failure: a resend would upload a second copy.

        Args:
            file: the content as bytes, a path, or a binary file object (read from its
                current position).
            media_type: ``"image"`` (JPG/PNG), ``"video"`` (MP4) or ``"file"``.
            attachment_type: :attr:`AttachmentType.MOMENTS` (1; images and videos) or
                :attr:`AttachmentType.PRODUCT_ALBUM` (2; images only).
            filename: the name shown to users; default: the path's or file object's name,
                else ``<media_type>.<ext>`` from the content's format.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`UploadResult`; its ``media_id`` is valid for 3 days.

        Raises:
            ValidationError: an unknown media_type or attachment_type, a media_type the
                attachment_type does not take, a file of 5 bytes or less or over 10 MB, or
                a path / file object that cannot be read (nothing is sent).
            APIError: e.g. 41081 image resolution, 41082 video duration, 41090 bad video.

        Docs: https://developer.work.weixin.qq.com/document/path/95098
        """
        scene = _check_attachment_type(attachment_type)
        kind = _check_choice(media_type, "media_type", _ATTACHMENT_KINDS)
        if kind not in ATTACHMENT_MEDIA_TYPES[scene]:
            allowed = sorted(ATTACHMENT_MEDIA_TYPES[scene])
            raise ValidationError(
                f"attachment_type {int(scene)} ({scene.name}) takes media_type {allowed}, "
                f"not {kind!r}"
            )
        part = await _media_part(file, filename, stem=kind, max_bytes=ATTACHMENT_MAX_BYTES)
        params: dict[str, str | int] = {"media_type": kind, "attachment_type": int(scene)}
        return await self._answer(_UPLOAD_ATTACHMENT, params=params, files=part, options=options)

    async def upload(
        self,
        file: FileInput,
        *,
        media_type: MediaType,
        filename: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> UploadResult:
        """Upload temporary media (welcome messages, mass messages, remark pictures, ...).

        ``POST /cgi-bin/media/upload`` (multipart; ``type`` goes in the query string)

        Not resent after an ambiguous failure: a resend would upload a second copy.

        Args:
            file: the content as bytes, a path, or a binary file object (read from its
                current position).
            media_type: ``"image"`` (JPG/PNG, at most 10 MB), ``"voice"`` (AMR, 2 MB,
                60 s), ``"video"`` (MP4, 10 MB) or ``"file"`` (20 MB); sent as ``type``.
            filename: the name shown to users; default: the path's or file object's name,
                else ``<media_type>.<ext>`` from the content's format.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`UploadResult`; its ``media_id`` is valid for 3 days and shared by
            the corp's apps.

        Raises:
            ValidationError: an unknown media_type, a file of 5 bytes or less or over the
                type's limit, or a path / file object that cannot be read (nothing is sent).
            APIError: e.g. 40004 invalid media type, 40006 invalid file size.

        Docs: https://developer.work.weixin.qq.com/document/path/90253
        """
        kind = _check_choice(media_type, "media_type", UPLOAD_MAX_BYTES.keys())
        part = await _media_part(file, filename, stem=kind, max_bytes=UPLOAD_MAX_BYTES[kind])
        return await self._answer(_UPLOAD, params={"type": kind}, files=part, options=options)

    async def upload_image(
        self, file: FileInput, *, filename: str | None = None, **options: Unpack[RequestOptions]
    ) -> WireStr:
        """Upload an image and get a permanent URL (for ``image.pic_url`` of messages).

        ``POST /cgi-bin/media/uploadimg`` (multipart)

        Not resent after an ambiguous failure: each upload spends the corp's image quota
        (1,000 a day, 3,000 a month).

        Args:
            file: a JPG or PNG as bytes, a path, or a binary file object.
            filename: the file name sent; default as for :meth:`upload`.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The permanent image URL.

        Raises:
            ValidationError: the image is 5 bytes or less or over 2 MB, or cannot be read
                (nothing is sent).
            RateLimitError: the daily or monthly image quota is spent (45009).

        Docs: https://developer.work.weixin.qq.com/document/path/90256
        """
        part = await _media_part(file, filename, stem="image", max_bytes=UPLOADIMG_MAX_BYTES)
        return await self._str_part(_UPLOADIMG, files=part, options=options)


def _check_choice(value: str, name: str, choices: Collection[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def _check_attachment_type(value: AttachmentType | int) -> AttachmentType:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"attachment_type must be 1 or 2, got {value!r}")
    try:
        return AttachmentType(value)
    except ValueError:
        raise ValidationError(
            f"attachment_type must be 1 (moments) or 2 (product album), got {value!r}"
        ) from None


async def _media_part(
    file: FileInput, filename: str | None, *, stem: str, max_bytes: int
) -> dict[str, tuple[str, bytes, str]]:
    """Read ``file`` (in a worker thread unless it is bytes) into the ``media`` part."""
    if filename is not None and (not isinstance(filename, str) or not filename.strip()):
        raise ValidationError(f"filename must be a non-empty string, got {filename!r}")
    if isinstance(file, bytes | bytearray):
        content = bytes(file)
    else:
        content = await anyio.to_thread.run_sync(_read, file, max_bytes + 1)
    size = len(content)
    if size < MIN_MEDIA_BYTES:
        raise ValidationError(f"the file is {size} bytes; WeCom needs more than 5 bytes")
    if size > max_bytes:
        raise ValidationError(
            f"the file is over {max_bytes} bytes ({max_bytes // _MB} MB), WeCom's limit here"
        )
    name = filename or _name_of(file)
    sniffed = _sniff(content)
    if name is None:
        name = stem + (sniffed[0] if sniffed else ".bin")
    content_type = mimetypes.guess_type(name)[0] or (sniffed[1] if sniffed else _OCTET_STREAM)
    return {"media": (name, content, content_type)}


def _read(file: str | os.PathLike[str] | BinaryIO, limit: int) -> bytes:
    """Read at most ``limit`` bytes (runs in a worker thread)."""
    try:
        if isinstance(file, str | os.PathLike):
            with open(file, "rb") as handle:
                data: object = handle.read(limit)
        else:
            data = file.read(limit)
    except OSError as exc:
        raise ValidationError(f"cannot read the file to upload: {exc}") from exc
    if not isinstance(data, bytes | bytearray):
        raise ValidationError("the file object must be opened in binary mode ('rb')")
    return bytes(data)


def _name_of(file: object) -> str | None:
    """The base name of a path or of a file object's ``name``, if it has one."""
    path = file if isinstance(file, str | os.PathLike) else getattr(file, "name", None)
    if not isinstance(path, str | os.PathLike):
        return None
    name = os.path.basename(os.fspath(path))
    return name if isinstance(name, str) and name else None


def _sniff(content: bytes) -> tuple[str, str] | None:
    """(extension, content type) of a format WeCom takes, recognised by its magic number."""
    for offset, magic, extension, content_type in _SIGNATURES:
        if content[offset : offset + len(magic)] == magic:
            return extension, content_type
    return None
