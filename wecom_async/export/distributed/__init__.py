"""Distributed exports: shards on taskiq workers, exactly once through a ledger in Redis.

Needs the ``taskiq`` extra (``pip install "wecom-async[taskiq]"``). From the command
line::

    wecom-async worker --redis-url redis://host:6379/0           # on every worker machine
    wecom-async export customers --redis-url redis://host:6379/0 -o /shared/exports --workers-wait
    wecom-async export status ID --redis-url ...
    wecom-async export assemble ID -o customers.jsonl --redis-url ...

A shard is one unit of the single-process engine (a corp × a chunk of follow-users, a
corp × a time window...). The pieces:

* :class:`Ledger` (:mod:`._ledger`): per shard a state, a lease with a TTL renewed by
  heartbeats, and an epoch that fences a worker whose lease was taken over; a commit is
  atomic and accepted only for the current epoch.
* :class:`ExportFiles` (:mod:`._parts`): each shard's records in a part file named by
  export, shard and epoch; readers read only the committed part of each shard. The
  output is a shared directory or, with the ``fsspec`` extra, an fsspec URL
  (``-o s3://bucket/exports``; credentials from fsspec's configuration, never in the
  URL), written with object-store semantics: parts uploaded whole, no rename.
* :class:`ShardWorker` (:mod:`._worker`) and :func:`serve_worker`: shard tasks from
  taskiq, and a sweep of the ledger for shards nobody runs (a killed worker's).
* :func:`submit_export`, :func:`wait_export`, :func:`rebuild_export` (:mod:`._submit`).
"""

from __future__ import annotations

from ._ledger import (
    DEFAULT_PREFIX,
    Claim,
    ExportInfo,
    ExportStatus,
    Ledger,
    LedgerError,
    ShardPlan,
    ShardState,
    ShardStatus,
)
from ._parts import ExportFiles, PartFile, Plan
from ._shard import LeaseOptions, ShardLost, StepHook, run_shard
from ._submit import new_export_id, rebuild_export, submit_export, wait_export
from ._taskiq import (
    SHARD_QUEUE,
    SHARD_TASK,
    kick_shards,
    run_worker,
    serve_worker,
    shard_broker,
)
from ._worker import ClientFactory, Corp, ShardWorker, job_of

__all__ = [
    "DEFAULT_PREFIX",
    "SHARD_QUEUE",
    "SHARD_TASK",
    "Claim",
    "ClientFactory",
    "Corp",
    "ExportFiles",
    "ExportInfo",
    "ExportStatus",
    "LeaseOptions",
    "Ledger",
    "LedgerError",
    "PartFile",
    "Plan",
    "ShardLost",
    "ShardPlan",
    "ShardState",
    "ShardStatus",
    "ShardWorker",
    "StepHook",
    "job_of",
    "kick_shards",
    "new_export_id",
    "rebuild_export",
    "run_shard",
    "run_worker",
    "serve_worker",
    "shard_broker",
    "submit_export",
    "wait_export",
]
