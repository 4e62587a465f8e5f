"""The whole service surface under chaos: every public method once per seed, simple promises.

Each run prepares a fresh seeded corp, turns chaos on (rate 0.3, every default kind) and
calls every case of :mod:`tests.chaos.surface` once.  A read is first made with chaos
paused, as its baseline.  The chaos log tells which requests of each call were spoiled and
how.  The promises:

* nothing but a ``WeComError`` escapes a call;
* a write (``retry_safe=False``) is resent only after a failure that provably happened
  before WeCom processed it (a refused connection, 45009, a refused token), never after
  an ambiguous one;
* a read that succeeds returns exactly its baseline; when an answer carried an oversized
  or oddly typed field, that value is in the result as sent, or (odd types only) the
  call raised ``StructureError``; an oversized field is never refused;
* no call outlives its deadline, even when WeCom never answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import anyio
import pytest

from tests.chaos.helpers import client_for
from tests.chaos.surface import CASES, Case, Corp, invoke, prepare
from tests.testing.wire import serve
from wecom_async import APITimeoutError, StructureError, WeComError, to_dict
from wecom_async.testing import REFUSED_KINDS, ChaosEvent, FakeWeCom

RATE: Final = 0.3
SEEDS: Final = (1, 2, 3, 4, 5)
#: (face, seed): five seeds in-process, one through a real uvicorn server.
RUNS: Final = [("in-process", seed) for seed in SEEDS] + [("asgi", 6)]


@dataclass
class Outcome:
    """What one case did under chaos."""

    case: Case
    baseline: object
    result: object
    error: BaseException | None
    #: The chaos log of the call: every request it made, spoiled or not.
    events: list[ChaosEvent]

    def of_path(self) -> list[ChaosEvent]:
        return [e for e in self.events if e.path == self.case.path]


async def _run_cases(fake: FakeWeCom, base_url: str | None, seed: int) -> list[Outcome]:
    outcomes: list[Outcome] = []
    async with client_for(fake, base_url=base_url) as client:
        corp: Corp = await prepare(fake, client)
        chaos = fake.set_chaos(RATE, seed=seed)
        for case in CASES:
            baseline = None
            if case.read:
                with chaos.paused():
                    baseline = await invoke(client, case, corp)
            start = chaos.events[-1].serial if chaos.events else 0
            result, error = None, None
            try:
                result = await invoke(client, case, corp)
            except BaseException as exc:
                error = exc
            events = [e for e in chaos.events if e.serial > start]
            outcomes.append(Outcome(case, baseline, result, error, events))
    return outcomes


_CACHE: dict[tuple[str, int], list[Outcome]] = {}


async def outcomes_of(face: str, seed: int) -> list[Outcome]:
    """The outcomes of one chaos run, computed once and shared by the promises."""
    if (face, seed) not in _CACHE:
        fake = FakeWeCom()
        if face == "asgi":
            with serve(fake.app) as url:
                _CACHE[face, seed] = await _run_cases(fake, url, seed)
        else:
            _CACHE[face, seed] = await _run_cases(fake, None, seed)
    return _CACHE[face, seed]


def _ids(runs: list[tuple[str, int]]) -> list[str]:
    return [f"{face}-seed{seed}" for face, seed in runs]


@pytest.mark.parametrize(("face", "seed"), RUNS, ids=_ids(RUNS))
async def test_chaos_actually_happened(face: str, seed: int) -> None:
    """Guards the other promises against passing vacuously."""
    outcomes = await outcomes_of(face, seed)
    spoiled = [e for o in outcomes for e in o.events if e.kind is not None]
    assert len({e.kind for e in spoiled}) >= 10
    assert sum(o.error is not None for o in outcomes) >= 5
    assert sum(o.error is None for o in outcomes) >= len(CASES) // 3


@pytest.mark.parametrize(("face", "seed"), RUNS, ids=_ids(RUNS))
async def test_only_wecom_errors_escape(face: str, seed: int) -> None:
    escaped = {
        o.case.name: f"{type(o.error).__module__}.{type(o.error).__qualname__}: {o.error}"
        for o in await outcomes_of(face, seed)
        if o.error is not None and not isinstance(o.error, WeComError)
    }
    assert escaped == {}


@pytest.mark.parametrize(("face", "seed"), RUNS, ids=_ids(RUNS))
async def test_no_write_is_resent_after_an_ambiguous_failure(face: str, seed: int) -> None:
    resent = {}
    for o in await outcomes_of(face, seed):
        if o.case.retry_safe:
            continue
        sent = o.of_path()
        # Every request but the last must have been refused before WeCom processed it.
        ambiguous = [e.kind for e in sent[:-1] if e.kind not in REFUSED_KINDS]
        if ambiguous:
            resent[o.case.name] = [e.kind for e in sent]
    assert resent == {}


def _same(a: object, b: object) -> bool:
    """Equal as JSON: 1, 1.0, "1" and True all differ."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


#: Fields WeCom makes up anew for each traversal (contact_list's ``tmp_openid``).
_PER_TRAVERSAL: Final = frozenset({"tmp_openid"})


def _comparable(value: object) -> object:
    """``value`` with the fields that differ between two traversals blanked out."""
    if isinstance(value, dict):
        return {
            k: ("<per traversal>" if k in _PER_TRAVERSAL else _comparable(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _holds(output: object, event: ChaosEvent) -> bool:
    """Whether the value chaos sent at ``event.field`` is in ``output`` as it was sent."""
    assert event.field is not None
    parts = event.field.replace("[", ".[").split(".")
    keys = [p for p in parts if p and not p.startswith("[")]
    key, indexed = (keys[-1] if keys else None), parts[-1].startswith("[")

    def walk(node: object) -> bool:
        if _same(node, event.value):
            return True
        if isinstance(node, dict):
            if key in node:
                held = node[key]
                if _same(held, event.value):
                    return True
                if indexed and isinstance(held, list) and any(_same(x, event.value) for x in held):
                    return True
            return any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    return walk(output)


@pytest.mark.parametrize(("face", "seed"), RUNS, ids=_ids(RUNS))
async def test_no_read_loses_or_changes_a_field(face: str, seed: int) -> None:
    changed = {}
    for o in await outcomes_of(face, seed):
        if not o.case.read:
            continue
        mangled = [e for e in o.of_path() if e.kind in ("oversized", "odd_type") and e.field]
        if o.error is not None:
            if isinstance(o.error, StructureError) and all(e.kind == "oversized" for e in mangled):
                changed[o.case.name] = f"refused {[e.field for e in mangled]}: {o.error}"
            continue
        if not mangled:
            if _comparable(o.result) != _comparable(o.baseline):
                kinds = [e.kind for e in o.events if e.kind]
                changed[o.case.name] = f"differs from its baseline after {kinds}"
            continue
        lost = [f"{e.kind} {e.field}={e.value!r:.60}" for e in mangled if not _holds(o.result, e)]
        if lost:
            changed[o.case.name] = f"not kept as sent: {lost}"
    assert changed == {}


# -- deadlines ---------------------------------------------------------------------------

#: Per-call deadline, and how long the fake would make each answer wait.
DEADLINE: Final = 0.05
DELAY: Final = 30.0
#: Only a guard, so that a missing deadline fails the test rather than hangs the suite.
HANG_GUARD: Final = 10.0


async def test_no_call_outlives_its_deadline_when_wecom_never_answers() -> None:
    fake = FakeWeCom()
    outcomes: dict[str, BaseException | None] = {}
    # The client's read timeout exceeds the delay: only the deadline can end the wait.
    async with client_for(fake, timeout=60.0) as client:
        corp = await prepare(fake, client)
        chaos = fake.set_chaos(1.0, seed=1, kinds=["delay"], delay=DELAY)

        async def call(case: Case) -> None:
            try:
                await invoke(client, case, corp, deadline=DEADLINE)
                outcomes[case.name] = None
            except BaseException as exc:
                outcomes[case.name] = exc

        with anyio.move_on_after(HANG_GUARD) as guard:
            async with anyio.create_task_group() as tg:
                for case in CASES:
                    tg.start_soon(call, case)
    assert not guard.cancelled_caught, "calls were still waiting for WeCom past their deadline"
    wrong = {
        name: repr(error)
        for name, error in outcomes.items()
        if not isinstance(error, APITimeoutError)
    }
    assert wrong == {}
    assert len(outcomes) == len(CASES)
    # Every request did reach the fake, and not one answer was waited out.
    assert chaos.events
    assert not [e for e in chaos.events if e.delivered]


# -- repeated cursors, everywhere a cursor is followed -----------------------------------


async def test_a_repeated_cursor_never_passes_unnoticed() -> None:
    """Every request that follows a cursor gets back one already followed: each read
    either notices (a WeComError) or still returns exactly its baseline."""
    fake = FakeWeCom()
    unnoticed = {}
    async with client_for(fake) as client:
        corp = await prepare(fake, client)
        chaos = fake.set_chaos(1.0, seed=1, kinds=["cursor_repeat"])
        for case in [c for c in CASES if c.read]:
            with chaos.paused():
                baseline = await invoke(client, case, corp)
            try:
                result = await invoke(client, case, corp)
            except WeComError:
                continue
            if _comparable(result) != _comparable(baseline):
                unnoticed[case.name] = "pages repeated or lost"
        assert len(chaos.spoiled()) >= 10
    assert unnoticed == {}


async def test_a_repeated_follower_cursor_is_noticed() -> None:
    """``external_contact.get`` merges follower pages (500 a page) of one customer."""
    fake = FakeWeCom()
    report = fake.seed(staff=2, customers_per_staff=1, seed=2, big_customer_followers=1001)
    assert report.big_customer is not None
    async with client_for(fake) as client:
        whole = to_dict(await client.external_contact.get(report.big_customer))
        assert len(whole["follow_user"]) == 1001  # type: ignore[arg-type]
        chaos = fake.set_chaos(1.0, seed=1, kinds=["cursor_repeat"], paths=["externalcontact/get"])
        for _ in range(3):
            try:
                detail = to_dict(await client.external_contact.get(report.big_customer))
            except WeComError:
                continue
            assert len(detail["follow_user"]) == 1001  # type: ignore[arg-type]
            assert detail == whole
        assert len(chaos.spoiled()) >= 3
