"""One export run of the command: client, pacing, sandbox, signals, engine.

Kept apart from the argument parsing in ``cli.py`` so that the asynchronous part reads
top to bottom: build the transport (the network through a ``ShardedTransport``, or the
sandbox's in-process fake) behind the rate budget, build the client on it with
``max_in_flight`` equal to the concurrency, then run the engine inside a cancel scope that
SIGINT / SIGTERM cancel.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TextIO

import anyio
import httpx

from .._budget import MemoryRateBudget, wecom_limits
from .._client import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, WeComClient
from .._logging import RedactingFilter, redact
from .._proxy import proxy_mounts
from .._retry import RetryPolicy
from .._token import TokenStore
from .._transport import ShardedTransport
from .._wire import RateBudget
from ._checkpoint import Checkpoint, CheckpointError
from ._engine import EngineOptions, ExportResult, run_export
from ._manifest import completed, manifest_path
from ._progress import Progress, make_progress
from ._range import TimeRange, covered
from ._ratelimit import CountingTransport, Refusals
from ._since import JobRequest
from ._windowed import WindowedJob
from ._writer import Format, TableOptions

__all__ = [
    "ExportSettings",
    "Outcome",
    "Redactor",
    "build_budget",
    "build_http_client",
    "build_token_store",
    "build_transport",
    "closing",
    "export_with",
    "finish_outcome",
    "retry_policy",
    "run_command",
    "watch_signals",
]

logger: Final = logging.getLogger("wecom_async.export")

#: Secrets shorter than this are not searched for in output (they would mangle it).
_MIN_SECRET_LENGTH = 4


@dataclass(frozen=True, kw_only=True)
class ExportSettings:
    """Everything one ``wecom-async export`` run needs, resolved from options and env."""

    kind: str
    output: Path
    format: Format
    corp_id: str
    secret: str = field(repr=False)
    base_url: str | None
    #: Customers of the sandbox corp, or None to talk to ``base_url``.
    sandbox_customers: int | None
    concurrency: int
    #: Calls per API per minute and per hour.
    rate_limit: int
    hourly_rate_limit: int
    rate_limit_delay: float
    retry_delay: float
    chunk_size: int | None
    resume: bool
    #: Replace an existing output (once the export is complete).
    force: bool
    #: How CSV is written for people (BOM, formulas, local-time zone).
    table: TableOptions
    quiet: bool
    #: The kind's range (``--since`` / ``--until``) and transfer pairs, read and checked.
    request: JobRequest = field(default_factory=JobRequest)
    #: Redis to share the rate budget (and tokens) with the corp's other processes; its
    #: password must never be shown.
    redis_url: str | None = field(default=None, repr=False)


@dataclass
class Outcome:
    """How a run ended: a result, a fatal error, or an interruption."""

    result: ExportResult | None = None
    error: BaseException | None = None
    interrupted: bool = False
    #: Records saved when the run stopped (from the checkpoint), None without one.
    written: int | None = None
    #: Requests sent, per URL path.
    requests: dict[str, int] = field(default_factory=dict)
    #: WeCom's 45009 refusals and the time they cost.
    refusals: Refusals = field(default_factory=Refusals)


class Redactor:
    """Removes the secrets (and any ``access_token=`` / ``corpsecret=`` value) from text.

    Holds its own secrets rather than relying on :func:`register_secret` alone: the
    process-wide registry keeps only the newest hundred or so, fewer than the secrets of a
    corps file may be.
    """

    def __init__(self, *secrets: str) -> None:
        kept = {secret for secret in secrets if len(secret) >= _MIN_SECRET_LENGTH}
        self._secrets = sorted(kept, key=len, reverse=True)  # a secret holding another first
        self.log_filter = RedactingFilter(self)

    def __call__(self, text: str) -> str:
        """Return ``text`` without secrets."""
        text = redact(text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def writer(self, stream: TextIO) -> Callable[[str], None]:
        """Return a function that writes one redacted line to ``stream``."""

        def say(line: str) -> None:
            stream.write(self(line) + "\n")
            stream.flush()

        return say


def build_transport(
    settings: ExportSettings, inner: httpx.AsyncBaseTransport | None = None
) -> CountingTransport:
    """The command's transport: counts requests, then sends over the network (or ``inner``).

    The network side is a :class:`ShardedTransport` of ``concurrency`` one-connection
    pools, as for a client the SDK owns: its throughput does not fall as requests in
    flight grow, which a single httpx pool's does.
    """
    network = inner if inner is not None else ShardedTransport(settings.concurrency)
    return CountingTransport(network)


def build_budget(settings: ExportSettings) -> RateBudget:
    """The command's pacing: every window of ``--rate-limit`` / ``--hourly-rate-limit``,
    shared through Redis with ``--redis-url`` (a :class:`RedisRateBudget`)."""
    limits = wecom_limits(settings.rate_limit, settings.hourly_rate_limit)
    if settings.redis_url is None:
        return MemoryRateBudget(limits)
    from ..redis import RedisRateBudget

    return RedisRateBudget.from_url(settings.redis_url, limits=limits)


def build_token_store(settings: ExportSettings) -> TokenStore | None:
    """Where the command keeps its token: shared through Redis with ``--redis-url``."""
    if settings.redis_url is None:
        return None
    from ..redis import RedisTokenStore

    return RedisTokenStore.from_url(settings.redis_url)


def build_http_client(
    settings: ExportSettings, transport: CountingTransport, *, network: bool
) -> httpx.AsyncClient:
    """The command's HTTP client around ``transport``.

    On the network it honours ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` /
    ``NO_PROXY`` as :class:`~wecom_async.WeComClient` does: each proxy gets its own sharded
    transport, counted with the others.
    """
    mounts = (
        proxy_mounts(
            None,
            trust_env=True,
            make=lambda url: CountingTransport(
                ShardedTransport(settings.concurrency, proxy=url),
                sent=transport.sent,
                refusals=transport.refusals,
            ),
        )
        if network
        else {}
    )
    return httpx.AsyncClient(transport=transport, mounts=mounts, timeout=DEFAULT_TIMEOUT)


def retry_policy(settings: ExportSettings) -> RetryPolicy:
    """The client's retries: the export's only retry layer (``--retry-delay``,
    ``--rate-limit-delay``; attempts as the SDK's default)."""
    return RetryPolicy(base_delay=settings.retry_delay, rate_limit_delay=settings.rate_limit_delay)


async def run_command(settings: ExportSettings, err: TextIO) -> Outcome:
    """Run one export as the command does; never raises for a failed export."""
    outcome = Outcome()
    corp_id, secret, base_url = settings.corp_id, settings.secret, settings.base_url
    inner: httpx.AsyncBaseTransport | None = None
    if settings.sandbox_customers is not None:
        from ._sandbox import sandbox_fake

        fake = sandbox_fake(settings.sandbox_customers)
        corp_id, secret, base_url = fake.corp_id, fake.secret, fake.base_url
        inner = fake.transport()
    transport = build_transport(settings, inner)
    progress = make_progress(err, quiet=settings.quiet, refusals=transport.refusals)
    budget = build_budget(settings)
    tokens = build_token_store(settings)
    async with (
        closing(budget),
        closing(tokens),
        build_http_client(settings, transport, network=inner is None) as http,
        WeComClient(
            corp_id,
            secret,
            http_client=http,
            base_url=base_url or DEFAULT_BASE_URL,
            token_store=tokens,
            retry=retry_policy(settings),
            max_in_flight=settings.concurrency,
            rate_budget=budget,
            # A page may wait its turn in the rate budget for up to an hour's window, which
            # a deadline would turn into a failure. Each exchange stays bounded on its own
            # (the core's exchange limit), and so does the number of attempts.
            deadline=math.inf,
        ) as client,
        anyio.create_task_group() as watchers,
    ):
        with anyio.CancelScope() as scope:
            watchers.start_soon(watch_signals, scope, outcome)
            await export_with(settings, client, progress, outcome)
        watchers.cancel_scope.cancel()
    finish_outcome(settings, outcome, transport)
    return outcome


async def export_with(
    settings: ExportSettings, client: WeComClient, progress: Progress, outcome: Outcome
) -> None:
    """Run the engine for ``settings`` on ``client`` and record how it ended in
    ``outcome``; after a completed export of a time-ranged kind, save its manifest.

    A failed export is recorded, not raised; cancellation propagates.
    """
    job = settings.request.build(
        settings.kind, chunk_size=settings.chunk_size, concurrency=settings.concurrency
    )
    # A resumed plan's range is in its checkpoint, which is gone once the export completes.
    planned = _planned_range(settings.output) if settings.resume else None
    try:
        outcome.result = await run_export(
            job,
            client,
            settings.output,
            format=settings.format,
            resume=settings.resume,
            progress=progress,
            options=EngineOptions(concurrency=settings.concurrency),
            overwrite=settings.force,
            table=settings.table,
        )
    except Exception as error:  # mapped to an exit status by the caller
        outcome.error = error
    else:
        span = (planned or job.covered) if isinstance(job, WindowedJob) else None
        _save_manifest(settings.output, outcome.result, client.corp_id, span)


def finish_outcome(
    settings: ExportSettings, outcome: Outcome, transport: CountingTransport
) -> None:
    """Add the requests sent and, for a run that did not finish, the records saved."""
    outcome.requests = dict(transport.sent)
    outcome.refusals = transport.refusals
    if outcome.result is None:
        outcome.written = _saved_items(settings.output)


@contextlib.asynccontextmanager
async def closing(resource: object) -> AsyncIterator[None]:
    """Close ``resource`` at the end if it has ``aclose`` (a Redis budget's or token
    store's connection)."""
    try:
        yield
    finally:
        aclose = getattr(resource, "aclose", None)
        if aclose is not None:
            with anyio.CancelScope(shield=True):
                await aclose()


async def watch_signals(scope: anyio.CancelScope, outcome: Outcome) -> None:
    """Cancel the export on SIGINT / SIGTERM; later signals are absorbed until it ends."""
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                outcome.interrupted = True
                scope.cancel()
    except NotImplementedError:  # pragma: no cover - no signal handlers on this platform
        return


def _planned_range(output: Path) -> TimeRange | None:
    """The range of the plan an export to ``output`` would resume (None: none)."""
    try:
        return covered(Checkpoint.load(Checkpoint.path_for(output)).units)
    except CheckpointError:
        return None


def _save_manifest(
    output: Path, result: ExportResult, corp_id: str, span: TimeRange | None
) -> None:
    """Record the completed export of a time-ranged kind beside its output, for
    ``--since last``; after another kind, remove a manifest that no longer describes the
    output (a ``--since last`` would start from it).

    The export itself is complete and in place: a manifest that cannot be written costs
    only the next ``--since last``, so it is a warning, not a failed export.
    """
    try:
        if span is None:
            manifest_path(output).unlink(missing_ok=True)
        else:
            completed(result.kind, corp_id, span, result.items).save(output)
    except OSError as error:
        logger.warning("the manifest of %s was not written (%s)", output, error)


def _saved_items(output: Path) -> int | None:
    """Records a ``--resume`` would keep, or None when there is nothing to resume."""
    try:
        return Checkpoint.load(Checkpoint.path_for(output)).items
    except CheckpointError:
        return None
