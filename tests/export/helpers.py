"""Shared helpers of the export tests: a loopback fake server, the CLI runner, readers."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import uvicorn

from wecom_async.testing import FakeWeCom

CORP_ID: Final = "wwexport"
#: Distinctive, so that finding it anywhere is a real leak.
SECRET: Final = "Exp0rt-Secret-q7Lw2zR"
REPO: Final = Path(__file__).resolve().parents[2]
BATCH: Final = "externalcontact/batch/get_by_user"

Pair = tuple[str, str]


def new_fake(*, latency: float = 0.0) -> FakeWeCom:
    """A fake corp with this suite's credentials."""
    return FakeWeCom(CORP_ID, SECRET, latency=latency)


@contextlib.contextmanager
def serve(fake: FakeWeCom) -> Iterator[str]:
    """Serve ``fake`` with uvicorn on 127.0.0.1 (a free port) in a thread; yield its URL."""
    # IPPROTO_TCP: else asyncio leaves Nagle on and keep-alive answers wait ~40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(fake.app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the loopback fake did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def part_of(out: Path) -> Path:
    """Where a run writes before its output is complete (renamed onto ``out`` then)."""
    return out.with_name(out.name + ".part")


def cli_env(**extra: str) -> dict[str, str]:
    """The subprocess environment: this checkout first, no WECOM_* from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def cli_args(*args: str) -> list[str]:
    """The command line of ``python -m wecom_async ARGS``."""
    return [sys.executable, "-m", "wecom_async", *args]


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the command to completion and capture its output."""
    return subprocess.run(
        cli_args(*args),
        cwd=cwd,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def export_args(base_url: str, output: Path, *more: str) -> list[str]:
    """``export customers`` against ``base_url`` with this suite's corp id (the secret
    comes from the environment, see :func:`secret_env`)."""
    return [
        "export",
        "customers",
        "--base-url",
        base_url,
        "--corp-id",
        CORP_ID,
        "-o",
        str(output),
        *more,
    ]


def secret_env(secret: str = SECRET) -> dict[str, str]:
    """The environment with ``WECOM_SECRET``."""
    return cli_env(WECOM_SECRET=secret)


def expected_pairs(fake: FakeWeCom) -> set[Pair]:
    """Every (external_userid, userid) relation an export of ``fake`` must write."""
    state = fake.state
    return {
        (follow.external_userid, member.userid)
        for member in state.staff.values()
        if member.customer_contact and member.licensed and not member.resigned
        for follow in state.follows_of(member.userid)
    }


def read_lines(path: Path) -> list[str]:
    """The output's lines, after checking that none is torn (each ends and parses)."""
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "the output ends inside a line"
    lines = data.decode().splitlines()
    for line in lines:
        json.loads(line)
    return lines


def read_pairs(path: Path) -> list[Pair]:
    """The (external_userid, follow userid) of every line of a customers export."""
    pairs = []
    for line in read_lines(path):
        record = json.loads(line)
        pairs.append(
            (record["external_contact"]["external_userid"], record["follow_info"]["userid"])
        )
    return pairs


def leaks(secret: str, texts: Sequence[str], directory: Path) -> list[str]:
    """Where ``secret`` shows up: in ``texts`` (outputs) or any file under ``directory``."""
    found = [f"text #{i}" for i, text in enumerate(texts) if secret in text]
    for path in directory.rglob("*"):
        if path.is_file() and secret.encode() in path.read_bytes():
            found.append(str(path))
    return found
