"""client.product_albums (endpoints.md #93-#97) end to end against the fake WeCom.

Images go through ``client.media.upload_attachment`` with attachment_type 2 first, as a
user does it.
"""

from __future__ import annotations

from typing import Any

import pytest

from wecom_async import (
    APIError,
    PermissionDeniedError,
    ResponseError,
    StructureError,
    SystemBusyError,
    TransportError,
    ValidationError,
    WeComClient,
    from_dict,
    to_dict,
)
from wecom_async.models import (
    AddProductAlbumRequest,
    AttachmentType,
    GetProductAlbumResponse,
    Image,
    ProductAlbum,
    ProductAlbumListResponse,
    ProductAttachment,
    UpdateProductAlbumRequest,
)
from wecom_async.testing import FakeWeCom
from wecom_async.testing.routes._media_state import MEDIA_TTL
from wecom_async.testing.routes._product_albums_state import ProductAlbumState

P = "externalcontact/"
PATHS = {
    "add": P + "add_product_album",
    "get": P + "get_product_album",
    "list": P + "get_product_album_list",
    "update": P + "update_product_album",
    "delete": P + "delete_product_album",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


async def upload(client: WeComClient, scene: int = AttachmentType.PRODUCT_ALBUM) -> str:
    result = await client.media.upload_attachment(PNG, media_type="image", attachment_type=scene)
    return result.media_id


def images(*media_ids: str) -> list[dict[str, Any]]:
    return [{"type": "image", "image": {"media_id": m}} for m in media_ids]


def body(media_id: str = "MEDIA", **fields: Any) -> dict[str, Any]:
    return {
        "description": "世界上最好的商品",
        "price": 30000,
        "attachments": images(media_id),
        **fields,
    }


async def run(method: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``method`` and await the result (a coroutine or a paginator's first page)."""
    return await method(*args, **kwargs)


def calls(fake: FakeWeCom) -> int:
    return sum(fake.calls(path) for path in PATHS.values())


def album(fake: FakeWeCom) -> ProductAlbumState:
    return fake.state.ext(ProductAlbumState)


# -- the lifecycle -----------------------------------------------------------------------


async def test_add_get_list_update_delete(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    svc = wecom_client.product_albums
    first_image, second_image = await upload(wecom_client), await upload(wecom_client)
    product_id = await svc.add(body(first_image, product_sn="SKU001"))
    other = await svc.add(
        AddProductAlbumRequest(
            description="赠品",
            price=0,
            attachments=[ProductAttachment(image=Image(media_id=second_image))],
        )
    )
    assert isinstance(product_id, str)
    assert product_id != other
    assert product_id.response.extra == {}

    product = await svc.get(product_id)
    assert (product.product_id, product.description, product.price) == (
        product_id,
        "世界上最好的商品",
        30000,
    )
    assert (product.product_sn, product.create_time) == ("SKU001", int(wecom_fake.clock.now()))
    assert product.attachments == [
        ProductAttachment(type="image", image=Image(media_id=first_image))
    ]

    listed = [p async for p in svc.list()]
    assert [p.product_id for p in listed] == [product_id, other]
    assert listed[0].create_time is None  # list items carry none, as documented
    assert listed[1].product_sn is None

    await svc.update(
        {"product_id": product_id, "price": 100, "attachments": images(second_image, first_image)}
    )
    product = await svc.get(product_id)
    assert (product.description, product.price, product.product_sn) == (
        "世界上最好的商品",
        100,
        "SKU001",
    )
    assert [a.image.media_id for a in product.attachments or [] if a.image] == [
        second_image,
        first_image,
    ]

    await svc.delete(product_id)
    with pytest.raises(APIError) as raised:
        await svc.get(product_id)
    assert type(raised.value) is APIError
    assert raised.value.errcode == 40058
    assert [p.product_id async for p in svc.list()] == [other]


async def test_request_shapes_of_all_five_endpoints(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    svc = wecom_client.product_albums
    image = await upload(wecom_client)
    new = body(image, product_sn="A1")
    product_id = await svc.add(new)
    change = UpdateProductAlbumRequest(product_id=product_id, description="新描述", product_sn="")
    expected = [
        ("add", new),
        ("get", {"product_id": product_id}),
        ("list", {"limit": 20}),
        ("update", {"product_id": product_id, "description": "新描述", "product_sn": ""}),
        ("delete", {"product_id": product_id}),
    ]
    calls_made = [None, svc.get(product_id), svc.list(limit=20), svc.update(change), None]
    for (name, sent), call in zip(expected, calls_made, strict=True):
        if name == "delete":
            await svc.delete(product_id)
        elif call is not None:
            await call
        request = [r for r in wecom_fake.requests if r.path.endswith(PATHS[name])][-1]
        assert (request.method, request.json) == ("POST", sent)
    assert wecom_fake.requests[-1].path.endswith(PATHS["delete"])


async def test_paging_returns_every_product_exactly_once(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    image = await upload(wecom_client)
    made = [await wecom_client.product_albums.add(body(image, price=i)) for i in range(5)]
    pages = [p async for p in wecom_client.product_albums.list(limit=2).pages()]
    assert [[p.product_id for p in page.items] for page in pages] == [made[:2], made[2:4], made[4:]]
    assert [bool(page.next_cursor) for page in pages] == [True, True, False]
    assert wecom_fake.requests[-1].json == {"limit": 2, "cursor": pages[1].next_cursor}

    # A product added and one deleted between pages: the rest come exactly once.
    first = await wecom_client.product_albums.list(limit=2)
    await wecom_client.product_albums.delete(made[3])
    late = await wecom_client.product_albums.add(body(image))
    rest = [p.product_id async for p in wecom_client.product_albums.list(cursor=first.next_cursor)]
    assert [p.product_id for p in first.items] + rest == [*made[:3], made[4], late]


# -- local validation --------------------------------------------------------------------

BAD_ADDS = [
    (body(description=""), "description"),
    (body(description="字" * 301), "description is 301 characters"),
    (body(price=-1), "price"),
    (body(price=5_000_001), "price"),
    (body(price=True), "price"),
    (body(price="100"), "price"),
    (body(product_sn="A-1"), "product_sn may hold only"),
    (body(product_sn="货号1"), "product_sn may hold only"),
    (body(product_sn="A" * 129), "product_sn is 129 bytes"),
    (body(attachments=[]), "attachments needs at least one image"),
    (body(attachments=images(*["m"] * 10)), "attachments has 10 items"),
    (body(attachments=[{"type": "video", "video": {"media_id": "m"}}]), "video"),
    (body(attachments=[{"type": "video", "image": {"media_id": "m"}}]), "must be an image"),
    (body(attachments=[{"type": "image"}]), r"attachments\[0\] needs image.media_id"),
    (body(attachments=[{"type": "image", "image": {}}]), "media_id"),
    (body(attachments=[{"type": "image", "image": {"pic_url": "https://p"}}]), "media_id"),
    (body(attachments=[{"image": {"media_id": "m", "pic_url": "https://p"}}]), "not pic_url"),
    ({"description": "d", "attachments": images("m")}, "price"),
    ({"description": "d", "price": 1}, "attachments"),
    (body(create_time=1), "create_time"),
]


@pytest.mark.parametrize(("sent", "match"), BAD_ADDS)
async def test_add_refuses_locally(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, sent: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.product_albums.add(sent)
    assert calls(wecom_fake) == 0


BAD_UPDATES = [
    ({"price": 1}, "product_id"),
    ({"product_id": " "}, "product_id"),
    ({"product_id": "p", "attachments": []}, "at least one image"),
    ({"product_id": "p", "price": 5_000_001}, "price"),
    ({"product_id": "p", "description": ""}, "description"),
    ({"product_id": "p", "product_sn": "a b"}, "product_sn"),
]


@pytest.mark.parametrize(("sent", "match"), BAD_UPDATES)
async def test_update_refuses_locally(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, sent: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await wecom_client.product_albums.update(sent)
    assert calls(wecom_fake) == 0


@pytest.mark.parametrize(
    ("method", "args", "kwargs"),
    [
        ("get", ("",), {}),
        ("delete", (None,), {}),
        ("list", (), {"limit": 0}),
        ("list", (), {"limit": 101}),
        ("list", (), {"limit": True}),
    ],
)
async def test_plain_arguments_are_checked_locally(
    wecom_fake: FakeWeCom,
    wecom_client: WeComClient,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError):
        await run(getattr(wecom_client.product_albums, method), *args, **kwargs)
    assert calls(wecom_fake) == 0


# -- server-side rules -------------------------------------------------------------------


async def test_images_must_be_live_album_attachments(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    moments_image = await upload(wecom_client, AttachmentType.MOMENTS)
    temporary = (await wecom_client.media.upload(PNG, media_type="image")).media_id
    for media_id in (moments_image, temporary, "never-uploaded"):
        with pytest.raises(APIError) as raised:
            await wecom_client.product_albums.add(body(media_id))
        assert raised.value.errcode == 40007
    stale = await upload(wecom_client)
    wecom_fake.clock.advance(MEDIA_TTL)
    with pytest.raises(APIError) as raised:
        await wecom_client.product_albums.add(body(stale))
    assert raised.value.errcode == 40145
    assert album(wecom_fake).products == {}


@pytest.mark.parametrize(
    ("name", "sent", "errcode"),
    [
        ("add", {"price": 1, "attachments": "IMAGES"}, 40063),
        ("add", {"description": "d", "attachments": "IMAGES"}, 40063),
        ("add", {"description": "d", "price": 1}, 40063),
        ("add", {"description": "字" * 301, "price": 1, "attachments": "IMAGES"}, 40058),
        ("add", {"description": "d", "price": 5_000_001, "attachments": "IMAGES"}, 40058),
        (
            "add",
            {"description": "d", "price": 1, "attachments": "IMAGES", "product_sn": "a-b"},
            40058,
        ),
        ("add", {"description": "d", "price": 1, "attachments": "TEN"}, 41064),
        ("add", {"description": "d", "price": 1, "attachments": "VIDEO"}, 41065),
        ("add", {"description": "d", "price": 1, "attachments": [{"type": "image"}]}, 40063),
        ("get", {}, 40063),
        ("get", {"product_id": "nope"}, 40058),
        ("list", {"limit": 0}, 40058),
        ("list", {"cursor": "forged"}, 50100),
        ("update", {"product_id": "nope", "price": 1}, 40058),
        ("update", {"product_id": "PRODUCT", "price": -1}, 40058),
        ("update", {"product_id": "PRODUCT", "price": 9, "attachments": "VIDEO"}, 41065),
        ("delete", {"product_id": "nope"}, 40058),
    ],
)
async def test_the_fake_enforces_the_server_side_rules(
    wecom_fake: FakeWeCom,
    wecom_client: WeComClient,
    name: str,
    sent: dict[str, Any],
    errcode: int,
) -> None:
    """Raw requests (no local validation) get WeCom's errcode and change nothing."""
    image = await upload(wecom_client)
    product_id = await wecom_client.product_albums.add(body(image))
    spelled = {
        "IMAGES": images(image),
        "TEN": images(*[image] * 10),
        "VIDEO": [{"type": "video", "video": {"media_id": image}}],
    }
    sent = {k: spelled.get(v, v) if isinstance(v, str) else v for k, v in sent.items()}
    if sent.get("product_id") == "PRODUCT":
        sent["product_id"] = product_id
    with pytest.raises(APIError) as raised:
        await wecom_client.request("POST", PATHS[name], json=sent)
    assert raised.value.errcode == errcode
    (product,) = [p async for p in wecom_client.product_albums.list()]
    assert (product.product_id, product.price) == (product_id, 30000)


async def test_a_limit_over_100_falls_back_to_50_as_documented(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    image = await upload(wecom_client)
    for i in range(51):
        album(wecom_fake).add(wecom_fake.state, description=f"p{i}", price=i, images=[image], now=0)
    answer = await wecom_client.request("POST", PATHS["list"], json={"limit": 500})
    assert len(answer["product_list"]) == 50
    assert answer["next_cursor"]


async def test_a_product_made_in_the_admin_console_is_read_but_not_changed(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    console = album(wecom_fake).add(
        wecom_fake.state, description="后台商品", price=5, images=["m"], now=0, by_api=False
    )
    svc = wecom_client.product_albums
    assert (await svc.get(console.product_id)).description == "后台商品"
    for call in (
        svc.update({"product_id": console.product_id, "price": 1}),
        svc.delete(console.product_id),
    ):
        with pytest.raises(PermissionDeniedError) as raised:
            await call
        assert raised.value.errcode == 48002
    assert album(wecom_fake).products[console.product_id].price == 5


# -- retry safety and broken answers -----------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"errcode": -1}, SystemBusyError),
        ({"reset": True}, TransportError),
        ({"status": 503}, ResponseError),
        ({"html": True}, ResponseError),
    ],
)
async def test_add_is_never_resent(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, fault: dict[str, Any], error: type[Exception]
) -> None:
    image = await upload(wecom_client)
    wecom_fake.inject(PATHS["add"], **fault)
    with pytest.raises(error):
        await wecom_client.product_albums.add(body(image))
    assert wecom_fake.calls(PATHS["add"]) == 1
    assert len(album(wecom_fake).products) == (0 if "errcode" in fault else 1)


async def test_delete_is_never_resent(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    product_id = await wecom_client.product_albums.add(body(await upload(wecom_client)))
    wecom_fake.inject(PATHS["delete"], reset=True)
    with pytest.raises(TransportError):
        await wecom_client.product_albums.delete(product_id)
    assert wecom_fake.calls(PATHS["delete"]) == 1
    assert album(wecom_fake).products == {}


async def test_reads_and_update_are_retried(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    svc = wecom_client.product_albums
    product_id = await svc.add(body(await upload(wecom_client)))
    for name, call in [
        ("get", lambda: svc.get(product_id)),
        ("list", lambda: svc.list()),
        ("update", lambda: svc.update({"product_id": product_id, "price": 7})),
    ]:
        wecom_fake.inject(PATHS[name], reset=True)
        await call()
        assert wecom_fake.calls(PATHS[name]) == 2
    assert album(wecom_fake).products[product_id].price == 7


@pytest.mark.parametrize(
    ("name", "rewrite", "error"),
    [
        ("add", lambda data: {"product_id": 12}, StructureError),
        ("get", lambda data: {"product": {"description": "no id"}}, StructureError),
        ("list", lambda data: {**data, "product_list": {"product_id": "x"}}, StructureError),
        ("list", lambda data: {**data, "next_cursor": 5}, ResponseError),
    ],
)
async def test_an_answer_of_the_wrong_shape_is_refused(
    wecom_fake: FakeWeCom,
    wecom_client: WeComClient,
    name: str,
    rewrite: Any,
    error: type[Exception],
) -> None:
    image = await upload(wecom_client)
    product_id = await wecom_client.product_albums.add(body(image))
    wecom_fake.inject(PATHS[name], rewrite=rewrite)
    call = {
        "add": lambda: wecom_client.product_albums.add(body(image)),
        "get": lambda: wecom_client.product_albums.get(product_id),
        "list": lambda: wecom_client.product_albums.list(),
    }[name]
    with pytest.raises(error):
        await call()


async def test_fields_wecom_adds_later_are_kept(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    image = await upload(wecom_client)
    await wecom_client.product_albums.add(body(image))

    def newer(data: dict[str, Any]) -> dict[str, Any]:
        item = {**data["product_list"][0], "stock": 3}
        item["attachments"] = [*item["attachments"], {"type": "video", "video": {"media_id": "v"}}]
        return {**data, "product_list": [item], "total": 1}

    wecom_fake.inject(PATHS["list"], rewrite=newer)
    page = await wecom_client.product_albums.list()
    (product,) = page.items
    assert product.extra == {"stock": 3}
    assert product.attachments is not None
    assert (product.attachments[1].type, product.attachments[1].image) == ("video", None)
    assert product.attachments[1].extra == {"video": {"media_id": "v"}}
    assert page.total == 1


def test_the_official_examples_round_trip_however_long() -> None:
    product = {
        "product_id": "xxxxxxxxxx",
        "description": "字" * 500,
        "price": 99_999_999,
        "create_time": 1600000000,
        "product_sn": "含中文-的编码",
        "attachments": [{"type": "image", "image": {"media_id": "MEDIA_ID"}}] * 12,
    }
    whole = from_dict(GetProductAlbumResponse, {"product": product})
    assert isinstance(whole.product, ProductAlbum)
    assert to_dict(whole) == {"product": product}
    listed = {"next_cursor": "", "product_list": [product]}
    assert to_dict(from_dict(ProductAlbumListResponse, listed)) == listed


async def test_the_seeded_corp_has_a_console_product(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.seed(staff=2, customers_per_staff=1, seed=11)
    (product,) = [p async for p in wecom_client.product_albums.list()]
    assert (product.description, product.product_sn) == ("企业定制礼盒", "GIFT2024")
    with pytest.raises(PermissionDeniedError):
        await wecom_client.product_albums.update({"product_id": product.product_id, "price": 1})
