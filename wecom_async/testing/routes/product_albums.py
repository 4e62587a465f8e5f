"""The product album (商品图册), endpoints.md #93-#97 (D:95096).

Products live in ``ctx.state.ext(ProductAlbumState)`` (:mod:`._product_albums_state`);
their images are checked against the uploads of ``ctx.state.ext(MediaState)``.

Errcodes (the page lists none; codes below are chosen by meaning, unverified unless the
global table names them):

* 40063: a missing ``product_id``, ``description``, ``price`` or ``attachments``, or an
  attachment without ``image.media_id``.
* 40058: ``description`` over 300 characters; ``price`` below 0 or over 5,000,000 fen;
  ``product_sn`` over 128 bytes or not letters and digits; ``limit`` below 1; an unknown
  ``product_id``; a value of the wrong type.
* 41064: over 9 attachments (the global "too many attachments"); 41065: an attachment
  whose ``type`` is not ``image``.
* 40007: a media id that is not an image uploaded with ``media/upload_attachment`` and
  ``attachment_type`` 2; 40145: one older than 3 days (see ``MediaState.lookup``).
* 48002: update / delete of a product the app did not create (made in the admin console).
* 50100: a cursor not issued by ``get_product_album_list``.

Documented behaviour kept: a ``limit`` over 100 silently falls back to the default 50;
list items carry no ``create_time``; the last page's ``next_cursor`` is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._cursor import CursorCodec, index_after
from .._errors import WeComFault
from .._params import INVALID, MISSING, opt_int, opt_str, req_str
from .._route import JSON, RequestContext, Route, SeedContext
from ._media_state import MediaState
from ._product_albums_state import ProductAlbumState

__all__ = ["ROUTES", "SEEDERS"]

MAX_DESCRIPTION: Final = 300
MAX_PRICE: Final = 5_000_000
MAX_PRODUCT_SN_BYTES: Final = 128
MAX_ATTACHMENTS: Final = 9
#: get_product_album_list: the default and the largest ``limit``.
DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 100
#: The scene of media/upload_attachment that the album takes.
ALBUM_ATTACHMENT_TYPE: Final = 2
_CURSOR_KIND: Final = "product_album_list"


def _album(ctx: RequestContext) -> ProductAlbumState:
    return ctx.state.ext(ProductAlbumState)


def _description(body: Mapping[str, object], *, required: bool) -> str | None:
    text = opt_str(body, "description", max_chars=MAX_DESCRIPTION)
    if required and not text:
        raise WeComFault(MISSING, "description missing")
    return text or None


def _price(body: Mapping[str, object], *, required: bool) -> int | None:
    price = opt_int(body, "price")
    if price is None:
        if required:
            raise WeComFault(MISSING, "price missing")
        return None
    if not 0 <= price <= MAX_PRICE:
        raise WeComFault(INVALID, f"invalid price: 0 to {MAX_PRICE} fen")
    return price


def _product_sn(body: Mapping[str, object]) -> str | None:
    code = opt_str(body, "product_sn")
    if code is None:
        return None
    if len(code.encode()) > MAX_PRODUCT_SN_BYTES or (code and not _alnum(code)):
        raise WeComFault(INVALID, "invalid product_sn: at most 128 letters and digits")
    return code


def _alnum(text: str) -> bool:
    return text.isascii() and text.isalnum()


def _images(ctx: RequestContext, *, required: bool) -> list[str] | None:
    """The media ids of ``attachments``, each a live album image."""
    items = ctx.body.get("attachments")
    if items is None or items == []:
        if required:
            raise WeComFault(MISSING, "attachments missing")
        return None
    if not isinstance(items, list):
        raise WeComFault(INVALID, "invalid attachments")
    if len(items) > MAX_ATTACHMENTS:
        raise WeComFault(41064, f"attachments exceed {MAX_ATTACHMENTS}")
    media = ctx.state.ext(MediaState)
    images: list[str] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "image":
            raise WeComFault(41065, "invalid attachment type: only image")
        image = item.get("image")
        media_id = req_str(image if isinstance(image, dict) else {}, "media_id")
        record = media.lookup(media_id, ctx.clock.now(), kinds=("image",))
        if record.attachment_type != ALBUM_ATTACHMENT_TYPE:
            raise WeComFault(40007, f"invalid media_id: {media_id} is not an album attachment")
        images.append(media_id)
    return images


def add_product_album(ctx: RequestContext) -> JSON:
    """POST add_product_album -> product_id."""
    description = _description(ctx.body, required=True) or ""
    price = _price(ctx.body, required=True) or 0
    product_sn = _product_sn(ctx.body)
    images = _images(ctx, required=True) or []
    record = _album(ctx).add(
        ctx.state,
        description=description,
        price=price,
        images=images,
        product_sn=product_sn,
        now=int(ctx.clock.now()),
    )
    return {"product_id": record.product_id}


def get_product_album(ctx: RequestContext) -> JSON:
    """POST get_product_album -> product (with create_time)."""
    record = _album(ctx).product(req_str(ctx.body, "product_id"))
    return {"product": record.render(with_time=True)}


def _limit(body: Mapping[str, object]) -> int:
    limit = opt_int(body, "limit")
    if limit is None or limit > MAX_LIMIT:
        return DEFAULT_LIMIT  # "超过最大值时取默认值"
    if limit < 1:
        raise WeComFault(INVALID, "invalid limit")
    return limit


def get_product_album_list(ctx: RequestContext) -> JSON:
    """POST get_product_album_list: every product in creation order, cursor-paged."""
    limit = _limit(ctx.body)
    products = list(_album(ctx).products.values())
    cursor = opt_str(ctx.body, "cursor")
    after = CursorCodec.int_field(ctx.cursors.decode(_CURSOR_KIND, cursor), "i") if cursor else 0
    first = index_after(products, after)
    page = products[first : first + limit]
    more = first + len(page) < len(products)
    following = ctx.cursors.encode(_CURSOR_KIND, i=page[-1].seq) if more else ""
    return {
        "next_cursor": following,
        "product_list": [record.render(with_time=False) for record in page],
    }


def update_product_album(ctx: RequestContext) -> JSON:
    """POST update_product_album: the fields given (all checked before any changes)."""
    record = _album(ctx).own(req_str(ctx.body, "product_id"))
    description = _description(ctx.body, required=False)
    price = _price(ctx.body, required=False)
    product_sn = _product_sn(ctx.body)
    images = _images(ctx, required=False)
    record.description = description or record.description
    record.price = record.price if price is None else price
    record.product_sn = record.product_sn if product_sn is None else product_sn
    record.images = images or record.images
    return {}


def delete_product_album(ctx: RequestContext) -> JSON:
    """POST delete_product_album: the product leaves the album."""
    record = _album(ctx).own(req_str(ctx.body, "product_id"))
    del _album(ctx).products[record.product_id]
    return {}


def seed_product_album(ctx: SeedContext) -> None:
    """One product made in the admin console (its image id made with the seeder's rng)."""
    ctx.state.ext(ProductAlbumState).add(
        ctx.state,
        description="企业定制礼盒",
        price=ctx.rng.randrange(100, 100_000),
        images=[ctx.state.new_id("3m", ctx.rng)],
        product_sn="GIFT2024",
        now=int(ctx.now) - ctx.rng.randint(86_400, 30 * 86_400),
        by_api=False,
        rng=ctx.rng,
    )


_PATH: Final = "externalcontact"

ROUTES = [
    Route("POST", f"{_PATH}/add_product_album", add_product_album),
    Route("POST", f"{_PATH}/get_product_album", get_product_album),
    Route("POST", f"{_PATH}/get_product_album_list", get_product_album_list),
    Route("POST", f"{_PATH}/update_product_album", update_product_album),
    Route("POST", f"{_PATH}/delete_product_album", delete_product_album),
]
SEEDERS = [seed_product_album]
