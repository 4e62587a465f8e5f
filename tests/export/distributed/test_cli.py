"""The command line of a distributed export: ``wecom-async worker`` processes, ``export
--workers-wait``, ``export status``, ``export assemble``; the secret in no output."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.export.distributed.serving import cli_workers
from tests.export.helpers import (
    CORP_ID,
    SECRET,
    expected_pairs,
    leaks,
    new_fake,
    read_pairs,
    run_cli,
    secret_env,
    serve,
)
from tests.redis_server import RedisServer
from wecom_async.export.cli import ExitStatus


def test_workers_submit_status_and_assemble_from_the_command_line(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    fake = new_fake()
    fake.seed(staff=4, customers_per_staff=5, seed=21)
    env = secret_env()
    with serve(fake) as url:
        common = ["--redis-url", redis_server.url, "--base-url", url, "--corp-id", CORP_ID]
        with cli_workers(common, tmp_path, env) as logs:
            done = run_cli(
                "export",
                "customers",
                *common,
                "--chunk-size",
                "1",
                "-o",
                str(tmp_path / "out"),
                "--workers-wait",
                cwd=tmp_path,
                env=env,
                timeout=120,
            )
            assert done.returncode == ExitStatus.OK, done.stderr
            export_id = done.stdout.strip()
            assert export_id.startswith("customers-")
            status = run_cli(
                "export",
                "status",
                export_id,
                "--redis-url",
                redis_server.url,
                cwd=tmp_path,
                env=env,
            )
            assert status.returncode == ExitStatus.OK, status.stderr
            records = len(expected_pairs(fake))
            assert f"4/4 shards committed, 0 running, 0 failed, {records} records" in status.stdout
            out = tmp_path / "all.jsonl"
            assembled = run_cli(
                "export",
                "assemble",
                export_id,
                "-o",
                str(out),
                "--redis-url",
                redis_server.url,
                cwd=tmp_path,
                env=env,
            )
            assert assembled.returncode == ExitStatus.OK, assembled.stderr
    pairs = read_pairs(out)
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(fake)
    texts = [done.stdout, done.stderr, status.stdout, assembled.stderr, *logs]
    assert leaks(SECRET, texts, tmp_path) == []


def test_status_of_an_export_redis_does_not_hold_says_how_to_resume(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    done = run_cli("export", "status", "nope", "--redis-url", redis_server.url, cwd=tmp_path)
    assert done.returncode == ExitStatus.FAILED
    assert "export resume ID --dir DIR" in done.stderr


def test_status_with_redis_unreachable_is_a_clear_error_without_traceback() -> None:
    import io

    from tests.redis_server import _free_port
    from wecom_async.export._status import ExitStatus
    from wecom_async.export.distributed.cli import manage

    err = io.StringIO()
    url = f"redis://:not-shown-password-1234567@127.0.0.1:{_free_port()}/0"
    status = manage(["status", "E1", "--redis-url", url], err)
    assert status == ExitStatus.FAILED
    assert err.getvalue().startswith("wecom-async: error: Redis cannot be used (")
    assert "Traceback" not in err.getvalue()
    assert "not-shown-password-1234567" not in err.getvalue()
