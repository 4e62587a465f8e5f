"""Product albums (商品图册), endpoints.md #93-#97.

A product (商品) of the album has a description, a price in fen, an optional product code
and up to 9 images. The images are media ids of ``media/upload_attachment`` with
``attachment_type`` 2 (:attr:`~wecom_async.models.media.AttachmentType.PRODUCT_ALBUM`,
images only); a media id of ``media/upload`` is refused by WeCom.

Documented request limits (refused locally): ``description`` at most 300 characters;
``price`` in fen, at most 5,000,000 (50,000 yuan); ``product_sn`` at most 128 bytes of
ASCII letters and digits; ``attachments`` 1-9 images, ``type`` ``"image"`` with an
``image.media_id``. The docs give no lower bound for the price: 0 is sent as given.

The update's field table marks ``description`` and ``price`` required, while its note says
that only ``product_id`` is and every other field is sent only to change it; the note is
followed (:class:`UpdateProductAlbumRequest`). An app may change or delete only the
products it created (the 客户联系 system app: all); get and list see every product.

Docs: https://developer.work.weixin.qq.com/document/path/95096
"""

from __future__ import annotations

import re
from typing import Final, TypeVar

import attrs

from .._exceptions import ValidationError
from .._validation import check_id, check_range, request_check
from ._base import WireModel
from .attachments import Image

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "MAX_PRICE",
    "MAX_PRODUCT_ATTACHMENTS",
    "MAX_PRODUCT_PAGE",
    "MAX_PRODUCT_SN_BYTES",
    "AddProductAlbumRequest",
    "AddProductAlbumResponse",
    "GetProductAlbumResponse",
    "ProductAlbum",
    "ProductAlbumListResponse",
    "ProductAttachment",
    "UpdateProductAlbumRequest",
]

#: ``description``: at most this many characters.
MAX_DESCRIPTION_CHARS: Final = 300
#: ``price`` in fen: at most 50,000 yuan.
MAX_PRICE: Final = 5_000_000
#: ``product_sn``: at most this many bytes (ASCII letters and digits only).
MAX_PRODUCT_SN_BYTES: Final = 128
#: ``attachments``: at most this many images.
MAX_PRODUCT_ATTACHMENTS: Final = 9
#: ``get_product_album_list`` returns at most this many products per page (WeCom's
#: default is 50; a larger ``limit`` silently falls back to 50, so it is refused locally).
MAX_PRODUCT_PAGE: Final = 100

_PRODUCT_SN: Final = re.compile(r"[0-9A-Za-z]*")


@attrs.frozen(kw_only=True)
class ProductAttachment(WireModel):
    """An item of ``attachments``: ``{"type": "image", "image": {"media_id": ...}}``.

    In a request only images are accepted, by ``media_id`` (from
    ``media/upload_attachment`` with ``attachment_type`` 2; checked by the request that
    carries it); an answer is read as sent, a ``type`` WeCom adds later included.
    """

    type: str = "image"
    image: Image | None = None


# -- local checks --------------------------------------------------------------------------

_Text = TypeVar("_Text", bound=str | None)
_Price = TypeVar("_Price", bound=int | None)
_Items = TypeVar("_Items", bound=list[ProductAttachment] | None)


@request_check
def _check_description(_: object, attribute: attrs.Attribute[_Text], value: _Text) -> None:
    if value is None:
        return
    check_id(value, attribute.name)
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise ValidationError(
            f"{attribute.name} is {len(value)} characters long; WeCom allows at most "
            f"{MAX_DESCRIPTION_CHARS}"
        )


@request_check
def _check_price(_: object, attribute: attrs.Attribute[_Price], value: _Price) -> None:
    if value is not None:
        check_range(value, f"{attribute.name} (fen)", low=0, high=MAX_PRICE)


@request_check
def _check_product_sn(_: object, attribute: attrs.Attribute[_Text], value: _Text) -> None:
    if value is None:
        return
    if not _PRODUCT_SN.fullmatch(value):
        raise ValidationError(f"{attribute.name} may hold only ASCII letters and digits")
    if len(value) > MAX_PRODUCT_SN_BYTES:
        raise ValidationError(
            f"{attribute.name} is {len(value)} bytes long; WeCom allows at most "
            f"{MAX_PRODUCT_SN_BYTES}"
        )


@request_check
def _check_attachments(_: object, attribute: attrs.Attribute[_Items], value: _Items) -> None:
    """Images, when given: 1 to 9 (a product is never left without one)."""
    if value is None:
        return
    if not value:
        raise ValidationError(f"{attribute.name} needs at least one image")
    if len(value) > MAX_PRODUCT_ATTACHMENTS:
        raise ValidationError(
            f"{attribute.name} has {len(value)} items; WeCom allows at most "
            f"{MAX_PRODUCT_ATTACHMENTS}"
        )
    for index, item in enumerate(value):
        where = f"{attribute.name}[{index}]"
        if item.type != "image":
            raise ValidationError(f"{where} must be an image (type 'image'), got {item.type!r}")
        if item.image is None or not item.image.media_id:
            raise ValidationError(f"{where} needs image.media_id (from upload_attachment)")
        if item.image.pic_url is not None:
            raise ValidationError(f"{where}: a product image takes media_id only, not pic_url")


@request_check
def _check_product_id(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_id(value, attribute.name)


# -- requests ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AddProductAlbumRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/add_product_album`` (endpoints.md #93).

    ``description`` 1-300 characters, ``price`` 0-5,000,000 fen, ``product_sn`` at most
    128 bytes of letters and digits, ``attachments`` 1-9 images.
    """

    description: str = attrs.field(validator=_check_description)
    price: int = attrs.field(validator=_check_price)
    attachments: list[ProductAttachment] = attrs.field(validator=_check_attachments)
    product_sn: str | None = attrs.field(default=None, validator=_check_product_sn)


@attrs.frozen(kw_only=True)
class UpdateProductAlbumRequest(WireModel):
    """Body of ``POST /cgi-bin/externalcontact/update_product_album`` (endpoints.md #96).

    Only ``product_id`` is required; every other field is sent only to change it, with
    the limits of :class:`AddProductAlbumRequest` (``attachments`` replaces the images).
    """

    product_id: str = attrs.field(validator=_check_product_id)
    description: str | None = attrs.field(default=None, validator=_check_description)
    price: int | None = attrs.field(default=None, validator=_check_price)
    product_sn: str | None = attrs.field(default=None, validator=_check_product_sn)
    attachments: list[ProductAttachment] | None = attrs.field(
        default=None, validator=_check_attachments
    )


# -- whole answers -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ProductAlbum(WireModel):
    """A product of the album: ``product`` of get, an item of ``product_list``.

    ``price`` is in fen. List items carry no ``create_time`` in the official example;
    ``product_sn`` is absent when none was set.
    """

    product_id: str
    description: str | None = None
    price: int | None = None
    product_sn: str | None = None
    create_time: int | None = None
    attachments: list[ProductAttachment] | None = None


@attrs.frozen(kw_only=True)
class AddProductAlbumResponse(WireModel):
    """Answer of ``add_product_album``."""

    product_id: str


@attrs.frozen(kw_only=True)
class GetProductAlbumResponse(WireModel):
    """Answer of ``get_product_album``."""

    product: ProductAlbum


@attrs.frozen(kw_only=True)
class ProductAlbumListResponse(WireModel):
    """Answer of ``get_product_album_list``; ``next_cursor`` is empty on the last page."""

    product_list: list[ProductAlbum] = attrs.field(factory=list)
    next_cursor: str | None = None
