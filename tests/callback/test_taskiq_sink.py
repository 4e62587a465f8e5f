"""The durable hand-off: TaskiqSink + EventStreamBroker against a real redis-server and
real worker and web processes (tests/callback/taskiq_app.py is the app they run)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from redis.asyncio import Redis
from taskiq import InMemoryBroker

from tests.redis_server import RedisServer
from wecom_async.callback import (
    CallbackReceiver,
    Event,
    GenericEvent,
    InfoEvent,
    ReceiverBusyError,
    event_to_xml,
    parse_event,
)
from wecom_async.callback.taskiq import DEFAULT_QUEUE, EventStreamBroker, TaskiqSink
from wecom_async.testing.push import build_event_request, push_event, send_callback

from .callback_helpers import PATH, new_customer
from .taskiq_app import IDLE_TIMEOUT_MS, build, web_app

ROOT = Path(__file__).parents[2]
#: Upper bound of every wait for another process; typical waits are well under a second.
PATIENCE = 20.0
POLL = 0.02


def unusual_events() -> list[Event]:
    """Events whose XML must come back unchanged: a generic one with nested, unicode and
    unknown tags, and a third-party InfoType push."""
    generic = parse_event(
        "<xml><ToUserName><![CDATA[ww1]]></ToUserName><CreateTime>1700000901</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[future_event]]></Event>"
        "<Note><![CDATA[客户 😀 ]]> &amp; &lt;x&gt;]]&gt;</Note><Nested><A>1</A><A>2</A></Nested></xml>"
    )
    info = parse_event(
        "<xml><SuiteId><![CDATA[ww2]]></SuiteId><InfoType><![CDATA[change_external_contact]]>"
        "</InfoType><TimeStamp>1700000902</TimeStamp><CreateTime>1700000902</CreateTime>"
        "<ExternalUserID><![CDATA[wmX]]></ExternalUserID></xml>"
    )
    assert isinstance(generic, GenericEvent)
    assert isinstance(info, InfoEvent)
    return [generic, info]


def records(events: Path) -> list[dict[str, object]]:
    """The lines the workers wrote so far."""
    path = events / "handled.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def handled_ids(events: Path) -> list[int]:
    return sorted(int(str(r["id"])) for r in records(events) if r["stage"] == "handled")


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` every few milliseconds, failing after PATIENCE seconds."""
    with anyio.move_on_after(PATIENCE):
        while not condition():
            await anyio.sleep(POLL)
        return
    raise AssertionError(f"timed out waiting for {what}")


def child_env(redis_server: RedisServer, events: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    env.update(
        WECOM_TEST_REDIS_URL=redis_server.url,
        WECOM_TEST_EVENTS=str(events),
        PYTHONPATH=str(ROOT),
    )
    return env


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """Run ``argv`` from the checkout in a session of its own; kill the whole session after."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def worker(env: dict[str, str], log: Path) -> contextlib.AbstractContextManager[object]:
    """One ``taskiq worker`` process (a manager and one child) for the app's broker."""
    argv = [sys.executable, "-m", "taskiq", "worker", "tests.callback.taskiq_app:broker"]
    return process([*argv, "--workers", "1", "--log-level", "WARNING"], env, log)


@contextlib.contextmanager
def web_process(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The app's web process under uvicorn; yields it and its base URL."""
    with process([sys.executable, "-m", "tests.callback.taskiq_app"], env, log) as proc:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), log.read_text()
        yield proc, f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def in_process_app(
    redis_server: RedisServer, events: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, CallbackReceiver]]:
    """The app's web side in this process (its lifespan run), on an ASGI client."""
    _, sink, receiver = build(redis_server.url, events)
    app = web_app(sink)
    async with sink.lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://wecom.test") as client:
            yield client, receiver


@contextlib.asynccontextmanager
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


async def stored(redis_server: RedisServer) -> int:
    """How many events the stream holds (stored and not yet handled)."""
    async with redis_client(redis_server) as client:
        return int(await client.xlen(DEFAULT_QUEUE))


def assert_handled_once(events: Path, sent: list[Event]) -> None:
    """Every sent event was handled exactly once, and its XML came back unchanged."""
    handled = [r for r in records(events) if r["stage"] == "handled"]
    assert sorted(int(str(r["id"])) for r in handled) == sorted(e.create_time for e in sent)
    by_id = {int(str(r["id"])): parse_event(str(r["xml"])) for r in handled}
    for event in sent:
        assert by_id[event.create_time] == event


# -- (a) stored before the 200, handled exactly once by a worker process -----------------


async def test_pushes_are_stored_then_handled_once_by_a_worker(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    sent: list[Event] = [new_customer(n, welcome_code=f"W{n}") for n in range(1, 21)]
    sent += unusual_events()
    async with in_process_app(redis_server, tmp_path) as (http, receiver):
        for event in sent:
            response = await push_event(http, PATH, receiver.crypto, event)
            assert (response.status_code, response.text) == (200, "")
        # A retried delivery is answered 200 and not stored again.
        again = await push_event(http, PATH, receiver.crypto, event_to_xml(sent[0]))
        assert again.status_code == 200
    # Every 200 was answered once Redis held the event, before any worker ran.
    assert await stored(redis_server) == len(sent)
    assert records(tmp_path) == []
    with worker(child_env(redis_server, tmp_path), tmp_path / "worker.log"):
        await wait_until(lambda: len(handled_ids(tmp_path)) >= len(sent), "the worker")
        # A handled event is deleted with its acknowledgement: nothing is left to redo.
        await wait_until_async_zero(redis_server)
    assert_handled_once(tmp_path, sent)


async def wait_until_async_zero(redis_server: RedisServer) -> None:
    """Wait until the stream is empty and nothing is pending."""
    with anyio.move_on_after(PATIENCE):
        async with redis_client(redis_server) as client:
            while True:
                pending = await client.xpending(DEFAULT_QUEUE, "wecom_async")
                if await client.xlen(DEFAULT_QUEUE) == 0 and pending["pending"] == 0:
                    return
                await anyio.sleep(POLL)
    raise AssertionError("the stream still holds events")
