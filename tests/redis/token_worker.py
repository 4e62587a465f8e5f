"""One process of a fleet in the multi-process token tests: a WeComClient on a RedisTokenStore.

:func:`run` is the target of a ``multiprocessing`` process (the tests fork them from a
forkserver that imported this module once, so a fleet of eight starts in well under a
second). Over its end of a pipe it sends ``"ready"``, then answers commands:

* ``("call", n)``: n concurrent business calls; answers ``{"ok": ..., "errors": [...]}``.
* ``("quit",)``: closes the client and returns (exit code 0).

Warnings of the ``wecom_async`` logger go to ``log``, one per line, for the test to count.
With ``stall`` its gettoken never returns (it sends ``"fetching"`` when it is sent): the
process holds the lease until it is killed.
"""

from __future__ import annotations

import logging
from multiprocessing.connection import Connection
from pathlib import Path

import anyio
import anyio.to_thread
import httpx

from wecom_async import RetryPolicy, WeComClient, WeComError
from wecom_async.redis import RedisTokenStore

CORP_ID = "wwfake"
SECRET = "fake-secret"
BUSINESS = "externalcontact/get_follow_user_list"


class StallGettoken(httpx.AsyncBaseTransport):
    """Sends every request but gettoken, which hangs (a fetch that never ends)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/gettoken"):
            self._conn.send("fetching")
            await anyio.sleep_forever()
        return await self._inner.handle_async_request(request)


async def calls(client: WeComClient, count: int) -> dict[str, object]:
    """Make ``count`` concurrent business calls; count the successes, keep the errors."""
    ok = 0
    errors: list[str] = []

    async def one() -> None:
        nonlocal ok
        try:
            await client.external_contact.get_follow_user_list()
        except WeComError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        else:
            ok += 1

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    return {"ok": ok, "errors": errors}


async def serve(
    conn: Connection, base_url: str, redis_url: str, lease_ttl: float, stall: bool
) -> None:
    # retry_after=0: every operation tries Redis again (a refused connection fails at
    # once), so the test sees the fleet share again as soon as Redis is back. A long
    # timeout: on a loaded machine a slow answer must not pass for an outage.
    store = RedisTokenStore.from_url(redis_url, lease_ttl=lease_ttl, timeout=10.0, retry_after=0.0)
    client = WeComClient(
        CORP_ID,
        SECRET,
        base_url=base_url,
        token_store=store,
        retry=RetryPolicy.no_delay(),
        http_client=httpx.AsyncClient(transport=StallGettoken(conn)) if stall else None,
    )
    async with client:
        conn.send("ready")
        while (command := await anyio.to_thread.run_sync(conn.recv))[0] == "call":
            conn.send(await calls(client, command[1]))
    await store.aclose()


def run(
    conn: Connection, base_url: str, redis_url: str, lease_ttl: float, stall: bool, log: Path
) -> None:
    """The process target: serve commands until ``("quit",)``."""
    logging.basicConfig(filename=log, level=logging.WARNING, format="%(message)s", force=True)
    anyio.run(serve, conn, base_url, redis_url, lease_ttl, stall)
