"""A FastAPI service run by several uvicorn workers that share one token and one rate budget.

Every worker is its own process with its own ``WeComClient``; the ``RedisTokenStore``
they share makes the whole service fetch one token, and replace it once (not once per
worker) when WeCom refuses it. A worker keeps a local copy of the token, so a call
makes no Redis round trip while the token is fresh. If Redis goes away, each worker
fetches its own token (one warning each) and shares again when Redis is back.

The ``RedisRateBudget`` paces every worker's calls together, per corp and per API, on
Redis's clock: four workers stay under WeCom's limits as one would, and a 45009 seen by
one worker holds the others back until WeCom's block ends.

Run it (``pip install 'wecom-async[fastapi,redis]' uvicorn``)::

    export WECOM_CORP_ID=ww... WECOM_SECRET=...    # the 客户联系 app's secret
    export REDIS_URL=redis://:password@redis.internal:6379/0
    uvicorn fastapi_redis_workers:app --app-dir examples --workers 4 --port 8000

then ``curl localhost:8000/follow-users``. ``WECOM_BASE_URL`` points the clients at another
WeCom, e.g. the fake (tests/test_examples.py runs four workers against it).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request

from wecom_async import DEFAULT_BASE_URL, WeComClient
from wecom_async.redis import RedisRateBudget, RedisTokenStore


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One client per worker process, for the worker's lifetime, on the shared store."""
    async with AsyncExitStack() as stack:  # closed in reverse order, even if one fails
        tokens = RedisTokenStore.from_url(os.environ["REDIS_URL"])
        stack.push_async_callback(tokens.aclose)
        budget = RedisRateBudget.from_url(os.environ["REDIS_URL"])  # WeCom's limits less a margin
        stack.push_async_callback(budget.aclose)
        client = WeComClient(
            os.environ["WECOM_CORP_ID"],
            os.environ["WECOM_SECRET"],
            base_url=os.environ.get("WECOM_BASE_URL", DEFAULT_BASE_URL),
            token_store=tokens,
            rate_budget=budget,
        )
        app.state.wecom = await stack.enter_async_context(client)
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/follow-users")
async def follow_users(request: Request) -> dict[str, object]:
    """The members who may have customers, and which worker answered."""
    client: WeComClient = request.app.state.wecom
    userids = await client.external_contact.get_follow_user_list()
    return {"follow_user": list(userids), "worker": os.getpid()}
