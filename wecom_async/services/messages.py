"""``client.messages``: mass messages (企业群发), endpoints.md #59-#65.

The welcome messages and group welcome templates it also offers live in
``services/welcome.py`` (:class:`~wecom_async.services.welcome.WelcomeService`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs
from typing_extensions import Unpack

from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from .._time import TimeArg, time_window
from .._validation import check_id, check_range
from ..models._base import EmptyResponse
from ..models.messages import (
    CHAT_TYPES,
    AddMsgTemplateRequest,
    AddMsgTemplateResult,
    ChatType,
    GetGroupMsgResultResponse,
    GroupMsg,
    GroupMsgListResponse,
    GroupMsgResult,
    GroupMsgSendResult,
    GroupMsgSendResultResponse,
    GroupMsgTask,
    GroupMsgTaskResponse,
    LegacyGroupMsg,
    LegacyGroupMsgListResponse,
)
from ..pagination import AsyncPaginator
from ._base import cursor_body, request_body
from .welcome import WelcomeService

__all__ = ["MAX_GROUPMSG_LIST_SPAN", "MessagesService"]

_ADD_MSG_TEMPLATE = Endpoint(
    "POST", "externalcontact/add_msg_template", retry_safe=False, response=AddMsgTemplateResult
)
_GET_GROUPMSG_LIST = Endpoint(
    "POST",
    "externalcontact/get_groupmsg_list_v2",
    retry_safe=True,
    response=GroupMsgListResponse,
    key="group_msg_list",
)
_GET_GROUPMSG_LIST_V1 = Endpoint(
    "POST",
    "externalcontact/get_groupmsg_list",
    retry_safe=True,
    response=LegacyGroupMsgListResponse,
    key="group_msg_list",
)
_GET_GROUPMSG_TASK = Endpoint(
    "POST",
    "externalcontact/get_groupmsg_task",
    retry_safe=True,
    response=GroupMsgTaskResponse,
    key="task_list",
)
_GET_GROUPMSG_SEND_RESULT = Endpoint(
    "POST",
    "externalcontact/get_groupmsg_send_result",
    retry_safe=True,
    response=GroupMsgSendResultResponse,
    key="send_list",
)
_REMIND = Endpoint(
    "POST", "externalcontact/remind_groupmsg_send", retry_safe=False, response=EmptyResponse
)
_CANCEL = Endpoint(
    "POST", "externalcontact/cancel_groupmsg_send", retry_safe=False, response=EmptyResponse
)
_GET_GROUP_MSG_RESULT = Endpoint(
    "POST",
    "externalcontact/get_group_msg_result",
    retry_safe=True,
    response=GetGroupMsgResultResponse,
)

#: get_groupmsg_list_v2: end_time - start_time may be at most one month (31 days).
MAX_GROUPMSG_LIST_SPAN: Final = 31 * 86400
_MAX_LIST_LIMIT: Final = 100
_MAX_TASK_LIMIT: Final = 1000


def _groupmsg_list_body(
    chat_type: ChatType,
    start_time: TimeArg,
    end_time: TimeArg,
    creator: str | None,
    filter_type: int,
    limit: int,
) -> dict[str, object]:
    """The checked body of get_groupmsg_list (v1 and v2 send the same request)."""
    if chat_type not in CHAT_TYPES:
        raise ValidationError(f"chat_type must be 'single' or 'group', got {chat_type!r}")
    start, end = time_window(start_time, end_time, max_seconds=MAX_GROUPMSG_LIST_SPAN)
    check_range(filter_type, "filter_type", low=0, high=2)
    check_range(limit, "limit", low=1, high=_MAX_LIST_LIMIT)
    return {
        "chat_type": chat_type,
        "start_time": start,
        "end_time": end,
        **({"creator": check_id(creator, "creator")} if creator is not None else {}),
        "filter_type": filter_type,
        "limit": limit,
    }


class MessagesService(WelcomeService):
    """Corp mass messages (企业群发); welcome messages and group welcome templates come
    from :class:`WelcomeService`."""

    async def add_msg_template(
        self,
        body: AddMsgTemplateRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> AddMsgTemplateResult:
        """Create a mass message to customers or customer groups; members confirm it.

        ``POST /cgi-bin/externalcontact/add_msg_template``

        Nothing is sent until each member confirms in the client. Never resent after an
        ambiguous failure (a timeout or dropped connection may hide a created message).

        Args:
            body: an :class:`AddMsgTemplateRequest` or a mapping of its wire fields.
                ``attachments[]`` is the current shape; the legacy top-level
                ``image`` / ``link`` / ``miniprogram`` shape is sent as given.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            ``msgid`` and ``fail_list`` (ids that are invalid or cannot be reached).

        Raises:
            ValidationError: a rule of :class:`AddMsgTemplateRequest` is broken (nothing sent).
            APIError: 41048 no sendable customer, 41064 / 41065 attachments, 40007 media.
            PermissionDeniedError: 60011 the sender is outside the app's visible range.

        Docs: https://developer.work.weixin.qq.com/document/path/92135
        """
        request = request_body(AddMsgTemplateRequest, body)
        return await self._answer(_ADD_MSG_TEMPLATE, body=request, options=options)

    def get_groupmsg_list(
        self,
        chat_type: ChatType,
        start_time: TimeArg,
        end_time: TimeArg,
        *,
        creator: str | None = None,
        filter_type: int = 2,
        limit: int = 100,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[GroupMsg]:
        """Page through the mass messages created in a time window (at most one month).

        ``POST /cgi-bin/externalcontact/get_groupmsg_list_v2``

        Args:
            chat_type: "single" (to customers) or "group" (to customer groups).
            start_time: window start, Unix seconds or an aware datetime.
            end_time: window end, at most 31 days after ``start_time``.
            creator: only messages created by this member.
            filter_type: 0 corp messages, 1 personal messages, 2 all (default).
            limit: records per page, 1 to 100.
            cursor: resume from this ``next_cursor``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`GroupMsg`.

        Raises:
            ValidationError: a bad chat_type, naive datetime, a window over 31 days or
                reversed, an empty creator, filter_type outside 0-2 or limit outside 1-100.

        Docs: https://developer.work.weixin.qq.com/document/path/93338
        """
        body = _groupmsg_list_body(chat_type, start_time, end_time, creator, filter_type, limit)
        return self._cursor_paginate(
            _GET_GROUPMSG_LIST, GroupMsg, body, start=cursor, options=options
        )

    def get_groupmsg_list_v1(
        self,
        chat_type: ChatType,
        start_time: TimeArg,
        end_time: TimeArg,
        *,
        creator: str | None = None,
        filter_type: int = 2,
        limit: int = 100,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[LegacyGroupMsg]:
        """Page through mass messages in the legacy v1 shape (deprecated).

        ``POST /cgi-bin/externalcontact/get_groupmsg_list``

        Deprecated: use :meth:`get_groupmsg_list` (``get_groupmsg_list_v2``), whose
        records carry every attachment. This v1 call reports the content of clients
        before 3.1.6: ``text`` plus at most one top-level image, link, mini program or
        video. Same request, limits and paging as v2.

        Args:
            chat_type: "single" (to customers) or "group" (to customer groups).
            start_time: window start, Unix seconds or an aware datetime.
            end_time: window end, at most 31 days after ``start_time``.
            creator: only messages created by this member.
            filter_type: 0 corp messages, 1 personal messages, 2 all (default).
            limit: records per page, 1 to 100.
            cursor: resume from this ``next_cursor``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`LegacyGroupMsg`.

        Raises:
            ValidationError: as for :meth:`get_groupmsg_list` (nothing is sent).

        Docs: https://developer.work.weixin.qq.com/document/path/93338
        """
        body = _groupmsg_list_body(chat_type, start_time, end_time, creator, filter_type, limit)
        return self._cursor_paginate(
            _GET_GROUPMSG_LIST_V1, LegacyGroupMsg, body, start=cursor, options=options
        )

    def get_groupmsg_task(
        self,
        msgid: str,
        *,
        limit: int = 1000,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[GroupMsgTask]:
        """Page through the members asked to send a mass message, and whether they did.

        ``POST /cgi-bin/externalcontact/get_groupmsg_task``

        Messages created before 2020-11-17 have no tasks: use :meth:`get_group_msg_result`.

        Args:
            msgid: the message id from :meth:`add_msg_template` or the list.
            limit: tasks per page, 1 to 1000.
            cursor: resume from this ``next_cursor``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`GroupMsgTask` (status 0 not sent, 2 sent;
            older messages may report 1).

        Raises:
            ValidationError: ``msgid`` is empty or ``limit`` outside 1-1000.
            APIError: 41047 unknown msgid, 41063 the message is still being dispatched.

        Docs: https://developer.work.weixin.qq.com/document/path/93338
        """
        check_id(msgid, "msgid")
        check_range(limit, "limit", low=1, high=_MAX_TASK_LIMIT)
        body = {"msgid": msgid, "limit": limit}
        return self._cursor_paginate(
            _GET_GROUPMSG_TASK, GroupMsgTask, body, start=cursor, options=options
        )

    def get_groupmsg_send_result(
        self,
        msgid: str,
        userid: str,
        *,
        limit: int = 1000,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[GroupMsgSendResult]:
        """Page through one member's recipients of a mass message and what each got.

        ``POST /cgi-bin/externalcontact/get_groupmsg_send_result``

        For group messages only the groups actually sent to are listed.

        Args:
            msgid: the message id.
            userid: the member whose recipients to list.
            limit: results per page, 1 to 1000.
            cursor: resume from this ``next_cursor``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`GroupMsgSendResult` (status 0 not sent,
            1 sent, 2 not a friend, 3 quota used up / already received another).

        Raises:
            ValidationError: an empty id or ``limit`` outside 1-1000.
            APIError: 41047 unknown msgid, 41063 still being dispatched.

        Docs: https://developer.work.weixin.qq.com/document/path/93338
        """
        check_id(msgid, "msgid")
        check_id(userid, "userid")
        check_range(limit, "limit", low=1, high=_MAX_TASK_LIMIT)
        body = {"msgid": msgid, "userid": userid, "limit": limit}
        return self._cursor_paginate(
            _GET_GROUPMSG_SEND_RESULT,
            GroupMsgSendResult,
            body,
            start=cursor,
            options=options,
        )

    async def remind_groupmsg_send(self, msgid: str, **options: Unpack[RequestOptions]) -> None:
        """Notify the members who have not yet sent a mass message again.

        ``POST /cgi-bin/externalcontact/remind_groupmsg_send``

        At most 3 reminders per message within 24 hours. Never resent after an ambiguous
        failure (a reminder may already have gone out and count against the 3).

        Args:
            msgid: the message id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``msgid`` is empty.
            APIError: 41094 more than 3 reminders in 24 h, 41047 unknown msgid, 41093 cancelled.

        Docs: https://developer.work.weixin.qq.com/document/path/97610
        """
        await self._none(_REMIND, body={"msgid": check_id(msgid, "msgid")}, options=options)

    async def cancel_groupmsg_send(self, msgid: str, **options: Unpack[RequestOptions]) -> None:
        """Stop members from sending a mass message further (delivered ones stay).

        ``POST /cgi-bin/externalcontact/cancel_groupmsg_send``

        Args:
            msgid: the message id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``msgid`` is empty.
            APIError: 41093 already cancelled, 41047 unknown msgid.

        Docs: https://developer.work.weixin.qq.com/document/path/97611
        """
        await self._none(_CANCEL, body={"msgid": check_id(msgid, "msgid")}, options=options)

    async def get_group_msg_result(
        self, msgid: str, **options: Unpack[RequestOptions]
    ) -> GroupMsgResult:
        """Get the review status and every recipient of a mass message (legacy API).

        ``POST /cgi-bin/externalcontact/get_group_msg_result``

        Deprecated by WeCom in favour of :meth:`get_groupmsg_task` and
        :meth:`get_groupmsg_send_result`; still the only way to read messages created
        before 2020-11-17. The request carries only ``msgid``; should WeCom page the answer
        (WxJava reports ``next_cursor``), every page is fetched and merged.

        Args:
            msgid: the message id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            :class:`GroupMsgResult` with ``check_status`` and all of ``detail_list``.

        Raises:
            ValidationError: ``msgid`` is empty.
            APIError: 41047 unknown msgid.
            ResponseError: WeCom handed back a cursor already followed (a loop).

        Docs: https://developer.work.weixin.qq.com/document/path/93338 (successor APIs)
        """
        body = {"msgid": check_id(msgid, "msgid")}

        def merge(pages: list[GroupMsgResult]) -> GroupMsgResult:
            details = [detail for page in pages for detail in page.detail_list]
            return attrs.evolve(pages[0], detail_list=details)

        return await self._merged(
            _GET_GROUP_MSG_RESULT,
            GroupMsgResult,
            lambda token: (None, cursor_body(body, token)),
            merge,
            options=options,
        )
