"""Wire-level helpers for the fake's tests: plain httpx calls and a loopback uvicorn server."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import uvicorn

from wecom_async.testing import FakeWeCom
from wecom_async.testing._asgi import ASGIApp

CORP_ID = "wwfake"
SECRET = "fake-secret"

#: WeCom's errmsg style for errors.
ERRMSG_STYLE = re.compile(
    r"^(?P<message>.+), hint: \[(?P<ts>\d+)-(?P<hex>[0-9a-f]+)\], from ip: 127\.0\.0\.1, "
    r"more info at https://open\.work\.weixin\.qq\.com/devtool/query\?e=(?P<code>-?\d+)$"
)


class Api:
    """Thin wire-level helper: fetches a token and calls paths under /cgi-bin/."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token: str | None = None

    async def gettoken(self, corpid: str = CORP_ID, corpsecret: str = SECRET) -> dict[str, Any]:
        response = await self.http.get(
            "/cgi-bin/gettoken", params={"corpid": corpid, "corpsecret": corpsecret}
        )
        return dict(response.json())

    async def _token(self) -> str:
        if self.token is None:
            data = await self.gettoken()
            self.token = str(data["access_token"])
        return self.token

    async def get(self, path: str, **params: str) -> dict[str, Any]:
        params = {"access_token": await self._token(), **params}
        response = await self.http.get(f"/cgi-bin/{path}", params=params)
        assert response.status_code == 200
        return dict(response.json())

    async def post(self, path: str, body: object) -> dict[str, Any]:
        params = {"access_token": await self._token()}
        response = await self.http.post(f"/cgi-bin/{path}", params=params, json=body)
        assert response.status_code == 200
        return dict(response.json())


@contextlib.asynccontextmanager
async def connect(fake: FakeWeCom) -> AsyncIterator[Api]:
    """Yield a wire helper talking to ``fake`` in-process."""
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        yield Api(http)


@contextlib.contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (port 0) in a thread; yield its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on", log_level="critical", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-wecom-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:  # poll for startup: uvicorn offers no event to wait on
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.002)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()
