"""client.media (endpoints.md #75-#77) end to end against the fake WeCom."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from wecom_async import (
    APIError,
    RateLimitError,
    SystemBusyError,
    TransportError,
    ValidationError,
    WeComClient,
)
from wecom_async.models.media import AttachmentType, UploadResult
from wecom_async.services import media as media_service
from wecom_async.testing import FakeWeCom, WeComFault
from wecom_async.testing.routes._media_state import MediaRecord, MediaState

UPLOAD_ATTACHMENT = "media/upload_attachment"
UPLOAD = "media/upload"
UPLOADIMG = "media/uploadimg"
PATHS = (UPLOAD_ATTACHMENT, UPLOAD, UPLOADIMG)
MB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-body" * 8
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


def media_of(fake: FakeWeCom, media_id: str) -> MediaRecord:
    return fake.state.ext(MediaState).media[media_id]


def last_upload(fake: FakeWeCom, path: str) -> dict[str, str]:
    """The query of the last request, after checking it was a multipart POST to ``path``."""
    request = fake.requests[-1]
    assert (request.method, request.path, request.json) == ("POST", path, None)
    return dict(request.query)


def sent_nothing(fake: FakeWeCom) -> bool:
    return all(fake.calls(path) == 0 for path in PATHS)


# -- happy paths: bytes, a path, a file object -------------------------------------------


async def test_upload_attachment_from_bytes_puts_both_params_in_the_query(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    result = await wecom_client.media.upload_attachment(
        PNG, media_type="image", attachment_type=AttachmentType.MOMENTS
    )
    assert last_upload(wecom_fake, UPLOAD_ATTACHMENT) == {
        "access_token": "***",
        "media_type": "image",
        "attachment_type": "1",
    }
    stored = media_of(wecom_fake, result.media_id)
    # The part was named "media" (the fake reads no other), with a name and a content type
    # derived from the PNG signature.
    assert (stored.filename, stored.content_type, stored.content) == ("image.png", "image/png", PNG)
    assert (stored.type, stored.attachment_type) == ("image", 1)
    assert result.type == "image"
    assert result.created_at == int(wecom_fake.clock.now())  # an int on this endpoint
    assert result.created_timestamp == int(wecom_fake.clock.now())


async def test_upload_from_a_path_sends_the_file_name_and_type_string(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, tmp_path: Path
) -> None:
    path = tmp_path / "季度报告.pdf"
    path.write_bytes(b"%PDF-1.7 quarterly report")
    result = await wecom_client.media.upload(path, media_type="file")
    assert last_upload(wecom_fake, UPLOAD) == {"access_token": "***", "type": "file"}
    stored = media_of(wecom_fake, result.media_id)
    assert (stored.filename, stored.content_type) == ("季度报告.pdf", "application/pdf")
    assert stored.content == b"%PDF-1.7 quarterly report"
    # media/upload answers created_at as a string (endpoints.md discrepancy #19): kept as sent.
    assert result.created_at == str(int(wecom_fake.clock.now()))
    assert result.created_timestamp == int(wecom_fake.clock.now())

    as_str = await wecom_client.media.upload(str(path), media_type="file", filename="r.pdf")
    assert media_of(wecom_fake, as_str.media_id).filename == "r.pdf"


async def test_upload_image_from_a_file_object_reads_it_in_a_worker_thread(
    wecom_fake: FakeWeCom,
    wecom_client: WeComClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[Callable[..., object]] = []
    real_run_sync = media_service.anyio.to_thread.run_sync

    async def spy(func: Callable[..., object], *args: Any, **kwargs: Any) -> object:
        reads.append(func)
        return await real_run_sync(func, *args, **kwargs)

    monkeypatch.setattr(media_service.anyio.to_thread, "run_sync", spy)
    path = tmp_path / "banner.jpg"
    path.write_bytes(JPEG)
    with path.open("rb") as handle:
        url = await wecom_client.media.upload_image(handle)
    assert reads == [media_service._read]
    assert url.startswith("https://wework.qpic.cn/wwpic/")
    assert last_upload(wecom_fake, UPLOADIMG) == {"access_token": "***"}
    assert wecom_fake.state.ext(MediaState).images[url] == ("banner.jpg", JPEG)

    # bytes need no thread; a nameless file object is read from its current position.
    await wecom_client.media.upload_image(PNG)
    assert len(reads) == 1
    buffer = io.BytesIO(b"skip" + PNG)
    buffer.seek(4)
    url = await wecom_client.media.upload_image(buffer, filename="cover.png")
    assert len(reads) == 2
    assert wecom_fake.state.ext(MediaState).images[url] == ("cover.png", PNG)


async def test_a_moments_video_and_an_album_image(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    video = await wecom_client.media.upload_attachment(
        io.BytesIO(MP4), media_type="video", attachment_type=1
    )
    stored = media_of(wecom_fake, video.media_id)
    assert (stored.filename, stored.content_type, stored.type) == (
        "video.mp4",
        "video/mp4",
        "video",
    )
    album = await wecom_client.media.upload_attachment(
        JPEG, media_type="image", attachment_type=AttachmentType.PRODUCT_ALBUM, filename="a.jpg"
    )
    assert last_upload(wecom_fake, UPLOAD_ATTACHMENT)["attachment_type"] == "2"
    assert media_of(wecom_fake, album.media_id).attachment_type == 2


# -- refused locally: nothing reaches the fake -------------------------------------------


def _sparse(tmp_path: Path, size: int) -> Path:
    path = tmp_path / f"big-{size}.bin"
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, _: m.upload(b"12345", media_type="file"), "more than 5 bytes"),
        (lambda m, _: m.upload(b"", media_type="file"), "more than 5 bytes"),
        (lambda m, _: m.upload(PNG, media_type="audio"), "media_type must be one of"),  # type: ignore[arg-type]
        (lambda m, t: m.upload(_sparse(t, 10 * MB + 1), media_type="image"), "over 10485760"),
        (lambda m, t: m.upload(_sparse(t, 2 * MB + 1), media_type="voice"), "over 2097152"),
        (lambda m, t: m.upload(_sparse(t, 10 * MB + 1), media_type="video"), "over 10485760"),
        (lambda m, t: m.upload(_sparse(t, 20 * MB + 1), media_type="file"), "over 20971520"),
        (
            lambda m, t: m.upload_attachment(
                _sparse(t, 10 * MB + 1), media_type="image", attachment_type=1
            ),
            "over 10485760",
        ),
        (lambda m, t: m.upload_image(_sparse(t, 2 * MB + 1)), "over 2097152"),
        (lambda m, _: m.upload_image(b"\x89PNG"), "more than 5 bytes"),
        (
            lambda m, _: m.upload_attachment(PNG, media_type="voice", attachment_type=1),  # type: ignore[arg-type]
            "media_type must be one of",
        ),
        (
            lambda m, _: m.upload_attachment(PNG, media_type="file", attachment_type=1),
            "takes media_type ['image', 'video']",
        ),
        (
            lambda m, _: m.upload_attachment(MP4, media_type="video", attachment_type=2),
            "takes media_type ['image']",
        ),
        (
            lambda m, _: m.upload_attachment(PNG, media_type="image", attachment_type=3),
            "attachment_type must be 1",
        ),
        (
            lambda m, _: m.upload_attachment(PNG, media_type="image", attachment_type=True),
            "attachment_type must be 1",
        ),
        (lambda m, _: m.upload(PNG, media_type="image", filename=""), "filename"),
        (lambda m, t: m.upload(t / "missing.png", media_type="image"), "cannot read"),
        (lambda m, _: m.upload(io.StringIO("text mode!"), media_type="file"), "binary mode"),  # type: ignore[arg-type]
    ],
    ids=[
        "5-bytes",
        "empty",
        "unknown-type",
        "image-over-10mb",
        "voice-over-2mb",
        "video-over-10mb",
        "file-over-20mb",
        "attachment-over-10mb",
        "uploadimg-over-2mb",
        "uploadimg-4-bytes",
        "attachment-unknown-type",
        "moments-file",
        "album-video",
        "attachment-type-3",
        "attachment-type-bool",
        "empty-filename",
        "missing-path",
        "text-file-object",
    ],
)
async def test_refused_locally(
    wecom_fake: FakeWeCom,
    wecom_client: WeComClient,
    tmp_path: Path,
    call: Callable[[Any, Path], Any],
    message: str,
) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        await call(wecom_client.media, tmp_path)
    assert sent_nothing(wecom_fake)


async def test_the_limits_are_inclusive(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    smallest = await wecom_client.media.upload(b"123456", media_type="file")
    assert len(media_of(wecom_fake, smallest.media_id).content) == 6
    largest = b"\xff\xd8\xff" + b"\x00" * (2 * MB - 3)
    await wecom_client.media.upload_image(largest)
    assert wecom_fake.calls(UPLOAD) == wecom_fake.calls(UPLOADIMG) == 1


async def test_a_large_path_is_never_read_past_its_limit(
    wecom_client: WeComClient, tmp_path: Path
) -> None:
    handle = io.BytesIO(b"\x00" * (3 * MB))
    with pytest.raises(ValidationError):
        await wecom_client.media.upload_image(handle)
    assert handle.tell() == 2 * MB + 1


# -- server-side answers -----------------------------------------------------------------


async def test_the_fake_refuses_an_image_that_is_not_jpg_or_png(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    with pytest.raises(APIError) as caught:
        await wecom_client.media.upload(b"GIF89a-not-allowed", media_type="image")
    assert caught.value.errcode == 40005
    assert wecom_fake.calls(UPLOAD) == 1
    assert wecom_fake.state.ext(MediaState).media == {}


async def test_uploadimg_daily_quota_answers_45009(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    wecom_fake.state.ext(MediaState).images_per_day = 2
    for _ in range(2):
        await wecom_client.media.upload_image(PNG)
    with pytest.raises(RateLimitError) as caught:
        await wecom_client.media.upload_image(PNG)
    assert caught.value.errcode == 45009
    # 45009 is a refusal, so the SDK retried it (4 attempts); none was stored.
    assert wecom_fake.calls(UPLOADIMG) == 2 + 4
    assert len(wecom_fake.state.ext(MediaState).images) == 2
    wecom_fake.clock.advance(86400)
    assert (await wecom_client.media.upload_image(PNG)).startswith("https://")


@pytest.mark.parametrize("path", PATHS)
async def test_uploads_are_never_resent_after_an_ambiguous_failure(
    wecom_fake: FakeWeCom, wecom_client: WeComClient, path: str
) -> None:
    calls = {
        UPLOAD_ATTACHMENT: lambda: wecom_client.media.upload_attachment(
            PNG, media_type="image", attachment_type=1
        ),
        UPLOAD: lambda: wecom_client.media.upload(PNG, media_type="image"),
        UPLOADIMG: lambda: wecom_client.media.upload_image(PNG),
    }
    wecom_fake.inject(path, errcode=-1)
    with pytest.raises(SystemBusyError):
        await calls[path]()
    assert wecom_fake.calls(path) == 1

    wecom_fake.inject(path, drop=True)
    with pytest.raises(TransportError):
        await calls[path]()
    assert wecom_fake.calls(path) == 2
    # The dropped upload did reach WeCom: resending would have stored a second copy.
    state = wecom_fake.state.ext(MediaState)
    assert len(state.media) + len(state.images) == 1


async def test_a_token_refusal_is_resent_once_after_a_refresh(
    wecom_fake: FakeWeCom, wecom_client: WeComClient
) -> None:
    await wecom_client.media.upload(PNG, media_type="image")
    wecom_fake.expire_tokens()
    result = await wecom_client.media.upload(PNG, media_type="image")
    assert isinstance(result, UploadResult)
    assert wecom_fake.calls(UPLOAD) == 3
    assert len(wecom_fake.state.ext(MediaState).media) == 2


# -- the fake's multipart rules and media store ------------------------------------------


async def _raw_upload(fake: FakeWeCom, path: str, files: dict[str, Any], **params: str) -> Any:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        token = (
            await http.get(
                "/cgi-bin/gettoken", params={"corpid": fake.corp_id, "corpsecret": fake.secret}
            )
        ).json()["access_token"]
        response = await http.post(
            f"/cgi-bin/{path}", params={"access_token": token, **params}, files=files
        )
        return response.json()


async def test_the_fake_reads_only_a_part_named_media_with_a_filename(
    wecom_fake: FakeWeCom,
) -> None:
    wrong_name = await _raw_upload(
        wecom_fake, UPLOAD, {"file": ("a.png", PNG, "image/png")}, type="image"
    )
    assert wrong_name["errcode"] == 44001
    no_filename = await _raw_upload(wecom_fake, UPLOAD, {"media": (None, PNG)}, type="image")
    assert no_filename["errcode"] == 40058
    combination = await _raw_upload(
        wecom_fake,
        UPLOAD_ATTACHMENT,
        {"media": ("a.mp4", MP4, "video/mp4")},
        media_type="video",
        attachment_type="2",
    )
    assert combination["errcode"] == 41072
    ok = await _raw_upload(wecom_fake, UPLOAD, {"media": ("a.png", PNG, "image/png")}, type="image")
    assert (ok["errcode"], ok["type"]) == (0, "image")
    assert wecom_fake.state.ext(MediaState).media.keys() == {ok["media_id"]}


async def test_media_ids_live_three_days(wecom_fake: FakeWeCom, wecom_client: WeComClient) -> None:
    result = await wecom_client.media.upload(PNG, media_type="image")
    store = wecom_fake.state.ext(MediaState)
    assert store.lookup(result.media_id, wecom_fake.clock.now(), kinds={"image"}).content == PNG
    with pytest.raises(WeComFault) as wrong_kind:
        store.lookup(result.media_id, wecom_fake.clock.now(), kinds={"video"})
    assert wrong_kind.value.errcode == 40007
    wecom_fake.clock.advance(3 * 86400)
    with pytest.raises(WeComFault) as expired:
        store.lookup(result.media_id, wecom_fake.clock.now(), kinds={"image"})
    assert expired.value.errcode == 40145
