"""Welcome messages and group welcome templates (endpoints.md #67-#71).

Records are in :mod:`._welcome_state`; the content checks shared with mass messages are in
:mod:`._shared`.  Welcome codes come from ``FakeWeCom.issue_welcome_code``.  Errcodes: 41049 /
41050 / 41051 missing / invalid or expired / already used welcome code, 41064 more than 9
attachments, 41065 an unknown attachment type, 41055 a 101st group welcome template,
40063 a missing required parameter or empty content, 40058 a value over a documented
limit or an unknown template_id.  Group welcome templates are not tied to the app that
created them here (no 41058).
"""

from __future__ import annotations

from typing import Final

from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, req_str
from .._route import JSON, RequestContext, Route
from ._shared import content_object, message_content, text_content
from ._welcome_state import MAX_TEMPLATES, WELCOME_CODE_TTL, WelcomeMessage, WelcomeState

__all__ = ["ROUTES"]

MAX_TEMPLATE_TEXT_BYTES: Final = 3000
_TEMPLATE_KEYS: Final = ("image", "link", "miniprogram", "file", "video")


# -- welcome messages and group welcome templates -------------------------------------


def send_welcome_msg(ctx: RequestContext) -> JSON:
    """POST externalcontact/send_welcome_msg: once per code, within 20 seconds."""
    code = req_str(ctx.body, "welcome_code", errcode=41049)
    messages = ctx.state.ext(WelcomeState)
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
    text = text_content(body, MAX_TEMPLATE_TEXT_BYTES)
    content: JSON = {
        k: content_object(k, body[k]) for k in _TEMPLATE_KEYS if body.get(k) is not None
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
    if template_id not in ctx.state.ext(WelcomeState).templates:
        raise WeComFault(INVALID, f"invalid template_id: {template_id}")
    return template_id


def add_group_welcome_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/group_welcome_template/add: at most 100 per corp."""
    content = _template_content(ctx.body, require=True)
    notify = opt_int(ctx.body, "notify")
    if notify not in (None, 0, 1):
        raise WeComFault(INVALID, "invalid notify")
    templates = ctx.state.ext(WelcomeState).templates
    if len(templates) >= MAX_TEMPLATES:
        raise WeComFault(41055, "group welcome template count reaches the limit")
    template_id = ctx.state.new_id("msg")
    templates[template_id] = content
    return {"template_id": template_id}


def edit_group_welcome_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/group_welcome_template/edit: the given objects replace theirs."""
    template_id = _template_id(ctx)
    ctx.state.ext(WelcomeState).templates[template_id].update(
        _template_content(ctx.body, require=False)
    )
    return {}


def get_group_welcome_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/group_welcome_template/get: the content, image as pic_url."""
    return dict(ctx.state.ext(WelcomeState).templates[_template_id(ctx)])


def del_group_welcome_template(ctx: RequestContext) -> JSON:
    """POST externalcontact/group_welcome_template/del."""
    del ctx.state.ext(WelcomeState).templates[_template_id(ctx)]
    return {}


ROUTES = [
    Route("POST", "externalcontact/send_welcome_msg", send_welcome_msg),
    Route("POST", "externalcontact/group_welcome_template/add", add_group_welcome_template),
    Route("POST", "externalcontact/group_welcome_template/edit", edit_group_welcome_template),
    Route("POST", "externalcontact/group_welcome_template/get", get_group_welcome_template),
    Route("POST", "externalcontact/group_welcome_template/del", del_group_welcome_template),
]
