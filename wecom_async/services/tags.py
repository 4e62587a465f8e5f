"""``client.tags``: corp tags and strategy (rule-group) tags (客户标签), endpoints.md #8-#16."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from typing_extensions import Unpack

from .._converter import to_dict
from .._core import Endpoint
from .._exceptions import ValidationError
from .._options import RequestOptions
from .._validation import check_id, check_ids, check_range
from ..models._base import EmptyResponse, WireList, WireModel
from ..models.tags import (
    MAX_CORP_TAGS,
    MAX_STRATEGY_ID,
    AddCorpTagRequest,
    AddStrategyTagRequest,
    AddTagResponse,
    CorpTagGroup,
    EditTagRequest,
    TagGroupListResponse,
)
from ._base import Body, Service, request_body

__all__ = ["MAX_TAGS_PER_CUSTOMER", "TagsService"]

_GET_CORP_TAG_LIST = Endpoint(
    "POST",
    "externalcontact/get_corp_tag_list",
    retry_safe=True,
    response=TagGroupListResponse,
    key="tag_group",
)
_ADD_CORP_TAG = Endpoint(
    "POST",
    "externalcontact/add_corp_tag",
    retry_safe=False,
    response=AddTagResponse,
    key="tag_group",
)
_EDIT_CORP_TAG = Endpoint(
    "POST", "externalcontact/edit_corp_tag", retry_safe=True, response=EmptyResponse
)
_DEL_CORP_TAG = Endpoint(
    "POST", "externalcontact/del_corp_tag", retry_safe=False, response=EmptyResponse
)
_MARK_TAG = Endpoint("POST", "externalcontact/mark_tag", retry_safe=True, response=EmptyResponse)
_GET_STRATEGY_TAG_LIST = Endpoint(
    "POST",
    "externalcontact/get_strategy_tag_list",
    retry_safe=True,
    response=TagGroupListResponse,
    key="tag_group",
)
_ADD_STRATEGY_TAG = Endpoint(
    "POST",
    "externalcontact/add_strategy_tag",
    retry_safe=False,
    response=AddTagResponse,
    key="tag_group",
)
_EDIT_STRATEGY_TAG = Endpoint(
    "POST", "externalcontact/edit_strategy_tag", retry_safe=True, response=EmptyResponse
)
_DEL_STRATEGY_TAG = Endpoint(
    "POST", "externalcontact/del_strategy_tag", retry_safe=False, response=EmptyResponse
)

#: A member may put at most this many tags on one customer (mark_tag, 40144 beyond).
MAX_TAGS_PER_CUSTOMER = 3000


def _id_filter(
    tag_id: Sequence[str] | None, group_id: Sequence[str] | None, *, required: bool
) -> dict[str, object]:
    """``{"tag_id": [...], "group_id": [...]}`` with the empty or absent lists left out."""
    body: dict[str, object] = {}
    for name, values in (("tag_id", tag_id), ("group_id", group_id)):
        if values is not None:
            ids = check_ids(values, name, max_count=MAX_CORP_TAGS, min_count=0)
            if ids:
                body[name] = ids
    if required and not body:
        raise ValidationError("tag_id and group_id must not both be empty")
    return body


class TagsService(Service):
    """Corp tags, strategy tags, and tagging a member's customers.

    An app may only edit and delete the tags (and rule-group tags) it created itself.
    """

    async def _list(
        self, endpoint: Endpoint, body: Body, options: RequestOptions
    ) -> WireList[CorpTagGroup]:
        return await self._list_part(endpoint, CorpTagGroup, body=body, options=options)

    async def _add(
        self,
        endpoint: Endpoint,
        request_type: type[AddCorpTagRequest] | type[AddStrategyTagRequest],
        body: WireModel | Mapping[str, object],
        options: RequestOptions,
    ) -> CorpTagGroup:
        request = request_body(request_type, body)
        return await self._model_part(endpoint, CorpTagGroup, body=request, options=options)

    async def _edit(
        self,
        endpoint: Endpoint,
        id: str,
        name: str | None,
        order: int | None,
        options: RequestOptions,
    ) -> None:
        check_id(id, "id")
        body = to_dict(EditTagRequest(id=id, name=name, order=order))
        await self._none(endpoint, body=body, options=options)

    async def list(
        self,
        *,
        tag_id: Sequence[str] | None = None,
        group_id: Sequence[str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> WireList[CorpTagGroup]:
        """List the corp's tag groups and tags, all of them or those asked for.

        ``POST /cgi-bin/externalcontact/get_corp_tag_list``

        With neither filter every live group and tag is returned. With ``group_id`` the
        groups are returned with all their tags and ``tag_id`` is ignored by WeCom. When a
        filter is given, deleted tags (and, filtering by ``tag_id``, deleted groups) are
        still reported with ``deleted=True``.

        Args:
            tag_id: tag ids to look up.
            group_id: group ids to look up (takes precedence over ``tag_id``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The tag groups, each with its tags (:class:`CorpTagGroup`).

        Raises:
            ValidationError: an id is empty, a filter is a single string, or it holds more
                ids than a corp can have tags (10,000).
            PermissionDeniedError: the app may not read customer tags (48002).

        Docs: https://developer.work.weixin.qq.com/document/path/92117
        """
        return await self._list(
            _GET_CORP_TAG_LIST, _id_filter(tag_id, group_id, required=False), options=options
        )

    async def add(
        self, body: AddCorpTagRequest | Mapping[str, object], **options: Unpack[RequestOptions]
    ) -> CorpTagGroup:
        """Create tags, in an existing group (``group_id``) or a new one (``group_name``).

        ``POST /cgi-bin/externalcontact/add_corp_tag``

        Not retried after an ambiguous failure: the tags may have been created.

        Args:
            body: an :class:`AddCorpTagRequest` or a mapping of its wire fields: at least
                one tag, ``group_id`` or ``group_name``, names at most 30 characters,
                orders in [0, 2^32).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The group with the tags this call created (ids ``et…``).

        Raises:
            ValidationError: a rule above is broken (nothing is sent).
            APIError: 40126 the corp's 10,000-tag quota is reached, 40068 unknown group_id,
                40071 a tag of that name exists in the group.

        Docs: https://developer.work.weixin.qq.com/document/path/92117
        """
        return await self._add(_ADD_CORP_TAG, AddCorpTagRequest, body, options=options)

    async def edit(
        self,
        id: str,
        *,
        name: str | None = None,
        order: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> None:
        """Rename or reorder a corp tag or tag group.

        ``POST /cgi-bin/externalcontact/edit_corp_tag``

        Args:
            id: a tag id or a group id.
            name: the new name, at most 30 characters; a group name must not be taken by
                another group, a tag name by another tag of its group.
            order: the new order in [0, 2^32) (higher sorts first).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``id`` is empty, neither ``name`` nor ``order`` is given, or
                one breaks its limit.
            APIError: 40068 unknown id, 40071 the name is taken.

        Docs: https://developer.work.weixin.qq.com/document/path/92117
        """
        await self._edit(_EDIT_CORP_TAG, id, name, order, options=options)

    async def delete(
        self,
        *,
        tag_id: Sequence[str] | None = None,
        group_id: Sequence[str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> None:
        """Delete corp tags and/or whole tag groups.

        ``POST /cgi-bin/externalcontact/del_corp_tag``

        Deleting every tag of a group deletes the group. Not retried after an ambiguous
        failure.

        Args:
            tag_id: tag ids to delete.
            group_id: group ids to delete with all their tags.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: both are empty, or an id is empty.
            APIError: 40068 an id is unknown or was created by another app.

        Docs: https://developer.work.weixin.qq.com/document/path/92117
        """
        await self._none(
            _DEL_CORP_TAG, body=_id_filter(tag_id, group_id, required=True), options=options
        )

    async def mark(
        self,
        userid: str,
        external_userid: str,
        *,
        add_tag: Sequence[str] = (),
        remove_tag: Sequence[str] = (),
        **options: Unpack[RequestOptions],
    ) -> None:
        """Put corp or strategy tags on a member's customer, or take them off.

        ``POST /cgi-bin/externalcontact/mark_tag``

        Idempotent: marking a tag twice or removing an absent one changes nothing, so the
        call is retried after an ambiguous failure. Several tags of one group are allowed.
        Strategy tags need the rule group to be created by the same app and the member to
        be in its range.

        Args:
            userid: the member.
            external_userid: one of that member's customers.
            add_tag: tag ids to put on (at most 3,000).
            remove_tag: tag ids to take off (at most 3,000).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: an id is empty, or both lists are empty or over 3,000.
            APIError: 84061 not that member's customer, 40068 unknown tag, 40144 the member
                would have more than 3,000 tags on the customer.
            ConflictError: 45035, the same customer is being tagged concurrently.

        Docs: https://developer.work.weixin.qq.com/document/path/92118
        """
        body: dict[str, object] = {
            "userid": check_id(userid, "userid"),
            "external_userid": check_id(external_userid, "external_userid"),
        }
        for name, values in (("add_tag", add_tag), ("remove_tag", remove_tag)):
            ids = check_ids(values, name, max_count=MAX_TAGS_PER_CUSTOMER, min_count=0)
            if ids:
                body[name] = ids
        if len(body) == 2:
            raise ValidationError("add_tag and remove_tag must not both be empty")
        await self._none(_MARK_TAG, body=body, options=options)

    async def list_strategy(
        self,
        *,
        strategy_id: int | None = None,
        tag_id: Sequence[str] | None = None,
        group_id: Sequence[str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> WireList[CorpTagGroup]:
        """List the strategy (rule-group) tags this app created, optionally of one rule group.

        ``POST /cgi-bin/externalcontact/get_strategy_tag_list``

        Filters as :meth:`list`; groups carry ``strategy_id`` and no ``deleted`` flags.

        Args:
            strategy_id: only the groups of this rule group.
            tag_id: tag ids to look up.
            group_id: group ids to look up (takes precedence over ``tag_id``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The tag groups with their tags.

        Raises:
            ValidationError: ``strategy_id`` is not a non-negative int, or an id is empty.

        Docs: https://developer.work.weixin.qq.com/document/path/94882
        """
        body = _id_filter(tag_id, group_id, required=False)
        if strategy_id is not None:
            body = {
                "strategy_id": check_range(strategy_id, "strategy_id", low=0, high=MAX_STRATEGY_ID),
                **body,
            }
        return await self._list(_GET_STRATEGY_TAG_LIST, body, options=options)

    async def add_strategy(
        self,
        body: AddStrategyTagRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> CorpTagGroup:
        """Create tags in a first-level rule group, in an existing or a new tag group.

        ``POST /cgi-bin/externalcontact/add_strategy_tag``

        Strategy tags count against the same 10,000-tag corp quota. Not retried after an
        ambiguous failure.

        Args:
            body: an :class:`AddStrategyTagRequest` or a mapping of its wire fields
                (``strategy_id`` required, otherwise as :meth:`add`).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The group with the tags this call created (ids ``st…``).

        Raises:
            ValidationError: a limit is broken (nothing is sent).
            APIError: 40126 tag quota reached, 40068 unknown group_id, 40071 name taken.

        Docs: https://developer.work.weixin.qq.com/document/path/94882
        """
        return await self._add(_ADD_STRATEGY_TAG, AddStrategyTagRequest, body, options=options)

    async def edit_strategy(
        self,
        id: str,
        *,
        name: str | None = None,
        order: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> None:
        """Rename or reorder a strategy tag or tag group (it stays in its rule group).

        ``POST /cgi-bin/externalcontact/edit_strategy_tag``

        Args:
            id: a strategy tag id or group id.
            name: the new name, at most 30 characters.
            order: the new order in [0, 2^32).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``id`` is empty, neither ``name`` nor ``order`` is given, or
                one breaks its limit.
            APIError: 40068 unknown id, 40071 the name is taken.

        Docs: https://developer.work.weixin.qq.com/document/path/94882
        """
        await self._edit(_EDIT_STRATEGY_TAG, id, name, order, options=options)

    async def delete_strategy(
        self,
        *,
        tag_id: Sequence[str] | None = None,
        group_id: Sequence[str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> None:
        """Delete strategy tags and/or whole strategy tag groups.

        ``POST /cgi-bin/externalcontact/del_strategy_tag``

        Deleting every tag of a group deletes the group. Not retried after an ambiguous
        failure.

        Args:
            tag_id: strategy tag ids to delete.
            group_id: strategy group ids to delete with all their tags.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: both are empty, or an id is empty.
            APIError: 40068 an id is unknown.

        Docs: https://developer.work.weixin.qq.com/document/path/94882
        """
        await self._none(
            _DEL_STRATEGY_TAG, body=_id_filter(tag_id, group_id, required=True), options=options
        )
