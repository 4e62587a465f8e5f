"""The suite-wide leak guard (tests/conftest.py) trips on each kind of leak it claims to catch."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LeakGuard, leaked
from wecom_async import TransportError
from wecom_async.pagination import AsyncPaginator, Page
from wecom_async.testing import FakeWeCom

# The shape of ScriptedWeCom's tokens; never registered with the SDK, so only the guard
# stands between it and the output.
TOKEN = "TOKEN-97-f3b9c2d1e8a7"
URL = f"https://qyapi.weixin.qq.com/cgi-bin/externalcontact/get?access_token={TOKEN}"
ROOT = Path(__file__).resolve().parent.parent


async def _no_page(token: object) -> Page[str]:
    raise AssertionError("never fetched")


def _error_hiding(token: str) -> TransportError:
    """What the core did before the fix: ``raise ... from None`` inside the handler."""
    try:
        try:
            raise httpx.ConnectError(
                "refused", request=httpx.Request("GET", URL.replace(TOKEN, token))
            )
        except httpx.ConnectError:
            raise TransportError("ConnectError: refused") from None
    except TransportError as error:
        return error


def test_the_guard_finds_a_token_in_an_error_context() -> None:
    guard = LeakGuard()
    with guard.watching():
        error = _error_hiding(TOKEN)
    assert error.__suppress_context__  # hidden from tracebacks, still reachable
    [finding] = guard.findings()
    assert finding.startswith("error: ")
    assert TOKEN in finding


def test_the_guard_finds_a_token_in_a_log_message_and_in_a_logged_chain() -> None:
    guard = LeakGuard()
    with guard.watching():
        # A child logger: the ``wecom_async`` logger's own filter would mask both.
        logging.getLogger("wecom_async.anywhere").debug("sending to %s", URL)
        logging.getLogger("wecom_async.anywhere").warning("failed", exc_info=_error_hiding(TOKEN))
    findings = guard.findings()
    assert [f.split(":")[0] for f in findings] == ["log line", "log line", "error"]


def test_the_sdk_logger_drops_an_exception_that_keeps_a_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard = LeakGuard()
    with guard.watching():
        logging.getLogger("wecom_async").warning("failed", exc_info=_error_hiding(TOKEN))
    # Only the error object itself (built in the block) holds it; the record does not.
    assert [f.split(":")[0] for f in guard.findings()] == ["error"]
    [record] = [r for r in caplog.records if r.name == "wecom_async"]
    assert record.exc_info is None
    assert "TransportError: ConnectError: refused" in (record.exc_text or "")


def test_the_guard_finds_a_token_in_the_repr_of_an_sdk_object() -> None:
    guard = LeakGuard()
    with guard.watching():
        repr(AsyncPaginator(_no_page, start=TOKEN))
    [finding] = guard.findings()
    assert finding.startswith("repr/str: ")


def test_the_guard_passes_the_same_actions_without_a_secret() -> None:
    guard = LeakGuard()
    with guard.watching():
        _error_hiding("not-a-token")
        logging.getLogger("wecom_async").warning("failed", exc_info=_error_hiding("x"))
        repr(AsyncPaginator(_no_page, start="cursor-1"))
    assert guard.findings() == []
    # Everything was seen: the errors, the record and the repr.
    assert len(guard.errors) == 2
    assert len(guard.log.lines) == 1
    assert "AsyncPaginator(start='cursor-1')" in guard.printed


def test_the_guard_knows_the_fake_s_tokens_not_every_long_run_of_letters() -> None:
    fake = FakeWeCom()
    token, _ = fake.tokens.issue(fake.corp_id, "fake-secret", fake.clock.now())
    assert len(token) == 128
    assert leaked(f"GET /cgi-bin/x?access_token={token}&a=1") == [token]
    assert leaked(f"{token}tail") == [token]
    # Oversized data a test sends on purpose is not a token.
    assert leaked("a" * 300 + " " + "B" * 128) == []


def test_a_test_that_leaks_fails_at_teardown(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(
        "from wecom_async.pagination import AsyncPaginator\n"
        "def test_leaks():\n"
        f"    repr(AsyncPaginator(None, start={TOKEN!r}))\n"
        "def test_clean():\n"
        "    repr(AsyncPaginator(None, start='cursor-1'))\n"
    )
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider"]
    command += ["-q", "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ERROR at teardown of test_leaks" in done.stdout
    assert "secret or token leaked" in done.stdout
    assert "2 passed, 1 error" in done.stdout
