"""Bad arguments to the client's building blocks and the callback receiver are
ValidationError (a WeComError and a ValueError), with the message a person needs; none
is a bare ValueError, TypeError or RuntimeError."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.callback.callback_helpers import AES_KEY, CORP_ID, TOKEN
from wecom_async import ShardedTransport, ValidationError, to_dict
from wecom_async.callback import CallbackCrypto, CallbackReceiver
from wecom_async.callback.events import AddExternalContact

CRYPTO = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)


async def _handler(event: AddExternalContact) -> None:
    """An async handler (what ``on`` registers)."""


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ShardedTransport(0), "shards must be a whole number of at least 1, got 0"),
        (lambda: to_dict(object()), "object is not a wire model"),
        (
            lambda: CallbackReceiver(CRYPTO, max_age=0),
            "max_age (None turns the check off) must be a number above 0, got 0",
        ),
        (
            lambda: CallbackReceiver(CRYPTO, max_pending=0),
            "max_pending must be a whole number of at least 1, got 0",
        ),
        (
            lambda: CallbackReceiver(CRYPTO, body_timeout=0),
            "body_timeout must be a number above 0, got 0",
        ),
        (
            lambda: CallbackReceiver(CRYPTO, dedupe_window=-1),
            "dedupe_window must be a number 0 or more, got -1",
        ),
        (
            lambda: CallbackReceiver(CRYPTO).on(AddExternalContact, "add_external_contact"),  # type: ignore[call-overload]
            "on() takes an Event subclass, or the Event and ChangeType names",
        ),
        (
            lambda: CallbackReceiver(CRYPTO).on(AddExternalContact)(print),  # type: ignore[arg-type]
            "callback handler print must be an async function (async def); run blocking "
            "work with anyio.to_thread.run_sync inside it",
        ),
        (
            lambda: CallbackCrypto(
                TOKEN, AES_KEY, CORP_ID, random_bytes=lambda n: b"x" * (n - 1)
            ).encrypt_message("<xml/>"),
            "random_bytes returned 15 bytes, expected 16",
        ),
    ],
)
def test_a_bad_argument_is_a_validation_error_with_its_message(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        call()
    assert str(caught.value) == message


def test_an_async_handler_is_still_taken() -> None:
    receiver = CallbackReceiver(CRYPTO)
    assert receiver.on(AddExternalContact)(_handler) is _handler
