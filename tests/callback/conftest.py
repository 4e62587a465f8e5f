"""Fixtures of the callback tests (helpers live in callback_helpers.py)."""

from __future__ import annotations

import pytest

from wecom_async.callback import CallbackCrypto, CallbackReceiver
from wecom_async.testing import FakeClock

from .callback_helpers import AES_KEY, CORP_ID, TOKEN, Greeter


@pytest.fixture
def crypto() -> CallbackCrypto:
    return CallbackCrypto(TOKEN, AES_KEY, CORP_ID)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver(crypto: CallbackCrypto, clock: FakeClock) -> CallbackReceiver:
    return CallbackReceiver(crypto, max_concurrency=4, dedupe_window=60, clock=clock.now)


@pytest.fixture
def greeter() -> Greeter:
    return Greeter()
