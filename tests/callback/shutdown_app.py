"""A callback receiver served by uvicorn in its own process, for the shutdown test.

Run as ``python -m tests.callback.shutdown_app``: it prints the port it listens on, then
serves FastAPI with a handler that never finishes, and a 0.5 s shutdown deadline.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys

import anyio
import uvicorn
from fastapi import FastAPI

from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver
from wecom_async.callback.starlette import callback_router

from .callback_helpers import AES_KEY, CORP_ID, PATH, TOKEN

SHUTDOWN_TIMEOUT = 0.5


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
    receiver = CallbackReceiver(
        CallbackCrypto(TOKEN, AES_KEY, CORP_ID), shutdown_timeout=SHUTDOWN_TIMEOUT
    )

    @receiver.on(AddExternalContact)
    async def never_done(event: AddExternalContact) -> None:
        await anyio.sleep_forever()

    app = FastAPI(lifespan=receiver.lifespan)
    app.include_router(callback_router(receiver, PATH))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # before the port is printed: a client may connect before uvicorn runs
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    # uvicorn re-raises the SIGINT it handled once it has shut down.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
