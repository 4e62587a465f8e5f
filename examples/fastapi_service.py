"""A FastAPI service that welcomes every new customer.

When a member adds a customer, WeCom pushes ``add_external_contact`` to the callback URL
with a ``WelcomeCode``; the handler greets the customer with ``send_welcome_msg`` within
the code's 20 seconds. One ``WeComClient`` lives as long as the app (the lifespan opens
and closes it), and on shutdown the receiver lets running handlers finish before the
client closes.

Run it (``pip install 'wecom-async[fastapi]' uvicorn``)::

    export WECOM_CORP_ID=ww... WECOM_SECRET=...                      # the app's secret
    export WECOM_CALLBACK_TOKEN=... WECOM_CALLBACK_AES_KEY=...        # 接收事件服务器 settings
    uvicorn examples.fastapi_service:create_app --factory --port 8000

and set ``https://<your host>/wecom/callback`` as the callback URL in the admin console.
``WECOM_BASE_URL`` points the client at another WeCom, e.g. the fake served by
``wecom-async fake-server`` (tests/test_examples.py runs this service against it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from wecom_async import DEFAULT_BASE_URL, WeComClient, WeComError
from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver
from wecom_async.callback.starlette import callback_router

CALLBACK_PATH = "/wecom/callback"
WELCOME = {"text": {"content": "您好，欢迎光临！有任何问题随时找我。"}}

log = logging.getLogger("welcome_service")


@dataclass(frozen=True)
class Settings:
    """What the service needs to know, read from the environment."""

    corp_id: str
    secret: str
    callback_token: str
    callback_aes_key: str
    base_url: str = DEFAULT_BASE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            corp_id=env["WECOM_CORP_ID"],
            secret=env["WECOM_SECRET"],
            callback_token=env["WECOM_CALLBACK_TOKEN"],
            callback_aes_key=env["WECOM_CALLBACK_AES_KEY"],
            base_url=env.get("WECOM_BASE_URL", DEFAULT_BASE_URL),
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: the callback route, the welcome handler and the client's lifespan."""
    settings = settings or Settings.from_env()
    crypto = CallbackCrypto(
        token=settings.callback_token,
        encoding_aes_key=settings.callback_aes_key,
        receive_id=settings.corp_id,
    )
    receiver = CallbackReceiver(crypto)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with WeComClient(
            settings.corp_id, settings.secret, base_url=settings.base_url
        ) as client:
            app.state.wecom = client
            # Inside the client's block: on shutdown, handlers finish before it closes.
            async with receiver.lifespan(app):
                yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(callback_router(receiver, CALLBACK_PATH))

    @receiver.on(AddExternalContact)
    async def welcome(event: AddExternalContact) -> None:
        # No code when the customer was already greeted another way (admin console
        # welcome, an earlier half-add event, a chat already started).
        if not event.welcome_code:
            return
        client: WeComClient = app.state.wecom
        try:
            await client.messages.send_welcome_msg({"welcome_code": event.welcome_code, **WELCOME})
        except WeComError as exc:  # e.g. 41051: the code expired or was used already
            log.warning("no welcome for %s: %s", event.external_userid, exc)

    return app
