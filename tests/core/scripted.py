"""A scripted WeCom for core tests: tokens, per-path answer scripts, exact call counts.

The core's behaviour (single flight, resend once, retry decisions) is pinned here against a
server whose every answer the test chooses; the stateful fake WeCom covers the endpoints.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx

from wecom_async import RetryPolicy, WeComClient

CORP_ID = "wwcoretest"
SECRET = "core-test-secret-Zq81xv"

Answer = dict[str, Any] | Callable[[httpx.Request], Awaitable[httpx.Response]] | Exception


class ScriptedWeCom:
    """Issues tokens ``TOKEN-<n>-...``; answers business paths from per-path scripts."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.serial = 0
        self.valid: set[str] = set()
        self.scripts: dict[str, deque[Answer]] = {}
        self.gettoken_script: deque[Answer] = deque()
        self.gettoken_gate: anyio.Event | None = None
        self.seen_tokens: list[str] = []

    def token(self, n: int) -> str:
        return f"TOKEN-{n}-f3b9c2d1e8a7"

    def expire_all(self) -> None:
        self.valid.clear()

    def script(self, path: str, *answers: Answer) -> None:
        self.scripts.setdefault(path, deque()).extend(answers)

    async def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/cgi-bin/")
        self.calls[path] += 1
        await anyio.lowlevel.checkpoint()
        if path == "gettoken":
            return await self._gettoken(request)
        token = request.url.params.get("access_token", "")
        self.seen_tokens.append(token)
        queue = self.scripts.get(path)
        if queue:
            answer = queue.popleft()
            if isinstance(answer, Exception):
                raise answer
            if callable(answer):
                return await answer(request)
            if answer.get("errcode") in (40014, 42001, 40001):
                return httpx.Response(200, json=answer)
            body = answer
        else:
            body = {"errcode": 0, "errmsg": "ok", "follow_user": ["zhangsan"]}
        if token not in self.valid:
            return httpx.Response(200, json={"errcode": 42001, "errmsg": "access_token expired"})
        return httpx.Response(200, json=body)

    async def _gettoken(self, request: httpx.Request) -> httpx.Response:
        if self.gettoken_gate is not None:
            await self.gettoken_gate.wait()
        if self.gettoken_script:
            answer = self.gettoken_script.popleft()
            if isinstance(answer, Exception):
                raise answer
            if isinstance(answer, dict):
                return httpx.Response(200, json=answer)
            return await answer(request)
        assert request.url.params["corpid"] == CORP_ID
        assert request.url.params["corpsecret"] == SECRET
        self.serial += 1
        token = self.token(self.serial)
        self.valid.add(token)
        return httpx.Response(
            200, json={"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        )

    def client(self, **options: Any) -> WeComClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        options.setdefault("retry", RetryPolicy.no_delay())
        return WeComClient(CORP_ID, SECRET, http_client=http, **options)
