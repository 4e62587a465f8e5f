"""``wecom-async export KIND --corps corps.toml`` end to end, against the fake WeCom on a
loopback port: two self-built corps and one provider corp, each into its own output."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
import redis

from tests.export.helpers import (
    CORP_ID,
    SECRET,
    cli_args,
    cli_env,
    leaks,
    new_fake,
    read_lines,
    run_cli,
    serve,
)
from tests.redis_server import RedisServer
from wecom_async import RetryPolicy, WeComClient
from wecom_async.callback import parse_event
from wecom_async.export import CustomersJob, run_export
from wecom_async.export._status import worst
from wecom_async.export.cli import ExitStatus, main
from wecom_async.provider import MemoryPermanentCodeStore, ProviderApp
from wecom_async.testing import FakeWeCom
from wecom_async.testing._corp import CorpData

TWO = "wwcorptwo"
TWO_SECRET = "Second-Secret-Kd73nVbQ"
THREE = "wwcorpthree"
SUITE = "wwsuiteexp"
SUITE_SECRET = "Suite-Secret-Fj28wTzM"
BATCH = "externalcontact/batch/get_by_user"


@dataclass
class World:
    """The fake with three corps, and what the provider corp needs from outside."""

    fake: FakeWeCom
    code: str
    ticket: str

    def secrets(self) -> list[str]:
        return [SECRET, TWO_SECRET, SUITE_SECRET, self.code, self.ticket]


async def _authorize(fake: FakeWeCom) -> tuple[str, str]:
    """Play the provider flow in-process: a suite ticket push, then corp THREE installs
    the app; return (permanent code, suite ticket) as a vendor's database holds them."""
    codes = MemoryPermanentCodeStore()
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        ProviderApp(
            SUITE,
            SUITE_SECRET,
            permanent_codes=codes,
            http_client=http,
            retry=RetryPolicy.no_delay(),
        ) as app,
    ):
        await app.handle(parse_event(fake.push_suite_ticket(SUITE)))
        await app.handle(parse_event(fake.authorize_corp(SUITE, THREE)))
        code, ticket = await codes.get(THREE), await app.tickets.get(SUITE)
    assert code
    assert ticket
    return code, ticket


def make_world(*, latency: float = 0.0, staff: int = 5) -> World:
    fake = new_fake(latency=latency)
    fake.seed(staff=staff, customers_per_staff=12, seed=1)
    two = fake.add_corp(TWO)
    two.tokens.add_secret(TWO_SECRET)
    two.seed(staff=staff, customers_per_staff=9, seed=2)
    fake.add_suite(SUITE, SUITE_SECRET)
    fake.add_corp(THREE).seed(staff=staff, customers_per_staff=7, seed=3)
    code, ticket = anyio.run(_authorize, fake)
    fake.latency = latency
    return World(fake, code, ticket)


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    with serve(world.fake) as url:
        yield url


def corps_file(
    tmp_path: Path, world: World, *, two_secret: str = TWO_SECRET
) -> tuple[Path, dict[str, str]]:
    """The corps file (secrets in files under ``secrets/`` and in the environment)."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "two").write_text(two_secret + "\n")
    (secrets / "three").write_text(world.code)
    path = secrets / "corps.toml"
    path.write_text(
        f"""
[[corp]]
corp_id = "{CORP_ID}"
secret_env = "ONE_SECRET"

[[corp]]
corp_id = "{TWO}"
secret_file = "two"

[[corp]]
corp_id = "{THREE}"
provider = "acme"
permanent_code_file = "three"

[provider.acme]
suite_id = "{SUITE}"
suite_secret_env = "ACME_SUITE_SECRET"
suite_ticket_env = "ACME_TICKET"
"""
    )
    env = {"ONE_SECRET": SECRET, "ACME_SUITE_SECRET": SUITE_SECRET, "ACME_TICKET": world.ticket}
    return path, env


def truth(corp: CorpData) -> set[tuple[str, str]]:
    """Every (external_userid, userid) pair the fake holds for one corp."""
    state = corp.state
    return {
        (follow.external_userid, member.userid)
        for member in state.staff.values()
        if member.customer_contact and member.licensed and not member.resigned
        for follow in state.follows_of(member.userid)
    }


def pairs(lines: list[str]) -> list[tuple[str, str]]:
    records = [json.loads(line) for line in lines]
    return [(r["external_contact"]["external_userid"], r["follow_info"]["userid"]) for r in records]


async def _single(world: World, corp_id: str, output: Path) -> None:
    """The reference: one corp's export through the engine, as a single-corp run makes it."""
    async with httpx.AsyncClient(transport=world.fake.transport()) as http:
        if corp_id == THREE:
            codes = MemoryPermanentCodeStore()
            await codes.put(THREE, world.code)
            async with ProviderApp(
                SUITE, SUITE_SECRET, permanent_codes=codes, http_client=http
            ) as app:
                await app.put_ticket(world.ticket)
                await run_export(CustomersJob(), app.client_for(THREE), output)
            return
        secret = SECRET if corp_id == CORP_ID else TWO_SECRET
        async with WeComClient(corp_id, secret, http_client=http) as client:
            await run_export(CustomersJob(), client, output)


def reference(world: World, corp_id: str, tmp_path: Path) -> list[str]:
    output = tmp_path / "reference" / f"{corp_id}.jsonl"
    output.parent.mkdir(exist_ok=True)
    anyio.run(_single, world, corp_id, output)
    return read_lines(output)


CORPS = (CORP_ID, TWO, THREE)


def test_three_corps_each_equal_to_its_own_single_export(
    world: World,
    base_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, env = corps_file(tmp_path, world)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, summary = tmp_path / "out", tmp_path / "out" / "summary.json"
    status = main(
        [
            "export",
            "customers",
            "--corps",
            str(path),
            "--base-url",
            base_url,
            "-o",
            str(out),
            "--corp-concurrency",
            "3",
            "--summary-json",
            str(summary),
        ]
    )
    err = capsys.readouterr().err

    assert status == ExitStatus.OK, err
    report = json.loads(summary.read_text())
    assert [(c["corp_id"], c["exit_status"]) for c in report["corps"]] == [(c, 0) for c in CORPS]
    for corp_id, corp in zip(
        CORPS, [world.fake, world.fake.corp(TWO), world.fake.corp(THREE)], strict=True
    ):
        lines = read_lines(out / corp_id / "customers.jsonl")
        assert Counter(lines).most_common(1)[0][1] == 1
        assert set(pairs(lines)) == truth(corp)
        assert sorted(lines) == sorted(reference(world, corp_id, tmp_path))
        assert not (out / corp_id / "customers.jsonl.checkpoint").exists()
        assert f"wecom-async: {corp_id}: exported {len(lines):,} records" in err
    by_corp = {c["corp_id"]: c for c in report["corps"]}
    assert by_corp[CORP_ID]["requests"]["/cgi-bin/gettoken"] == 1
    assert "/cgi-bin/service/get_corp_token" in by_corp[THREE]["requests"]
    assert "3 corps: 3 complete, 0 not (exit status 0" in err
    assert leaks(SECRET, [err], out) == []
    for secret in world.secrets():
        assert leaks(secret, [err], out) == []


def test_a_bad_entry_is_refused_before_any_request(
    world: World,
    base_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, env = corps_file(tmp_path, world)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ACME_TICKET")
    before = len(world.fake.requests)

    status = main(
        [
            "export",
            "customers",
            "--corps",
            str(path),
            "--base-url",
            base_url,
            "-o",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err

    assert status == ExitStatus.USAGE
    assert "[provider.acme]: environment variable ACME_TICKET is not set or empty" in err
    assert len(world.fake.requests) == before
    assert not (tmp_path / "out").exists()


def test_a_wrong_secret_fails_its_corp_only(
    world: World,
    base_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "Wrong-Secret-Pq41mXcV"
    path, env = corps_file(tmp_path, world, two_secret=wrong)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, summary = tmp_path / "out", tmp_path / "summary.json"

    status = main(
        [
            "export",
            "customers",
            "--corps",
            str(path),
            "--base-url",
            base_url,
            "-o",
            str(out),
            "--summary-json",
            str(summary),
        ]
    )
    err = capsys.readouterr().err

    assert status == ExitStatus.CREDENTIALS
    statuses = {c["corp_id"]: c["exit_status"] for c in json.loads(summary.read_text())["corps"]}
    assert statuses == {CORP_ID: 0, TWO: ExitStatus.CREDENTIALS, THREE: 0}
    assert f"wecom-async: {TWO}: error: bad credentials" in err
    assert set(pairs(read_lines(out / CORP_ID / "customers.jsonl"))) == truth(world.fake)
    assert set(pairs(read_lines(out / THREE / "customers.jsonl"))) == truth(world.fake.corp(THREE))
    assert not (out / TWO / "customers.jsonl").exists()
    for secret in [wrong, *world.secrets()]:
        assert leaks(secret, [err, summary.read_text()], out) == []


def _wait_for_lines(path: Path, at_least: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not path.exists() or path.read_bytes().count(b"\n") < at_least:
        assert proc.poll() is None, "the export ended before it could be interrupted"
        assert time.monotonic() < deadline, "the export made no progress"
        time.sleep(0.005)


def test_an_interrupted_run_resumes_each_corp(tmp_path: Path) -> None:
    """SIGINT while the corps run; ``--resume`` continues each corp from its own
    checkpoint, and no line is missing or repeated in any corp's output."""
    world = make_world(latency=0.03, staff=12)
    path, env = corps_file(tmp_path, world)
    out = tmp_path / "out"
    more = ("--chunk-size", "2", "--concurrency", "1", "--corp-concurrency", "3")
    with serve(world.fake) as url:
        args = ["export", "customers", "--corps", str(path), "--base-url", url, "-o", str(out)]
        proc = subprocess.Popen(
            cli_args(*args, *more),
            cwd=tmp_path,
            env=cli_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_lines(out / TWO / "customers.jsonl.part", 20, proc)
        proc.send_signal(signal.SIGINT)
        _, stopped = proc.communicate(timeout=10)
        checkpoints = [c for c in CORPS if (out / c / "customers.jsonl.checkpoint").exists()]
        world.fake.latency = 0.0
        resumed = run_cli(*args, "--resume", cwd=tmp_path, env=cli_env(**env))

    assert proc.returncode == ExitStatus.INTERRUPTED, stopped
    assert TWO in checkpoints
    assert resumed.returncode == ExitStatus.OK, resumed.stderr
    assert f"wecom-async: {TWO}: exported" in resumed.stderr
    assert "(resumed)" in resumed.stderr
    for corp_id, corp in zip(
        CORPS, [world.fake, world.fake.corp(TWO), world.fake.corp(THREE)], strict=True
    ):
        lines = read_lines(out / corp_id / "customers.jsonl")
        assert len(set(lines)) == len(lines)
        assert set(pairs(lines)) == truth(corp)
        assert sorted(lines) == sorted(reference(world, corp_id, tmp_path))
    for secret in world.secrets():
        assert leaks(secret, [stopped, resumed.stderr, resumed.stdout], out) == []


def test_a_suite_ticket_kept_in_redis_serves_the_provider_corp(
    world: World,
    base_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    redis_server: RedisServer,
) -> None:
    """With --redis-url the budget, the tokens and the provider's suite ticket (the key
    its callback receiver keeps) come from Redis."""
    path, env = corps_file(tmp_path, world)
    path.write_text(
        path.read_text().replace(
            'suite_ticket_env = "ACME_TICKET"', 'suite_ticket_redis_key = "acme:suite_ticket"'
        )
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    args = ["export", "customers", "--corps", str(path), "--base-url", base_url, "-o", str(out)]

    assert main(args) == ExitStatus.USAGE  # the ticket is in Redis: --redis-url is needed
    assert "give --redis-url" in capsys.readouterr().err
    with_redis = [*args, "--redis-url", redis_server.url]
    assert main(with_redis) == ExitStatus.CREDENTIALS  # no ticket in Redis yet
    err = capsys.readouterr().err
    assert f"wecom-async: {THREE}: error: bad credentials" in err
    assert "no suite_ticket" in err

    redis.Redis.from_url(redis_server.url).set("acme:suite_ticket", world.ticket)
    status = main([*with_redis, "--resume"])  # the two corps that completed are kept
    err = capsys.readouterr().err

    assert status == ExitStatus.OK, err
    assert err.count("complete before this run (nothing to resume)") == 2
    lines = read_lines(out / THREE / "customers.jsonl")
    assert set(pairs(lines)) == truth(world.fake.corp(THREE))
    assert sorted(lines) == sorted(reference(world, THREE, tmp_path))
    for secret in world.secrets():
        assert leaks(secret, [err], out) == []


def test_the_worst_corp_decides_the_exit_status() -> None:
    assert worst([]) == ExitStatus.OK
    assert worst([0, 3, 0]) == ExitStatus.PARTIAL
    assert worst([0, 3, 1, 6]) == ExitStatus.UNREACHABLE
    assert worst([4, 2, 0]) == ExitStatus.USAGE
    assert worst([2, 130]) == ExitStatus.INTERRUPTED
