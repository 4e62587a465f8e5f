"""``client.contact_way``: 「联系我」 and 「加入群聊」 ways (endpoints.md #35-#44)."""

from __future__ import annotations

from collections.abc import Mapping

from typing_extensions import Unpack

from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from .._time import TimeArg, to_unix
from .._validation import check_id, check_range
from ..models._base import EmptyResponse, WireStr
from ..models.contact_way import (
    AddContactWayRequest,
    AddContactWayResult,
    AddJoinWayRequest,
    AddJoinWayResponse,
    ContactWay,
    ContactWayListItem,
    GetContactWayResponse,
    GetJoinWayResponse,
    JoinWay,
    ListContactWayResponse,
    UpdateContactWayRequest,
    UpdateJoinWayRequest,
)
from ..pagination import AsyncPaginator
from ._base import Service, cursor_body, request_body

__all__ = ["ContactWayService"]

_ADD = Endpoint(
    "POST", "externalcontact/add_contact_way", retry_safe=False, response=AddContactWayResult
)
_GET = Endpoint(
    "POST",
    "externalcontact/get_contact_way",
    retry_safe=True,
    response=GetContactWayResponse,
    key="contact_way",
)
_LIST = Endpoint(
    "POST",
    "externalcontact/list_contact_way",
    retry_safe=True,
    response=ListContactWayResponse,
    key="contact_way",
)
_UPDATE = Endpoint(
    "POST", "externalcontact/update_contact_way", retry_safe=True, response=EmptyResponse
)
_DELETE = Endpoint(
    "POST", "externalcontact/del_contact_way", retry_safe=False, response=EmptyResponse
)
_CLOSE_TEMP_CHAT = Endpoint(
    "POST", "externalcontact/close_temp_chat", retry_safe=False, response=EmptyResponse
)
_ADD_JOIN_WAY = Endpoint(
    "POST",
    "externalcontact/groupchat/add_join_way",
    retry_safe=False,
    response=AddJoinWayResponse,
    key="config_id",
)
_GET_JOIN_WAY = Endpoint(
    "POST",
    "externalcontact/groupchat/get_join_way",
    retry_safe=True,
    response=GetJoinWayResponse,
    key="join_way",
)
_UPDATE_JOIN_WAY = Endpoint(
    "POST", "externalcontact/groupchat/update_join_way", retry_safe=True, response=EmptyResponse
)
_DEL_JOIN_WAY = Endpoint(
    "POST", "externalcontact/groupchat/del_join_way", retry_safe=False, response=EmptyResponse
)

#: list_contact_way returns at most this many config ids per page.
MAX_LIST_LIMIT = 1000


class ContactWayService(Service):
    """「联系我」 contact ways (QR codes and mini-program buttons) and 「加入群聊」 join ways.

    Ways created through the API are not shown in WeCom's admin console: keep the returned
    ``config_id``, it is the only handle to edit or delete them. Contact ways and join ways
    share one quota of 500,000 per corp (temp-session ways do not count; 41045).
    """

    async def add(
        self, body: AddContactWayRequest | Mapping[str, object], **options: Unpack[RequestOptions]
    ) -> AddContactWayResult:
        """Create a 「联系我」 QR code (scene 2) or mini-program button (scene 1).

        ``POST /cgi-bin/externalcontact/add_contact_way``

        Not retry-safe: after an ambiguous failure (timeout, errcode -1) it is not resent,
        since a second way could be created; check with :meth:`list` before trying again.

        Args:
            body: an :class:`AddContactWayRequest` or a mapping of its wire fields (validated
                the same way).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The new ``config_id`` and, for scene 2, the ``qr_code`` URL.

        Raises:
            ValidationError: a documented rule of :class:`AddContactWayRequest` is broken
                (nothing is sent).
            PermissionDeniedError: a member is outside the app's visible range (60011).
            APIError: 41041 over 100 members, 41042 invalid style, 41045 quota reached,
                41054 member not activated or without the customer-contact feature.

        Docs: https://developer.work.weixin.qq.com/document/path/92228
        """
        request = request_body(AddContactWayRequest, body)
        return await self._answer(_ADD, body=request, options=options)

    async def get(self, config_id: str, **options: Unpack[RequestOptions]) -> ContactWay:
        """Get one contact way's configuration.

        ``POST /cgi-bin/externalcontact/get_contact_way``

        Args:
            config_id: the id :meth:`add` returned.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`ContactWay` (a conclusions image comes back as ``pic_url``).

        Raises:
            ValidationError: ``config_id`` is empty.
            APIError: 41044 unknown config_id.

        Docs: https://developer.work.weixin.qq.com/document/path/92228
        """
        check_id(config_id, "config_id")
        body = {"config_id": config_id}
        return await self._model_part(_GET, ContactWay, body=body, options=options)

    def list(
        self,
        *,
        start_time: TimeArg | None = None,
        end_time: TimeArg | None = None,
        limit: int = MAX_LIST_LIMIT,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[str]:
        """Page through the config ids of the corp's contact ways, by creation time.

        ``POST /cgi-bin/externalcontact/list_contact_way``

        Sends nothing until awaited or iterated. Only ways created after 2021-07-10 are
        listed, and never temp-session ways.

        Args:
            start_time: created at or after this (Unix seconds or an aware datetime);
                WeCom's default is 90 days ago.
            end_time: created at or before this; WeCom's default is now.
            limit: ids per page, 1 to 1000 (WeCom's default is 100).
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of config ids (``str``).

        Raises:
            ValidationError: a naive datetime, ``start_time`` after ``end_time``, or
                ``limit`` outside 1-1000.

        Docs: https://developer.work.weixin.qq.com/document/path/92228
        """
        check_range(limit, "limit", low=1, high=MAX_LIST_LIMIT)
        start = None if start_time is None else to_unix(start_time, name="start_time")
        end = None if end_time is None else to_unix(end_time, name="end_time")
        if start is not None and end is not None and start > end:
            raise ValidationError(f"start_time ({start}) is after end_time ({end})")
        window = {k: v for k, v in (("start_time", start), ("end_time", end)) if v is not None}
        body = {**window, "limit": limit}
        return self._paginate_as(
            _LIST,
            ContactWayListItem,
            lambda token: (None, cursor_body(body, token)),
            lambda way: way.config_id,
            start=cursor,
            options=options,
        )

    async def update(
        self,
        body: UpdateContactWayRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> None:
        """Change a contact way; only the fields given change.

        ``POST /cgi-bin/externalcontact/update_contact_way``

        ``remark``, ``user`` and ``party`` overwrite the old values. An expired
        temp-session way can no longer be edited.

        Args:
            body: an :class:`UpdateContactWayRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: a documented rule of :class:`UpdateContactWayRequest` is
                broken (nothing is sent).
            APIError: 41044 unknown config_id (or an expired temp-session way), 41041 too
                many members, 41042 invalid style, 41054 member without the feature.

        Docs: https://developer.work.weixin.qq.com/document/path/92228
        """
        request = request_body(UpdateContactWayRequest, body)
        await self._none(_UPDATE, body=request, options=options)

    async def delete(self, config_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a contact way (its QR code or button stops working).

        ``POST /cgi-bin/externalcontact/del_contact_way``

        Not retry-safe: not resent after an ambiguous failure.

        Args:
            config_id: the id :meth:`add` returned.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``config_id`` is empty.
            APIError: 41044 unknown config_id.

        Docs: https://developer.work.weixin.qq.com/document/path/92228
        """
        check_id(config_id, "config_id")
        await self._none(_DELETE, body={"config_id": config_id}, options=options)

    async def close_temp_chat(
        self, userid: str, external_userid: str, **options: Unpack[RequestOptions]
    ) -> None:
        """End a temp session between a member and a customer, sending its conclusions first.

        ``POST /cgi-bin/externalcontact/close_temp_chat``

        Only a still-valid temp session started through a temp-session contact way can be
        closed; contacts added any other way cannot. Not retry-safe.

        Args:
            userid: the member's userid.
            external_userid: the customer's external_userid.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: an id is empty.
            APIError: e.g. 84061 no live temp session between them, 40096 unknown customer.

        Docs: https://developer.work.weixin.qq.com/document/path/92228
        """
        check_id(userid, "userid")
        check_id(external_userid, "external_userid")
        body = {"userid": userid, "external_userid": external_userid}
        await self._none(_CLOSE_TEMP_CHAT, body=body, options=options)

    async def add_join_way(
        self, body: AddJoinWayRequest | Mapping[str, object], **options: Unpack[RequestOptions]
    ) -> WireStr:
        """Create a 「加入群聊」 way (QR code or mini-program plugin) for up to 5 groups.

        ``POST /cgi-bin/externalcontact/groupchat/add_join_way``

        Not retry-safe: not resent after an ambiguous failure.

        Args:
            body: an :class:`AddJoinWayRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The new ``config_id`` (fetch the QR code with :meth:`get_join_way`).

        Raises:
            ValidationError: a documented rule of :class:`AddJoinWayRequest` is broken.
            APIError: 41091 more than 5 groups, 41045 quota reached, or an unknown chat id.

        Docs: https://developer.work.weixin.qq.com/document/path/92229
        """
        request = request_body(AddJoinWayRequest, body)
        return await self._str_part(_ADD_JOIN_WAY, body=request, options=options)

    async def get_join_way(self, config_id: str, **options: Unpack[RequestOptions]) -> JoinWay:
        """Get one join way's configuration, its QR code or plugin URL included.

        ``POST /cgi-bin/externalcontact/groupchat/get_join_way``

        Args:
            config_id: the id :meth:`add_join_way` returned.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`JoinWay`.

        Raises:
            ValidationError: ``config_id`` is empty.
            APIError: 41044 unknown config_id.

        Docs: https://developer.work.weixin.qq.com/document/path/92229
        """
        check_id(config_id, "config_id")
        body = {"config_id": config_id}
        return await self._model_part(_GET_JOIN_WAY, JoinWay, body=body, options=options)

    async def update_join_way(
        self, body: UpdateJoinWayRequest | Mapping[str, object], **options: Unpack[RequestOptions]
    ) -> None:
        """Replace a join way's whole configuration.

        ``POST /cgi-bin/externalcontact/groupchat/update_join_way``

        Full overwrite: ``scene`` and ``chat_id_list`` are required, and every optional
        field left out (remark, auto_create_room, room_base_name, room_base_id, state,
        mark_source) is reset to WeCom's default rather than kept. To change one field,
        read the way with :meth:`get_join_way` and send everything back.

        Args:
            body: an :class:`UpdateJoinWayRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: a documented rule of :class:`UpdateJoinWayRequest` is broken.
            APIError: 41044 unknown config_id, 41091 more than 5 groups.

        Docs: https://developer.work.weixin.qq.com/document/path/92229
        """
        request = request_body(UpdateJoinWayRequest, body)
        await self._none(_UPDATE_JOIN_WAY, body=request, options=options)

    async def delete_join_way(self, config_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a join way.

        ``POST /cgi-bin/externalcontact/groupchat/del_join_way``

        Not retry-safe: not resent after an ambiguous failure.

        Args:
            config_id: the id :meth:`add_join_way` returned.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``config_id`` is empty.
            APIError: 41044 unknown config_id.

        Docs: https://developer.work.weixin.qq.com/document/path/92229
        """
        check_id(config_id, "config_id")
        await self._none(_DEL_JOIN_WAY, body={"config_id": config_id}, options=options)
