"""Uploaded media of the fake corp (``ctx.state.ext(MediaState)``), kept for 3 days.

Other groups check the media ids they are given with :meth:`MediaState.lookup`; tests may
call :meth:`MediaState.store` to create a media id without uploading, and lower the
uploadimg quotas.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from .._errors import WeComFault
from .._state import CorpState
from ._shared import beijing_period

__all__ = ["MEDIA_TTL", "UPLOADIMG_PER_DAY", "UPLOADIMG_PER_MONTH", "MediaRecord", "MediaState"]

#: Media ids live this long (seconds).
MEDIA_TTL: Final = 3 * 86400
#: media/uploadimg: at most 1,000 images a day and 3,000 a month per corp.
UPLOADIMG_PER_DAY: Final = 1000
UPLOADIMG_PER_MONTH: Final = 3000


@dataclass(slots=True, eq=False)
class MediaRecord:
    """One uploaded temporary medium (``media_id`` valid for 3 days)."""

    media_id: str
    #: "image", "voice", "video" or "file".
    type: str
    filename: str
    content_type: str
    content: bytes
    created_at: int
    #: 1 moments / 2 product album for media/upload_attachment; None for media/upload.
    attachment_type: int | None = None

    @property
    def expires_at(self) -> int:
        """When the media id stops being valid."""
        return self.created_at + MEDIA_TTL


class MediaState:
    """Uploaded media and permanent images of one corp, and the uploadimg quotas."""

    def __init__(self) -> None:
        """Create an empty store."""
        #: Temporary media by media_id.
        self.media: dict[str, MediaRecord] = {}
        #: Permanent images by URL: (file name, content).
        self.images: dict[str, tuple[str, bytes]] = {}
        #: uploadimg quotas; tests may lower them.
        self.images_per_day = UPLOADIMG_PER_DAY
        self.images_per_month = UPLOADIMG_PER_MONTH
        self._image_counts: dict[str, int] = {}

    def store(
        self,
        state: CorpState,
        *,
        kind: str,
        filename: str,
        content: bytes,
        now: float,
        content_type: str = "application/octet-stream",
        attachment_type: int | None = None,
    ) -> MediaRecord:
        """Keep an upload (tests may call it to create a media id without uploading)."""
        record = MediaRecord(
            media_id=state.new_id("3m"),
            type=kind,
            filename=filename,
            content_type=content_type,
            content=content,
            created_at=int(now),
            attachment_type=attachment_type,
        )
        self.media[record.media_id] = record
        return record

    def lookup(self, media_id: str, now: float, *, kinds: Collection[str]) -> MediaRecord:
        """Return a live medium of one of ``kinds``.

        Raises:
            WeComFault: 40007 for an unknown id or one of another kind, 40145 for an id
                older than 3 days (WeCom documents both meanings; which one it answers for
                an expired id is unverified).
        """
        record = self.media.get(media_id)
        if record is None or record.type not in kinds:
            raise WeComFault(40007, f"invalid media_id: {media_id}")
        if now >= record.expires_at:
            raise WeComFault(40145, f"media_id expired: {media_id}")
        return record

    def count_image(self, now: float) -> None:
        """Spend one uploadimg of today's and this month's quota; 45009 when spent."""
        day, month = "d" + beijing_period(now, "%Y-%m-%d"), "m" + beijing_period(now, "%Y-%m")
        if self._image_counts.get(day, 0) >= self.images_per_day:
            raise WeComFault(45009, "api freq out of limit: uploadimg daily quota")
        if self._image_counts.get(month, 0) >= self.images_per_month:
            raise WeComFault(45009, "api freq out of limit: uploadimg monthly quota")
        self._image_counts[day] = self._image_counts.get(day, 0) + 1
        self._image_counts[month] = self._image_counts.get(month, 0) + 1
