"""An app with a durable event sink, run by the taskiq tests in real processes.

The module both processes import, as a user's would be:

* the worker: ``python -m taskiq worker tests.callback.taskiq_app:broker``;
* the web process: ``python -m tests.callback.taskiq_app``: it prints its port, then
  serves FastAPI under uvicorn.

Both read ``WECOM_TEST_REDIS_URL`` and ``WECOM_TEST_EVENTS`` (a folder) from the
environment.  The worker's handler appends one JSON line per event to
``<folder>/handled.jsonl``: its stage, its pid, the event's ``create_time`` (the tests'
event id) and its XML.  An event whose ``hang-<create_time>`` file exists is taken by the
first worker that removes the file: it writes a ``started`` line and never finishes.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from pathlib import Path

import anyio
import uvicorn
from fastapi import FastAPI

from wecom_async.callback import CallbackCrypto, CallbackReceiver, Event, event_to_xml
from wecom_async.callback.starlette import callback_router
from wecom_async.callback.taskiq import EventStreamBroker, TaskiqSink

from .callback_helpers import AES_KEY, CORP_ID, PATH, TOKEN

#: Short enough that a killed worker's event is taken over within a test's seconds.
IDLE_TIMEOUT_MS = 1000
XREAD_BLOCK_MS = 100
RECONNECT_DELAY = 0.1


def build(redis_url: str, events: Path) -> tuple[EventStreamBroker, TaskiqSink, CallbackReceiver]:
    """The broker, the sink and the receiver, with the recording handler registered."""
    broker = EventStreamBroker(
        redis_url,
        idle_timeout=IDLE_TIMEOUT_MS,
        xread_block=XREAD_BLOCK_MS,
        reconnect_delay=RECONNECT_DELAY,
    )
    sink = TaskiqSink(broker)
    receiver = sink.bind(CallbackReceiver(CallbackCrypto(TOKEN, AES_KEY, CORP_ID), sink=sink))

    @receiver.on(Event)
    async def record(event: Event) -> None:
        try:
            (events / f"hang-{event.create_time}").unlink()
        except FileNotFoundError:
            pass
        else:
            _write(events, "started", event)
            await anyio.sleep_forever()
        _write(events, "handled", event)

    return broker, sink, receiver


def _write(events: Path, stage: str, event: Event) -> None:
    line = {"stage": stage, "pid": os.getpid(), "id": event.create_time, "xml": event_to_xml(event)}
    # One write of one line with O_APPEND: lines of several workers never interleave.
    fd = os.open(events / "handled.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


def web_app(sink: TaskiqSink) -> FastAPI:
    """The FastAPI app of the web process: the receiver's route, the sink's lifespan."""
    app = FastAPI(lifespan=sink.lifespan)
    app.include_router(callback_router(sink.receiver, PATH))
    return app


if "WECOM_TEST_REDIS_URL" in os.environ:  # a process of the tests, not the tests' own
    broker, sink, receiver = build(
        os.environ["WECOM_TEST_REDIS_URL"], Path(os.environ["WECOM_TEST_EVENTS"])
    )


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # before the port is printed: a client may connect before uvicorn runs
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(web_app(sink), lifespan="on", log_level="warning", access_log=False)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    sys.exit(0)


if __name__ == "__main__":
    main()
