"""Records of the product-album fake (商品图册, endpoints.md #93-#97).

``ctx.state.ext(ProductAlbumState)`` holds a corp's products in creation order (``seq``,
for list cursors). A product made through the API belongs to the app (``by_api``); one
made in the admin console (as the seeder does, or a test with
:meth:`ProductAlbumState.add` and ``by_api=False``) is listed and read by the app but not
changed or deleted by it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .._json import JSON
from .._state import CorpState
from ._shared import app_made_record, live_record

__all__ = ["ProductAlbumState", "ProductRecord"]


@dataclass(slots=True, eq=False)
class ProductRecord:
    """One product as WeCom keeps it; ``images`` are the media ids of its attachments."""

    seq: int
    product_id: str
    description: str
    price: int
    create_time: int
    images: list[str] = field(default_factory=list)
    product_sn: str | None = None
    #: Created through the API by the app (else in the admin console).
    by_api: bool = True

    def render(self, *, with_time: bool) -> JSON:
        """The product as get (``with_time``) or an item of the list answers it."""
        out: JSON = {
            "product_id": self.product_id,
            "description": self.description,
            "price": self.price,
        }
        if with_time:
            out["create_time"] = self.create_time
        if self.product_sn:
            out["product_sn"] = self.product_sn
        out["attachments"] = [
            {"type": "image", "image": {"media_id": media_id}} for media_id in self.images
        ]
        return out


class ProductAlbumState:
    """A corp's products by id, in creation (``seq``) order."""

    def __init__(self) -> None:
        """Create an empty album."""
        self.products: dict[str, ProductRecord] = {}
        #: The album's own sequence (the corp's would shift other groups' seeded seqs).
        self._seq = 0

    def add(
        self,
        state: CorpState,
        *,
        description: str,
        price: int,
        images: list[str],
        now: int,
        product_sn: str | None = None,
        by_api: bool = True,
        rng: random.Random | None = None,
    ) -> ProductRecord:
        """Create a product from checked fields (a seeder passes its own ``rng``)."""
        self._seq += 1
        record = ProductRecord(
            seq=self._seq,
            product_id=state.new_id("pd", rng),
            description=description,
            price=price,
            create_time=now,
            images=images,
            product_sn=product_sn,
            by_api=by_api,
        )
        self.products[record.product_id] = record
        return record

    def product(self, product_id: str) -> ProductRecord:
        """Return a live product; 40058 for an unknown or deleted one (code unverified)."""
        return live_record(self.products, product_id, "product")

    def own(self, product_id: str) -> ProductRecord:
        """Return a product the app may change: 48002 for one made in the admin console."""
        return app_made_record(self.products, product_id, "product")
