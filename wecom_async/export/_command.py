"""Pieces of ``wecom-async export`` shared by one corp's run and a ``--corps`` run: the
settings read from the options, the redacted logging, and the checks made before anything
is fetched."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from ._run import ExportSettings, Redactor
from ._since import JobRequest
from ._writer import Format, TableOptions

__all__ = ["logging_to", "redis_problem", "redis_url", "settings_from", "summary_problem"]


def settings_from(
    args: argparse.Namespace,
    *,
    output: Path,
    format: Format,
    corp_id: str,
    secret: str,
    request: JobRequest,
    redis_url: str | None,
) -> ExportSettings:
    """The run's settings: the given corp, output and range, the rest from the options."""
    return ExportSettings(
        kind=args.kind,
        output=output,
        format=format,
        corp_id=corp_id,
        secret=secret,
        base_url=args.base_url,
        sandbox_customers=args.sandbox_customers if args.sandbox else None,
        concurrency=args.concurrency,
        rate_limit=args.rate_limit,
        hourly_rate_limit=args.hourly_rate_limit,
        rate_limit_delay=args.rate_limit_delay,
        retry_delay=args.retry_delay,
        chunk_size=args.chunk_size,
        resume=args.resume,
        force=args.force,
        table=TableOptions(
            timezone=args.timezone, raw_formulas=args.csv_raw_formulas, bom=not args.no_bom
        ),
        quiet=args.quiet,
        request=request,
        redis_url=redis_url,
    )


def redis_url(args: argparse.Namespace) -> str | None:
    """``--redis-url``, else ``$WECOM_REDIS_URL``, else None."""
    return args.redis_url or os.environ.get("WECOM_REDIS_URL") or None


@contextlib.contextmanager
def logging_to(err: TextIO, *, verbose: bool, redactor: Redactor) -> Iterator[None]:
    """Send the SDK's logs (redacted) to ``err`` while the command runs."""
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("wecom-async: %(levelname)s: %(name)s: %(message)s"))
    handler.addFilter(redactor.log_filter)
    sdk = logging.getLogger("wecom_async")
    noisy = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    levels = [sdk.level, *(logger.level for logger in noisy)]
    sdk.addHandler(handler)
    sdk.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for logger in noisy:  # httpx logs full URLs, secrets included, at INFO
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        sdk.removeHandler(handler)
        for logger, level in zip([sdk, *noisy], levels, strict=True):
            logger.setLevel(level)


def redis_problem(url: str) -> str | None:
    """Why ``--redis-url`` cannot be used (no redis extra, a malformed URL), or None.

    The URL itself is never repeated: it may hold the Redis password.
    """
    try:
        from redis.asyncio.connection import parse_url
    except ImportError:
        return "--redis-url needs the 'redis' extra: pip install 'wecom-async[redis]'"
    try:
        parse_url(url)
    except (ValueError, TypeError):
        return (
            "--redis-url is not a Redis URL (redis://[:password@]host:port/db, rediss://, unix://)"
        )
    return None


def summary_problem(path: Path) -> str | None:
    """Make the summary's folder now, so that a finished export cannot fail on it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return error.strerror or str(error)
    if path.is_dir() or not os.access(path.parent, os.W_OK):
        return "not a writable file path"
    return None
