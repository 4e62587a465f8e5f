"""``on(..., before_ack=True)``: handlers whose work must be done before WeCom hears "received"."""

from __future__ import annotations

import logging

import pytest

from wecom_async import ValidationError
from wecom_async.callback import (
    AddExternalContact,
    CallbackCrypto,
    CallbackReceiver,
    Event,
    ReceiverBusyError,
)
from wecom_async.testing.push import build_event_request

from .callback_helpers import new_customer


class Flaky:
    """Fails ``failures`` times with an error quoting a credential, then records."""

    def __init__(self, failures: int, order: list[str]) -> None:
        self.failures = failures
        self.order = order

    async def __call__(self, event: Event) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("db down: permanent_code=PC-0123456789abcdefXYZ")
        self.order.append("before")


async def test_a_failing_before_ack_handler_asks_for_the_push_again(
    crypto: CallbackCrypto, caplog: pytest.LogCaptureFixture
) -> None:
    order: list[str] = []
    async with CallbackReceiver(crypto) as receiver:

        @receiver.on(AddExternalContact)
        async def after(event: AddExternalContact) -> None:
            order.append("after")

        receiver.on(AddExternalContact, before_ack=True)(Flaky(1, order))
        request = build_event_request(crypto, new_customer(1))
        with caplog.at_level(logging.WARNING, "wecom_async"), pytest.raises(ReceiverBusyError) as e:
            await receiver.handle_post(request.params, request.body)
        assert e.value.__context__ is None  # the handler's error is not kept behind it
        await receiver.drain()
        assert order == []  # nothing acknowledged, no other handler ran
        assert await receiver.handle_post(request.params, request.body) == ""  # WeCom's retry
        await receiver.drain()
        assert order == ["before", "after"]
        assert await receiver.handle_post(request.params, request.body) == ""  # a repeat
        await receiver.drain()
        assert order == ["before", "after"]
    [record] = [r for r in caplog.records if "could not act" in r.getMessage()]
    assert "ConnectionError" in (record.exc_text or "")
    assert "PC-0123456789abcdefXYZ" not in caplog.text
    assert record.exc_info is None  # it kept a credential: no handler may render it again


async def test_dispatch_never_runs_before_ack_handlers(crypto: CallbackCrypto) -> None:
    order: list[str] = []
    receiver = CallbackReceiver(crypto)
    receiver.on(AddExternalContact, before_ack=True)(Flaky(0, order))
    assert receiver.handlers_for(new_customer(1)) == []
    assert await receiver.dispatch(new_customer(1)) == 0
    assert order == []


def test_before_ack_handlers_must_be_async(crypto: CallbackCrypto) -> None:
    receiver = CallbackReceiver(crypto)
    with pytest.raises(ValidationError, match="must be an async function"):
        receiver.on("change_external_contact", before_ack=True)(print)  # type: ignore[arg-type]
