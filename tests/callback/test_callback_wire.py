"""The receiver behind a real uvicorn server on 127.0.0.1: the attacks and failures that
only show on the wire (the decryption oracle, floods, shutdown)."""

from __future__ import annotations

from xml.etree import ElementTree

import httpx
from fastapi import FastAPI

from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver
from wecom_async.callback.starlette import callback_router
from wecom_async.testing.push import build_event_request

from ..testing.wire import serve
from .callback_helpers import PATH, new_customer


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
