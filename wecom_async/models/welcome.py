"""Welcome messages and group welcome templates (endpoints.md #67-#71, shapes §2.6 and §2.8).

The content checks it shares with mass messages live in the shared ``models/_content.py``;
its limits are re-exported here under their public names.

Docs: https://developer.work.weixin.qq.com/document/path/92137 (send_welcome_msg),
https://developer.work.weixin.qq.com/document/path/92366 (group_welcome_template/*).
"""

from __future__ import annotations

from typing import Final

import attrs

from .._exceptions import ValidationError
from .._validation import non_empty
from ._base import WireModel
from ._content import (
    MAX_ATTACHMENTS,
    MAX_TEXT_BYTES,
    _check_objects,
    _check_text,
    check_count,
    check_message_content,
)
from .attachments import (
    Attachment,
    Image,
    Link,
    Miniprogram,
    Text,
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

#: ``text.content`` of a group welcome template, in UTF-8 bytes.
MAX_TEMPLATE_TEXT_BYTES: Final = 3000
#: Replaced by each new member's nickname in a group welcome template (case-sensitive).
NICKNAME_PLACEHOLDER: Final = "%NICKNAME%"


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
