"""Workers for many corps: ``wecom-async worker --corps corps.toml`` and ``export KIND
--corps corps.toml --workers-wait``, on real processes, a real redis-server and the fake
WeCom on loopback (two self-built corps and one provider corp whose suite ticket is kept
in Redis). Each corp's assembled output equals its single-process export, and a worker
whose corps file lacks a corp never claims that corp's shards."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from pathlib import Path

import anyio
import pytest
import redis
from redis.asyncio import Redis

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
from tests.export.test_corps_cli import (
    SUITE,
    SUITE_SECRET,
    THREE,
    TWO,
    TWO_SECRET,
    World,
    make_world,
    reference,
)
from tests.redis_server import RedisServer
from wecom_async.export.cli import ExitStatus, main
from wecom_async.export.distributed import ExportStatus, Ledger

TICKET_KEY = "acme:suite_ticket"
#: Seconds the distributed export may take; far above a healthy run.
TIMEOUT = 120.0


def corps_toml(folder: Path, world: World, corps: tuple[str, ...]) -> Path:
    """A corps file of ``corps`` (secrets in files beside it and in the environment; the
    provider's suite ticket in Redis, where its callback receiver would keep it)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "two").write_text(TWO_SECRET + "\n")
    (folder / "three").write_text(world.code)
    entries = {
        CORP_ID: f'corp_id = "{CORP_ID}"\nsecret_env = "ONE_SECRET"\n',
        TWO: f'corp_id = "{TWO}"\nsecret_file = "two"\n',
        THREE: f'corp_id = "{THREE}"\nprovider = "acme"\npermanent_code_file = "three"\n',
    }
    text = "".join(f"[[corp]]\n{entries[corp]}\n" for corp in corps)
    text += (
        f'[provider.acme]\nsuite_id = "{SUITE}"\nsuite_secret_env = "ACME_SUITE_SECRET"\n'
        f'suite_ticket_redis_key = "{TICKET_KEY}"\n'
    )
    path = folder / "corps.toml"
    path.write_text(text)
    return path


def env() -> dict[str, str]:
    return cli_env(ONE_SECRET=SECRET, ACME_SUITE_SECRET=SUITE_SECRET)


def ledger_status(url: str, export_id: str) -> ExportStatus | None:
    async def read() -> ExportStatus | None:
        async with Redis.from_url(url) as client:
            return await Ledger(client).status(export_id)

    return anyio.run(read)


def start_worker(corps: Path, url: str, base_url: str, log: Path) -> subprocess.Popen[str]:
    with open(log, "w") as out:
        return subprocess.Popen(
            cli_args(
                "worker",
                "--corps",
                str(corps),
                "--redis-url",
                url,
                "--base-url",
                base_url,
                "--lease",
                "2",
                "--poll",
                "0.1",
            ),
            cwd=log.parent,
            env=env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_three_corps_on_workers_each_equal_to_its_single_export(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    world = make_world()
    redis.Redis.from_url(redis_server.url).set(TICKET_KEY, world.ticket)
    every = corps_toml(tmp_path / "all", world, (CORP_ID, TWO, THREE))
    partial = corps_toml(tmp_path / "some", world, (CORP_ID, TWO))
    out = tmp_path / "out"
    workers: list[subprocess.Popen[str]] = []
    with serve(world.fake) as url:
        # One worker first, without the provider corp: it must run the others' shards only.
        workers.append(start_worker(partial, redis_server.url, url, tmp_path / "w0.log"))
        submitter = subprocess.Popen(
            cli_args(
                "export",
                "customers",
                "--corps",
                str(every),
                "--redis-url",
                redis_server.url,
                "--base-url",
                url,
                "--chunk-size",
                "1",
                "-o",
                str(out),
                "--workers-wait",
            ),
            cwd=tmp_path,
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: out.exists() and any(out.iterdir()), "the submission")
            export_id = next(out.iterdir()).name

            def others_done() -> bool:
                status = ledger_status(redis_server.url, export_id)
                return status is not None and all(
                    s.state == "committed" for s in status.shards if s.corp != THREE
                )

            wait_for(others_done, "the self-built corps' shards")
            time.sleep(1.0)  # ten sweeps of the ledger by the worker that lacks THREE
            status = ledger_status(redis_server.url, export_id)
            assert status is not None
            theirs = [s for s in status.shards if s.corp == THREE]
            assert len(theirs) == 5  # one shard per follow-user (--chunk-size 1)
            assert {(s.state, s.epoch, s.commits) for s in theirs} == {("pending", 0, 0)}
            # Two workers with every corp finish the export.
            workers += [
                start_worker(every, redis_server.url, url, tmp_path / f"w{n}.log") for n in (1, 2)
            ]
            stdout, stderr = submitter.communicate(timeout=TIMEOUT)
            assert submitter.returncode == ExitStatus.OK, stderr
            assert stdout.strip() == export_id
            assembled = {}
            for corp in (CORP_ID, TWO, THREE):
                target = tmp_path / f"{corp}.jsonl"
                done = run_cli(
                    "export",
                    "assemble",
                    export_id,
                    "--corp",
                    corp,
                    "-o",
                    str(target),
                    "--redis-url",
                    redis_server.url,
                    cwd=tmp_path,
                    env=env(),
                )
                assert done.returncode == ExitStatus.OK, done.stderr
                assembled[corp] = (read_lines(target), done.stderr)
        finally:
            for proc in [*workers, submitter]:
                proc.kill()
                proc.wait(timeout=10)
    final = ledger_status(redis_server.url, export_id)
    assert final is not None
    assert final.failed == 0
    assert all(s.commits == 1 for s in final.shards), "each shard committed exactly once"
    assert Counter(s.corp for s in final.shards)[THREE] == 5
    for corp, (lines, _) in assembled.items():
        expected = reference(world, corp, tmp_path)
        assert expected, f"{corp} has customers to export"
        assert Counter(lines).most_common(1)[0][1] == 1, f"{corp}: a line repeats"
        assert sorted(lines) == sorted(expected), corp
    texts = [stdout, stderr, *(e for _, e in assembled.values())]
    texts += [log.read_text() for log in tmp_path.glob("w*.log")]
    for secret in (*world.secrets(), TWO_SECRET):
        # The corps files hold no secret, the secret files beside them do: not searched.
        assert leaks(secret, texts, out) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["worker", "--corps", "FILE", "--corp-id", "ww1"], "--corps and --corp-id exclude"),
        (["worker", "--corps", "missing.toml"], "cannot read missing.toml"),
        (["worker", "--corps", "FILE"], "give --redis-url"),
        (
            ["export", "customers", "--corps", "FILE", "--workers", "--corp-id", "ww1"],
            "--corps and --corp-id exclude",
        ),
    ],
)
def test_corps_workers_usage_errors_are_named_before_anything_runs(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("WECOM_REDIS_URL", "WECOM_CORP_ID", "WECOM_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONE_SECRET", SECRET)
    monkeypatch.setenv("ACME_SUITE_SECRET", SUITE_SECRET)
    world = World(new_fake(), "Code-Xq82", "Ticket-Lp39")
    path = corps_toml(tmp_path / "corps", world, (CORP_ID, THREE))
    argv = [str(path) if arg == "FILE" else arg for arg in argv]
    assert main(argv) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert message in err
    assert SECRET not in err
    assert "Traceback" not in err
