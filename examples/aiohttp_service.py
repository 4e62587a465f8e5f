"""An aiohttp service that welcomes every new customer.

The same service as ``fastapi_service.py`` on aiohttp: WeCom pushes
``add_external_contact`` with a ``WelcomeCode`` and the handler greets the customer with
``send_welcome_msg``. The ``WeComClient`` lives in a cleanup context, which also lets
running handlers finish before the client closes.

Run it (``pip install 'wecom-async[aiohttp]'``)::

    export WECOM_CORP_ID=ww... WECOM_SECRET=...
    export WECOM_CALLBACK_TOKEN=... WECOM_CALLBACK_AES_KEY=...
    python -m aiohttp.web -P 8000 examples.aiohttp_service:create_app

``WECOM_BASE_URL`` points the client at another WeCom, e.g. the fake served by
``wecom-async fake-server`` (tests/test_examples.py runs this service against it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from wecom_async import DEFAULT_BASE_URL, WeComClient, WeComError
from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver
from wecom_async.callback.aiohttp import add_callback_routes

CALLBACK_PATH = "/wecom/callback"
WELCOME = {"text": {"content": "您好，欢迎光临！有任何问题随时找我。"}}
WECOM = web.AppKey("wecom", WeComClient)

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


def create_app(
    argv: Sequence[str] | None = None, settings: Settings | None = None
) -> web.Application:
    """Build the app (``argv`` is what ``python -m aiohttp.web`` passes; unused)."""
    settings = settings or Settings.from_env()
    crypto = CallbackCrypto(
        token=settings.callback_token,
        encoding_aes_key=settings.callback_aes_key,
        receive_id=settings.corp_id,
    )
    receiver = CallbackReceiver(crypto)
    app = web.Application()

    async def wecom_client(app: web.Application) -> AsyncIterator[None]:
        async with WeComClient(
            settings.corp_id, settings.secret, base_url=settings.base_url
        ) as client:
            app[WECOM] = client
            yield
            # Let running handlers finish while the client is still open.
            await receiver.aclose()

    app.cleanup_ctx.append(wecom_client)
    add_callback_routes(app, receiver, CALLBACK_PATH, wait_on_cleanup=False)

    @receiver.on(AddExternalContact)
    async def welcome(event: AddExternalContact) -> None:
        if not event.welcome_code:  # already greeted another way
            return
        try:
            await app[WECOM].messages.send_welcome_msg(
                {"welcome_code": event.welcome_code, **WELCOME}
            )
        except WeComError as exc:  # e.g. 41051: the code expired or was used already
            log.warning("no welcome for %s: %s", event.external_userid, exc)

    return app
