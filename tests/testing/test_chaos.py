"""Chaos mode and the fault kinds it draws from, at the wire level (no SDK client).

Each kind is checked for what the client sees and for whether the fake processed the
request (the remark changed or not), in-process and through a real uvicorn server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from tests.testing.wire import connect as connect_api
from tests.testing.wire import serve
from wecom_async.testing import (
    ALL_KINDS,
    DEFAULT_KINDS,
    JSON,
    Chaos,
    ChaosEvent,
    ChaosKind,
    FakeWeCom,
    Route,
)

REMARK = "externalcontact/remark"
BATCH = "externalcontact/batch/get_by_user"


def _seeded(**kwargs: Any) -> FakeWeCom:
    fake = FakeWeCom(**kwargs)
    fake.seed(staff=3, customers_per_staff=6, seed=5)
    return fake


def _active(fake: FakeWeCom) -> list[str]:
    return [userid for userid, staff in fake.state.staff.items() if not staff.resigned]


def _relation(fake: FakeWeCom) -> tuple[str, str]:
    userid = next(iter(fake.state.staff))
    return userid, fake.customers_of(userid)[0]


def _remark_of(fake: FakeWeCom, userid: str, external_userid: str) -> str:
    follow = fake.follow(external_userid, userid)
    assert follow is not None
    return follow.remark


async def _post_remark(
    http: httpx.AsyncClient, token: str, userid: str, external_userid: str, text: str
) -> httpx.Response:
    body = {"userid": userid, "external_userid": external_userid, "remark": text}
    return await http.post(f"/cgi-bin/{REMARK}", params={"access_token": token}, json=body)


def _token(fake: FakeWeCom) -> str:
    token, _ = fake.tokens.issue(fake.corp_id, fake.secret, fake.clock.now())
    return token


# -- one kind at a time, in-process ---------------------------------------------------------

LOST = [
    ("connect", httpx.ConnectError, False),
    ("reset", httpx.ReadError, True),
    ("drop", httpx.RemoteProtocolError, True),
]


@pytest.mark.parametrize(("kind", "raised", "processed"), LOST)
async def test_lost_responses_in_process(
    kind: ChaosKind, raised: type[Exception], processed: bool
) -> None:
    fake = _seeded()
    userid, external_userid = _relation(fake)
    token = _token(fake)
    chaos = fake.set_chaos(1.0, seed=1, kinds=[kind])
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        with pytest.raises(raised):
            await _post_remark(http, token, userid, external_userid, "lost")
    assert (_remark_of(fake, userid, external_userid) == "lost") is processed
    # A refused connection never reached WeCom: it is not even recorded.
    assert fake.calls(REMARK) == (1 if processed else 0)
    [event] = chaos.events
    assert (event.kind, event.processed, event.delivered) == (kind, processed, False)
    assert (event.method, event.path, event.serial) == ("POST", REMARK, 1)


async def test_status_is_processed_or_not_and_the_event_says_which() -> None:
    fake = _seeded()
    userid, external_userid = _relation(fake)
    token = _token(fake)
    chaos = fake.set_chaos(1.0, seed=3, kinds=["status"])
    seen: set[tuple[int, bool]] = set()
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        for n in range(32):
            response = await _post_remark(http, token, userid, external_userid, f"r{n}")
            event = chaos.events[-1]
            assert response.status_code in (502, 503)
            assert f"<title>{response.status_code} " in response.text
            assert (_remark_of(fake, userid, external_userid) == f"r{n}") is event.processed
            assert event.delivered
            seen.add((response.status_code, event.processed))
    assert seen == {(502, True), (502, False), (503, True), (503, False)}


async def test_mangled_bodies_process_the_request() -> None:
    fake = _seeded()
    userid, external_userid = _relation(fake)
    token = _token(fake)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        fake.set_chaos(1.0, kinds=["truncated"])
        cut = await _post_remark(http, token, userid, external_userid, "t")
        with pytest.raises(json.JSONDecodeError):
            json.loads(cut.content)
        fake.set_chaos(1.0, kinds=["html"])
        page = await _post_remark(http, token, userid, external_userid, "h")
        assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
        assert page.text.startswith("<!DOCTYPE html>")
        fake.set_chaos(1.0, kinds=["bad_gzip"])
        with pytest.raises(httpx.DecodingError):
            await _post_remark(http, token, userid, external_userid, "g")
    assert _remark_of(fake, userid, external_userid) == "g"
    assert fake.calls(REMARK) == 3


@pytest.mark.parametrize(
    ("kind", "errcode"), [("busy", -1), ("rate_limit", 45009), ("token_expired", 42001)]
)
async def test_errcodes_answer_without_processing(kind: ChaosKind, errcode: int) -> None:
    fake = _seeded()
    userid, external_userid = _relation(fake)
    token = _token(fake)
    chaos = fake.set_chaos(1.0, kinds=[kind])
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        data = (await _post_remark(http, token, userid, external_userid, "no")).json()
    assert data["errcode"] == errcode
    assert data["errmsg"].endswith(f"?e={errcode}")
    assert _remark_of(fake, userid, external_userid) == ""
    assert [(e.kind, e.processed, e.delivered) for e in chaos.events] == [(kind, False, True)]


async def test_token_expiry_never_hits_gettoken() -> None:
    fake = _seeded()
    chaos = fake.set_chaos(1.0, kinds=["token_expired"])
    async with connect_api(fake) as api:
        api.token = (await api.gettoken())["access_token"]
        assert (await api.get("externalcontact/get_follow_user_list"))["errcode"] == 42001
    assert [(e.path, e.kind) for e in chaos.events] == [
        ("gettoken", None),
        ("externalcontact/get_follow_user_list", "token_expired"),
    ]


# -- response-shaped kinds --------------------------------------------------------------


def _at(data: object, field: str) -> object:
    """The value at a rendered field path such as ``follow_user[0].remark``."""
    node = data
    for part in field.replace("[", ".[").split("."):
        if not part:
            continue
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]  # type: ignore[index]
    return node


async def _get_detail(fake: FakeWeCom) -> dict[str, Any]:
    _, external_userid = _relation(fake)
    async with connect_api(fake) as api:
        return await api.get("externalcontact/get", external_userid=external_userid)


async def test_oversized_changes_one_string_field_and_never_the_state() -> None:
    fake = _seeded()
    clean = await _get_detail(fake)
    chaos = fake.set_chaos(1.0, kinds=["oversized"], paths=["externalcontact/get"])
    for _ in range(6):
        spoiled = await _get_detail(fake)
        event = chaos.events[-1]
        assert event.field is not None
        assert isinstance(event.value, str)
        assert _at(spoiled, event.field) == event.value != _at(clean, event.field)
        assert len(event.value) == 1000 or len(event.value.encode()) == 500
        assert event.value.startswith(f"chaos#{event.serial}:")
    fake.clear_chaos()
    assert await _get_detail(fake) == clean  # the fake's own records are untouched


async def test_odd_type_changes_the_json_type_of_one_field() -> None:
    fake = _seeded()
    clean = await _get_detail(fake)
    chaos = fake.set_chaos(1.0, seed=11, kinds=["odd_type"], paths=["externalcontact/get"])
    shapes: set[tuple[str, str]] = set()
    for _ in range(40):
        spoiled = await _get_detail(fake)
        event = chaos.events[-1]
        assert event.field is not None
        before, after = _at(clean, event.field), _at(spoiled, event.field)
        assert after == event.value
        assert type(after) is not type(before)
        if isinstance(before, bool):
            assert after == str(before).lower()
        elif isinstance(before, int):
            assert after in (before + 0.5, str(before))
        shapes.add((type(before).__name__, type(after).__name__))
    assert {("str", "dict"), ("str", "list"), ("int", "float"), ("int", "str")} <= shapes
    # Paging keys are never touched.
    assert not any(e.field and e.field.split(".")[0] in ("next_cursor",) for e in chaos.events)


async def test_odd_type_turns_booleans_into_strings() -> None:
    fake = _seeded()
    fake.add_route(Route("GET", "custom/flags", lambda ctx: {"flags": {"on": True, "off": False}}))
    chaos = fake.set_chaos(1.0, seed=2, kinds=["odd_type"], paths=["custom/flags"])
    answers = []
    async with connect_api(fake) as api:
        for _ in range(8):
            answers.append((await api.get("custom/flags"))["flags"])
    assert {json.dumps(a, sort_keys=True) for a in answers} == {
        '{"off": "false", "on": true}',
        '{"off": false, "on": "true"}',
    }
    assert {(e.field, e.value) for e in chaos.events} == {
        ("flags.on", "true"),
        ("flags.off", "false"),
    }


async def test_cursor_repeat_hands_back_a_cursor_already_followed() -> None:
    fake = _seeded()
    staff = _active(fake)
    chaos = fake.set_chaos(1.0, seed=4, kinds=["cursor_repeat"], paths=[BATCH])
    followed: list[str] = []
    async with connect_api(fake) as api:
        cursor = ""
        for _ in range(6):
            page = await api.post(BATCH, {"userid_list": staff, "limit": 2, "cursor": cursor})
            assert page["errcode"] == 0
            if cursor:
                followed.append(cursor)
                assert page["next_cursor"] in followed  # a cycle, of any length
            else:
                assert page["next_cursor"]  # the first page has nothing to repeat
            cursor = page["next_cursor"]
    kinds = [e.kind for e in chaos.events]
    assert kinds[0] is None
    assert set(kinds[1:]) == {"cursor_repeat"}


async def test_a_new_pass_forgets_the_cursors_of_the_last() -> None:
    fake = _seeded()
    staff = _active(fake)
    chaos = fake.set_chaos(1.0, kinds=["cursor_repeat"], paths=[BATCH])
    async with connect_api(fake) as api:
        first = await api.post(BATCH, {"userid_list": staff, "limit": 2})
        await api.post(BATCH, {"userid_list": staff, "limit": 2, "cursor": first["next_cursor"]})
        again = await api.post(BATCH, {"userid_list": staff, "limit": 2})
        other = await api.post(BATCH, {"userid_list": staff[:1], "limit": 2, "cursor": "x"})
    assert again["next_cursor"] == first["next_cursor"]  # a first page: untouched
    assert other["errcode"] == 50100  # followed a cursor the fake never issued: its answer
    assert [e.kind for e in chaos.events] == [None, "cursor_repeat", None, "cursor_repeat"]


@pytest.mark.parametrize(("pass_limit", "forgotten"), [(1, True), (2, False)])
async def test_cursor_repeat_remembers_the_latest_passes_only(
    pass_limit: int, forgotten: bool
) -> None:
    """A pass paged less recently than ``pass_limit`` others is forgotten: following its
    cursor starts a new pass, whose only cursor is the current one."""
    chaos = Chaos(0.0, seed=2, kinds=["cursor_repeat"], paths=[BATCH], pass_limit=pass_limit)
    fake = _seeded(chaos=chaos)
    staff = _active(fake)
    async with connect_api(fake) as api:
        cursors = [""]
        for _ in range(3):  # let through: cursors c1, c2, c3; c1 and c2 followed
            page = await api.post(BATCH, {"userid_list": staff, "limit": 2, "cursor": cursors[-1]})
            cursors.append(page["next_cursor"])
        await api.post(BATCH, {"userid_list": staff[:1], "limit": 2})  # another pass
        chaos.rate = 1.0
        body = {"userid_list": staff, "limit": 2, "cursor": cursors[3]}
        repeated = {(await api.post(BATCH, body))["next_cursor"] for _ in range(10)}
    if forgotten:
        assert repeated == {cursors[3]}
    else:
        assert repeated <= set(cursors[1:4])
        assert repeated - {cursors[3]}  # an earlier cursor of the same pass came back


async def test_chaos_memory_of_passes_is_bounded() -> None:
    chaos = Chaos(0.0, seed=1, pass_limit=3, log_limit=10)
    fake = _seeded(chaos=chaos, record_limit=10)
    async with connect_api(fake) as api:
        for limit in range(1, 51):  # 50 passes, each a first page of other filters
            page = await api.post(BATCH, {"userid_list": _active(fake), "limit": limit})
            assert page["errcode"] == 0
    assert len(chaos._passes) == 3
    assert len(chaos.events) == 10
    with pytest.raises(ValueError, match="pass_limit"):
        Chaos(0.1, pass_limit=0)


# -- the setting itself -------------------------------------------------------------------


async def _run(fake: FakeWeCom, rounds: int = 30) -> list[tuple[object, ...]]:
    userid, external_userid = _relation(fake)
    async with connect_api(fake) as api:
        for n in range(rounds):
            try:
                await api.get("externalcontact/get", external_userid=external_userid)
                await api.post(
                    REMARK, {"userid": userid, "external_userid": external_userid, "remark": str(n)}
                )
            except (httpx.HTTPError, AssertionError, ValueError, KeyError, TypeError):
                api.token = None  # the token may have come from a spoiled gettoken
    chaos = fake.chaos
    assert chaos is not None
    return [(e.serial, e.path, e.kind, e.processed, e.field, e.value) for e in chaos.events]


async def test_the_same_seed_spoils_the_same_requests_the_same_way() -> None:
    one, two, other = _seeded(), _seeded(), _seeded()
    one.set_chaos(0.5, seed=7)
    two.set_chaos(0.5, seed=7)
    other.set_chaos(0.5, seed=8)
    first, second, third = await _run(one), await _run(two), await _run(other)
    assert first == second
    assert first != third
    kinds = {event[2] for event in first}
    assert len(kinds - {None}) >= 8  # a broad mix, not one kind


async def test_rate_is_the_share_of_requests_spoiled() -> None:
    fake = _seeded()
    chaos = fake.set_chaos(0.3, seed=21)
    await _run(fake, rounds=150)
    share = len(chaos.spoiled()) / len(chaos.events)
    assert 0.22 < share < 0.38
    assert {e.kind for e in chaos.spoiled()} <= set(DEFAULT_KINDS)
    assert set(ALL_KINDS) - set(DEFAULT_KINDS) == {"delay"}


async def test_rate_zero_paused_and_cleared_chaos_let_everything_through() -> None:
    fake = _seeded()
    chaos = fake.set_chaos(0.0, seed=1)
    await _run(fake, rounds=5)
    assert chaos.events
    assert not chaos.spoiled()
    chaos = fake.set_chaos(1.0, seed=1)
    with chaos.paused():
        with chaos.paused():
            pass
        await _run(fake, rounds=5)
    assert not chaos.events
    fake.clear_chaos()
    assert fake.chaos is None
    await _run_clean(fake)


async def _run_clean(fake: FakeWeCom) -> None:
    userid, _ = _relation(fake)
    async with connect_api(fake) as api:
        assert (await api.get("externalcontact/list", userid=userid))["errcode"] == 0


async def test_paths_limit_chaos_and_constructor_sets_it() -> None:
    chaos = Chaos(1.0, kinds=["busy"], paths=["/cgi-bin/externalcontact/list"])
    fake = _seeded(chaos=chaos)
    assert fake.chaos is chaos
    userid, _ = _relation(fake)
    async with connect_api(fake) as api:
        assert (await api.get("externalcontact/get_follow_user_list"))["errcode"] == 0
        assert (await api.get("externalcontact/list", userid=userid))["errcode"] == -1
    assert [(e.path, e.kind) for e in chaos.events] == [("externalcontact/list", "busy")]
    assert "rate=1.0, seed=0, kinds=['busy'], events=1" in repr(chaos)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": -0.1},
        {"rate": 1.5},
        {"rate": 0.5, "kinds": []},
        {"rate": 0.5, "kinds": ["meteor"]},
        {"rate": 0.5, "delay": -1.0},
        {"rate": 0.5, "paths": ["externalcontact/nope"]},
    ],
)
def test_set_chaos_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    fake = FakeWeCom()
    with pytest.raises(ValueError):
        fake.set_chaos(**kwargs)
    assert fake.chaos is None


# -- delay: really waited, and cut short by a cancelled caller ---------------------------


async def test_delay_is_cut_short_when_the_caller_gives_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _seeded()
    token = _token(fake)
    chaos = fake.set_chaos(1.0, kinds=["delay"], delay=10.0)
    timeout = httpx.Timeout(15.0)  # the delay stays within the read timeout: it is waited
    waits: list[float] = []
    reached = anyio.Event()

    async def wait_forever(seconds: float) -> None:
        waits.append(seconds)
        reached.set()
        await anyio.sleep_forever()

    monkeypatch.setattr("wecom_async.testing._transport.anyio.sleep", wait_forever)
    async with (
        httpx.AsyncClient(
            transport=fake.transport(), base_url=fake.base_url, timeout=timeout
        ) as http,
        anyio.create_task_group() as tg,
    ):

        async def call() -> None:
            await http.get(
                "/cgi-bin/externalcontact/get_follow_user_list", params={"access_token": token}
            )

        tg.start_soon(call)
        await reached.wait()
        tg.cancel_scope.cancel()
    [event] = chaos.events
    assert waits == [10.0]
    assert (event.kind, event.processed, event.delivered) == ("delay", True, False)


async def test_a_delay_waited_out_is_delivered(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _seeded()
    token = _token(fake)
    chaos = fake.set_chaos(1.0, kinds=["delay"], delay=3.0)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("wecom_async.testing._transport.anyio.sleep", record)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        response = await http.get(
            "/cgi-bin/externalcontact/get_follow_user_list", params={"access_token": token}
        )
    assert response.json()["errcode"] == 0
    assert waits == [3.0]
    assert chaos.events[0].delivered


# -- inject() gained the same kinds ----------------------------------------------------------


async def test_inject_rewrite_and_unprocessed_status() -> None:
    fake = _seeded()
    userid, external_userid = _relation(fake)
    token = _token(fake)
    calls: list[JSON] = []

    def rewrite(data: JSON) -> JSON:
        calls.append(data)
        data["extra"] = 1
        return data

    fake.inject("externalcontact/list", rewrite=rewrite)
    fake.inject(REMARK, status=503, processed=False)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        listed = await http.get(
            "/cgi-bin/externalcontact/list", params={"access_token": token, "userid": userid}
        )
        refused = await _post_remark(http, token, userid, external_userid, "never")
    assert listed.json()["extra"] == 1
    assert "external_userid" in calls[0]
    assert refused.status_code == 503
    assert _remark_of(fake, userid, external_userid) == ""
    assert fake.calls(REMARK) == 1  # recorded: it reached the gateway


@pytest.mark.parametrize(
    "kwargs",
    [
        {"connect": True, "reset": True},
        {"html": True, "processed": False},
        {"bad_gzip": True, "errcode": -1},
        {"rewrite": lambda d: d, "drop": True},
    ],
)
def test_inject_refuses_mixed_kinds(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FakeWeCom().inject(REMARK, **kwargs)  # type: ignore[arg-type]


# -- the ASGI face ---------------------------------------------------------------------------

ASGI_CASES: list[tuple[ChaosKind, Callable[[httpx.Response], bool] | type[Exception], bool]] = [
    ("connect", httpx.RemoteProtocolError, False),
    ("reset", httpx.RemoteProtocolError, True),
    ("drop", httpx.RemoteProtocolError, True),
    ("bad_gzip", httpx.DecodingError, True),
    ("html", lambda r: r.status_code == 200 and r.text.startswith("<!DOCTYPE"), True),
    ("truncated", lambda r: r.status_code == 200 and r.content.startswith(b'{"errcode":0'), True),
    ("busy", lambda r: r.json()["errcode"] == -1, False),
    ("rate_limit", lambda r: r.json()["errcode"] == 45009, False),
    ("token_expired", lambda r: r.json()["errcode"] == 42001, False),
]


async def test_every_kind_through_a_real_server() -> None:
    fake = _seeded()
    userid, external_userid = _relation(fake)
    token = _token(fake)
    with serve(fake.app) as url:
        async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
            for n, (kind, expect, processed) in enumerate(ASGI_CASES):
                chaos = fake.set_chaos(1.0, seed=n, kinds=[kind])
                text = f"asgi-{kind}"
                if isinstance(expect, type):
                    with pytest.raises(expect):
                        await _post_remark(http, token, userid, external_userid, text)
                else:
                    response = await _post_remark(http, token, userid, external_userid, text)
                    assert expect(response), kind
                assert (_remark_of(fake, userid, external_userid) == text) is processed, kind
                [event] = chaos.events
                assert (event.kind, event.processed) == (kind, processed)
                assert event.delivered is (kind not in ("connect", "reset", "drop"))
            fake.set_chaos(1.0, kinds=["oversized"])
            detail = await http.get(
                "/cgi-bin/externalcontact/get",
                params={"access_token": token, "external_userid": external_userid},
            )
    event = fake.chaos.events[-1] if fake.chaos else ChaosEvent(0, "", "")
    assert event.field is not None
    assert _at(detail.json(), event.field) == event.value
