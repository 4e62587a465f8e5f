"""The receiver behind a real uvicorn server on 127.0.0.1: the attacks and failures that
only show on the wire (the decryption oracle, floods, shutdown)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import anyio
import httpx
import pytest
from fastapi import FastAPI

from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver, _xml
from wecom_async.callback.starlette import callback_router
from wecom_async.testing.push import CallbackRequest, build_event_request

from ..testing.wire import serve
from .callback_helpers import AES_KEY, CORP_ID, PATH, TOKEN, new_customer


def callback_app(receiver: CallbackReceiver) -> FastAPI:
    app = FastAPI(lifespan=receiver.lifespan)
    app.include_router(callback_router(receiver, PATH))
    return app


def encrypt_of(body: str) -> str:
    """The ``Encrypt`` value of a pushed envelope, as an eavesdropper would read it."""
    text = ElementTree.fromstring(body).findtext("Encrypt")
    assert text
    return text


def test_captured_push_resent_as_a_url_check_is_not_decrypted(crypto: CallbackCrypto) -> None:
    receiver = CallbackReceiver(crypto)
    handled: list[str] = []

    @receiver.on(AddExternalContact)
    async def record(event: AddExternalContact) -> None:
        handled.append(event.external_userid)

    event = new_customer(7, welcome_code="WELCOME-CODE-0007")
    captured = build_event_request(crypto, event)
    with serve(callback_app(receiver)) as url, httpx.Client(base_url=url) as http:
        genuine = http.post(PATH, params=dict(captured.params), content=captured.body)
        assert genuine.status_code == 200
        # The attacker resends the captured query as a GET, the Encrypt value as echostr:
        # the signature covers the same four strings, so it verifies.
        oracle = http.get(PATH, params={**captured.params, "echostr": encrypt_of(captured.body)})
    assert oracle.status_code == 400
    assert oracle.text == "invalid echostr (-40008)"
    for secret in (event.external_userid, "WELCOME-CODE-0007", "li.lei", "<xml"):
        assert secret not in oracle.text
    assert handled == [event.external_userid]


def nested(size: int) -> bytes:
    """A deeply nested XML body of about ``size`` bytes: costly to parse, signed by nobody."""
    depth = (size - 11) // 7
    return b"<xml>" + b"<a>" * depth + b"</a>" * depth + b"</xml>"


async def test_flood_of_nested_bodies_does_not_delay_genuine_pushes(
    crypto: CallbackCrypto, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    real_fromstring = _xml.fromstring

    def counting_fromstring(data: bytes, **kwargs: bool) -> object:
        parsed.append(len(data))
        return real_fromstring(data, **kwargs)

    monkeypatch.setattr(_xml, "fromstring", counting_fromstring)
    receiver = CallbackReceiver(crypto)
    handled: list[str] = []

    @receiver.on(AddExternalContact)
    async def record(event: AddExternalContact) -> None:
        handled.append(event.external_userid)

    genuine = [build_event_request(crypto, new_customer(n)) for n in range(4)]
    flood = [nested(1024 * 1024)] * 32 + [nested(60 * 1024)] * 32
    outcomes: list[str] = []

    async def attack(http: httpx.AsyncClient, body: bytes) -> None:
        try:
            response = await http.post(PATH, params=genuine[0].params, content=body)
        except httpx.TransportError:  # refused by its Content-Length and closed mid-upload
            outcomes.append("closed")
        else:
            outcomes.append(str(response.status_code))

    async def push(http: httpx.AsyncClient, request: CallbackRequest) -> None:
        # WeCom gives a receiver 5 s; a push answered later counts as lost.
        response = await http.post(PATH, params=request.params, content=request.body, timeout=5)
        outcomes.append(f"genuine {response.status_code}")

    with serve(callback_app(receiver)) as url:
        limits = httpx.Limits(max_connections=None)
        async with (
            httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http,
            anyio.create_task_group() as group,
        ):
            for n, body in enumerate(flood):
                group.start_soon(attack, http, body)
                if n % 16 == 15:  # genuine pushes arrive while the flood is in flight
                    group.start_soon(push, http, genuine[n // 16])
    assert sorted(o for o in outcomes if o.startswith("genuine")) == ["genuine 200"] * 4
    refused = [o for o in outcomes if not o.startswith("genuine")]
    assert len(refused) == 64
    assert set(refused) <= {"400", "413", "closed"}
    assert refused.count("400") == 32  # the ones under the limit, read and refused unparsed
    assert sorted(handled) == sorted(new_customer(n).external_userid for n in range(4))
    assert len(parsed) == 4  # only the four authenticated messages were ever parsed


def test_sigint_stops_within_the_deadline_and_logs_unfinished_events() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.callback.shutdown_app"],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for n in range(5):
                request = build_event_request(crypto, new_customer(n))
                response = http.post(PATH, params=request.params, content=request.body)
                assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        # The handlers never finish; a shutdown without a deadline would wait forever.
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    unfinished = [line for line in stderr.splitlines() if "shutdown deadline" in line]
    assert len(unfinished) == 5, stderr
    for n in range(5):
        assert sum(new_customer(n).external_userid in line for line in unfinished) == 1
    assert "Traceback" not in stderr


def test_a_trickled_body_is_cut_off_so_it_cannot_hold_the_connection(
    crypto: CallbackCrypto,
) -> None:
    """An unauthenticated client that declares a body and sends 5 bytes of it is answered
    408 after ``body_timeout``, closing the connection a graceful shutdown waits for."""
    import socket

    receiver = CallbackReceiver(crypto, body_timeout=0.2)
    with serve(callback_app(receiver)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                f"POST {PATH}?msg_signature=a&timestamp=1&nonce=n HTTP/1.1\r\n"
                f"Host: {host}\r\nContent-Length: 1000\r\n\r\n<xml>".encode()
            )
            answer = b""
            while b"body too slow" not in answer:  # the body may come in its own packet
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"body too slow" in answer
