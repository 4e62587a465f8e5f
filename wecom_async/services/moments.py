"""``client.moments``: customer moments (客户朋友圈), endpoints.md #45-#52."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeVar

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from .._time import TimeArg, time_window
from .._validation import check_id, check_range
from ..models._base import EmptyResponse, WireStr
from ..models.moments import (
    AddMomentTaskRequest,
    AddMomentTaskResponse,
    Moment,
    MomentComments,
    MomentCustomer,
    MomentCustomerListResponse,
    MomentFilterType,
    MomentListResponse,
    MomentTask,
    MomentTaskListResponse,
    MomentTaskResult,
)
from ..pagination import AsyncPaginator
from ._base import Service, request_body

__all__ = ["MAX_MOMENT_LIST_SPAN", "MomentsService"]

T = TypeVar("T")

_ADD_MOMENT_TASK = Endpoint(
    "POST",
    "externalcontact/add_moment_task",
    retry_safe=False,
    response=AddMomentTaskResponse,
    key="jobid",
)
_GET_MOMENT_TASK_RESULT = Endpoint(
    "GET", "externalcontact/get_moment_task_result", retry_safe=True, response=MomentTaskResult
)
_CANCEL_MOMENT_TASK = Endpoint(
    "POST", "externalcontact/cancel_moment_task", retry_safe=False, response=EmptyResponse
)
_GET_MOMENT_LIST = Endpoint(
    "POST",
    "externalcontact/get_moment_list",
    retry_safe=True,
    response=MomentListResponse,
    key="moment_list",
)
_GET_MOMENT_TASK = Endpoint(
    "POST",
    "externalcontact/get_moment_task",
    retry_safe=True,
    response=MomentTaskListResponse,
    key="task_list",
)
_GET_MOMENT_CUSTOMER_LIST = Endpoint(
    "POST",
    "externalcontact/get_moment_customer_list",
    retry_safe=True,
    response=MomentCustomerListResponse,
    key="customer_list",
)
_GET_MOMENT_SEND_RESULT = Endpoint(
    "POST",
    "externalcontact/get_moment_send_result",
    retry_safe=True,
    response=MomentCustomerListResponse,
    key="customer_list",
)
_GET_MOMENT_COMMENTS = Endpoint(
    "POST", "externalcontact/get_moment_comments", retry_safe=True, response=MomentComments
)

#: get_moment_list: at most 30 days between start_time and end_time.
MAX_MOMENT_LIST_SPAN: Final = 30 * 86400
_MAX_LIST_LIMIT: Final = 20
_MAX_TASK_LIMIT: Final = 1000
_MAX_CUSTOMER_LIMIT: Final = 1000
_MAX_SEND_RESULT_LIMIT: Final = 5000


class MomentsService(Service):
    """Corp moments: publish through an asynchronous job, then read tasks, reach and comments."""

    async def add_moment_task(
        self, body: AddMomentTaskRequest | Mapping[str, object], **options: Unpack[RequestOptions]
    ) -> WireStr:
        """Start an asynchronous job that publishes a corp moment through its executors.

        ``POST /cgi-bin/externalcontact/add_moment_task``

        Poll :meth:`get_moment_task_result` with the returned job id until it reports
        ``status`` 3; its ``result.moment_id`` names the new moment. Never resent after an
        ambiguous failure (a resend could publish the moment twice).

        Args:
            body: an :class:`AddMomentTaskRequest` or a mapping of its wire fields
                (``text``, ``attachments``, ``visible_range``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The job id (valid for 24 hours).

        Raises:
            ValidationError: text and attachments both empty, text over 2000 characters or
                4000 bytes, attachments other than up to 9 images / one video / one link,
                or more than 100,000 executors (nothing is sent).
            RateLimitError: more than 10 creations in a minute (45009).
            APIError: 41078 too many running moment jobs, 41210 monthly quota (100,000)
                spent, 41211 moments not enabled for the corp.

        Docs: https://developer.work.weixin.qq.com/document/path/95094
        """
        request = request_body(AddMomentTaskRequest, body)
        return await self._str_part(_ADD_MOMENT_TASK, body=request, options=options)

    async def get_moment_task_result(
        self, jobid: str, **options: Unpack[RequestOptions]
    ) -> MomentTaskResult:
        """Get the status of a moment job and, once finished, its result.

        ``GET /cgi-bin/externalcontact/get_moment_task_result``

        Only jobs this app submitted can be queried.

        Args:
            jobid: the id returned by :meth:`add_moment_task`.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`MomentTaskResult`: ``status`` 1 started, 2 creating, 3 finished;
            once finished ``result`` holds the ``moment_id`` (or the job's own errcode) and
            the executors and tags that were ignored.

        Raises:
            ValidationError: ``jobid`` is empty.
            APIError: 40088 unknown or expired jobid (mapping by name, unverified).

        Docs: https://developer.work.weixin.qq.com/document/path/95094
        """
        check_id(jobid, "jobid")
        return await self._answer(_GET_MOMENT_TASK_RESULT, params={"jobid": jobid}, options=options)

    async def cancel_moment_task(self, moment_id: str, **options: Unpack[RequestOptions]) -> None:
        """Stop a corp moment from going out to executors who have not published it yet.

        ``POST /cgi-bin/externalcontact/cancel_moment_task``

        Moments already published by a member are not retracted.

        Args:
            moment_id: the corp moment's id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``moment_id`` is empty.
            APIError: 41060 invalid moment_id, 41067 not a corp moment.

        Docs: https://developer.work.weixin.qq.com/document/path/97612
        """
        check_id(moment_id, "moment_id")
        await self._none(_CANCEL_MOMENT_TASK, body={"moment_id": moment_id}, options=options)

    def get_moment_list(
        self,
        start_time: TimeArg,
        end_time: TimeArg,
        *,
        creator: str | None = None,
        filter_type: MomentFilterType | int = MomentFilterType.ALL,
        limit: int = _MAX_LIST_LIMIT,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Moment]:
        """Page through the moments created strictly between two times.

        ``POST /cgi-bin/externalcontact/get_moment_list``

        Sends nothing until awaited or iterated. Deleted moments are not returned.

        Args:
            start_time: Unix seconds or an aware datetime (exclusive).
            end_time: Unix seconds or an aware datetime (exclusive); at most 30 days after
                ``start_time``.
            creator: only moments created by this member.
            filter_type: 0 corp moments, 1 personal moments, 2 both (default).
            limit: moments per page, 1 to 20.
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`Moment`.

        Raises:
            ValidationError: a naive datetime, ``end_time`` not after ``start_time`` or more
                than 30 days after it, ``filter_type`` outside 0-2, ``limit`` outside 1-20,
                or an empty ``creator``.

        Docs: https://developer.work.weixin.qq.com/document/path/93333
        """
        start, end = time_window(
            start_time, end_time, max_seconds=MAX_MOMENT_LIST_SPAN, allow_equal=False
        )
        body: dict[str, object] = {
            "start_time": start,
            "end_time": end,
            "filter_type": int(check_range(filter_type, "filter_type", low=0, high=2)),
            "limit": check_range(limit, "limit", low=1, high=_MAX_LIST_LIMIT),
        }
        if creator is not None:
            body["creator"] = check_id(creator, "creator")
        return self._cursor_paginate(_GET_MOMENT_LIST, Moment, body, start=cursor, options=options)

    def get_moment_task(
        self,
        moment_id: str,
        *,
        limit: int = _MAX_TASK_LIMIT,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[MomentTask]:
        """Page through the executors of a corp moment and whether each one published it.

        ``POST /cgi-bin/externalcontact/get_moment_task``

        Sends nothing until awaited or iterated. Corp moments only.

        Args:
            moment_id: the corp moment's id.
            limit: members per page, 1 to 1000.
            cursor: resume from this ``next_cursor``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`MomentTask`.

        Raises:
            ValidationError: ``moment_id`` empty or ``limit`` outside 1-1000.
            APIError: 41060 invalid moment_id, 41067 a personal moment.

        Docs: https://developer.work.weixin.qq.com/document/path/93333
        """
        body = self._ids_body({"moment_id": moment_id}, limit, _MAX_TASK_LIMIT)
        return self._cursor_paginate(
            _GET_MOMENT_TASK, MomentTask, body, start=cursor, options=options
        )

    def get_moment_customer_list(
        self,
        moment_id: str,
        userid: str,
        *,
        limit: int = _MAX_CUSTOMER_LIMIT,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[MomentCustomer]:
        """Page through the customers a member's moment was meant for.

        ``POST /cgi-bin/externalcontact/get_moment_customer_list``

        Sends nothing until awaited or iterated.

        Args:
            moment_id: the moment's id.
            userid: the publishing member (the creator, for a personal moment).
            limit: customers per page, 1 to 1000.
            cursor: resume from this ``next_cursor``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`MomentCustomer` (``userid`` and
            ``external_userid``).

        Raises:
            ValidationError: an empty id or ``limit`` outside 1-1000.
            APIError: 41060 invalid moment_id, 41061 the member is not an executor.

        Docs: https://developer.work.weixin.qq.com/document/path/93333
        """
        body = self._ids_body(
            {"moment_id": moment_id, "userid": userid}, limit, _MAX_CUSTOMER_LIMIT
        )
        return self._cursor_paginate(
            _GET_MOMENT_CUSTOMER_LIST,
            MomentCustomer,
            body,
            start=cursor,
            options=options,
        )

    def get_moment_send_result(
        self,
        moment_id: str,
        userid: str,
        *,
        limit: int = _MAX_SEND_RESULT_LIMIT,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[MomentCustomer]:
        """Page through the customers who can actually see a member's moment.

        ``POST /cgi-bin/externalcontact/get_moment_send_result``

        Sends nothing until awaited or iterated.

        Args:
            moment_id: the moment's id.
            userid: the publishing member.
            limit: customers per page, 1 to 5000.
            cursor: resume from this ``next_cursor``.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`MomentCustomer` (``external_userid`` only).

        Raises:
            ValidationError: an empty id or ``limit`` outside 1-5000.
            APIError: 41060 invalid moment_id, 41061 not an executor, 41062 the member has
                not published the corp moment yet.

        Docs: https://developer.work.weixin.qq.com/document/path/93333
        """
        body = self._ids_body(
            {"moment_id": moment_id, "userid": userid}, limit, _MAX_SEND_RESULT_LIMIT
        )
        return self._cursor_paginate(
            _GET_MOMENT_SEND_RESULT,
            MomentCustomer,
            body,
            start=cursor,
            options=options,
        )

    async def get_moment_comments(
        self, moment_id: str, userid: str, **options: Unpack[RequestOptions]
    ) -> MomentComments:
        """Get the comments and likes on a member's moment.

        ``POST /cgi-bin/externalcontact/get_moment_comments``

        Args:
            moment_id: the moment's id.
            userid: the publishing member.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            :class:`MomentComments` with ``comment_list`` and ``like_list``; each item is
            from a customer (``external_userid``) or a member (``userid``).

        Raises:
            ValidationError: an empty id.
            APIError: 41060 invalid moment_id, 41061 not an executor, 41062 not published
                by the member yet.

        Docs: https://developer.work.weixin.qq.com/document/path/93333
        """
        body = self._ids_body({"moment_id": moment_id, "userid": userid})
        return await self._answer(_GET_MOMENT_COMMENTS, body=body, options=options)

    @staticmethod
    def _ids_body(
        ids: Mapping[str, str], limit: int | None = None, max_limit: int = 0
    ) -> dict[str, object]:
        """The body of a moment read: the checked ids, plus ``limit`` when paged."""
        body: dict[str, object] = {name: check_id(value, name) for name, value in ids.items()}
        if limit is not None:
            body["limit"] = check_range(limit, "limit", low=1, high=max_limit)
        return body
