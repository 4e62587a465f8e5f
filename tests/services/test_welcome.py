"""client.messages welcome messages and group welcome templates (endpoints.md #67-#71)."""

from __future__ import annotations

from typing import Any

import pytest

from wecom_async import APIError, ValidationError, WeComClient
from wecom_async.models.attachments import (
    File,
    FileAttachment,
    Image,
    Link,
    Miniprogram,
    MiniprogramAttachment,
    Text,
)
from wecom_async.models.welcome import (
    NICKNAME_PLACEHOLDER,
    AddGroupWelcomeTemplateRequest,
    EditGroupWelcomeTemplateRequest,
    SendWelcomeMsgRequest,
)
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._welcome_state import (
    WelcomeState,
)

WELCOME = "externalcontact/send_welcome_msg"
T_ADD = "externalcontact/group_welcome_template/add"
T_EDIT = "externalcontact/group_welcome_template/edit"
T_GET = "externalcontact/group_welcome_template/get"
T_DEL = "externalcontact/group_welcome_template/del"
MINI = Miniprogram(title="小程序", pic_media_id="PIC", appid="wx1", page="/index")


def sent(fake: FakeWeCom, path: str) -> tuple[str, dict[str, Any] | None]:
    request = fake.requests[-1]
    assert request.path == path
    return request.method, request.json


async def welcome_error(client: WeComClient, code: str) -> int:
    with pytest.raises(APIError) as caught:
        await client.messages.send_welcome_msg({"welcome_code": code, "text": {"content": "hi"}})
    return caught.value.errcode


# -- send_welcome_msg --------------------------------------------------------------------------


async def test_a_welcome_code_sends_once(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    code = wecom_fake.issue_welcome_code("zhangsan", "wmNew")
    await wecom_client.messages.send_welcome_msg({"welcome_code": code, "text": {"content": "hi"}})
    assert sent(wecom_fake, WELCOME) == ("POST", {"welcome_code": code, "text": {"content": "hi"}})
    [message] = wecom_fake.welcome_messages()
    assert (message.userid, message.external_userid, message.welcome_code) == (
        "zhangsan",
        "wmNew",
        code,
    )
    assert message.content == {"text": {"content": "hi"}}
    assert await welcome_error(wecom_client, code) == 41051
    assert len(wecom_fake.welcome_messages()) == 1


async def test_a_welcome_code_expires_after_20_seconds(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    fresh = wecom_fake.issue_welcome_code("zhangsan", "wmA")
    wecom_fake.clock.advance(19.5)
    await wecom_client.messages.send_welcome_msg({"welcome_code": fresh, "text": {"content": "hi"}})
    stale = wecom_fake.issue_welcome_code("zhangsan", "wmB")
    wecom_fake.clock.advance(20.5)
    assert await welcome_error(wecom_client, stale) == 41050
    assert await welcome_error(wecom_client, "never-issued") == 41050
    assert [m.external_userid for m in wecom_fake.welcome_messages()] == ["wmA"]


async def test_welcome_attachments_current_shape(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    code = wecom_fake.issue_welcome_code("zhangsan", "wmA")
    body = SendWelcomeMsgRequest(
        welcome_code=code,
        text=Text(content="欢迎"),
        attachments=[
            MiniprogramAttachment(miniprogram=MINI),
            FileAttachment(file=File(media_id="F")),
        ],
    )
    await wecom_client.messages.send_welcome_msg(body)
    assert sent(wecom_fake, WELCOME)[1] == {
        "welcome_code": code,
        "text": {"content": "欢迎"},
        "attachments": [
            {
                "msgtype": "miniprogram",
                "miniprogram": {
                    "title": "小程序",
                    "pic_media_id": "PIC",
                    "appid": "wx1",
                    "page": "/index",
                },
            },
            {"msgtype": "file", "file": {"media_id": "F"}},
        ],
    }


@pytest.mark.parametrize(
    "content",
    [
        {"image": {"media_id": "MEDIA"}},
        {
            "text": {"content": "hi"},
            "link": {"title": "t", "url": "https://example.org", "desc": "d"},
        },
        {"miniprogram": {"title": "t", "pic_media_id": "P", "appid": "wx1", "page": "/p"}},
    ],
)
async def test_welcome_legacy_shape_is_sent_as_given(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, content: dict[str, Any]
) -> None:
    code = wecom_fake.issue_welcome_code("zhangsan", "wmA")
    await wecom_client.messages.send_welcome_msg({"welcome_code": code, **content})
    assert sent(wecom_fake, WELCOME) == ("POST", {"welcome_code": code, **content})
    assert wecom_fake.welcome_messages()[0].content == content


@pytest.mark.parametrize(
    "body",
    [
        {"text": {"content": "hi"}},
        {"welcome_code": "", "text": {"content": "hi"}},
        {"welcome_code": "C"},
        {"welcome_code": "C", "text": {"content": "字" * 1334}},
        {"welcome_code": "C", "attachments": [{"msgtype": "file", "file": {"media_id": "F"}}] * 10},
        {"welcome_code": "C", "attachments": [{"msgtype": "link", "link": {"url": "https://x"}}]},
        {
            "welcome_code": "C",
            "image": {"media_id": "M"},
            "attachments": [{"msgtype": "file", "file": {"media_id": "F"}}],
        },
        {"welcome_code": "C", "image": {}},
        {"welcome_code": "C", "text": {"content": "hi"}, "sender": "zhangsan"},
    ],
)
async def test_welcome_refuses_locally(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.messages.send_welcome_msg(body)
    assert wecom_fake.calls(WELCOME) == 0


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"text": {"content": "hi"}}, 41049),
        ({"welcome_code": "CODE"}, 40063),
        (
            {
                "welcome_code": "CODE",
                "attachments": [{"msgtype": "file", "file": {"media_id": "F"}}] * 10,
            },
            41064,
        ),
    ],
)
async def test_the_fake_checks_welcome_bodies_too(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any], errcode: int
) -> None:
    if "welcome_code" in body:
        body = {**body, "welcome_code": wecom_fake.issue_welcome_code("zhangsan", "wmA")}
    with pytest.raises(APIError) as caught:
        await wecom_client.request("POST", WELCOME, json=body)
    assert caught.value.errcode == errcode
    assert wecom_fake.welcome_messages() == []


# -- group welcome templates -------------------------------------------------------------------


async def test_template_lifecycle(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    greeting = f"亲爱的{NICKNAME_PLACEHOLDER}，欢迎入群"
    body = AddGroupWelcomeTemplateRequest(
        text=Text(content=greeting), image=Image(media_id="MEDIA"), notify=0
    )
    template_id = await wecom_client.messages.add_group_welcome_template(body)
    assert sent(wecom_fake, T_ADD) == (
        "POST",
        {"text": {"content": greeting}, "image": {"media_id": "MEDIA"}, "notify": 0},
    )
    template = await wecom_client.messages.get_group_welcome_template(template_id)
    assert sent(wecom_fake, T_GET) == ("POST", {"template_id": template_id})
    assert template.text == Text(content=greeting)
    assert template.image is not None
    assert template.image.media_id is None
    assert template.image.pic_url is not None
    assert template.image.pic_url.startswith("https://")
    edit = EditGroupWelcomeTemplateRequest(
        template_id=template_id, link=Link(title="活动", url="https://example.org")
    )
    await wecom_client.messages.edit_group_welcome_template(edit)
    assert sent(wecom_fake, T_EDIT) == (
        "POST",
        {"template_id": template_id, "link": {"title": "活动", "url": "https://example.org"}},
    )
    edited = await wecom_client.messages.get_group_welcome_template(template_id)
    assert edited.link == Link(title="活动", url="https://example.org")
    assert edited.text == template.text
    await wecom_client.messages.delete_group_welcome_template(template_id)
    assert sent(wecom_fake, T_DEL) == ("POST", {"template_id": template_id})
    with pytest.raises(APIError) as caught:
        await wecom_client.messages.get_group_welcome_template(template_id)
    assert caught.value.errcode == 40058


async def test_a_corp_holds_at_most_100_templates(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    for n in range(100):
        await wecom_client.messages.add_group_welcome_template({"text": {"content": f"欢迎 {n}"}})
    with pytest.raises(APIError) as caught:
        await wecom_client.messages.add_group_welcome_template({"text": {"content": "one more"}})
    assert caught.value.errcode == 41055
    assert len(wecom_fake.state.ext(WelcomeState).templates) == 100


async def test_template_text_limit_is_3000_bytes(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    text = NICKNAME_PLACEHOLDER + "字" * 996  # 10 + 2988 bytes
    await wecom_client.messages.add_group_welcome_template({"text": {"content": text}})
    with pytest.raises(ValidationError, match="3000"):
        await wecom_client.messages.add_group_welcome_template({"text": {"content": text + "字"}})
    with pytest.raises(APIError) as caught:
        await wecom_client.request("POST", T_ADD, json={"text": {"content": text + "字"}})
    assert caught.value.errcode == 40058
    assert wecom_fake.calls(T_ADD) == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": {"content": ""}},
        {"text": {"content": "hi"}, "notify": 2},
        {"link": {"title": "t"}},
        {"miniprogram": {"title": "t", "appid": "wx1", "page": "/p"}},
        {"file": {}},
        {"video": {}},
        {"image": {}},
        {"text": {"content": "hi"}, "attachments": []},
    ],
)
async def test_template_add_refuses_locally(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await wecom_client.messages.add_group_welcome_template(body)
    assert wecom_fake.calls(T_ADD) == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.messages.edit_group_welcome_template({"text": {"content": "hi"}}),
        lambda c: c.messages.edit_group_welcome_template(
            {"template_id": "", "text": {"content": "hi"}}
        ),
        lambda c: c.messages.edit_group_welcome_template(
            {"template_id": "t", "text": {"content": "字" * 1001}}
        ),
        lambda c: c.messages.get_group_welcome_template(""),
        lambda c: c.messages.delete_group_welcome_template(" "),
    ],
)
async def test_template_calls_refuse_locally(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, call: Any
) -> None:
    with pytest.raises(ValidationError):
        await call(wecom_client)
    assert len(wecom_fake.requests) == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.messages.edit_group_welcome_template(
            {"template_id": "msgNope", "text": {"content": "hi"}}
        ),
        lambda c: c.messages.delete_group_welcome_template("msgNope"),
    ],
)
async def test_unknown_template_ids(wecom_client: WeComClient, call: Any) -> None:
    with pytest.raises(APIError) as caught:
        await call(wecom_client)
    assert caught.value.errcode == 40058
