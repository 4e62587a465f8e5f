"""Customer moments (客户朋友圈), endpoints.md §3.7 (#45-#52).

Content shapes (``text``, ``image``, ``video``, ``link`` and the ``attachments[]`` union)
are the shared ones of :mod:`wecom_async.models.attachments`; a moment link carries its
cover as ``link.media_id`` (from ``media/upload_attachment``) instead of ``picurl``.

Docs: https://developer.work.weixin.qq.com/document/path/95094 (add_moment_task,
get_moment_task_result), https://developer.work.weixin.qq.com/document/path/97612
(cancel_moment_task), https://developer.work.weixin.qq.com/document/path/93333 (reads).
"""

from __future__ import annotations

from typing import Final

import attrs

from .._exceptions import ValidationError
from .._validation import check_ids
from ._base import WireEnum, WireModel, unix_seconds
from .attachments import (
    Attachment,
    Image,
    ImageAttachment,
    Link,
    LinkAttachment,
    Text,
    Video,
    VideoAttachment,
)

__all__ = [
    "MAX_MOMENT_IMAGES",
    "MAX_MOMENT_LINK_TITLE_CHARS",
    "MAX_MOMENT_SENDERS",
    "MAX_MOMENT_TEXT_BYTES",
    "MAX_MOMENT_TEXT_CHARS",
    "AddMomentTaskRequest",
    "AddMomentTaskResponse",
    "InvalidExternalContactList",
    "InvalidSenderList",
    "Moment",
    "MomentComments",
    "MomentCreateType",
    "MomentCustomer",
    "MomentCustomerListResponse",
    "MomentExternalContactList",
    "MomentFilterType",
    "MomentInteraction",
    "MomentListResponse",
    "MomentLocation",
    "MomentPublishStatus",
    "MomentSenderList",
    "MomentTask",
    "MomentTaskListResponse",
    "MomentTaskOutcome",
    "MomentTaskResult",
    "MomentTaskStatus",
    "MomentVisibleRange",
    "MomentVisibleType",
]

#: ``text.content`` of a moment: at most 2000 characters and 4000 bytes (UTF-8).
MAX_MOMENT_TEXT_CHARS: Final = 2000
MAX_MOMENT_TEXT_BYTES: Final = 4000
#: A moment carries at most 9 images (or exactly one video, or exactly one link).
MAX_MOMENT_IMAGES: Final = 9
#: ``visible_range.sender_list.user_list``: at most 100,000 executors.
MAX_MOMENT_SENDERS: Final = 100_000
#: A moment link title: at most 64 characters (the shared Link model checks 128 bytes).
MAX_MOMENT_LINK_TITLE_CHARS: Final = 64


class MomentTaskStatus(WireEnum):
    """``status`` of get_moment_task_result: where the asynchronous creation stands."""

    STARTED = 1
    CREATING = 2
    FINISHED = 3


class MomentFilterType(WireEnum):
    """``filter_type`` of get_moment_list: which moments to list."""

    CORP = 0
    PERSONAL = 1
    ALL = 2


class MomentCreateType(WireEnum):
    """``moment_list[].create_type``: who created the moment."""

    CORP = 0
    PERSONAL = 1


class MomentVisibleType(WireEnum):
    """``moment_list[].visible_type``: partially visible (tag filter) or public."""

    PARTIAL = 0
    PUBLIC = 1


class MomentPublishStatus(WireEnum):
    """``task_list[].publish_status``: whether the member published the corp moment."""

    NOT_PUBLISHED = 0
    PUBLISHED = 1


# -- add_moment_task ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MomentSenderList(WireModel):
    """``visible_range.sender_list``: the members who publish (executors).

    Executors outside the app's visible range are ignored and reported back in
    ``invalid_sender_list`` of the task result.
    """

    user_list: list[str] | None = None
    department_list: list[int] | None = None

    def __attrs_post_init__(self) -> None:
        if self.user_list is not None:
            check_ids(
                self.user_list, "sender_list.user_list", max_count=MAX_MOMENT_SENDERS, min_count=0
            )


@attrs.frozen(kw_only=True)
class MomentExternalContactList(WireModel):
    """``visible_range.external_contact_list``: corp tag ids (not strategy tags) of customers."""

    tag_list: list[str] | None = None


@attrs.frozen(kw_only=True)
class MomentVisibleRange(WireModel):
    """``visible_range`` of a corp moment.

    Only ``sender_list``: the executors' customers see it. Only ``external_contact_list``:
    it goes to the in-range followers of the tagged customers. Both: executors in
    ``sender_list`` that have tagged customers, visible only to those customers. Neither:
    every member in the app's visible range and all their customers. A tag filter makes the
    moment "partially visible", otherwise it is "public".
    """

    sender_list: MomentSenderList | None = None
    external_contact_list: MomentExternalContactList | None = None


def _check_text(text: Text | None) -> None:
    content = text.content if text is not None else None
    if content is None:
        return
    if len(content) > MAX_MOMENT_TEXT_CHARS:
        raise ValidationError(
            f"text.content is {len(content)} characters long; "
            f"WeCom allows at most {MAX_MOMENT_TEXT_CHARS}"
        )
    size = len(content.encode("utf-8"))
    if size > MAX_MOMENT_TEXT_BYTES:
        raise ValidationError(
            f"text.content is {size} bytes long; WeCom allows at most {MAX_MOMENT_TEXT_BYTES}"
        )


def _check_attachment(item: Attachment) -> None:
    if isinstance(item, ImageAttachment):
        if not item.image.media_id:
            raise ValidationError(
                "a moment image needs image.media_id (from media/upload_attachment); "
                "pic_url is not accepted"
            )
    elif isinstance(item, VideoAttachment):
        if not item.video.media_id:
            raise ValidationError("a moment video needs video.media_id")
    elif isinstance(item, LinkAttachment):
        link = item.link
        if not link.url or not link.media_id:
            raise ValidationError("a moment link needs link.url and link.media_id (its cover)")
        if link.title is not None and len(link.title) > MAX_MOMENT_LINK_TITLE_CHARS:
            raise ValidationError(
                f"link.title is {len(link.title)} characters long; "
                f"WeCom allows at most {MAX_MOMENT_LINK_TITLE_CHARS}"
            )
    else:
        raise ValidationError(
            f"a moment attachment must be image, video or link, not {item.msgtype!r}"
        )


def _check_attachments(items: list[Attachment]) -> None:
    for item in items:
        _check_attachment(item)
    kinds = {item.msgtype for item in items}
    if len(kinds) > 1:
        raise ValidationError(
            f"moment attachments cannot mix types (got {sorted(kinds)}): "
            f"up to {MAX_MOMENT_IMAGES} images, or one video, or one link"
        )
    limit = MAX_MOMENT_IMAGES if kinds == {"image"} else 1
    if len(items) > limit:
        raise ValidationError(
            f"a moment takes at most {limit} {next(iter(kinds))} attachment(s), got {len(items)}"
        )


@attrs.frozen(kw_only=True)
class AddMomentTaskRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/add_moment_task`` (endpoints.md #45).

    Rules checked before sending: ``text`` and ``attachments`` are not both empty;
    ``text.content`` is at most 2000 characters and 4000 bytes; ``attachments`` are either
    up to 9 images, or one video, or one link (types never mixed; only these three);
    images and videos carry a ``media_id`` from ``media/upload_attachment``; a link carries
    ``url`` and ``media_id`` (the cover) and a title of at most 64 characters;
    ``visible_range.sender_list.user_list`` has at most 100,000 userids.
    """

    text: Text | None = None
    attachments: list[Attachment] | None = None
    visible_range: MomentVisibleRange | None = None

    def __attrs_post_init__(self) -> None:
        has_text = self.text is not None and bool(self.text.content)
        if not has_text and not self.attachments:
            raise ValidationError("a moment needs text.content or attachments (both are empty)")
        _check_text(self.text)
        if self.attachments:
            _check_attachments(self.attachments)


@attrs.frozen(kw_only=True)
class AddMomentTaskResponse(WireModel):
    """Answer of add_moment_task: the job id (at most 64 bytes, valid for 24 hours)."""

    jobid: str


# -- get_moment_task_result --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InvalidSenderList(WireModel):
    """Executors that were ignored (outside the app's visible range or unknown)."""

    user_list: list[str] | None = None
    department_list: list[int] | None = None


@attrs.frozen(kw_only=True)
class InvalidExternalContactList(WireModel):
    """Customer tag ids that were ignored (unknown, deleted, or not corp tags)."""

    tag_list: list[str] | None = None


@attrs.frozen(kw_only=True)
class MomentTaskOutcome(WireModel):
    """``result`` of a finished moment task: the new ``moment_id`` or the job's own errcode.

    ``errcode`` is the outcome of the job, not of the polling call: a job can finish with a
    non-zero errcode (for example an invalid media_id) and no ``moment_id``.
    """

    errcode: int | None = None
    errmsg: str | None = None
    moment_id: str | None = None
    invalid_sender_list: InvalidSenderList | None = None
    invalid_external_contact_list: InvalidExternalContactList | None = None


@attrs.frozen(kw_only=True)
class MomentTaskResult(WireModel):
    """Answer of get_moment_task_result: the job status and, once finished, its result."""

    status: MomentTaskStatus | int
    type: str | None = None
    result: MomentTaskOutcome | None = None

    @property
    def finished(self) -> bool:
        """True once the job finished (``status`` 3); ``result`` is valid from then on."""
        return self.status == MomentTaskStatus.FINISHED


# -- get_moment_list ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MomentLocation(WireModel):
    """``location`` of a moment; WeCom sends the coordinates as strings."""

    latitude: str | None = None
    longitude: str | None = None
    name: str | None = None


@attrs.frozen(kw_only=True)
class Moment(WireModel):
    """One ``moment_list[]`` item.

    ``creator`` is absent for moments created through add_moment_task. ``create_time`` is
    Unix seconds; older doc examples show it as a string, so a numeric string is kept as
    sent and :attr:`create_timestamp` gives the int either way. Media ids can be fetched
    through ``media/get``.
    """

    moment_id: str
    creator: str | None = None
    create_time: int | str | None = None
    create_type: MomentCreateType | int | None = None
    visible_type: MomentVisibleType | int | None = None
    text: Text | None = None
    image: list[Image] | None = None
    video: Video | None = None
    link: Link | None = None
    location: MomentLocation | None = None

    @property
    def create_timestamp(self) -> int | None:
        """``create_time`` as Unix seconds, whether WeCom sent an int or a numeric string."""
        return unix_seconds(self.create_time)


@attrs.frozen(kw_only=True)
class MomentListResponse(WireModel):
    """One page of get_moment_list."""

    moment_list: list[Moment] = attrs.field(factory=list)
    next_cursor: str | None = None


# -- per-member tasks, customers, comments -----------------------------------------------


@attrs.frozen(kw_only=True)
class MomentTask(WireModel):
    """One ``task_list[]`` item of get_moment_task: a member and whether they published."""

    userid: str
    publish_status: MomentPublishStatus | int | None = None


@attrs.frozen(kw_only=True)
class MomentTaskListResponse(WireModel):
    """One page of get_moment_task."""

    task_list: list[MomentTask] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class MomentCustomer(WireModel):
    """A customer of a moment: ``get_moment_customer_list`` also names the member
    (``userid``); ``get_moment_send_result`` gives only ``external_userid``."""

    external_userid: str
    userid: str | None = None


@attrs.frozen(kw_only=True)
class MomentCustomerListResponse(WireModel):
    """One page of get_moment_customer_list or get_moment_send_result."""

    customer_list: list[MomentCustomer] = attrs.field(factory=list)
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class MomentInteraction(WireModel):
    """A comment or a like: by a customer (``external_userid``) or a member (``userid``)."""

    external_userid: str | None = None
    userid: str | None = None
    create_time: int | None = None


@attrs.frozen(kw_only=True)
class MomentComments(WireModel):
    """Answer of get_moment_comments: every comment and like (no pagination)."""

    comment_list: list[MomentInteraction] = attrs.field(factory=list)
    like_list: list[MomentInteraction] = attrs.field(factory=list)
