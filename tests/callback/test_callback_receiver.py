"""CallbackReceiver without a web framework: dispatch, de-duplication, background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import threading
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wecom_async import ValidationError
from wecom_async.callback import (
    DEFAULT_MAX_BODY_BYTES,
    AddExternalContact,
    BodyTooLargeError,
    CallbackCrypto,
    CallbackError,
    CallbackReceiver,
    DecryptError,
    EditExternalContact,
    Event,
    ExternalChatUpdate,
    ExternalContactEvent,
    GenericEvent,
    InfoEvent,
    ReceiverBusyError,
    SignatureError,
    StaleRequestError,
    _receiver,
    _xml,
    parse_event,
)
from wecom_async.testing.push import CallbackRequest, build_event_request, build_url_check

from .callback_helpers import AES_KEY, CORP_ID, TOKEN, new_customer, sample
from .test_callback_events import THIRD_PARTY_ADD


def post(receiver: CallbackReceiver, event: Event | str) -> CallbackRequest:
    return build_event_request(receiver.crypto, event)


async def deliver(receiver: CallbackReceiver, event: Event | str) -> str:
    request = post(receiver, event)
    return await receiver.handle_post(request.params, request.body)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)


async def test_url_check_answers_the_echo(receiver: CallbackReceiver) -> None:
    request = build_url_check(receiver.crypto, echo="8237493871")
    assert request.method == "GET"
    assert await receiver.handle_get(request.params) == "8237493871"


@pytest.mark.parametrize("missing", ["msg_signature", "timestamp", "nonce", "echostr"])
async def test_url_check_with_a_missing_parameter(receiver: CallbackReceiver, missing: str) -> None:
    params = dict(build_url_check(receiver.crypto).params)
    del params[missing]
    with pytest.raises(SignatureError, match=missing):
        await receiver.handle_get(params)


async def test_event_reaches_its_handler_once(receiver: CallbackReceiver) -> None:
    added, edited = Recorder(), Recorder()
    receiver.on(AddExternalContact)(added)
    receiver.on(EditExternalContact)(edited)
    assert await deliver(receiver, new_customer(1)) == ""
    await receiver.drain()
    assert added.events == [new_customer(1)]
    assert edited.events == []


async def test_handler_matching_by_class_base_and_names(receiver: CallbackReceiver) -> None:
    by_class, by_base, by_names, by_event, every, other = (Recorder() for _ in range(6))
    receiver.on(AddExternalContact)(by_class)
    receiver.on(ExternalContactEvent)(by_base)
    receiver.on("change_external_contact", "add_external_contact")(by_names)
    receiver.on("change_external_contact")(by_event)
    receiver.on(Event)(every)
    receiver.on("change_external_chat", "create")(other)
    await deliver(receiver, new_customer(1))
    await deliver(receiver, sample("edit_external_contact"))
    await deliver(receiver, sample("unknown_event"))
    await receiver.drain()
    assert len(by_class.events) == 1
    assert len(by_names.events) == 1
    assert len(by_base.events) == 2
    assert len(by_event.events) == 2
    assert len(every.events) == 3
    assert isinstance(every.events[2], GenericEvent)
    assert other.events == []


async def test_names_match_events_this_release_does_not_model(receiver: CallbackReceiver) -> None:
    seen = Recorder()
    receiver.on("customer_acquisition", "friend_request")(seen)
    await deliver(receiver, sample("unknown_event"))
    await receiver.drain()
    assert [type(e) for e in seen.events] == [GenericEvent]
    assert seen.events[0].extra["LinkId"] == "caLink000000000000000000000001"


def test_on_refuses_a_class_with_a_change_type(receiver: CallbackReceiver) -> None:
    with pytest.raises(ValidationError, match="on\\(\\) takes an Event subclass"):
        receiver.on(AddExternalContact, "add_external_contact")  # type: ignore[call-overload]


async def test_repeated_delivery_runs_the_handler_once(receiver: CallbackReceiver) -> None:
    seen = Recorder()
    receiver.on(AddExternalContact)(seen)
    for _ in range(3):  # WeCom retries: new nonce, timestamp and ciphertext, same event
        assert await deliver(receiver, new_customer(1)) == ""
    await deliver(receiver, new_customer(2))  # another customer in the same second is kept
    await receiver.drain()
    assert len(seen.events) == 2


async def test_dedupe_window_zero_and_no_max_age_keeps_every_delivery(
    crypto: CallbackCrypto,
) -> None:
    receiver = CallbackReceiver(crypto, dedupe_window=0, max_age=None)
    seen = Recorder()
    receiver.on(AddExternalContact)(seen)
    await deliver(receiver, new_customer(1))
    await deliver(receiver, new_customer(1))
    await receiver.drain()
    assert len(seen.events) == 2


async def test_answer_does_not_wait_for_a_slow_handler(receiver: CallbackReceiver) -> None:
    release, done = anyio.Event(), anyio.Event()

    @receiver.on(AddExternalContact)
    async def slow(event: AddExternalContact) -> None:
        await release.wait()
        done.set()

    assert await deliver(receiver, new_customer(1)) == ""
    await anyio.wait_all_tasks_blocked()
    assert receiver.running == 1
    assert not done.is_set()
    release.set()
    await receiver.drain()
    assert done.is_set()
    assert receiver.running == 0


async def test_concurrency_is_bounded(crypto: CallbackCrypto) -> None:
    receiver = CallbackReceiver(crypto, max_concurrency=2)
    release = anyio.Event()
    active = peak = finished = 0

    @receiver.on(AddExternalContact)
    async def handler(event: AddExternalContact) -> None:
        nonlocal active, peak, finished
        active += 1
        peak = max(peak, active)
        await release.wait()
        active -= 1
        finished += 1

    for n in range(5):
        await deliver(receiver, new_customer(n))
    await anyio.wait_all_tasks_blocked()
    assert (active, receiver.running) == (2, 5)
    release.set()
    await receiver.drain()
    assert (peak, finished) == (2, 5)


async def test_failing_handler_is_logged_and_later_events_still_run(
    receiver: CallbackReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Recorder()

    @receiver.on(AddExternalContact)
    async def broken(event: AddExternalContact) -> None:
        if event.external_userid.endswith("1"):
            raise RuntimeError("boom in handler")

    receiver.on(AddExternalContact)(seen)
    with caplog.at_level(logging.ERROR, logger="wecom_async"):
        await deliver(receiver, new_customer(1))
        await deliver(receiver, new_customer(2))
        await receiver.drain()
    failures = [r for r in caplog.records if r.name == "wecom_async" and r.exc_info]
    assert len(failures) == 1
    assert "broken" in failures[0].getMessage()
    # The operator can repair it: the member and the customer are named.
    assert "userid=li.lei" in failures[0].getMessage()
    assert f"external_userid={new_customer(1).external_userid}" in failures[0].getMessage()
    assert "WC-0001" not in failures[0].getMessage()  # the single-use welcome code is not
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], RuntimeError)
    assert [e.create_time for e in seen.events] == [
        new_customer(1).create_time,
        new_customer(2).create_time,
    ]


async def test_bad_requests_start_no_handler(receiver: CallbackReceiver) -> None:
    seen = Recorder()
    receiver.on(Event)(seen)
    request = post(receiver, new_customer(1))
    with pytest.raises(SignatureError):
        await receiver.handle_post({**request.params, "nonce": "other"}, request.body)
    with pytest.raises(SignatureError, match="msg_signature"):
        await receiver.handle_post({"timestamp": "1", "nonce": "2"}, request.body)
    other = CallbackCrypto("OtherToken", "A" * 43, CORP_ID)
    forged = build_event_request(other, new_customer(1))
    with pytest.raises(SignatureError):
        await receiver.handle_post(forged.params, forged.body)
    encrypted, now = "QUJD", request.params["timestamp"]  # signed but not decryptable
    body = f"<xml><Encrypt>{encrypted}</Encrypt></xml>"
    params = {"msg_signature": receiver.crypto.signature(now, "2", encrypted)}
    with pytest.raises(DecryptError):
        await receiver.handle_post({**params, "timestamp": now, "nonce": "2"}, body)
    await receiver.drain()
    assert seen.events == []


async def test_oversized_body_is_refused_before_verification(crypto: CallbackCrypto) -> None:
    small = CallbackReceiver(CallbackCrypto("T0ken", "B" * 43, CORP_ID, max_body_bytes=200))
    request = post(small, new_customer(1))
    assert len(request.body) > 200
    with pytest.raises(BodyTooLargeError):
        await small.handle_post(request.params, request.body)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 50

    with pytest.raises(BodyTooLargeError):
        await small.read_body(chunks())
    with pytest.raises(BodyTooLargeError):
        await small.read_body(chunks(), content_length="100000")


async def test_read_body_collects_chunks(receiver: CallbackReceiver) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"<xml>"
        yield b"</xml>"

    assert await receiver.read_body(chunks(), content_length=11) == b"<xml></xml>"


async def test_aclose_cancels_handlers_that_outlive_the_timeout(
    receiver: CallbackReceiver,
) -> None:
    cancelled = anyio.Event()

    @receiver.on(AddExternalContact)
    async def stuck(event: AddExternalContact) -> None:
        try:
            await anyio.Event().wait()
        finally:
            cancelled.set()

    await deliver(receiver, new_customer(1))
    await anyio.wait_all_tasks_blocked()
    await receiver.aclose(timeout=0)
    assert cancelled.is_set()
    assert receiver.running == 0


async def test_lifespan_waits_for_running_handlers(receiver: CallbackReceiver) -> None:
    finished: list[str] = []
    release = anyio.Event()

    @receiver.on(AddExternalContact)
    async def handler(event: AddExternalContact) -> None:
        await release.wait()
        finished.append(event.external_userid)

    async with receiver.lifespan(object()):
        await deliver(receiver, new_customer(1))
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert len(finished) == 1


def test_receiver_repr_hides_secrets(receiver: CallbackReceiver) -> None:
    assert "T0kenForTests" not in repr(receiver)
    assert CORP_ID in repr(receiver)


def test_push_request_is_what_wecom_sends(crypto: CallbackCrypto) -> None:
    request = build_event_request(crypto, new_customer(3), timestamp=1700000000, nonce="123456")
    assert request.method == "POST"
    assert set(request.params) == {"msg_signature", "timestamp", "nonce"}
    assert request.params["timestamp"] == "1700000000"
    envelope = parse_event(request.body)
    assert envelope.to_user_name == CORP_ID
    xml = crypto.decrypt(request.params["msg_signature"], "1700000000", "123456", request.body)
    assert parse_event(xml) == new_customer(3)
    check = build_url_check(crypto, echo="hello-echo")
    assert (
        crypto.verify_url(
            check.params["msg_signature"],
            check.params["timestamp"],
            check.params["nonce"],
            check.params["echostr"],
        )
        == "hello-echo"
    )


def test_core_imports_without_any_web_framework() -> None:
    code = (
        "import sys\n"
        "for name in ('starlette', 'fastapi', 'aiohttp', 'uvicorn'):\n"
        "    sys.modules[name] = None\n"
        "import wecom_async.callback, wecom_async.testing.push\n"
        "assert not any(m in sys.modules and sys.modules[m] for m in ('starlette', 'aiohttp'))\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


async def test_max_age_refuses_a_replayed_capture_after_the_dedupe_window(
    crypto: CallbackCrypto,
) -> None:
    now = 1_700_000_000.0
    receiver = CallbackReceiver(
        crypto, dedupe_window=60, max_age=300, wall_clock=lambda: now, clock=lambda: now
    )
    seen = Recorder()
    receiver.on(AddExternalContact)(seen)
    captured = build_event_request(crypto, new_customer(5), timestamp=int(now))
    assert await receiver.handle_post(captured.params, captured.body) == ""
    now += 3600  # an attacker replays the genuine, correctly signed request an hour later
    with pytest.raises(StaleRequestError) as caught:
        await receiver.handle_post(captured.params, captured.body)
    assert caught.value.code == -40001
    check = build_url_check(crypto, timestamp=int(now) - 301)
    with pytest.raises(StaleRequestError):
        await receiver.handle_get(check.params)
    fresh = build_url_check(crypto, timestamp=int(now) - 299)
    assert await receiver.handle_get(fresh.params) == fresh.echo
    await receiver.drain()
    assert seen.events == [new_customer(5)]


async def test_without_max_age_old_timestamps_are_accepted(crypto: CallbackCrypto) -> None:
    receiver = CallbackReceiver(crypto, wall_clock=lambda: 2_000_000_000.0, max_age=None)
    old = build_event_request(crypto, new_customer(6), timestamp=1_000_000_000)
    assert await receiver.handle_post(old.params, old.body) == ""
    with pytest.raises(ValueError, match="max_age"):
        CallbackReceiver(crypto, max_age=0)


async def test_third_party_info_type_pushes_are_routed_by_their_names(
    receiver: CallbackReceiver,
) -> None:
    by_names, by_class, by_typed_class = Recorder(), Recorder(), Recorder()
    receiver.on("change_external_contact", "add_external_contact")(by_names)
    receiver.on(InfoEvent)(by_class)
    receiver.on(AddExternalContact)(by_typed_class)
    await deliver(receiver, THIRD_PARTY_ADD)
    await deliver(receiver, THIRD_PARTY_ADD.replace("add_external_contact", "del_follow_user"))
    await receiver.drain()
    assert [e.change_type for e in by_names.events] == ["add_external_contact"]
    assert [type(e) for e in by_class.events] == [InfoEvent, InfoEvent]
    assert by_typed_class.events == []


async def test_known_push_missing_a_tag_is_kept_as_a_generic_event(
    receiver: CallbackReceiver,
) -> None:
    by_names, by_class = Recorder(), Recorder()
    receiver.on("change_external_contact", "add_external_contact")(by_names)
    receiver.on(AddExternalContact)(by_class)
    broken = sample("add_external_contact").replace("<UserID><![CDATA[li.lei]]></UserID>", "")
    assert await deliver(receiver, broken) == ""  # answered 200: WeCom will not drop it
    await receiver.drain()
    assert [type(e) for e in by_names.events] == [GenericEvent]
    assert "UserID" not in by_names.events[0].extra
    assert by_class.events == []


# -- freshness and replays --------------------------------------------------------------


class WallClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_freshness_is_checked_by_default(crypto: CallbackCrypto) -> None:
    clock = WallClock()
    receiver = CallbackReceiver(crypto, wall_clock=clock)
    assert receiver.max_age == 300
    now = int(clock.now)
    for signed_at in (now - 301, now + 61):
        old = build_event_request(crypto, new_customer(1), timestamp=signed_at)
        with pytest.raises(StaleRequestError):
            await receiver.handle_post(old.params, old.body)
        with pytest.raises(StaleRequestError):
            await receiver.handle_get(build_url_check(crypto, timestamp=signed_at).params)
    for n, signed_at in enumerate((now - 300, now + 60, now)):
        fresh = build_event_request(crypto, new_customer(n), timestamp=signed_at)
        assert await receiver.handle_post(fresh.params, fresh.body) == ""
    huge = build_event_request(crypto, new_customer(9), timestamp=10**40)
    with pytest.raises(StaleRequestError, match="not Unix seconds"):
        await receiver.handle_post(huge.params, huge.body)
    await receiver.drain()


@settings(max_examples=60)
@given(
    dedupe_window=st.sampled_from([0.0, 60.0, 300.0]),
    max_age=st.sampled_from([30.0, 300.0]),
    signed_ago=st.integers(min_value=-60, max_value=300),
    replays=st.lists(st.floats(min_value=0, max_value=4000), min_size=1, max_size=12),
)
async def test_a_captured_push_never_runs_its_handler_twice(
    dedupe_window: float, max_age: float, signed_ago: int, replays: list[float]
) -> None:
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    clock = WallClock()
    receiver = CallbackReceiver(
        crypto, dedupe_window=dedupe_window, max_age=max_age, wall_clock=clock
    )
    seen = Recorder()
    receiver.on(AddExternalContact)(seen)
    start = clock.now
    captured = build_event_request(
        crypto, new_customer(1), timestamp=int(start) - min(signed_ago, int(max_age))
    )
    assert await receiver.handle_post(captured.params, captured.body) == ""
    for at in sorted(replays):  # an attacker replays the signed request at any later time
        clock.now = start + at
        with contextlib.suppress(StaleRequestError):
            await receiver.handle_post(captured.params, captured.body)
    await receiver.drain()
    assert len(seen.events) == 1


async def test_old_replay_is_refused_while_wecom_retries_are_dropped(
    crypto: CallbackCrypto,
) -> None:
    clock = WallClock()
    receiver = CallbackReceiver(crypto, dedupe_window=0, wall_clock=clock)
    seen = Recorder()
    receiver.on(AddExternalContact)(seen)
    t0 = int(clock.now)
    captured = build_event_request(crypto, new_customer(1), timestamp=t0)
    await receiver.handle_post(captured.params, captured.body)
    clock.now += 299  # a WeCom retry, signed anew, of the same message: dropped
    retry = build_event_request(crypto, new_customer(1), timestamp=int(clock.now))
    assert await receiver.handle_post(retry.params, retry.body) == ""
    clock.now = t0 + 301
    with pytest.raises(StaleRequestError):  # the capture is now past its window
        await receiver.handle_post(captured.params, captured.body)
    await receiver.drain()
    assert len(seen.events) == 1


# -- cost of de-duplication -------------------------------------------------------------


async def test_sixteen_thousand_info_type_events_are_each_handled_once(
    crypto: CallbackCrypto, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = CallbackReceiver(crypto, max_pending=20_000)
    seen = Recorder()
    receiver.on("change_external_contact", "add_external_contact")(seen)
    comparisons = 0
    original_eq = InfoEvent.__eq__

    def counting_eq(self: InfoEvent, other: object) -> bool:
        nonlocal comparisons
        comparisons += 1
        return bool(original_eq(self, other))

    monkeypatch.setattr(InfoEvent, "__eq__", counting_eq)
    requests = [
        build_event_request(
            crypto, THIRD_PARTY_ADD.replace("woAJ2GCAAAXtWyujaWJHDDGi0mACH71w", f"wo{n:030d}")
        )
        for n in range(16_000)
    ]
    for batch in range(0, len(requests), 1000):
        for request in requests[batch : batch + 1000]:
            assert await receiver.handle_post(request.params, request.body) == ""
        for request in requests[batch : batch + 1000 : 16]:  # WeCom's repeated deliveries
            assert await receiver.handle_post(request.params, request.body) == ""
        # Dedupe never compares events: its cost does not grow with the events seen.
        assert comparisons == 0
    await receiver.drain()
    assert len(seen.events) == 16_000
    assert len({e.fields["ExternalUserID"] for e in seen.events}) == 16_000


# -- unauthenticated requests cost almost nothing ---------------------------------------


async def test_signature_is_checked_before_any_xml_is_parsed(
    receiver: CallbackReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    real_fromstring = _xml.fromstring

    def counting_fromstring(data: bytes, **kwargs: bool) -> object:
        parsed.append(len(data))
        return real_fromstring(data, **kwargs)

    monkeypatch.setattr(_xml, "fromstring", counting_fromstring)
    request = post(receiver, new_customer(1))
    nested = "<xml>" + "<a>" * 10_000 + "</a>" * 10_000 + "</xml>"
    for params, body in (
        ({**request.params, "nonce": "forged"}, request.body),  # a valid envelope, bad signature
        (request.params, nested),  # deeply nested, within the size limit
        (request.params, request.body.replace("<Encrypt>", "<Encrypt><a>")),
    ):
        with pytest.raises(CallbackError):
            await receiver.handle_post(params, body)
    assert parsed == []
    assert await receiver.handle_post(request.params, request.body) == ""
    assert len(parsed) == 1  # only the decrypted, authenticated message
    await receiver.drain()


async def test_large_messages_are_parsed_off_the_event_loop(
    receiver: CallbackReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real_parse = _receiver.parse_event

    def recording_parse(xml: str, **kwargs: int) -> Event:
        threads.append(threading.current_thread().name)
        return real_parse(xml, **kwargs)

    monkeypatch.setattr(_receiver, "parse_event", recording_parse)
    members = [f"wmMember{n:024d}" for n in range(500)]  # a whole 500-member group joined
    big = ExternalChatUpdate(
        to_user_name=CORP_ID, create_time=1, chat_id="wr1", mem_change_list=tuple(members)
    )
    request = post(receiver, big)
    assert len(request.body) < DEFAULT_MAX_BODY_BYTES  # the largest push fits the limit
    await receiver.handle_post(request.params, request.body)
    await deliver(receiver, new_customer(1))
    assert threads[0] != threading.current_thread().name
    assert threads[1] == threading.current_thread().name  # small ones are cheaper inline
    await receiver.drain()


def test_default_body_limit_is_64_kib() -> None:
    assert DEFAULT_MAX_BODY_BYTES == 64 * 1024
    assert CallbackCrypto(TOKEN, AES_KEY, CORP_ID).max_body_bytes == 64 * 1024


# -- events answered 200 are never lost -------------------------------------------------


async def test_a_full_queue_answers_busy_so_that_wecom_retries(crypto: CallbackCrypto) -> None:
    receiver = CallbackReceiver(crypto, max_pending=3, max_concurrency=1)
    release = anyio.Event()
    seen = Recorder()

    @receiver.on(AddExternalContact)
    async def slow(event: AddExternalContact) -> None:
        await release.wait()
        await seen(event)

    for n in range(3):
        assert await deliver(receiver, new_customer(n)) == ""
    overflow = post(receiver, new_customer(3))
    with pytest.raises(ReceiverBusyError) as info:
        await receiver.handle_post(overflow.params, overflow.body)
    assert receiver.refusal("POST", info.value)[0] == 503
    assert receiver.running == 3  # nothing was accepted beyond the bound
    release.set()
    await receiver.drain()
    retry = post(receiver, new_customer(3))  # WeCom's retry is not taken for a repeat
    assert await receiver.handle_post(retry.params, retry.body) == ""
    await receiver.drain()
    assert sorted(e.create_time for e in seen.events) == [
        new_customer(n).create_time for n in range(4)
    ]


class ListSink:
    def __init__(self, *, fail: bool = False) -> None:
        self.events: list[Event] = []
        self.fail = fail

    async def put(self, event: Event) -> None:
        if self.fail:
            raise ConnectionError("redis is down")
        self.events.append(event)


async def test_a_sink_acknowledges_only_what_it_stored(
    crypto: CallbackCrypto, caplog: pytest.LogCaptureFixture
) -> None:
    sink = ListSink(fail=True)
    receiver = CallbackReceiver(crypto, sink=sink)
    seen = Recorder()
    receiver.on(AddExternalContact)(seen)
    request = post(receiver, new_customer(1))
    with pytest.raises(ReceiverBusyError), caplog.at_level(logging.ERROR, "wecom_async"):
        await receiver.handle_post(request.params, request.body)
    assert "external_userid=" in caplog.records[-1].getMessage()
    sink.fail = False
    assert await receiver.handle_post(request.params, request.body) == ""  # the retry
    assert await receiver.handle_post(request.params, request.body) == ""  # a repeat
    assert sink.events == [new_customer(1)]
    assert receiver.running == 0  # handlers run where the sink's events are worked on
    assert seen.events == []
    assert await receiver.dispatch(sink.events[0]) == 0
    assert seen.events == [new_customer(1)]


async def test_shutdown_deadline_logs_the_ids_of_unfinished_events(
    receiver: CallbackReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    @receiver.on(AddExternalContact)
    async def stuck(event: AddExternalContact) -> None:
        await anyio.Event().wait()

    for n in range(3):
        await deliver(receiver, new_customer(n))
    await anyio.wait_all_tasks_blocked()
    with caplog.at_level(logging.ERROR, logger="wecom_async"):
        await receiver.aclose(timeout=0)
    unfinished = [r.getMessage() for r in caplog.records if "shutdown deadline" in r.getMessage()]
    assert len(unfinished) == 3
    for n in range(3):
        assert sum(new_customer(n).external_userid in line for line in unfinished) == 1
    assert receiver.running == 0
    late = post(receiver, new_customer(9))
    with pytest.raises(ReceiverBusyError):  # closed: WeCom retries elsewhere or later
        await receiver.handle_post(late.params, late.body)


def test_each_event_loop_gets_its_own_queue(crypto: CallbackCrypto) -> None:
    receiver = CallbackReceiver(crypto, max_concurrency=1)
    seen: list[Event] = []

    @receiver.on(AddExternalContact)
    async def record(event: AddExternalContact) -> None:
        await asyncio.sleep(0)  # hold the semaphore across a suspension: the next one waits
        seen.append(event)

    async def session(first: int) -> None:
        for n in range(first, first + 3):  # contended: the semaphore is really waited on
            await deliver(receiver, new_customer(n))
        await receiver.drain()

    asyncio.run(session(0))
    asyncio.run(session(10))  # a second loop: a semaphore of the first would break here
    assert len(seen) == 6


async def test_handler_raising_cancelled_error_is_logged_and_the_next_runs(
    receiver: CallbackReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Recorder()

    @receiver.on(AddExternalContact)
    async def gives_up(event: AddExternalContact) -> None:
        raise asyncio.CancelledError

    receiver.on(AddExternalContact)(seen)
    with caplog.at_level(logging.ERROR, logger="wecom_async"):
        await deliver(receiver, new_customer(1))
        await receiver.drain()
    lines = [r.getMessage() for r in caplog.records]
    assert any("gives_up was cancelled" in line and "userid=li.lei" in line for line in lines)
    assert seen.events == [new_customer(1)]


def test_plain_function_handlers_are_refused_at_registration(receiver: CallbackReceiver) -> None:
    def blocking(event: Event) -> None: ...

    with pytest.raises(ValidationError, match="async"):
        receiver.on(AddExternalContact)(blocking)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="async"):
        receiver.on("change_external_contact")(lambda event: None)  # type: ignore[arg-type,return-value]
    assert receiver.handlers_for(new_customer(1)) == []


async def test_a_retry_arriving_while_the_first_delivery_is_handed_over_is_asked_again() -> None:
    """A 200 for the retry would stop WeCom retrying an event the slow sink then refuses."""
    first_put_entered, release_first = anyio.Event(), anyio.Event()
    stored: list[Event] = []

    class SlowThenFailingSink:
        calls = 0

        async def put(self, event: Event) -> None:
            self.calls += 1
            if self.calls == 1:
                first_put_entered.set()
                await release_first.wait()
                raise ConnectionError("the database went away")
            stored.append(event)

    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    receiver = CallbackReceiver(crypto, sink=SlowThenFailingSink())
    event = new_customer(7)
    outcomes: list[str] = []

    async def first_try() -> None:
        request = build_event_request(crypto, event)
        try:
            await receiver.handle_post(request.params, request.body)
            outcomes.append("200")
        except ReceiverBusyError:
            outcomes.append("503")

    async with anyio.create_task_group() as tg:
        tg.start_soon(first_try)
        await first_put_entered.wait()
        retry = build_event_request(crypto, event)  # WeCom's retry: same message
        with pytest.raises(ReceiverBusyError):
            await receiver.handle_post(retry.params, retry.body)
        release_first.set()
    assert outcomes == ["503"]
    assert stored == []
    # WeCom's next retry is taken and stored: nothing was acknowledged and lost.
    again = build_event_request(crypto, event)
    assert await receiver.handle_post(again.params, again.body) == ""
    assert [e.external_userid for e in stored] == [event.external_userid]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_receiver_runs_on_asyncio_and_trio_alike(
    crypto: CallbackCrypto, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = CallbackReceiver(crypto, max_concurrency=1, shutdown_timeout=0)
    calls: list[tuple[str, int]] = []

    @receiver.on(AddExternalContact)
    async def first(event: AddExternalContact) -> None:
        await anyio.lowlevel.checkpoint()  # max_concurrency=1: the next event waits meanwhile
        calls.append(("first", event.create_time))

    @receiver.on(ExternalContactEvent)
    async def second(event: ExternalContactEvent) -> None:
        if event.create_time % 10 == 9:
            await anyio.sleep_forever()  # never done: cut off by the shutdown deadline
        calls.append(("second", event.create_time))

    async def session(first_n: int) -> None:
        sent = [new_customer(n) for n in range(first_n, first_n + 3)]
        for event in sent:
            assert await deliver(receiver, event) == ""
        await receiver.drain()
        assert calls[-6:] == [
            (name, event.create_time) for event in sent for name in ("first", "second")
        ]
        assert await deliver(receiver, new_customer(first_n + 9)) == ""
        await anyio.wait_all_tasks_blocked()  # its first handler ran, the second waits
        await receiver.aclose()
        assert receiver.running == 0
        with pytest.raises(ReceiverBusyError):  # closed: WeCom retries later
            await deliver(receiver, new_customer(first_n + 8))

    with caplog.at_level(logging.ERROR, logger="wecom_async"):
        anyio.run(session, 0, backend=backend)
        anyio.run(session, 10, backend=backend)  # a second event loop: a queue of its own
    assert len(calls) == 6 * 2 + 2  # the stuck events ran their first handler
    unfinished = [r.getMessage() for r in caplog.records if "shutdown deadline" in r.getMessage()]
    assert len(unfinished) == 2
    for n, line in zip((9, 19), unfinished, strict=True):
        assert new_customer(n).external_userid in line


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_an_event_loop_ending_with_events_unfinished_logs_each_one(
    crypto: CallbackCrypto, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = CallbackReceiver(crypto, max_concurrency=1)

    @receiver.on(AddExternalContact)
    async def never_done(event: AddExternalContact) -> None:
        await anyio.sleep_forever()

    async def session() -> None:  # no aclose(): the loop just ends
        for n in range(2):  # one running, one waiting for the concurrency limit
            await deliver(receiver, new_customer(n))
        await anyio.wait_all_tasks_blocked()

    with caplog.at_level(logging.ERROR, logger="wecom_async"):
        anyio.run(session, backend=backend)
    lost = [r.getMessage() for r in caplog.records if "event loop ended" in r.getMessage()]
    prefix = "callback event lost: its event loop ended before it finished: "
    assert sorted(lost) == [prefix + _receiver.describe(new_customer(n)) for n in range(2)]
    assert receiver.running == 0


async def test_a_task_cancelled_while_dispatching_stays_cancelled(
    receiver: CallbackReceiver,
) -> None:
    """A worker cancelling ``dispatch`` (a durable sink's timeout) is not taken for a
    handler raising CancelledError: the next handlers do not run."""
    started, seen = anyio.Event(), Recorder()

    @receiver.on(AddExternalContact)
    async def slow(event: AddExternalContact) -> None:
        started.set()
        await anyio.sleep_forever()

    receiver.on(AddExternalContact)(seen)
    task = asyncio.get_running_loop().create_task(receiver.dispatch(new_customer(1)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen.events == []
