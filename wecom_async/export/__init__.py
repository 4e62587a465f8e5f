"""Bulk exports from WeCom: the engine behind the ``wecom-async export`` command.

The command (``wecom_async.export.cli:main``) is the main entry point. The engine is
usable from Python too, with any :class:`~wecom_async.WeComClient`::

    from wecom_async.export import CustomersJob, run_export

    result = await run_export(CustomersJob(), client, Path("customers.jsonl"))
"""

from __future__ import annotations

from .._budget import DEFAULT_HOURLY_RATE_LIMIT, DEFAULT_RATE_LIMIT
from ._checkpoint import Checkpoint, CheckpointError, Failure
from ._corps import CorpEntry, CorpsFileError, ProviderSuite, load_corps
from ._engine import DEFAULT_CONCURRENCY, EngineOptions, ExportResult, run_export
from ._job import Batch, Job, Unit
from ._jobs import JOBS, ContactWaysJob, CustomersJob, GroupChatsJob, TagsJob, make_job
from ._jobs_acquisition import AcquisitionJob
from ._jobs_messages import GroupMessagesJob
from ._jobs_moments import MomentsJob
from ._jobs_stats import BehaviorStatsJob
from ._jobs_transfers import TransfersJob
from ._manifest import Manifest, ManifestError
from ._output import OutputBusyError, OutputError, OutputExistsError, OutputWriteError
from ._range import TimeRange
from ._ratelimit import CountingTransport
from ._writer import TableOptions

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_HOURLY_RATE_LIMIT",
    "DEFAULT_RATE_LIMIT",
    "JOBS",
    "AcquisitionJob",
    "Batch",
    "BehaviorStatsJob",
    "Checkpoint",
    "CheckpointError",
    "ContactWaysJob",
    "CorpEntry",
    "CorpsFileError",
    "CountingTransport",
    "CustomersJob",
    "EngineOptions",
    "ExportResult",
    "Failure",
    "GroupChatsJob",
    "GroupMessagesJob",
    "Job",
    "Manifest",
    "ManifestError",
    "MomentsJob",
    "OutputBusyError",
    "OutputError",
    "OutputExistsError",
    "OutputWriteError",
    "ProviderSuite",
    "TableOptions",
    "TagsJob",
    "TimeRange",
    "TransfersJob",
    "Unit",
    "load_corps",
    "make_job",
    "run_export",
]
