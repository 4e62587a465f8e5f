"""Suite-wide guard: no access token or secret in anything the SDK prints, logs or raises.

Every test runs under a :class:`LeakGuard` that keeps

* every ``wecom_async`` log record (message, arguments, the formatted exception and the
  whole chain of the exception it carries),
* every SDK error built during the test (raised, caught by ``pytest.raises``, swallowed
  by a retry loop or never raised), with its ``__cause__`` / ``__context__`` chain and the
  attributes of each link (an httpx error keeps its request, URL and token included),
* the output of every ``repr()`` / ``str()`` of an object of a ``wecom_async`` class
  (client, core, token manager, stores, paginators, models, errors, the fake WeCom).

After the test all of it is searched for the suite's secrets and the shapes of the tokens
its servers issue; any hit fails the test. ``test_leak_guard.py`` proves the guard trips.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import pkgutil
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings

import wecom_async
from tests.bytecode_cache import cache_bytecode_outside
from tests.redis_server import redis_server  # noqa: F401  (a fixture for every suite)
from wecom_async._exceptions import WeComError
from wecom_async.testing._tokens import TokenRegistry


def pytest_configure(config: pytest.Config) -> None:
    """Before the test modules are imported (and rewritten): see ``bytecode_cache.py``."""
    cache_bytecode_outside(config.rootpath)


# Property tests check outcomes, not speed: a per-example deadline only makes them flaky on
# a busy machine (CI shares two cores).
settings.register_profile("wecom-async", deadline=None)
settings.load_profile("wecom-async")

# Secrets used by the suite's servers, clients and callback receivers.
SECRETS = (
    "core-test-secret-Zq81xv",
    "fake-secret",
    "Exp0rt-Secret-q7Lw2zR",
    "surface-secret",
    "second-app-secret",
    "T0kenForTests",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "Suite-Secret-Vq83zK",
    "Provider-Secret-Lm51xR",
)
# The fake's suite tickets, auth codes and permanent codes (testing/routes/_provider_state.py).
FAKE_PROVIDER_CREDENTIAL = re.compile(r"fake-(?:ticket|authcode|pc)-[0-9a-f]{24}")
# ScriptedWeCom's tokens have a shape of their own.
SCRIPTED_TOKEN = re.compile(r"TOKEN-\d+-f3b9c2d1e8a7")
# The fake WeCom's tokens are 128 url-safe base64 characters; the guard records each one it
# issues in this process, so a long run of letters in a test's data is not taken for one.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]{128,}")
ISSUED: set[str] = set()


def leaked(text: str, extra_secrets: tuple[str, ...] = ()) -> list[str]:
    """Return the secrets and tokens found in ``text``."""
    found = [s for s in (*SECRETS, *extra_secrets) if s and s in text]
    found += SCRIPTED_TOKEN.findall(text)
    found += FAKE_PROVIDER_CREDENTIAL.findall(text)
    for run in _TOKEN_RUN.findall(text):
        found += [run] if run in ISSUED else [token for token in ISSUED if token in run]
    return found


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception it keeps: cause, context (hidden or not), group members."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += [e for e in (current.__cause__, current.__context__) if e is not None]
        members = getattr(current, "exceptions", ())  # an exception group's members
        stack += [e for e in members if isinstance(e, BaseException)]


def _attributes(error: BaseException) -> str:
    return repr(vars(error))


def exposed(error: BaseException) -> str:
    """Everything ``error`` shows or keeps: str, repr and attributes of every link of its chain.

    ``__suppress_context__`` is ignored on purpose: ``raise ... from None`` hides the context
    from tracebacks, but error trackers and ``__context__`` readers still reach it.
    """
    parts: list[str] = []
    for link in _chain(error):
        for render in (str, repr, _attributes):
            try:
                parts.append(render(link))
            except Exception as exc:  # a half-built error; the failure text is searched too
                parts.append(f"<{type(exc).__name__}: {exc}>")
    return "\n".join(parts)


class _Keep(logging.Handler):
    """Keeps the full text of every record: message, exception and its chain."""

    def __init__(self, guard: LeakGuard) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._guard = guard

    def emit(self, record: logging.LogRecord) -> None:
        if _active is not self._guard:  # a nested guard is watching (test_leak_guard.py)
            return
        text = record.getMessage() + (record.exc_text or "")
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
            if record.exc_info[1] is not None:
                text += exposed(record.exc_info[1])
        self.lines.append(text)


class LeakGuard:
    """What SDK objects logged, built and printed while :meth:`watching`; see :meth:`findings`."""

    def __init__(self) -> None:
        self.log = _Keep(self)
        self.errors: list[WeComError] = []
        self.printed: list[str] = []

    @contextlib.contextmanager
    def watching(self) -> Iterator[LeakGuard]:
        """Record the SDK's log records (at DEBUG), errors and reprs/strs inside the block."""
        global _active
        logger = logging.getLogger("wecom_async")
        previous_level, previous_guard = logger.level, _active
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self.log)
        _active = self
        try:
            yield self
        finally:
            _active = previous_guard
            logger.removeHandler(self.log)
            logger.setLevel(previous_level)

    def findings(self) -> list[str]:
        """Describe every place a secret or token shape appears; empty when nothing leaked."""
        sources = [
            *(("log line", line) for line in self.log.lines),
            *(("error", exposed(error)) for error in self.errors),
            *(("repr/str", text) for text in self.printed),
        ]
        return [
            f"{what}: ...{_around(text, hits[0])!r}..."
            for what, text in sources
            if (hits := leaked(text))
        ]


def _around(text: str, hit: str, width: int = 100) -> str:
    at = text.find(hit)
    return text[max(at - width, 0) : at + len(hit) + width]


_active: LeakGuard | None = None


def _recording(render: Callable[[Any], str]) -> Callable[[Any], str]:
    @functools.wraps(render)
    def recorded(self: Any) -> str:
        text = render(self)
        if _active is not None:
            _active.printed.append(text)
        return text

    recorded.__wrapped_for_leaks__ = render  # type: ignore[attr-defined]
    return recorded


def _recording_init(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def recorded(self: WeComError, *args: Any, **kwargs: Any) -> None:
        if _active is not None:
            _active.errors.append(self)
        init(self, *args, **kwargs)

    recorded.__wrapped_for_leaks__ = init  # type: ignore[attr-defined]
    return recorded


def _recording_issue(new: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(new)
    def recorded(self: TokenRegistry, *args: Any) -> Any:
        token = new(self, *args)
        ISSUED.add(token.value)
        return token

    return recorded


def _sdk_classes() -> Iterator[type]:
    for info in pkgutil.walk_packages(wecom_async.__path__, "wecom_async."):
        if info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional adapter whose framework is not installed
            continue
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                yield value


@pytest.fixture(scope="session", autouse=True)
def _spy_on_sdk_output() -> Iterator[None]:
    """Wrap SDK reprs and strs, ``WeComError.__init__`` and the fake's token issuance, once."""
    patched: list[tuple[type, str, object]] = []
    for cls in set(_sdk_classes()):
        for name in ("__repr__", "__str__"):
            original = cls.__dict__.get(name)
            if callable(original) and not hasattr(original, "__wrapped_for_leaks__"):
                setattr(cls, name, _recording(original))
                patched.append((cls, name, original))
    patched.append((WeComError, "__init__", WeComError.__init__))
    WeComError.__init__ = _recording_init(WeComError.__init__)  # type: ignore[method-assign]
    patched.append((TokenRegistry, "_new", TokenRegistry._new))
    TokenRegistry._new = _recording_issue(TokenRegistry._new)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for cls, name, original in reversed(patched):
            setattr(cls, name, original)


@pytest.fixture(autouse=True)
def leak_guard() -> Iterator[LeakGuard]:
    """Fail the test if anything the SDK logged, raised or printed holds a secret or token."""
    guard = LeakGuard()
    with guard.watching():
        yield guard
    findings = guard.findings()
    assert not findings, "secret or token leaked:\n" + "\n".join(findings)


@pytest.fixture
def log_records(leak_guard: LeakGuard) -> _Keep:
    """The formatted ``wecom_async`` log records of this test."""
    return leak_guard.log
