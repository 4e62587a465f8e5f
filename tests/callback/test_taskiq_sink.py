"""The durable hand-off: TaskiqSink + EventStreamBroker against a real redis-server and
real worker and web processes (tests/callback/taskiq_app.py is the app they run)."""

from __future__ import annotations

import contextlib
import json
import logging
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
from taskiq import BrokerMessage, InMemoryBroker

from tests.redis_server import RedisServer, redis_executable
from wecom_async import ValidationError
from wecom_async.callback import (
    CallbackCrypto,
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
        "<Note><![CDATA[客户 😀 ]]> &amp; &lt;x&gt;]]&gt;</Note>"
        "<Nested><A>1</A><A>2</A></Nested></xml>"
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
    # Another process changes what is polled: there is no event of ours to wait on.
    with anyio.move_on_after(PATIENCE):
        while True:
            if condition():
                return
            await anyio.sleep(POLL)
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


# -- (b) Redis down: 503, and WeCom's retry is accepted once Redis is back ---------------


async def test_redis_down_is_answered_503_and_the_retry_is_handled(
    redis_server: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = new_customer(1), new_customer(2)
    with worker(child_env(redis_server, tmp_path), tmp_path / "worker.log"):
        async with in_process_app(redis_server, tmp_path) as (http, receiver):
            assert (await push_event(http, PATH, receiver.crypto, first)).status_code == 200
            await wait_until(lambda: handled_ids(tmp_path) == [first.create_time], "event 1")

            redis_server.kill()
            push = build_event_request(receiver.crypto, second)
            refused = await send_callback(http, PATH, push)
            # Not 200: WeCom keeps the push and delivers it again.
            assert refused.status_code == 503
            assert refused.text.startswith(ReceiverBusyError.reason)
            [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert "did not store" in error.getMessage()
            assert second.external_userid in error.getMessage()  # the ids, to repair it

            # Redis comes back (empty: the test server keeps nothing) while the worker
            # keeps trying; WeCom's retry is the same request, and is not taken for a
            # replay of a delivery that was never acknowledged.
            redis_server.start()
            retried = await send_callback(http, PATH, push)
            assert retried.status_code == 200
            await wait_until(lambda: len(handled_ids(tmp_path)) >= 2, "the retried event")
    assert_handled_once(tmp_path, [first, second])


# -- (c) a worker killed mid-handler: another worker handles the event -------------------


async def test_an_event_of_a_worker_killed_mid_handler_is_handled_by_another(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    sent = [new_customer(n) for n in range(1, 4)]
    (tmp_path / f"hang-{sent[0].create_time}").touch()  # the first worker to take it hangs
    env = child_env(redis_server, tmp_path)
    async with in_process_app(redis_server, tmp_path) as (http, receiver):
        for event in sent:
            assert (await push_event(http, PATH, receiver.crypto, event)).status_code == 200
    with worker(env, tmp_path / "worker-1.log"), worker(env, tmp_path / "worker-2.log"):
        await wait_until(lambda: any(r["stage"] == "started" for r in records(tmp_path)), "hang")
        [hung] = [r for r in records(tmp_path) if r["stage"] == "started"]
        assert hung["id"] == sent[0].create_time
        os.kill(int(str(hung["pid"])), signal.SIGKILL)
        # No new event arrives: the dead worker's event must be taken over all the same.
        await wait_until(lambda: len(handled_ids(tmp_path)) >= len(sent), "the takeover")
        await wait_until_async_zero(redis_server)
    assert_handled_once(tmp_path, sent)
    [redone] = [r for r in records(tmp_path) if r["id"] == hung["id"] and r["stage"] == "handled"]
    assert redone["pid"] != hung["pid"]


async def test_a_live_worker_keeps_its_long_handler_event_past_the_idle_timeout(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    event = new_customer(1)
    (tmp_path / f"hang-{event.create_time}").touch()
    env = child_env(redis_server, tmp_path)
    async with in_process_app(redis_server, tmp_path) as (http, receiver):
        assert (await push_event(http, PATH, receiver.crypto, event)).status_code == 200
    with worker(env, tmp_path / "worker-1.log"), worker(env, tmp_path / "worker-2.log"):
        await wait_until(lambda: bool(records(tmp_path)), "the handler to start")
        # Handlers running for more than two idle timeouts: their worker keeps renewing
        # the event, so the other worker never takes it over and runs it a second time.
        async with redis_client(redis_server) as client:
            until = anyio.current_time() + 2.5 * IDLE_TIMEOUT_MS / 1000
            while anyio.current_time() < until:
                [entry] = await client.xpending_range(
                    DEFAULT_QUEUE, "wecom_async", min="-", max="+", count=10
                )
                assert entry["times_delivered"] == 1
                assert entry["time_since_delivered"] < IDLE_TIMEOUT_MS
                await anyio.sleep(0.05)
        assert [r["stage"] for r in records(tmp_path)] == ["started"]


# -- (d) the web process killed between the 200 and the handling -------------------------


async def test_a_web_process_killed_after_the_200_loses_nothing(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    env = child_env(redis_server, tmp_path)
    crypto = build(redis_server.url, tmp_path)[2].crypto
    sent = [new_customer(n) for n in range(1, 5)]
    with web_process(env, tmp_path / "web-1.log") as (web, url):
        for event in sent[:3]:
            assert (await push_event(url, PATH, crypto, event)).status_code == 200
        web.send_signal(signal.SIGKILL)  # no shutdown of any kind
        web.wait(timeout=10)
    assert await stored(redis_server) == 3
    with web_process(env, tmp_path / "web-2.log") as (_, url):  # the restarted receiver
        assert (await push_event(url, PATH, crypto, sent[3])).status_code == 200
    with worker(env, tmp_path / "worker.log"):
        await wait_until(lambda: len(handled_ids(tmp_path)) >= len(sent), "the worker")
        await wait_until_async_zero(redis_server)
    assert_handled_once(tmp_path, sent)


async def test_events_stored_before_any_worker_started_are_handled(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    # A web app that never started the broker: no consumer group exists when the events
    # are stored, and the first worker must still read them from the start of the stream.
    _, sink, _ = build(redis_server.url, tmp_path)
    sent = [new_customer(n) for n in range(1, 3)]
    for event in sent:
        await sink.put(event)
    await sink.broker.shutdown()
    with worker(child_env(redis_server, tmp_path), tmp_path / "worker.log"):
        await wait_until(lambda: len(handled_ids(tmp_path)) >= len(sent), "the worker")
    assert_handled_once(tmp_path, sent)


# -- the sink on its own -----------------------------------------------------------------


async def test_with_the_in_memory_broker_put_runs_the_handlers(crypto: CallbackCrypto) -> None:
    broker = InMemoryBroker()
    sink = TaskiqSink(broker)
    receiver = sink.bind(CallbackReceiver(crypto, sink=sink))
    seen: list[Event] = []

    @receiver.on(Event)
    async def record(event: Event) -> None:
        seen.append(event)

    sent = [new_customer(1), *unusual_events()]
    async with sink.lifespan(None):
        for event in sent:
            request = build_event_request(crypto, event)
            assert await receiver.handle_post(request.params, request.body) == ""
        await broker.wait_all()
    assert seen == sent


async def test_a_put_slower_than_put_timeout_is_refused_for_a_retry(
    crypto: CallbackCrypto,
) -> None:
    class StuckBroker(InMemoryBroker):
        async def kick(self, message: BrokerMessage) -> None:
            await anyio.sleep_forever()  # a Redis that accepted the connection, then hung

    sink = TaskiqSink(StuckBroker(), put_timeout=0.01)
    receiver = sink.bind(CallbackReceiver(crypto, sink=sink))
    request = build_event_request(crypto, new_customer(1))
    with pytest.raises(ReceiverBusyError):
        await receiver.handle_post(request.params, request.body)
    with pytest.raises(TimeoutError):
        await sink.put(new_customer(2))


async def test_a_worker_with_an_unbound_sink_refuses_to_start() -> None:
    broker = InMemoryBroker()
    sink = TaskiqSink(broker)
    broker.is_worker_process = True
    with pytest.raises(ValidationError, match=r"bind\(receiver\)"):
        await broker.startup()
    with pytest.raises(ValidationError, match=r"bind\(receiver\)"):
        _ = sink.receiver


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"^put_timeout must be a number above 0, got 0$"):
        TaskiqSink(InMemoryBroker(), put_timeout=0)
    with pytest.raises(ValidationError, match=r"^put_timeout must be a number above 0, got nan$"):
        TaskiqSink(InMemoryBroker(), put_timeout=float("nan"))
    with pytest.raises(ValidationError, match=r"^idle_timeout must be a whole number of at least"):
        EventStreamBroker("redis://127.0.0.1:1/0", idle_timeout=0)
    with pytest.raises(
        ValidationError, match=r"^reconnect_delay must be a number above 0, got nan"
    ):
        EventStreamBroker("redis://127.0.0.1:1/0", reconnect_delay=float("nan"))


def test_a_missing_redis_server_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="redis-server"):
        redis_executable()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="redis-server"):
        redis_executable()
