"""One process of a fleet sharing a RedisRateBudget: calls the fake WeCom, prints a tally.

Run as ``python -m tests.redis.budget_worker SETTINGS_JSON``. ``skew`` shifts this
process's ``time.time`` and ``time.monotonic`` by that many seconds before anything else
runs: the shared budget must not care.
"""

from __future__ import annotations

import json
import sys
import time


def _skew(seconds: float) -> None:
    wall, mono = time.time, time.monotonic
    time.time = lambda: wall() + seconds
    time.monotonic = lambda: mono() + seconds


def main() -> None:
    settings = json.loads(sys.argv[1])
    _skew(settings["skew"])

    import anyio

    from wecom_async import RetryPolicy, WeComClient, WeComError
    from wecom_async.redis import RedisRateBudget

    async def run() -> dict[str, object]:
        budget = RedisRateBudget.from_url(
            settings["redis_url"],
            limits=[tuple(limit) for limit in settings["limits"]],
            # Generous: on a loaded CI machine a slow first script call must not be taken
            # for an outage (the fallback would then pace this process alone).
            timeout=15.0,
        )
        retry = RetryPolicy(
            max_attempts=settings["attempts"],
            base_delay=0,
            max_delay=0,
            rate_limit_delay=settings["rate_limit_delay"],
        )
        tally: dict[str, int] = {}
        async with WeComClient(
            settings["corp_id"],
            settings["secret"],
            base_url=settings["base_url"],
            rate_budget=budget,
            retry=retry,
            deadline=60,
        ) as client:

            async def call() -> None:
                try:
                    await client.external_contact.get_follow_user_list()
                    outcome = "ok"
                except WeComError as error:
                    outcome = str(getattr(error, "errcode", type(error).__name__))
                tally[outcome] = tally.get(outcome, 0) + 1

            async with anyio.create_task_group() as group:
                for _ in range(settings["calls"]):
                    group.start_soon(call)
        await budget.aclose()
        return tally

    print(json.dumps(anyio.run(run)), flush=True)


if __name__ == "__main__":
    main()
