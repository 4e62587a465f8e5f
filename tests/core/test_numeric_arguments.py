"""Every numeric option of the SDK goes through one check: NaN (which passed every
``x <= 0``, so a NaN limit meant no limit), wrong types (None, "5", [], a bool, a float
where a whole number is meant), zero, negatives and infinities are a ValidationError
naming the argument, never silently accepted nor a bare ValueError / TypeError.

The worst of the class: ``CallbackReceiver(max_age=nan)`` turned the replay (freshness)
check off while the caller asked for one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from taskiq import InMemoryBroker

from tests.callback.callback_helpers import AES_KEY, CORP_ID, TOKEN
from wecom_async import RetryPolicy, ShardedTransport, ValidationError, WeComClient, WeComError
from wecom_async.callback import CallbackCrypto, CallbackReceiver, StaleRequestError
from wecom_async.callback.taskiq import EventStreamBroker, TaskiqSink
from wecom_async.export import EngineOptions, TimeRange, make_job
from wecom_async.export._range import LATEST
from wecom_async.export.distributed import LeaseOptions, ShardWorker
from wecom_async.provider import MemoryPermanentCodeStore, ProviderApp
from wecom_async.redis import RedisTokenStore
from wecom_async.testing import Chaos, FakeClock, FakeWeCom, Fault

NAN = math.nan
INF = math.inf
CRYPTO = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
#: Never connected to: the checks run before anything is.
REDIS = Redis.from_url("redis://127.0.0.1:9/0")

Build = Callable[[object], object]

#: What every numeric option refuses: not a number, or NaN.
NOT_NUMBERS: list[object] = [NAN, None, "5", [], True, False]
#: Options that are a whole number of at least 1, by name: how to build with a value.
WHOLE: dict[str, Build] = {
    "max_in_flight": lambda v: WeComClient("ww1", "s", max_in_flight=v),  # type: ignore[arg-type]
    "shards": lambda v: ShardedTransport(shards=v),  # type: ignore[arg-type]
    "max_concurrency": lambda v: CallbackReceiver(CRYPTO, max_concurrency=v),  # type: ignore[arg-type]
    "max_pending": lambda v: CallbackReceiver(CRYPTO, max_pending=v),  # type: ignore[arg-type]
    "concurrency": lambda v: EngineOptions(concurrency=v),  # type: ignore[arg-type]
    "max_errors": lambda v: LeaseOptions(max_errors=v),  # type: ignore[arg-type]
    "worker shards": lambda v: ShardWorker(REDIS, [], shards=v),  # type: ignore[arg-type]
    "xread_count": lambda v: EventStreamBroker("redis://127.0.0.1:9/0", xread_count=v),  # type: ignore[arg-type]
    "job concurrency": lambda v: make_job("customers", concurrency=v),  # type: ignore[arg-type]
    "max_attempts": lambda v: RetryPolicy(max_attempts=v),  # type: ignore[arg-type]
    "times": lambda v: Fault("/cgi-bin/x", errcode=45009, times=v),  # type: ignore[arg-type]
    "per_month": lambda v: FakeWeCom().set_groupmsg_quota(v),  # type: ignore[arg-type]
}
#: Options that are a finite number of seconds above 0.
SECONDS: dict[str, Build] = {
    "timeout": lambda v: WeComClient("ww1", "s", timeout=v),  # type: ignore[arg-type]
    "max_age": lambda v: CallbackReceiver(CRYPTO, max_age=v),  # type: ignore[arg-type]
    "body_timeout": lambda v: CallbackReceiver(CRYPTO, body_timeout=v),  # type: ignore[arg-type]
    "put_timeout": lambda v: TaskiqSink(InMemoryBroker(), put_timeout=v),  # type: ignore[arg-type]
    "reconnect_delay": lambda v: EventStreamBroker("redis://127.0.0.1:9/0", reconnect_delay=v),  # type: ignore[arg-type]
    "lease": lambda v: LeaseOptions(lease=v),  # type: ignore[arg-type]
    "redis_timeout": lambda v: LeaseOptions(redis_timeout=v),  # type: ignore[arg-type]
    "poll": lambda v: ShardWorker(REDIS, [], poll=v),  # type: ignore[arg-type]
    "store timeout": lambda v: RedisTokenStore(REDIS, timeout=v),  # type: ignore[arg-type]
    "lease_ttl": lambda v: RedisTokenStore(REDIS, lease_ttl=v),  # type: ignore[arg-type]
}
#: Options that are a finite number of seconds, 0 included.
SECONDS_OR_ZERO: dict[str, Build] = {
    "dedupe_window": lambda v: CallbackReceiver(CRYPTO, dedupe_window=v),  # type: ignore[arg-type]
    "max_future": lambda v: CallbackReceiver(CRYPTO, max_future=v),  # type: ignore[arg-type]
    "checkpoint_interval": lambda v: EngineOptions(checkpoint_interval=v),  # type: ignore[arg-type]
    "retry_pause": lambda v: LeaseOptions(retry_pause=v),  # type: ignore[arg-type]
    "retry_after": lambda v: RedisTokenStore(REDIS, retry_after=v),  # type: ignore[arg-type]
    # The fake's own knobs: a NaN there made every later reading of the fake clock NaN.
    "clock seconds": lambda v: FakeClock().advance(v),  # type: ignore[arg-type]
    "fault delay": lambda v: Fault("/cgi-bin/x", delay=v),  # type: ignore[arg-type]
    "chaos delay": lambda v: Chaos(rate=0.5, delay=v),  # type: ignore[arg-type]
    "dispatch seconds": lambda v: FakeWeCom().set_groupmsg_dispatch_delay(v),  # type: ignore[arg-type]
}
#: Options where ``math.inf`` means "no limit", as documented.
UNBOUNDED: dict[str, Build] = {
    "deadline": lambda v: WeComClient("ww1", "s", deadline=v),  # type: ignore[arg-type]
    "shutdown_timeout": lambda v: CallbackReceiver(CRYPTO, shutdown_timeout=v),  # type: ignore[arg-type]
}

#: Where None is documented: the default timeout, no freshness check.
NONE_ALLOWED: Final = {"timeout", "max_age", "per_month", "fault delay"}
#: Where 0 is documented among the unbounded ones: do not wait for unfinished events.
ZERO_ALLOWED: Final = {"shutdown_timeout"}

REFUSED: list[tuple[str, Build, object]] = [
    (n, b, v)
    for n, b, v in [
        *[(n, b, v) for n, b in WHOLE.items() for v in [*NOT_NUMBERS, 0, -1, 1.5, 2.0, INF]],
        *[(n, b, v) for n, b in SECONDS.items() for v in [*NOT_NUMBERS, 0, -1, -INF, INF, 10**400]],
        *[(n, b, v) for n, b in SECONDS_OR_ZERO.items() for v in [*NOT_NUMBERS, -1e-9, -INF, INF]],
        *[(n, b, v) for n, b in UNBOUNDED.items() for v in [*NOT_NUMBERS, 0, -1, -INF]],
    ]
    if not (v is None and n in NONE_ALLOWED) and not (v == 0 and n in ZERO_ALLOWED)
]


def _name(label: str) -> str:
    return label.split()[-1]


@pytest.mark.parametrize(
    ("label", "build", "value"),
    REFUSED,
    ids=[f"{label}={value!r}"[:40] for label, _, value in REFUSED],
)
def test_a_numeric_option_refuses_nan_wrong_types_and_out_of_range(
    label: str, build: Build, value: object
) -> None:
    with pytest.raises(ValidationError) as caught:
        build(value)
    assert str(caught.value).startswith(_name(label))


#: Whole-number options with an upper bound: requests in flight (a transport each, built
#: up front: 10^8 ran forever and 10^30 until the kernel killed the process).
IN_FLIGHT: dict[str, Build] = {
    "max_in_flight": WHOLE["max_in_flight"],
    "shards": WHOLE["shards"],
    "provider max_in_flight": lambda v: ProviderApp(
        "suite",
        "secret",
        permanent_codes=MemoryPermanentCodeStore(),
        max_in_flight=v,  # type: ignore[arg-type]
    ),
}


@pytest.mark.parametrize("label", list(IN_FLIGHT))
@pytest.mark.parametrize("value", [1_001, 10**8, 10**30])
def test_requests_in_flight_are_refused_above_1000_before_anything_is_built(
    label: str, value: int
) -> None:
    with pytest.raises(ValidationError) as caught:
        IN_FLIGHT[label](value)
    assert str(caught.value) == f"{_name(label)} must be at most 1,000, got {value}"


@pytest.mark.parametrize("label", list(IN_FLIGHT))
async def test_a_thousand_requests_in_flight_are_accepted(label: str) -> None:
    built = IN_FLIGHT[label](1_000)
    if isinstance(built, WeComClient | ProviderApp):
        await built.aclose()


ACCEPTED: list[tuple[str, Build, object]] = [
    *[(n, b, v) for n, b in WHOLE.items() for v in [1, 3]],
    *[(n, b, v) for n, b in SECONDS.items() for v in [0.001, 2, 7.5]],
    *[(n, b, v) for n, b in SECONDS_OR_ZERO.items() for v in [0, 0.0, 7.5]],
    *[(n, b, v) for n, b in UNBOUNDED.items() for v in [1e-9, 30, INF, 10**400]],
    *[(n, b, None) for n, b in {**WHOLE, **SECONDS}.items() if n in NONE_ALLOWED],
    *[(n, b, 0) for n, b in UNBOUNDED.items() if n in ZERO_ALLOWED],
]


@pytest.mark.parametrize(
    ("label", "build", "value"),
    ACCEPTED,
    ids=[f"{label}={value!r}"[:40] for label, _, value in ACCEPTED],
)
async def test_a_numeric_option_keeps_accepting_what_it_accepted(
    label: str, build: Build, value: object
) -> None:
    built = build(value)
    if isinstance(built, WeComClient):
        await built.aclose()


def test_max_age_nan_cannot_turn_the_replay_check_off() -> None:
    """NaN passed ``max_age <= 0``; then ``age > max_age`` was never true, and a push
    signed in 2001 was fresh. Now refused up front; a real max_age still refuses it."""
    with pytest.raises(ValidationError, match=r"^max_age \(None turns the check off\)"):
        CallbackReceiver(CRYPTO, max_age=NAN, wall_clock=lambda: 2_000_000_000.0)
    receiver = CallbackReceiver(CRYPTO, max_age=300, wall_clock=lambda: 2_000_000_000.0)
    with pytest.raises(StaleRequestError):
        receiver._check_age("1000000000")


@pytest.mark.parametrize("value", [NAN, None, "5", 1.5, 0, True])
def test_callback_crypto_max_body_bytes_is_a_whole_number(value: object) -> None:
    with pytest.raises(WeComError, match=r"^max_body_bytes must be"):
        CallbackCrypto(TOKEN, AES_KEY, CORP_ID, max_body_bytes=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: TimeRange(NAN, 1), "since must be a whole number of at least 0, got nan"),  # type: ignore[arg-type]
        (lambda: TimeRange(0, None), "until must be a whole number of at least 0, got None"),  # type: ignore[arg-type]
        (lambda: TimeRange("a", "b"), "since must be a whole number of at least 0, got 'a'"),  # type: ignore[arg-type]
        (lambda: TimeRange(0, 1.5), "until must be a whole number of at least 0, got 1.5"),  # type: ignore[arg-type]
        (
            lambda: make_job("group-messages", since=NAN, until=10),  # type: ignore[arg-type]
            "since must be a whole number of at least 0, got nan",
        ),
        (
            lambda: make_job("moments", since="x"),  # type: ignore[arg-type]
            "since must be a whole number of at least 0, got 'x'",
        ),
        (
            lambda: make_job("behavior-stats", until=True),
            "until must be a whole number of at least 0, got True",
        ),
        (
            lambda: make_job("customers", chunk_size="5"),  # type: ignore[arg-type]
            "chunk_size must be an integer in [1, 100], got '5'",
        ),
        (
            lambda: make_job("customers", chunk_size=True),
            "chunk_size must be an integer in [1, 100], got True",
        ),
        (
            lambda: make_job([]),  # type: ignore[arg-type]
            "no export kind []: the kinds are ",
        ),
    ],
)
def test_export_ranges_and_jobs_refuse_what_is_not_whole_seconds(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        call()
    assert str(caught.value).startswith(message)


def _accepted(build: Callable[[], object]) -> bool:
    try:
        build()
    except ValidationError:
        return False
    return True


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int past the floats
        return False


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers()))
def test_a_number_of_seconds_is_accepted_exactly_when_finite_and_in_range(value: float) -> None:
    """Hypothesis over every float (NaN, infinities, subnormals, -0.0) and int."""
    assert _accepted(lambda: LeaseOptions(lease=value, retry_pause=value)) == (
        _finite(value) and value > 0
    )
    assert _accepted(lambda: EngineOptions(checkpoint_interval=value)) == (
        _finite(value) and value >= 0
    )
    assert _accepted(lambda: TimeRange(0, value)) == (  # type: ignore[arg-type]
        isinstance(value, int) and 0 <= value <= LATEST
    )
