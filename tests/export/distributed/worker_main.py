"""A shard worker process for the distributed export tests.

    python -m tests.export.distributed.worker_main REDIS_URL LEASE POLL LABEL,CORP_ID,BASE_URL...

Every corp uses the suite's secret (from ``WECOM_SECRET``). ``STEP_ACTION`` makes the
process act on itself at a named step of a shard's run: ``kill:renamed:1`` SIGKILLs it
at the first ``renamed`` step, ``stop:page:2`` SIGSTOPs it at the second ``page`` step
(the test resumes it with SIGCONT).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections import Counter
from collections.abc import Sequence

import anyio

from wecom_async import RateBudget, RetryPolicy, TokenStore, WeComClient
from wecom_async.export.distributed import (
    Claim,
    ClientFactory,
    Corp,
    LeaseOptions,
    StepHook,
    run_worker,
)


def factory(corp_id: str, secret: str, base_url: str) -> ClientFactory:
    def build(*, token_store: TokenStore, rate_budget: RateBudget) -> WeComClient:
        return WeComClient(
            corp_id,
            secret,
            base_url=base_url,
            token_store=token_store,
            rate_budget=rate_budget,
            retry=RetryPolicy.no_delay(),
        )

    return build


def step_hook(action: str) -> StepHook | None:
    if not action:
        return None
    what, step, nth = action.split(":")
    seen: Counter[str] = Counter()
    sig = signal.SIGKILL if what == "kill" else signal.SIGSTOP

    def hook(name: str, claim: Claim) -> None:
        seen[name] += 1
        if name == step and seen[name] == int(nth):
            print(f"{what} at {name} of shard {claim.shard} epoch {claim.epoch}", flush=True)
            os.kill(os.getpid(), sig)

    return hook


def main(argv: Sequence[str]) -> None:
    redis_url, lease, poll, *specs = argv
    secret = os.environ["WECOM_SECRET"]
    corps: list[Corp] = []
    for spec in specs:
        label, corp_id, base_url = spec.split(",")
        corps.append((label, factory(corp_id, secret, base_url)))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    options = LeaseOptions(lease=float(lease), retry_pause=0.2, redis_timeout=2.0)
    step = step_hook(os.environ.get("STEP_ACTION", ""))
    anyio.run(lambda: run_worker(redis_url, corps, options=options, poll=float(poll), step=step))


if __name__ == "__main__":
    main(sys.argv[1:])
