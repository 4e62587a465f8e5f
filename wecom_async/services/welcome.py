"""The welcome methods of ``client.messages``: welcome messages and group welcome templates
(欢迎语), endpoints.md #67-#71.

:class:`WelcomeService` is the base :class:`~wecom_async.MessagesService` extends, so
``client.messages`` keeps every method while each group of endpoints has its own module.
"""

from __future__ import annotations

from collections.abc import Mapping

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from .._validation import check_id
from ..models._base import EmptyResponse, WireStr
from ..models.welcome import (
    AddGroupWelcomeTemplateRequest,
    AddGroupWelcomeTemplateResponse,
    EditGroupWelcomeTemplateRequest,
    GroupWelcomeTemplate,
    SendWelcomeMsgRequest,
)
from ._base import Service, request_body

__all__ = ["WelcomeService"]

_SEND_WELCOME = Endpoint(
    "POST", "externalcontact/send_welcome_msg", retry_safe=False, response=EmptyResponse
)
_TEMPLATE_ADD = Endpoint(
    "POST",
    "externalcontact/group_welcome_template/add",
    retry_safe=False,
    response=AddGroupWelcomeTemplateResponse,
    key="template_id",
)
_TEMPLATE_EDIT = Endpoint(
    "POST", "externalcontact/group_welcome_template/edit", retry_safe=True, response=EmptyResponse
)
_TEMPLATE_GET = Endpoint(
    "POST",
    "externalcontact/group_welcome_template/get",
    retry_safe=True,
    response=GroupWelcomeTemplate,
)
_TEMPLATE_DEL = Endpoint(
    "POST", "externalcontact/group_welcome_template/del", retry_safe=False, response=EmptyResponse
)


class WelcomeService(Service):
    """Welcome messages (欢迎语) and group welcome templates (入群欢迎语素材).

    Reached through ``client.messages``, whose service class extends this one.
    """

    async def send_welcome_msg(
        self, body: SendWelcomeMsgRequest | Mapping[str, object], **options: Unpack[RequestOptions]
    ) -> None:
        """Send the welcome message to a customer who just added a member.

        ``POST /cgi-bin/externalcontact/send_welcome_msg``

        The ``welcome_code`` of the add_external_contact event is valid for 20 seconds and
        usable once, so this call is never resent after an ambiguous failure.

        Args:
            body: a :class:`SendWelcomeMsgRequest` or a mapping of its wire fields.
                ``attachments[]`` is the current shape; the legacy top-level
                ``image`` / ``link`` / ``miniprogram`` shape is sent as given.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: no welcome_code, no content, text over 4000 bytes, more than
                9 attachments or an incomplete one (nothing sent).
            APIError: 41050 invalid or expired code, 41051 the chat already started (do
                not retry), 41096 another app is sending it.

        Docs: https://developer.work.weixin.qq.com/document/path/92137
        """
        await self._none(
            _SEND_WELCOME, body=request_body(SendWelcomeMsgRequest, body), options=options
        )

    async def add_group_welcome_template(
        self,
        body: AddGroupWelcomeTemplateRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> WireStr:
        """Create a group welcome template (入群欢迎语素材).

        ``POST /cgi-bin/externalcontact/group_welcome_template/add``

        Args:
            body: an :class:`AddGroupWelcomeTemplateRequest` or a mapping of its wire
                fields; text may contain ``%NICKNAME%``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The new ``template_id``.

        Raises:
            ValidationError: no content, text over 3000 bytes or an incomplete object.
            APIError: 41055 the corp already has 100 templates.

        Docs: https://developer.work.weixin.qq.com/document/path/92366
        """
        request = request_body(AddGroupWelcomeTemplateRequest, body)
        return await self._str_part(_TEMPLATE_ADD, body=request, options=options)

    async def edit_group_welcome_template(
        self,
        body: EditGroupWelcomeTemplateRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> None:
        """Change a group welcome template created by this app.

        ``POST /cgi-bin/externalcontact/group_welcome_template/edit``

        Args:
            body: an :class:`EditGroupWelcomeTemplateRequest` or a mapping of its wire
                fields (``template_id`` and the content to set).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: no template_id, text over 3000 bytes or an incomplete object.
            APIError: 41058 the template belongs to another app.

        Docs: https://developer.work.weixin.qq.com/document/path/92366
        """
        await self._none(
            _TEMPLATE_EDIT,
            body=request_body(EditGroupWelcomeTemplateRequest, body),
            options=options,
        )

    async def get_group_welcome_template(
        self, template_id: str, **options: Unpack[RequestOptions]
    ) -> GroupWelcomeTemplate:
        """Get a group welcome template (its image comes back as ``pic_url`` only).

        ``POST /cgi-bin/externalcontact/group_welcome_template/get``

        Args:
            template_id: the template id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The template's content objects.

        Raises:
            ValidationError: ``template_id`` is empty.
            APIError: the template does not exist.

        Docs: https://developer.work.weixin.qq.com/document/path/92366
        """
        body = {"template_id": check_id(template_id, "template_id")}
        return await self._answer(_TEMPLATE_GET, body=body, options=options)

    async def delete_group_welcome_template(
        self, template_id: str, **options: Unpack[RequestOptions]
    ) -> None:
        """Delete a group welcome template created by this app.

        ``POST /cgi-bin/externalcontact/group_welcome_template/del``

        Args:
            template_id: the template id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``template_id`` is empty.
            APIError: 41058 the template belongs to another app, or it does not exist.

        Docs: https://developer.work.weixin.qq.com/document/path/92366
        """
        body = {"template_id": check_id(template_id, "template_id")}
        await self._none(_TEMPLATE_DEL, body=body, options=options)
