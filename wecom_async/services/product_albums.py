"""``client.product_albums``: the product album (商品图册), endpoints.md #93-#97.

Only a self-built app listed in 客户联系's "可调用接口的应用", or a third-party / 代开发
app with the 管理商品图册 permission, may call these. An app changes and deletes only the
products it created; it reads and lists every product of the corp.

Images are uploaded first with ``client.media.upload_attachment(file, media_type="image",
attachment_type=AttachmentType.PRODUCT_ALBUM)``; its ``media_id`` goes in
``attachments[].image.media_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from .._validation import check_id, check_range
from ..models._base import EmptyResponse, WireStr
from ..models.product_albums import (
    MAX_PRODUCT_PAGE,
    AddProductAlbumRequest,
    AddProductAlbumResponse,
    GetProductAlbumResponse,
    ProductAlbum,
    ProductAlbumListResponse,
    UpdateProductAlbumRequest,
)
from ..pagination import AsyncPaginator
from ._base import Service, request_body

__all__ = ["ProductAlbumsService"]

_PATH: Final = "externalcontact"
_ADD = Endpoint(
    "POST",
    f"{_PATH}/add_product_album",
    retry_safe=False,
    response=AddProductAlbumResponse,
    key="product_id",
)
_GET = Endpoint(
    "POST",
    f"{_PATH}/get_product_album",
    retry_safe=True,
    response=GetProductAlbumResponse,
    key="product",
)
_LIST = Endpoint(
    "POST",
    f"{_PATH}/get_product_album_list",
    retry_safe=True,
    response=ProductAlbumListResponse,
    key="product_list",
)
_UPDATE = Endpoint("POST", f"{_PATH}/update_product_album", retry_safe=True, response=EmptyResponse)
_DELETE = Endpoint(
    "POST", f"{_PATH}/delete_product_album", retry_safe=False, response=EmptyResponse
)


def _product_body(product_id: str) -> dict[str, object]:
    return {"product_id": check_id(product_id, "product_id")}


class ProductAlbumsService(Service):
    """The product album (商品图册): products with a description, a price and images."""

    async def add(
        self,
        body: AddProductAlbumRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> WireStr:
        """Add a product to the album.

        ``POST /cgi-bin/externalcontact/add_product_album``

        Not retry-safe: after an ambiguous failure (timeout, errcode -1) it is not resent,
        since a second product could be created; check with :meth:`list` first.

        Args:
            body: an :class:`AddProductAlbumRequest` or a mapping of its wire fields
                (``description``, ``price`` in fen, ``product_sn``, ``attachments``).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The new ``product_id``.

        Raises:
            ValidationError: a documented limit is broken (nothing is sent):
                ``description`` empty or over 300 characters, ``price`` outside
                0-5,000,000 fen, ``product_sn`` over 128 bytes or not letters and digits,
                no image or over 9, an attachment that is not an image by ``media_id``.
            APIError: 40007 a media id that is not an image of ``media/upload_attachment``
                with attachment_type 2 (by meaning; the page lists no codes), 40145 an
                expired one.
            PermissionDeniedError: 48002 the app may not manage the product album.

        Docs: https://developer.work.weixin.qq.com/document/path/95096
        """
        request = request_body(AddProductAlbumRequest, body)
        return await self._str_part(_ADD, body=request, options=options)

    async def get(self, product_id: str, **options: Unpack[RequestOptions]) -> ProductAlbum:
        """Get a product of the album.

        ``POST /cgi-bin/externalcontact/get_product_album``

        Args:
            product_id: the product's id (from :meth:`add` or :meth:`list`).
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The :class:`ProductAlbum` (``description``, ``price`` in fen, ``product_sn``,
            ``create_time``, ``attachments``).

        Raises:
            ValidationError: ``product_id`` is empty.
            APIError: 40058 (by meaning) an unknown or deleted product.

        Docs: https://developer.work.weixin.qq.com/document/path/95096
        """
        body = _product_body(product_id)
        return await self._model_part(_GET, ProductAlbum, body=body, options=options)

    def list(
        self,
        *,
        limit: int = MAX_PRODUCT_PAGE,
        cursor: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[ProductAlbum]:
        """Page through every product of the album.

        ``POST /cgi-bin/externalcontact/get_product_album_list``

        Sends nothing until awaited or iterated. The items carry no ``create_time`` in the
        official example (:meth:`get` has it).

        Args:
            limit: products per page, 1 to 100 (WeCom answers 50 per page for a larger
                value, so one is refused here).
            cursor: resume from this ``next_cursor`` of an earlier page.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            An :class:`AsyncPaginator` of :class:`ProductAlbum`.

        Raises:
            ValidationError: ``limit`` outside 1-100 (nothing is sent).
            APIError: 50100 an invalid cursor.

        Docs: https://developer.work.weixin.qq.com/document/path/95096
        """
        body = {"limit": check_range(limit, "limit", low=1, high=MAX_PRODUCT_PAGE)}
        return self._cursor_paginate(_LIST, ProductAlbum, body, start=cursor, options=options)

    async def update(
        self,
        body: UpdateProductAlbumRequest | Mapping[str, object],
        **options: Unpack[RequestOptions],
    ) -> None:
        """Change a product; only the fields given change (``attachments`` replaces all).

        ``POST /cgi-bin/externalcontact/update_product_album``

        Retry-safe: the same change sent twice leaves the same product. An app changes
        only the products it created.

        Args:
            body: an :class:`UpdateProductAlbumRequest` or a mapping of its wire fields.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: a documented limit is broken (nothing is sent), as for
                :meth:`add`.
            APIError: 40058 (by meaning) an unknown product; 40007 / 40145 as for
                :meth:`add`.
            PermissionDeniedError: 48002 (by meaning) a product another app or the admin
                created.

        Docs: https://developer.work.weixin.qq.com/document/path/95096
        """
        request = request_body(UpdateProductAlbumRequest, body)
        await self._none(_UPDATE, body=request, options=options)

    async def delete(self, product_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a product from the album.

        ``POST /cgi-bin/externalcontact/delete_product_album``

        Not retry-safe: not resent after an ambiguous failure. An app deletes only the
        products it created.

        Args:
            product_id: the product's id.
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Raises:
            ValidationError: ``product_id`` is empty.
            APIError: 40058 (by meaning) an unknown or already deleted product.
            PermissionDeniedError: 48002 (by meaning) a product another app or the admin
                created.

        Docs: https://developer.work.weixin.qq.com/document/path/95096
        """
        await self._none(_DELETE, body=_product_body(product_id), options=options)
