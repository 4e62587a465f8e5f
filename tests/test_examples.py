"""The examples in examples/ run as written against the fake WeCom served on loopback.

Each example reads its settings from the environment, as in production; ``WECOM_BASE_URL``
points its client at the fake, which runs behind a real uvicorn server on 127.0.0.1.
An example that does not run is a defect.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import redis
from aiohttp.test_utils import TestServer

from tests.redis_server import RedisServer, _free_port
from wecom_async.callback import AddExternalContact, CallbackCrypto
from wecom_async.testing import FakeWeCom
from wecom_async.testing.push import push_event, push_url_check

from .testing.wire import serve

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
# The official test vector's callback settings (docs/wecom/endpoints.md §5.9).
CALLBACK_TOKEN = "QDG6eK"
CALLBACK_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    """The fake WeCom served on loopback, with the examples' environment pointing at it."""
    fake = FakeWeCom()
    with serve(fake.app) as url, pytest.MonkeyPatch.context() as env:
        env.setenv("WECOM_CORP_ID", fake.corp_id)
        env.setenv("WECOM_SECRET", fake.secret)
        env.setenv("WECOM_CALLBACK_TOKEN", CALLBACK_TOKEN)
        env.setenv("WECOM_CALLBACK_AES_KEY", CALLBACK_AES_KEY)
        env.setenv("WECOM_BASE_URL", url)
        yield fake


def new_customer_event(fake: FakeWeCom) -> AddExternalContact:
    """A member adds a customer: the event WeCom pushes, with a live welcome code."""
    fake.add_staff("zhangsan")
    customer = fake.add_customer(followers=["zhangsan"])
    code = fake.issue_welcome_code("zhangsan", customer)
    return AddExternalContact(
        to_user_name=fake.corp_id,
        create_time=int(time.time()),
        userid="zhangsan",
        external_userid=customer,
        welcome_code=code,
    )


async def deliver(http: httpx.AsyncClient, path: str, event: AddExternalContact) -> None:
    """Do what WeCom does: check the URL once, then push the event (twice: WeCom retries)."""
    crypto = CallbackCrypto(CALLBACK_TOKEN, CALLBACK_AES_KEY, event.to_user_name)
    check = await push_url_check(http, path, crypto, echo="echo-1")
    assert (check.status_code, check.text) == (200, "echo-1")
    for _ in range(2):
        response = await push_event(http, path, crypto, event)
        assert (response.status_code, response.text) == (200, "")


def assert_welcomed_once(fake: FakeWeCom, event: AddExternalContact, welcome: object) -> None:
    assert fake.calls("externalcontact/send_welcome_msg") == 1
    [sent] = fake.welcome_messages()
    assert (sent.userid, sent.external_userid) == ("zhangsan", event.external_userid)
    assert sent.welcome_code == event.welcome_code
    assert sent.content == welcome


async def test_fastapi_service_welcomes_a_new_customer(fake: FakeWeCom) -> None:
    example = load("fastapi_service")
    event = new_customer_event(fake)
    # Served by uvicorn like in production; leaving `serve` shuts the app down, and its
    # lifespan waits for the running handler before the client closes.
    with serve(example.create_app()) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            await deliver(http, example.CALLBACK_PATH, event)
    assert_welcomed_once(fake, event, example.WELCOME)


async def test_aiohttp_service_welcomes_a_new_customer(fake: FakeWeCom) -> None:
    example = load("aiohttp_service")
    event = new_customer_event(fake)
    # Closing the server runs the app's cleanup: handlers finish, then the client closes.
    async with (
        TestServer(example.create_app(), host="127.0.0.1") as server,
        httpx.AsyncClient(base_url=str(server.make_url(""))) as http,
    ):
        await deliver(http, example.CALLBACK_PATH, event)
    assert_welcomed_once(fake, event, example.WELCOME)


def test_nightly_export_writes_every_customer_of_the_corp(fake: FakeWeCom, tmp_path: Path) -> None:
    staff = ["zhangsan", "lisi", "wangwu"]
    for userid in staff:
        fake.add_staff(userid)
    for i in range(11):  # the first customer is followed by two members: two records
        fake.add_customer(followers=staff[:2] if i == 0 else [staff[i % 3]])
    expected = {(customer, userid) for userid in staff for customer in fake.customers_of(userid)}
    # Launched the way cron does; PYTHONPATH makes it import this checkout's package.
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "nightly_export.py"), str(tmp_path / "exports")],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    [output] = (tmp_path / "exports").glob("customers-*.jsonl")
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    exported = [
        (r["external_contact"]["external_userid"], r["follow_info"]["userid"]) for r in records
    ]
    assert len(exported) == len(expected) == 12
    assert set(exported) == expected
    assert f"{len(expected)} records in {output}" in run.stdout


def test_four_uvicorn_workers_share_one_token_through_redis(
    fake: FakeWeCom, redis_server: RedisServer
) -> None:
    fake.add_staff("zhangsan")
    port = _free_port()
    # Started the way the example says, as its own process tree (a supervisor and four
    # workers); PYTHONPATH makes the workers import this checkout's package.
    command = [sys.executable, "-m", "uvicorn", "fastapi_redis_workers:app"]
    command += ["--app-dir", str(EXAMPLES), "--workers", "4", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--log-level", "warning"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_server.url}
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_served(server, f"{base}/openapi.json")
        workers: set[int] = set()
        sent = 0
        # A fresh connection per request, so that the kernel spreads them over the workers.
        for _ in range(20):
            answers = [httpx.get(f"{base}/follow-users", timeout=30) for _ in range(10)]
            assert [a.status_code for a in answers] == [200] * 10
            assert all(a.json()["follow_user"] == ["zhangsan"] for a in answers)
            workers |= {a.json()["worker"] for a in answers}
            sent += len(answers)
            if len(workers) >= 2:
                break
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, stderr = server.communicate(timeout=30)
        finally:
            server.kill()
    assert len(workers) >= 2, "every request reached the same worker"
    assert fake.calls("gettoken") == 1
    assert fake.calls("externalcontact/get_follow_user_list") == sent
    assert server.returncode == 0, stderr
    # The workers paced their calls through the one budget on Redis.
    with redis.Redis.from_url(redis_server.url) as shared:
        assert any(b"get_follow_user_list" in key for key in shared.keys("wecom:rate:*"))


def wait_until_served(server: subprocess.Popen[str], url: str) -> None:
    """Poll ``url`` until it answers 200 (uvicorn has no readiness signal to wait on)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1]
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the example did not start within 60 s")
