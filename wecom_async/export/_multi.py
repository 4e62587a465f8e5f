"""``wecom-async export KIND --corps corps.toml``: every corp of the file into its own output.

Each corp is one ordinary export (the engine, its checkpoint, its manifest) to
``DIR/<corp_id>/<kind>.<format>``, so that ``--resume`` and ``--since last`` work per
corp. The corps share what must be shared and nothing else:

* one rate budget for the run (a :class:`~wecom_async.MemoryRateBudget`, or Redis with
  ``--redis-url``), whose keys carry the corp id: each corp is paced by its own windows;
* one token store (memory, or Redis), so that the corps of one provider suite fetch its
  suite token once;
* one progress display with a line per corp, and one SIGINT / SIGTERM that stops them all.

Each corp has its own HTTP connections (``--concurrency`` of them) and request counts; at
most ``--corp-concurrency`` corps run at once. A corp that fails (bad secret, 40001,
WeCom unreachable, a full disk) is reported and the others go on; the command's exit
status is the worst corp's (:func:`~wecom_async.export._status.worst`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

import anyio

from .._client import DEFAULT_BASE_URL
from .._jsontext import json_text
from .._token import MemoryTokenStore, TokenStore
from .._wire import RateBudget
from ._checkpoint import Checkpoint
from ._command import logging_to, redis_problem, redis_url, settings_from, summary_problem
from ._corps import CorpEntry, CorpsFileError, load_corps, ticket_keys
from ._progress import Board, make_board
from ._run import (
    ExportSettings,
    Outcome,
    Redactor,
    build_budget,
    build_http_client,
    build_token_store,
    build_transport,
    closing,
    export_with,
    finish_outcome,
    retry_policy,
    watch_signals,
)
from ._since import is_last, resolve_job
from ._status import ExitStatus, conclude, worst

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_CORP_CONCURRENCY", "CorpRun", "export_corps", "run_corps"]

#: Corps exported at once by default (``--corp-concurrency``): WeCom's limits are per
#: corp, so corps parallelise until this machine's CPU or network is the bound.
DEFAULT_CORP_CONCURRENCY: Final = 4


@dataclass
class CorpRun:
    """One corp of the run: its entry, its export's settings (None when its plan was
    refused before the run, see ``problem``) and how it ended."""

    entry: CorpEntry
    settings: ExportSettings | None
    #: Why the corp's export could not be planned (e.g. ``--since last`` without a
    #: previous export of that corp): a usage error of this corp only.
    problem: str | None = None
    #: On ``--resume``: the corp's export had completed (an output and no checkpoint).
    complete: bool = False
    outcome: Outcome = field(default_factory=Outcome)


@dataclass
class _Shared:
    """What every corp's export of one run shares."""

    budget: RateBudget
    tokens: TokenStore
    redis: Redis | None
    board: Board
    limiter: anyio.CapacityLimiter
    #: Set by SIGINT / SIGTERM: corps not started by then are not started.
    stop: Outcome


async def run_corps(
    runs: list[CorpRun], base: ExportSettings, err: TextIO, *, corp_concurrency: int
) -> None:
    """Export every planned corp of ``runs`` (at most ``corp_concurrency`` at once), each
    outcome recorded in its run; never raises for a failed corp.

    Args:
        runs: the corps, their settings resolved (``base`` with the corp's output and
            range).
        base: the settings every corp shares (pacing, Redis, format, ...).
        err: where progress goes.
        corp_concurrency: corps exported at once (``--corp-concurrency``).
    """
    stop = Outcome()
    board = make_board(err, quiet=base.quiet)
    budget = build_budget(base)
    tokens = build_token_store(base) or MemoryTokenStore()
    try:
        async with (
            closing(budget),
            closing(tokens),
            _ticket_redis(base, runs) as redis,
            anyio.create_task_group() as watchers,
        ):
            shared = _Shared(
                budget, tokens, redis, board, anyio.CapacityLimiter(corp_concurrency), stop
            )
            with anyio.CancelScope() as scope:
                watchers.start_soon(watch_signals, scope, stop)
                async with anyio.create_task_group() as corps:
                    for run in runs:
                        if run.settings is not None:
                            corps.start_soon(_export_corp, run, run.settings, shared)
            watchers.cancel_scope.cancel()
    finally:
        board.close()
    for run in runs:
        run.outcome.interrupted = stop.interrupted


async def _export_corp(run: CorpRun, settings: ExportSettings, shared: _Shared) -> None:
    """One corp's export, as ``run_command`` runs a single corp's."""
    async with shared.limiter:
        if shared.stop.interrupted:
            return
        transport = build_transport(settings)
        outcome = run.outcome
        try:
            settings.output.parent.mkdir(parents=True, exist_ok=True)
            async with (
                build_http_client(settings, transport, network=True) as http,
                run.entry.client(
                    http_client=http,
                    base_url=settings.base_url or DEFAULT_BASE_URL,
                    token_store=shared.tokens,
                    rate_budget=shared.budget,
                    retry=retry_policy(settings),
                    max_in_flight=settings.concurrency,
                    # As for one corp: a page may wait its turn in the budget for an hour.
                    deadline=math.inf,
                    redis=shared.redis,
                ) as client,
            ):
                progress = shared.board.corp(run.entry.corp_id, transport.refusals)
                await export_with(settings, client, progress, outcome)
        except Exception as error:  # a corp that cannot start is that corp's failure
            outcome.error = error
        finish_outcome(settings, outcome, transport)


@contextlib.asynccontextmanager
async def _ticket_redis(base: ExportSettings, runs: list[CorpRun]) -> AsyncIterator[Redis | None]:
    """The Redis client that suite tickets are read from, when a provider section keeps
    its ticket there (the command checked that ``--redis-url`` is given)."""
    if base.redis_url is None or not ticket_keys([run.entry for run in runs]):
        yield None
        return
    from redis.asyncio import Redis

    redis = Redis.from_url(base.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        yield redis
    finally:
        with anyio.CancelScope(shield=True):
            await redis.aclose()


# -- the command --------------------------------------------------------------------------


def export_corps(args: argparse.Namespace, err: TextIO) -> int:
    """``wecom-async export KIND --corps FILE``: check everything, run, report; return the
    exit status (the worst corp's)."""
    say = Redactor().writer(err)
    base = _base(args)
    if isinstance(base, str):
        say(f"wecom-async: error: {base}")
        return ExitStatus.USAGE
    try:
        entries = load_corps(args.corps)
    except CorpsFileError as error:
        say(f"wecom-async: error: {error}")
        return ExitStatus.USAGE
    if ticket_keys(entries) and base.redis_url is None:
        say(
            "wecom-async: error: a provider of the corps file keeps its suite ticket in Redis "
            "(suite_ticket_redis_key): give --redis-url"
        )
        return ExitStatus.USAGE
    redactor = Redactor(*(secret for entry in entries for secret in entry.secrets()))
    say = redactor.writer(err)
    runs = [_plan(args, base, entry) for entry in entries]
    with logging_to(err, verbose=args.verbose, redactor=redactor):
        anyio.run(partial(run_corps, runs, base, err, corp_concurrency=args.corp_concurrency))
    status, document = _report(runs, base, say)
    if args.summary_json:
        try:
            args.summary_json.write_text(
                redactor(json_text(document, indent=2)) + "\n", encoding="utf-8"
            )
        except OSError as error:
            say(f"wecom-async: warning: the summary was not written: {error}")
    return status


def _base(args: argparse.Namespace) -> ExportSettings | str:
    """The settings every corp shares (output: the directory), or the usage error."""
    for option, given in (
        ("--corp-id", args.corp_id),
        ("--secret", args.secret),
        ("--sandbox", args.sandbox),
        ("--transfer-pairs", args.transfer_pairs),
    ):
        if given:
            return f"--corps and {option} exclude each other (the corps file names the corps)"
    directory: Path = args.output or Path()
    if directory.exists() and not directory.is_dir():
        return f"-o {directory} is a file: with --corps, -o names a directory (a folder per corp)"
    if args.resume and args.chunk_size is not None:
        return "--chunk-size cannot change on --resume (drop the option)"
    redis = redis_url(args)
    if redis is not None and (problem := redis_problem(redis)):
        return problem
    if args.summary_json and (problem := summary_problem(args.summary_json)):
        return f"cannot write the summary to {args.summary_json}: {problem}"
    # The range, checked once for every corp (``--since last`` is each corp's own).
    since = None if is_last(args.since) else args.since
    request = resolve_job(
        args.kind,
        since=since,
        until=args.until,
        pairs=None,
        resume=False,
        output=directory / "-",
        corp_id="",
    )
    if isinstance(request, str):
        return request
    return settings_from(
        args,
        output=directory,
        format=args.format or "jsonl",
        corp_id="",
        secret="",
        request=request,
        redis_url=redis,
    )


def _plan(args: argparse.Namespace, base: ExportSettings, entry: CorpEntry) -> CorpRun:
    """The corp's export: its output under the directory and its range (``--since last``
    reads its own manifest).

    ``--resume`` continues the run: a corp with a checkpoint resumes, a corp whose output
    is there without one had completed (it is not run again), a corp with neither had not
    started and starts now.
    """
    output = base.output / entry.corp_id / f"{base.kind}.{base.format}"
    resume = args.resume and Checkpoint.path_for(output).exists()
    if args.resume and not resume and output.exists():
        return CorpRun(entry, None, complete=True)
    request = resolve_job(
        args.kind,
        since=args.since,
        until=args.until,
        pairs=None,
        resume=resume,
        output=output,
        corp_id=entry.corp_id,
    )
    if isinstance(request, str):
        return CorpRun(entry, None, problem=request)
    return CorpRun(
        entry,
        dataclasses.replace(
            base, corp_id=entry.corp_id, output=output, request=request, resume=resume
        ),
    )


def _report(
    runs: list[CorpRun], base: ExportSettings, say: Callable[[str], None]
) -> tuple[int, dict[str, object]]:
    """Each corp's outcome, then the run's; the exit status and the JSON summary."""
    statuses: list[int] = []
    corps: list[dict[str, object]] = []
    for run in runs:
        name = run.entry.corp_id
        if run.complete:
            status = ExitStatus.OK
            say(f"wecom-async: {name}: complete before this run (nothing to resume)")
            document: dict[str, object] = {"exit_status": status, "resumed": False}
        elif run.problem is not None or run.settings is None:
            status = ExitStatus.USAGE
            say(f"wecom-async: {name}: error: {run.problem}")
            document = {"exit_status": status, "error": run.problem}
        else:
            status, document = conclude(run.outcome, run.settings, say, name=name)
        statuses.append(status)
        corps.append({"corp_id": name, **document})
    status = worst(statuses)
    complete = statuses.count(ExitStatus.OK)
    say(
        f"wecom-async: {len(runs)} corps: {complete} complete, {len(runs) - complete} not "
        f"(exit status {status}, the worst of the corps')"
    )
    return status, {
        "kind": base.kind,
        "output": str(base.output),
        "format": base.format,
        "corps": corps,
        "exit_status": status,
    }
