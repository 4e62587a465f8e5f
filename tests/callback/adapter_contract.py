"""What every framework adapter of the callback receiver must do, tested once.

A framework's test module subclasses :class:`AdapterContract` and provides an ``http``
fixture (an ``httpx.AsyncClient`` reaching an app that serves ``receiver`` at ``PATH``,
with ``greeter.greet`` registered for new customers).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from wecom_async.callback import AddExternalContact, CallbackCrypto, CallbackReceiver
from wecom_async.testing import FakeClock
from wecom_async.testing.push import (
    CallbackRequest,
    build_event_request,
    push_event,
    send_callback,
)

from .callback_helpers import PATH, Greeter, new_customer


class AdapterContract:
    """The shared behaviour; collected through the framework modules' subclasses."""

    async def test_repeated_delivery_is_handled_once(
        self, http: httpx.AsyncClient, receiver: CallbackReceiver, greeter: Greeter
    ) -> None:
        for _ in range(3):
            response = await push_event(http, PATH, receiver.crypto, new_customer(4))
            assert response.status_code == 200
        await push_event(http, PATH, receiver.crypto, new_customer(5))
        await receiver.drain()
        assert [e.external_userid[-1] for e in greeter.greeted] == ["4", "5"]

    async def test_slow_handler_does_not_delay_the_answer(
        self, http: httpx.AsyncClient, receiver: CallbackReceiver, greeter: Greeter
    ) -> None:
        answered, finished = anyio.Event(), anyio.Event()

        @receiver.on(AddExternalContact)
        async def slow(event: AddExternalContact) -> None:
            await answered.wait()  # set only once the HTTP answer is back
            finished.set()

        with anyio.fail_after(5):  # a receiver that awaited its handlers would hang here
            response = await push_event(http, PATH, receiver.crypto, new_customer(2))
        assert response.status_code == 200
        assert receiver.running >= 1
        assert not finished.is_set()
        answered.set()
        await receiver.drain()
        assert finished.is_set()
        assert len(greeter.greeted) == 1

    async def test_failing_handler_is_logged_and_does_not_break_later_events(
        self,
        http: httpx.AsyncClient,
        receiver: CallbackReceiver,
        greeter: Greeter,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        @receiver.on(AddExternalContact)
        async def flaky(event: AddExternalContact) -> None:
            if event.create_time % 2:
                raise LookupError("customer vanished")

        with caplog.at_level(logging.ERROR, logger="wecom_async"):
            first = await push_event(http, PATH, receiver.crypto, new_customer(1))
            second = await push_event(http, PATH, receiver.crypto, new_customer(2))
            await receiver.drain()
        assert (first.status_code, second.status_code) == (200, 200)
        errors = [r for r in caplog.records if r.exc_info and r.name == "wecom_async"]
        assert len(errors) == 1
        assert errors[0].exc_info is not None
        assert isinstance(errors[0].exc_info[1], LookupError)
        assert len(greeter.greeted) == 2

    async def test_bad_requests_get_400_never_500(
        self, http: httpx.AsyncClient, receiver: CallbackReceiver, greeter: Greeter
    ) -> None:
        request = build_event_request(receiver.crypto, new_customer(1))
        for tampered in (
            {**request.params, "msg_signature": "0" * 40},
            {**request.params, "timestamp": "1"},
        ):
            response = await http.post(PATH, params=tampered, content=request.body)
            assert (response.status_code, response.text) == (400, "invalid signature (-40001)")
        for garbage in (b"<xml><oops", b"\x00\x01"):
            response = await http.post(PATH, params=request.params, content=garbage)
            assert (response.status_code, response.text) == (400, "invalid xml (-40002)")
        bomb = b'<!DOCTYPE xml [<!ENTITY a "a">]><xml><Encrypt>&a;</Encrypt></xml>'
        response = await http.post(PATH, params=request.params, content=bomb)
        assert response.status_code == 400
        response = await http.get(PATH, params={"msg_signature": "x"})
        assert (response.status_code, response.text) == (400, "invalid signature (-40001)")
        assert (await http.get(PATH)).status_code == 400
        stranger = CallbackCrypto("Stranger", "C" * 43, "wwStranger")
        assert (await push_event(http, PATH, stranger, new_customer(1))).status_code == 400
        assert (await http.put(PATH)).status_code == 405
        await receiver.drain()
        assert greeter.greeted == []

    async def test_oversized_body_gets_413(
        self, http: httpx.AsyncClient, receiver: CallbackReceiver, greeter: Greeter
    ) -> None:
        request = build_event_request(receiver.crypto, new_customer(1))
        huge = request.body.replace("</xml>", "<Pad>" + "p" * (1024 * 1024) + "</Pad></xml>")
        oversized = CallbackRequest(method="POST", params=request.params, body=huge)
        response = await send_callback(http, PATH, oversized)  # refused by its Content-Length
        assert (response.status_code, response.text) == (413, "body too large (-40002)")

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: refused while read
            for _ in range(20):
                yield b"x" * 65536

        response = await http.post(PATH, params=request.params, content=chunked())
        assert (response.status_code, response.text) == (413, "body too large (-40002)")
        await receiver.drain()
        assert greeter.greeted == []

    async def test_unknown_encodings_get_400_never_500(
        self, http: httpx.AsyncClient, receiver: CallbackReceiver, greeter: Greeter
    ) -> None:
        request = build_event_request(receiver.crypto, new_customer(1))
        for encoding in ("x-bogus", "rot13", "utf-16"):
            declared = f'<?xml version="1.0" encoding="{encoding}"?>' + request.body
            response = await http.post(PATH, params=request.params, content=declared)
            assert (response.status_code, response.text) == (400, "invalid xml (-40002)")
        await receiver.drain()
        assert greeter.greeted == []

    async def test_refusal_logs_are_bounded_and_rate_limited(
        self,
        http: httpx.AsyncClient,
        receiver: CallbackReceiver,
        clock: FakeClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        request = build_event_request(receiver.crypto, new_customer(1))
        hostile = "<" + "A" * 60_000 + "><Encrypt>x</Encrypt></" + "A" * 60_000 + ">"
        with caplog.at_level(logging.WARNING, logger="wecom_async"):
            for _ in range(50):
                response = await http.post(PATH, params=request.params, content=hostile[:60_000])
                assert response.status_code == 400
            assert len(caplog.records) == 10  # then nothing until the interval is over
            clock.advance(60)
            await http.post(PATH, params=request.params, content=b"<xml>")
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 12
        assert "refused 40 more WeCom callbacks" in lines[10]
        assert all(len(line) < 300 and "AAAAAAAA" not in line for line in lines)
