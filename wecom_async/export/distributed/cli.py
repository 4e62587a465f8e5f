"""The command's distributed parts: ``worker``, ``export ... --workers[-wait]``, and
``export status|assemble|resume ID``.

Credentials never go through Redis: the submitter plans with its own, and every worker
holds the credentials of the corps it serves: one corp from ``--corp-id`` /
``WECOM_CORP_ID`` and ``WECOM_SECRET``, or every corp of ``--corps corps.toml`` (self-built
or provider corps, see :mod:`.._corps`). A corp is labelled by its corp id either way,
so a worker claims exactly the shards of the corps whose credentials it holds.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

import anyio
import httpx
from redis.exceptions import RedisError

from ..._budget import wecom_limits
from ..._client import DEFAULT_BASE_URL, DEFAULT_MAX_IN_FLIGHT, WeComClient, http_setup
from ..._exceptions import WeComError
from ..._logging import redact
from ..._token import TokenStore
from ..._wire import RateBudget
from ...redis._connect import client_from_url
from .._corps import CorpEntry, CorpsFileError, load_corps, ticket_keys
from .._dist_args import manage_parser
from .._range import shown
from .._since import JobRequest, is_last, since_last_each
from .._status import ExitStatus
from .._store import location_problem
from ._ledger import ExportStatus, Ledger, plain_name
from ._parts import ExportFiles
from ._shard import LeaseOptions
from ._submit import rebuild_export, submit_export, wait_export
from ._taskiq import run_worker, shard_broker
from ._worker import ClientFactory, Corp

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["manage", "submit", "worker"]

T = TypeVar("T")


def corp_factory(corp_id: str, secret: str, base_url: str | None) -> ClientFactory:
    """The factory of one self-built corp's client (what ``--corps`` entries become)."""

    def build(*, token_store: TokenStore, rate_budget: RateBudget) -> WeComClient:
        return WeComClient(
            corp_id,
            secret,
            base_url=base_url or DEFAULT_BASE_URL,
            token_store=token_store,
            rate_budget=rate_budget,
            deadline=float("inf"),  # a page may wait its turn in the budget
        )

    return build


def _env_corps(corp_id: str | None, base_url: str | None) -> list[Corp] | str:
    corp_id = corp_id or os.environ.get("WECOM_CORP_ID", "")
    secret = os.environ.get("WECOM_SECRET", "")
    if not corp_id or not secret:
        return "missing credentials: pass --corp-id and set WECOM_SECRET (or WECOM_CORP_ID)"
    if not plain_name(corp_id):
        # It names files in the output directory (DIR/<corp_id>.<kind>.manifest.json):
        # checked before any is read, so "../victim" never reaches outside DIR.
        return (
            f"--corp-id {corp_id!r} cannot label a corp of a distributed export: letters, "
            "digits, '.', '_' or '-' only (not a path)"
        )
    return [(corp_id, corp_factory(corp_id, secret, base_url))]


def _redis_url(given: str | None) -> str | None:
    return given or os.environ.get("WECOM_REDIS_URL") or None


def _file_entries(args: argparse.Namespace, url: str | None) -> list[CorpEntry] | str | None:
    """The entries of ``--corps`` (None: not given), or why they cannot be used."""
    if args.corps is None:
        return None
    if args.corp_id:
        return "--corps and --corp-id exclude each other (the corps file names the corps)"
    if getattr(args, "transfer_pairs", None):
        return "--corps and --transfer-pairs exclude each other"
    try:
        entries = load_corps(args.corps)
    except CorpsFileError as error:
        return str(error)
    if ticket_keys(entries) and url is None:
        return "a provider of the corps file keeps its suite ticket in Redis: give --redis-url"
    return entries


@asynccontextmanager
async def _file_corps(
    entries: list[CorpEntry], base_url: str | None, url: str
) -> AsyncIterator[list[Corp]]:
    """The corps of the file as (corp id, factory); what their clients open is closed on exit.

    Each client gets an HTTP client of its own (the pool a :class:`~wecom_async.WeComClient`
    would own), and a provider corp whose suite ticket is kept in Redis reads it there.
    """
    async with AsyncExitStack() as stack:
        redis: Redis | None = None
        if ticket_keys(entries):
            redis = await stack.enter_async_context(
                client_from_url(url, timeout=LeaseOptions.redis_timeout)
            )

        def build(
            entry: CorpEntry, *, token_store: TokenStore, rate_budget: RateBudget
        ) -> WeComClient:
            http = http_setup(
                None,
                timeout=None,
                max_in_flight=DEFAULT_MAX_IN_FLIGHT,
                proxy=None,
                trust_env=True,
                transport="httpx",
            ).client
            stack.push_async_callback(_close, http)
            return entry.build_client(
                http_client=http,
                base_url=base_url or DEFAULT_BASE_URL,
                token_store=token_store,
                rate_budget=rate_budget,
                deadline=float("inf"),  # a page may wait its turn in the budget
                redis=redis,
            )

        yield [(entry.corp_id, partial(build, entry)) for entry in entries]


async def _close(http: httpx.AsyncClient) -> None:
    with anyio.CancelScope(shield=True):
        await http.aclose()


def _run_with_corps(
    args: argparse.Namespace,
    url: str,
    entries: list[CorpEntry] | None,
    run: Callable[[Sequence[Corp]], Awaitable[T]],
) -> T:
    """``run`` the command on the corps of ``--corps`` (``entries``) or of the environment."""

    async def main() -> T:
        if entries is None:
            corps = _env_corps(args.corp_id, args.base_url)
            assert not isinstance(corps, str)  # checked by _resolve
            return await run(corps)
        async with _file_corps(entries, args.base_url, url) as corps:
            return await run(corps)

    return anyio.run(main)


def _resolve(args: argparse.Namespace) -> tuple[str, list[CorpEntry] | None] | str:
    """(the Redis URL, the entries of ``--corps`` or None), or the usage error."""
    url = _redis_url(args.redis_url)
    entries = _file_entries(args, url)
    if isinstance(entries, str):
        return entries
    if url is None:
        return "--redis-url is required"
    if entries is None and isinstance(problem := _env_corps(args.corp_id, args.base_url), str):
        return problem
    return url, entries


def worker(args: argparse.Namespace, err: TextIO) -> int:
    """``wecom-async worker``: serve until interrupted."""
    found = _resolve(args)
    if isinstance(found, str):
        err.write(f"wecom-async: error: {found}\n")
        return ExitStatus.USAGE
    url, entries = found
    options = LeaseOptions(lease=args.lease)
    limits = wecom_limits(args.rate_limit, args.hourly_rate_limit)

    async def serve(corps: Sequence[Corp]) -> None:
        await run_worker(
            url, corps, shards=args.shards, options=options, poll=args.poll, limits=limits
        )

    try:
        _run_with_corps(args, url, entries, serve)
    except KeyboardInterrupt:
        return ExitStatus.OK
    return ExitStatus.OK


async def _submit(
    url: str,
    kind: str,
    corps: Sequence[Corp],
    directory: Path,
    wait: bool,
    requests: tuple[JobRequest, dict[str, JobRequest] | None],
    chunk_size: int | None,
) -> ExportStatus | str:
    async with client_from_url(url, timeout=LeaseOptions.redis_timeout) as redis:
        broker = shard_broker(url)
        await broker.startup()
        try:
            ledger = Ledger(redis)
            export_id = await submit_export(
                ledger,
                broker,
                kind,
                corps,
                directory,
                request=requests[0],
                corp_requests=requests[1],
                chunk_size=chunk_size,
            )
            sys.stderr.write(f"wecom-async: submitted export {export_id}\n")
            if not wait:
                return export_id
            return await wait_export(ledger, broker, directory, export_id, progress=_progress)
        finally:
            await broker.shutdown()


def _progress(status: ExportStatus | None) -> None:
    if status is None:
        sys.stderr.write("wecom-async: Redis unreachable; waiting\n")
        return
    sys.stderr.write(f"\rwecom-async: {_line(status)}")
    if status.complete:
        sys.stderr.write("\n")


def _line(status: ExportStatus) -> str:
    leased = sum(s.state == "leased" for s in status.shards)
    return (
        f"{status.export_id}: {status.committed}/{len(status.shards)} shards committed, "
        f"{leased} running, {status.failed} failed, {status.items:,} records"
    )


def _since_last(
    args: argparse.Namespace,
    request: JobRequest,
    directory: Path | str,
    entries: list[CorpEntry] | None,
) -> dict[str, JobRequest] | str | None:
    """Each corp's request under ``--since last`` (None: not asked), or the usage error."""
    if not is_last(args.since):
        return None
    if entries is None:
        ids = [args.corp_id or os.environ.get("WECOM_CORP_ID", "")]
    else:
        ids = [entry.corp_id for entry in entries]
    return since_last_each(args.kind, request, directory, ids)


def submit(args: argparse.Namespace, request: JobRequest, err: TextIO) -> int:
    """``wecom-async export KIND --workers[-wait]``: submit (and wait); with ``--corps``,
    one export holding the shards of every corp of the file."""
    found = _resolve(args)
    if isinstance(found, str):
        err.write(f"wecom-async: error: {found}\n")
        return ExitStatus.USAGE
    url, entries = found
    directory = args.output or Path("exports")
    try:
        each = _since_last(args, request, directory, entries)
    except (WeComError, OSError) as error:  # the store failed reading a manifest
        return _failed(error, err)
    if isinstance(each, str):
        err.write(f"wecom-async: error: {each}\n")
        return ExitStatus.USAGE

    async def run(corps: Sequence[Corp]) -> ExportStatus | str:
        return await _submit(
            url, args.kind, corps, directory, args.workers_wait, (request, each), args.chunk_size
        )

    try:
        result = _run_with_corps(args, url, entries, run)
    except (WeComError, RedisError, OSError) as error:
        return _failed(error, err)
    if isinstance(result, str):
        print(result)
        return ExitStatus.OK
    print(result.export_id)
    return ExitStatus.PARTIAL if result.failed else ExitStatus.OK


def manage(argv: Sequence[str], err: TextIO) -> int:
    """``wecom-async export status|assemble|resume ID``."""
    args = manage_parser().parse_args(argv)
    url = _redis_url(args.redis_url)
    if url is None:
        err.write("wecom-async: error: --redis-url is required\n")
        return ExitStatus.USAGE
    if args.command == "assemble" and args.output is None:
        err.write("wecom-async: error: assemble needs -o FILE\n")
        return ExitStatus.USAGE
    if args.command == "resume" and args.dir is None:
        err.write("wecom-async: error: resume needs --dir (the export's output directory)\n")
        return ExitStatus.USAGE
    for option, value in (("--dir", args.dir), ("-o", args.output)):
        if problem := location_problem(value):
            err.write(f"wecom-async: error: {option}: {problem}\n")
            return ExitStatus.USAGE
    try:
        return anyio.run(_manage, args, url, err.write)
    except (WeComError, RedisError, OSError) as error:
        return _failed(error, err)


def _failed(error: Exception, err: TextIO) -> int:
    """Say why the ledger or the export's files could not be used (damaged data, Redis
    unreachable, a folder or store that cannot be read or written); no traceback."""
    if isinstance(error, RedisError):
        reason = f"Redis cannot be used ({type(error).__name__}: {redact(str(error))})"
    elif isinstance(error, OSError):
        reason = f"the export's files cannot be used ({type(error).__name__}: {redact(str(error))})"
    else:
        reason = redact(str(error))
    err.write(f"wecom-async: error: {reason}\n")
    return ExitStatus.FAILED


async def _manage(args: argparse.Namespace, url: str, say: Callable[[str], object]) -> int:
    async with client_from_url(url, timeout=LeaseOptions.redis_timeout) as redis:
        ledger = Ledger(redis)
        if args.command == "resume":
            broker = shard_broker(url)
            await broker.startup()
            try:
                await rebuild_export(ledger, broker, args.dir, args.export_id)
                status = await wait_export(
                    ledger, broker, args.dir, args.export_id, progress=_progress
                )
            finally:
                await broker.shutdown()
            return ExitStatus.PARTIAL if status.failed else ExitStatus.OK
        found = await ledger.status(args.export_id)
        if found is None:
            say(
                f"wecom-async: error: Redis has no export {args.export_id} (lost by a restart? "
                "run `export resume ID --dir DIR`)\n"
            )
            return ExitStatus.FAILED
        if args.command == "status":
            print(_line(found))
            if found.waiting and any(shard.state == "pending" for shard in found.shards):
                when = "" if found.waiting_at is None else f" (at {shown(found.waiting_at)})"
                print(f"  shards wait{when}: {found.waiting}")
            for shard in found.shards:
                if shard.state != "committed":
                    errors = f", {shard.errors} errors, last: {shard.error}" if shard.errors else ""
                    print(f"  shard {shard.shard} ({shard.corp}): {shard.state}{errors}")
            return ExitStatus.OK
        if not found.complete:
            say(f"wecom-async: error: {_line(found)}: not complete yet\n")
            return ExitStatus.FAILED
        files = ExportFiles(found.directory, args.export_id)
        lines = await anyio.to_thread.run_sync(files.assemble, found, args.output, args.corp)
        say(f"wecom-async: {lines:,} records written to {args.output}\n")
        return ExitStatus.PARTIAL if found.failed else ExitStatus.OK
