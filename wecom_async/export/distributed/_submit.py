"""Submitting a distributed export, waiting for it, rebuilding a ledger Redis lost.

::

    submit   plan every corp (one client each), write plan.json (refused if the
             folder has one), create the ledger (refused if it has the id), kick one
             shard task per shard; return the export id
    wait     read the ledger every ``poll`` seconds and report progress, until every
             shard is committed or failed for good; then finish it (the workers do
             too, so an export nobody waits for is finished all the same)
    rebuild  (Redis lost the ledger: restarted without persistence) recreate it from
             plan.json and the commit records of the folder, and kick what is left

A rebuilt ledger keeps every shard whose commit record and part are on disk, and runs
the others again under new epochs (its fence starts at Redis' clock, above any epoch
granted before), so the loss costs work, never records: a worker still running a
shard from before the loss is refused at its next heartbeat or its commit.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

import anyio
from redis.exceptions import RedisError
from taskiq import AsyncBroker

from ..._budget import MemoryRateBudget
from ..._exceptions import ValidationError
from ..._logging import redact
from ..._token import MemoryTokenStore, TokenStore
from ..._wire import RateBudget
from ...models._base import JsonObject
from .._job import Job
from .._range import TimeRange
from .._since import JobRequest
from .._store import StorageError
from .._windowed import WindowedJob
from ._finish import finish_export
from ._ledger import ExportStatus, Ledger, LedgerError, ShardPlan, plain_name
from ._lock import LockBusy
from ._parts import ExportFiles, Plan
from ._taskiq import kick_shards
from ._worker import Corp

__all__ = ["new_export_id", "rebuild_export", "submit_export", "wait_export"]

logger: Final = logging.getLogger("wecom_async.export")


def new_export_id(kind: str) -> str:
    """A fresh export id: the kind, the UTC time and 6 random hex digits."""
    return f"{kind}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


async def submit_export(
    ledger: Ledger,
    broker: AsyncBroker,
    kind: str,
    corps: Sequence[Corp],
    directory: Path | str,
    *,
    request: JobRequest | None = None,
    corp_requests: Mapping[str, JobRequest] | None = None,
    chunk_size: int | None = None,
    export_id: str | None = None,
    token_store: TokenStore | None = None,
    rate_budget: RateBudget | None = None,
) -> str:
    """Plan ``kind`` for every corp and hand its shards to the workers.

    Args:
        ledger: the shard ledger.
        broker: the started taskiq broker the workers listen to.
        kind: the export kind (a key of ``wecom_async.export.JOBS``).
        corps: (label, client factory) of every corp; labels are letters, digits, ``.``,
            ``_`` or ``-``, and the workers serving a corp know it by the same label.
        directory: where the export's folder is made (shared with the workers): a path,
            or an fsspec URL without credentials (``s3://bucket/exports``).
        request: the kind's range and pairs.
        corp_requests: a corp's own range (by label), where it differs from ``request``
            (``--since last``: each corp goes on from its own previous run). Recorded in
            the plan as ``request["corp_since"]``; the range each corp's plan covers as
            ``request["corp_range"]`` (``[since, until]``, what its ``--since last``
            manifest gets when the export finishes, an empty plan's included).
        chunk_size: follow-users per shard, for the follow-user chunked kinds.
        export_id: the id (default: :func:`new_export_id`).
        token_store: given to each planning client (default: a per-process one).
        rate_budget: given to each planning client (default: a per-process one).

    Returns:
        The export id.

    Raises:
        ValidationError: a corp label or the export id is not usable, two corps share
            a label, ``corp_requests`` names a corp not submitted, or ``directory`` is a
            URL that cannot be used (nothing was sent).
        LedgerError: an export of this id exists already (its folder has a plan, or the
            ledger has it): nothing was changed.
        WeComError: planning failed (nothing was submitted).
        OSError: the folder cannot be written (nothing was submitted). Once the ledger
            accepted the export it runs: a ``plan.json`` that cannot be confirmed then is
            logged as a warning, never raised.
    """
    labels = [label for label, _ in corps]
    if len(set(labels)) != len(labels) or not all(plain_name(label) for label in labels):
        raise ValidationError("corp labels must be unique, of letters, digits, '.', '_' or '-'")
    export_id = export_id or new_export_id(kind)
    if not plain_name(export_id):
        raise ValidationError("an export id is letters, digits, '.', '_' or '-' (not a path)")
    files = ExportFiles(directory, export_id)
    request = request or JobRequest()
    own = dict(corp_requests or {})
    if not own.keys() <= set(labels):
        unknown = sorted(own.keys() - set(labels))
        raise ValidationError(f"corp_requests names corps not submitted: {unknown}")
    jobs = {
        label: own.get(label, request).build(kind, chunk_size=chunk_size, concurrency=1)
        for label in labels
    }
    store = token_store or MemoryTokenStore()
    budget = rate_budget or MemoryRateBudget()
    shards: list[ShardPlan] = []
    for label, factory in corps:
        async with factory(token_store=store, rate_budget=budget) as client:
            shards += [ShardPlan(label, u.spec, u.size) for u in await jobs[label].plan(client)]
    spans = {label: span for label, job in jobs.items() if (span := _planned(job))}
    plan = Plan(export_id, kind, _request_json(request, own, spans, chunk_size), labels, shards)
    try:
        await anyio.to_thread.run_sync(files.save_plan, plan)
    except FileExistsError:
        raise LedgerError(f"export {export_id} exists already in {directory}") from None
    if not await _create(ledger, files, plan, shards):
        await _refused(ledger, files, plan)
        raise LedgerError(f"export {export_id} exists already in the ledger")
    try:
        await anyio.to_thread.run_sync(files.keep_plan, plan)
    except OSError as error:  # the export is in the ledger: it runs all the same
        logger.warning(
            "export %s is submitted and runs, but its plan.json could not be confirmed "
            "(%s): if Redis loses the ledger, it cannot be rebuilt from %s",
            export_id,
            redact(f"{type(error).__name__}: {error}".splitlines()[0])[:300],
            files.folder,
        )
    await kick_shards(broker, export_id, range(len(shards)))
    return export_id


def _planned(job: Job) -> TimeRange | None:
    """The range ``job``'s plan covers (its windows'; an empty plan: the range it was
    given, covered with nothing in it); None: a kind without a range."""
    if not isinstance(job, WindowedJob):
        return None
    return job.covered or job.planned()


async def _refused(ledger: Ledger, files: ExportFiles, plan: Plan) -> None:
    """The ledger refused ``plan``'s id: remove the plan.json this submitter wrote, or,
    when the ledger's export of that id lives in this very folder (a submitter of the
    same id that raced past the check on a URL and won), put that export's plan back
    (from the ledger, which holds all of it) rather than leave ours or none."""
    status = await ledger.status(plan.export_id)
    if status is None or status.directory != files.directory.shared():
        await anyio.to_thread.run_sync(files.drop_plan, plan)
        return
    shards = [ShardPlan(s.corp, s.spec, s.size) for s in status.shards]
    accepted = Plan(status.export_id, status.kind, status.request, status.corps, shards)
    try:
        await anyio.to_thread.run_sync(files.keep_plan, accepted)
    except OSError as error:
        logger.warning(
            "export %s: its plan.json could not be put back (%s)",
            plan.export_id,
            redact(f"{type(error).__name__}: {error}".splitlines()[0])[:300],
        )


def _request_json(
    request: JobRequest,
    own: Mapping[str, JobRequest],
    spans: Mapping[str, TimeRange],
    chunk_size: int | None,
) -> JsonObject:
    return {
        "corp_since": {label: each.since for label, each in own.items()},
        "corp_range": {label: [span.since, span.until] for label, span in spans.items()},
        "since": request.since,
        "until": request.until,
        "pairs": [list(pair) for pair in request.pairs],
        "chunk_size": chunk_size,
    }


async def _create(ledger: Ledger, files: ExportFiles, plan: Plan, shards: list[ShardPlan]) -> bool:
    return await ledger.create(
        plan.export_id,
        kind=plan.kind,
        directory=files.directory.shared(),
        request=plan.request,
        corps=plan.corps,
        shards=shards,
    )


async def rebuild_export(
    ledger: Ledger, broker: AsyncBroker | None, directory: Path | str, export_id: str
) -> bool:
    """Recreate the ledger of ``export_id`` from its folder if Redis lost it.

    Returns:
        True when it was rebuilt (its unfinished shards kicked again), False when the
        ledger still had it.

    Raises:
        OSError: the folder holds no plan of this export (FileNotFoundError), or it
            cannot be read.
        LedgerError: the plan is damaged.
        ValidationError: ``directory`` is a URL that cannot be used.
    """
    files = ExportFiles(directory, export_id)
    plan = await anyio.to_thread.run_sync(files.load_plan)
    shards = await anyio.to_thread.run_sync(files.committed_on_disk, plan)
    if not await _create(ledger, files, plan, shards):
        return False
    kept = sum(shard.committed is not None for shard in shards)
    logger.warning(
        "the ledger of %s was lost by Redis and rebuilt from %s: %d of %d shards "
        "committed, the others run again",
        export_id,
        files.folder,
        kept,
        len(shards),
    )
    if broker is not None:
        await kick_shards(broker, export_id, [k for k, s in enumerate(shards) if not s.committed])
    return True


async def wait_export(
    ledger: Ledger,
    broker: AsyncBroker | None,
    directory: Path | str,
    export_id: str,
    *,
    poll: float = 1.0,
    progress: Callable[[ExportStatus | None], None] | None = None,
) -> ExportStatus:
    """Wait until every shard is committed or failed; finish the export (its manifests,
    see :mod:`._finish`, if no worker did); return the status.

    Redis unreachable: keeps waiting (``progress`` gets None). Redis back without the
    ledger: rebuilds it from ``directory`` (:func:`rebuild_export`).

    Raises:
        OSError: the export's files cannot be read to rebuild the ledger (no plan:
            FileNotFoundError; the store failed: ``StorageError``), or its manifests
            cannot be written.
    """
    while True:
        try:
            status = await ledger.status(export_id)
            if status is None:
                await rebuild_export(ledger, broker, directory, export_id)
                continue
        except (RedisError, OSError) as error:
            if isinstance(error, (FileNotFoundError, StorageError)):  # the files, not Redis
                raise
            status = None
        if progress is not None:
            progress(status)
        if status is not None and status.complete:
            try:
                await finish_export(ledger, status)
            except LockBusy:  # another finisher is on it: finished (or retried) soon
                await anyio.sleep(poll)
                continue
            return status
        await anyio.sleep(poll)
