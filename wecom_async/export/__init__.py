"""Bulk exports from WeCom: the engine behind the ``wecom-async export`` command.

The command (``wecom_async.export.cli:main``) is the main entry point. The engine is
usable from Python too, with any :class:`~wecom_async.WeComClient`::

    from wecom_async.export import CustomersJob, run_export

    result = await run_export(CustomersJob(), client, Path("customers.jsonl"))
"""

from __future__ import annotations

from .._budget import DEFAULT_HOURLY_RATE_LIMIT, DEFAULT_RATE_LIMIT
from ._checkpoint import Checkpoint, CheckpointError, Failure
from ._engine import DEFAULT_CONCURRENCY, EngineOptions, ExportResult, run_export
from ._job import Batch, Job, Unit
from ._jobs import JOBS, ContactWaysJob, CustomersJob, GroupChatsJob, TagsJob, make_job
from ._output import OutputBusyError, OutputError, OutputExistsError
from ._ratelimit import CountingTransport
from ._writer import TableOptions

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_HOURLY_RATE_LIMIT",
    "DEFAULT_RATE_LIMIT",
    "JOBS",
    "Batch",
    "Checkpoint",
    "CheckpointError",
    "ContactWaysJob",
    "CountingTransport",
    "CustomersJob",
    "EngineOptions",
    "ExportResult",
    "Failure",
    "GroupChatsJob",
    "Job",
    "OutputBusyError",
    "OutputError",
    "OutputExistsError",
    "TableOptions",
    "TagsJob",
    "Unit",
    "make_job",
    "run_export",
]
