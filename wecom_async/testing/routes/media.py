"""Media uploads (endpoints.md #75-#77): media/upload_attachment, media/upload, media/uploadimg.

Each upload is a ``multipart/form-data`` body whose part named ``media`` carries a file
name and a content type; it is parsed with the standard library's :mod:`email` package.
Uploaded media are kept in :class:`~._media_state.MediaState` for 3 days, so that other
groups can check the media ids they are given.

Errcodes: 40063 a missing query parameter; 44001 no ``media`` part or an empty file; 40058
a part without file name or content type, or an attachment_type other than 1 and 2;
40004 an unknown media type; 40005 an "image" that is neither JPG nor PNG; 40006 a file of
5 bytes or less (and oversized voice / file media); 40009 / 40011 an oversized image /
video; 41072 a media type the attachment_type does not take; 41080 an attachment over
10 MB; 45009 uploadimg past 1,000 images a day or 3,000 a month (Beijing time).
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Final

from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, req_str
from .._route import JSON, RequestContext, Route
from ._media_state import MediaRecord, MediaState

__all__ = ["ROUTES"]

_MB: Final = 1024 * 1024
#: Every file must be larger than 5 bytes.
MIN_BYTES: Final = 6
#: media/upload size limits per ``type``, and the errcode of an oversized file.
UPLOAD_LIMITS: Final = {"image": 10 * _MB, "voice": 2 * _MB, "video": 10 * _MB, "file": 20 * _MB}
_OVERSIZE: Final = {"image": 40009, "video": 40011}
#: media/upload_attachment: 10 MB each; the media types each attachment_type takes.
ATTACHMENT_LIMIT: Final = 10 * _MB
ATTACHMENT_SCENES: Final = {1: frozenset({"image", "video"}), 2: frozenset({"image"})}
_ATTACHMENT_KINDS: Final = frozenset({"image", "video", "file"})
#: media/uploadimg: 2 MB (the daily and monthly quotas are in :class:`MediaState`).
UPLOADIMG_LIMIT: Final = 2 * _MB
_IMAGE_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


@dataclass(slots=True, eq=False)
class _Part:
    filename: str
    content_type: str
    content: bytes


_PARSER: Final = BytesParser(policy=email.policy.HTTP)


def _media_part(ctx: RequestContext, *, max_bytes: int, oversize: int) -> _Part:
    """The checked ``media`` part of a multipart upload."""
    found: EmailMessage | None = None
    if ctx.content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {ctx.content_type}\r\n\r\n".encode()
        message = _PARSER.parsebytes(head + ctx.raw_body)
        if isinstance(message, EmailMessage) and message.is_multipart():
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") == "media":
                    found = part if isinstance(part, EmailMessage) else None
                    break
    if found is None:
        raise WeComFault(44001, "empty media data: no multipart part named 'media'")
    filename = found.get_filename()
    if not filename:
        raise WeComFault(INVALID, "the media part needs a filename")
    if found["content-type"] is None:
        raise WeComFault(INVALID, "the media part needs a Content-Type")
    payload = found.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    if not content:
        raise WeComFault(44001, "empty media data")
    if len(content) < MIN_BYTES:
        raise WeComFault(40006, "invalid file size: files must be larger than 5 bytes")
    if len(content) > max_bytes:
        raise WeComFault(oversize, f"file size over {max_bytes} bytes")
    return _Part(filename, found.get_content_type(), content)


def _check_format(kind: str, part: _Part) -> None:
    if kind == "image" and not part.content.startswith(_IMAGE_MAGIC):
        raise WeComFault(40005, "invalid file type: images must be JPG or PNG")


def upload_attachment(ctx: RequestContext) -> JSON:
    """POST media/upload_attachment?media_type=&attachment_type= (multipart ``media``)."""
    kind = req_str(ctx.query, "media_type")
    scene = opt_int(ctx.query, "attachment_type")
    if scene is None:
        raise WeComFault(MISSING, "attachment_type missing")
    if kind not in _ATTACHMENT_KINDS:
        raise WeComFault(40004, f"invalid media type: {kind}")
    if scene not in ATTACHMENT_SCENES:
        raise WeComFault(INVALID, f"invalid attachment_type: {scene}")
    if kind not in ATTACHMENT_SCENES[scene]:
        raise WeComFault(41072, f"media_type {kind} not allowed for attachment_type {scene}")
    part = _media_part(ctx, max_bytes=ATTACHMENT_LIMIT, oversize=41080)
    _check_format(kind, part)
    record = _keep(ctx, kind, part, attachment_type=scene)
    return {"type": kind, "media_id": record.media_id, "created_at": record.created_at}


def upload(ctx: RequestContext) -> JSON:
    """POST media/upload?type= (multipart ``media``); ``created_at`` is a string here."""
    kind = req_str(ctx.query, "type")
    if kind not in UPLOAD_LIMITS:
        raise WeComFault(40004, f"invalid media type: {kind}")
    part = _media_part(ctx, max_bytes=UPLOAD_LIMITS[kind], oversize=_OVERSIZE.get(kind, 40006))
    _check_format(kind, part)
    record = _keep(ctx, kind, part)
    return {"type": kind, "media_id": record.media_id, "created_at": str(record.created_at)}


def uploadimg(ctx: RequestContext) -> JSON:
    """POST media/uploadimg (multipart ``media``): a permanent image URL."""
    part = _media_part(ctx, max_bytes=UPLOADIMG_LIMIT, oversize=40009)
    _check_format("image", part)
    media = ctx.state.ext(MediaState)
    media.count_image(ctx.clock.now())
    url = f"https://wework.qpic.cn/wwpic/{ctx.state.new_id('wp')}/0"
    media.images[url] = (part.filename, part.content)
    return {"url": url}


def _keep(
    ctx: RequestContext, kind: str, part: _Part, *, attachment_type: int | None = None
) -> MediaRecord:
    return ctx.state.ext(MediaState).store(
        ctx.state,
        kind=kind,
        filename=part.filename,
        content=part.content,
        content_type=part.content_type,
        now=ctx.clock.now(),
        attachment_type=attachment_type,
    )


ROUTES = [
    Route("POST", "media/upload_attachment", upload_attachment),
    Route("POST", "media/upload", upload),
    Route("POST", "media/uploadimg", uploadimg),
]
