"""Welcome messages and group welcome templates (endpoints.md #67-#71), and the content checks
shared with mass messages (endpoints.md §2.6 and §2.8).

Welcome codes come from :func:`._messages_state.issue_welcome_code`.  Errcodes: 41049 /
41050 / 41051 missing / invalid or expired / already used welcome code, 41064 more than 9
attachments, 41065 an unknown attachment type, 41055 a 101st group welcome template,
40063 a missing required parameter or empty content, 40058 a value over a documented
limit or an unknown template_id.  Group welcome templates are not tied to the app that
created them here (no 41058).
"""

from __future__ import annotations

from typing import Final

from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, req_str
from .._route import JSON, RequestContext, Route
from ._messages_state import MAX_TEMPLATES, WELCOME_CODE_TTL, MessagesState, WelcomeMessage

__all__ = ["ROUTES", "message_content"]

MAX_ATTACHMENTS: Final = 9
MAX_TEXT_BYTES: Final = 4000
MAX_TEMPLATE_TEXT_BYTES: Final = 3000
#: Required fields of each content object (image: media_id or pic_url).
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "image": (),
    "link": ("title", "url"),
    "miniprogram": ("title", "pic_media_id", "appid", "page"),
    "video": ("media_id",),
    "file": ("media_id",),
}
_BYTE_LIMITS: Final = {
    ("link", "title"): 128,
    ("link", "desc"): 512,
    ("link", "url"): 2048,
    ("link", "picurl"): 2048,
    ("miniprogram", "title"): 64,
}
_LEGACY: Final = ("image", "link", "miniprogram")
_TEMPLATE_KEYS: Final = ("image", "link", "miniprogram", "file", "video")


# -- content --------------------------------------------------------------------------


def _content_object(name: str, value: object) -> JSON:
    if not isinstance(value, dict):
        raise WeComFault(MISSING, f"{name} missing")
    if name == "image" and not (value.get("media_id") or value.get("pic_url")):
        raise WeComFault(MISSING, "image.media_id missing")
    for key in _REQUIRED[name]:
        if not value.get(key):
            raise WeComFault(MISSING, f"{name}.{key} missing")
    for key, text in value.items():
        limit = _BYTE_LIMITS.get((name, key))
        if limit is not None and isinstance(text, str) and len(text.encode()) > limit:
            raise WeComFault(INVALID, f"{name}.{key} exceeds {limit} bytes")
    return dict(value)


def _text(body: JSON, limit: int) -> JSON | None:
    text = body.get("text")
    if text is None:
        return None
    if not isinstance(text, dict):
        raise WeComFault(INVALID, "invalid text")
    content = opt_str(text, "content")
    if content and len(content.encode()) > limit:
        raise WeComFault(INVALID, f"text.content exceeds {limit} bytes")
    return {"content": content} if content else None


def _attachments(body: JSON) -> list[JSON]:
    items = body.get("attachments")
    if items is None:
        return []
    if not isinstance(items, list):
        raise WeComFault(INVALID, "invalid attachments")
    if len(items) > MAX_ATTACHMENTS:
        raise WeComFault(41064, "attachments exceed 9")
    out: list[JSON] = []
    for item in items:
        msgtype = item.get("msgtype") if isinstance(item, dict) else None
        if not isinstance(msgtype, str) or msgtype not in _REQUIRED:
            raise WeComFault(41065, f"invalid attachment type {msgtype!r}")
        out.append({"msgtype": msgtype, msgtype: _content_object(msgtype, item.get(msgtype))})
    return out


def message_content(body: JSON) -> JSON:
    """The content of a mass or welcome message, as the list API reports it."""
    text, attachments = _text(body, MAX_TEXT_BYTES), _attachments(body)
    legacy = {k: _content_object(k, body[k]) for k in _LEGACY if body.get(k) is not None}
    if not attachments and legacy:
        first = next(k for k in _LEGACY if k in legacy)
        attachments = [{"msgtype": first, first: legacy[first]}]
    if text is None and not attachments:
        raise WeComFault(MISSING, "text and attachments are both empty")
    return {
        **({"text": text} if text else {}),
        **({"attachments": attachments} if attachments else {}),
    }


# -- welcome messages and group welcome templates -------------------------------------


def send_welcome_msg(ctx: RequestContext) -> JSON:
    """POST externalcontact/send_welcome_msg: once per code, within 20 seconds."""
    code = req_str(ctx.body, "welcome_code", errcode=41049)
    messages = ctx.state.ext(MessagesState)
    record = messages.welcome_codes.get(code)
    now = ctx.clock.now()
    if record is None or now > record.issued_at + WELCOME_CODE_TTL:
        raise WeComFault(41050, "invalid welcome_code")
    if record.used:
        raise WeComFault(41051, "externaluser has started chatting")
    message_content(ctx.body)
    record.used = True
    content = {k: v for k, v in ctx.body.items() if k != "welcome_code"}
    messages.welcome_messages.append(
        WelcomeMessage(record.userid, record.external_userid, code, int(now), content)
    )
    return {}


def _template_content(body: JSON, *, require: bool) -> JSON:
    text = _text(body, MAX_TEMPLATE_TEXT_BYTES)
    content: JSON = {
        k: _content_object(k, body[k]) for k in _TEMPLATE_KEYS if body.get(k) is not None
    }
    image = content.get("image")
    if isinstance(image, dict):  # read back as a URL only
        media = image.get("media_id")
        content["image"] = {
            "pic_url": image.get("pic_url") or f"https://wework.qpic.cn/wwpic/{media}/0"
        }
    if text is not None:
        content["text"] = text
    if require and not content:
        raise WeComFault(MISSING, "text, image, link, miniprogram, file and video are all empty")
    return content


def _template_id(ctx: RequestContext) -> str:
    template_id = req_str(ctx.body, "template_id")
    if template_id not in ctx.state.ext(MessagesState).templates:
        raise WeComFault(INVALID, f"invalid template_id: {template_id}")
    return template_id


def add_group_welcome_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/group_welcome_template/add: at most 100 per corp."""
    content = _template_content(ctx.body, require=True)
    notify = opt_int(ctx.body, "notify")
    if notify not in (None, 0, 1):
        raise WeComFault(INVALID, "invalid notify")
    templates = ctx.state.ext(MessagesState).templates
    if len(templates) >= MAX_TEMPLATES:
        raise WeComFault(41055, "group welcome template count reaches the limit")
    template_id = ctx.state.new_id("msg")
    templates[template_id] = content
    return {"template_id": template_id}


def edit_group_welcome_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/group_welcome_template/edit: the given objects replace theirs."""
    template_id = _template_id(ctx)
    ctx.state.ext(MessagesState).templates[template_id].update(
        _template_content(ctx.body, require=False)
    )
    return {}


def get_group_welcome_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/group_welcome_template/get: the content, image as pic_url."""
    return dict(ctx.state.ext(MessagesState).templates[_template_id(ctx)])


def del_group_welcome_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/group_welcome_template/del."""
    del ctx.state.ext(MessagesState).templates[_template_id(ctx)]
    return {}


ROUTES = [
    Route("POST", "externalcontact/send_welcome_msg", send_welcome_msg),
    Route("POST", "externalcontact/group_welcome_template/add", add_group_welcome_template),
    Route("POST", "externalcontact/group_welcome_template/edit", edit_group_welcome_template),
    Route("POST", "externalcontact/group_welcome_template/get", get_group_welcome_template),
    Route("POST", "externalcontact/group_welcome_template/del", del_group_welcome_template),
]
