"""The ``wecom-async`` command: bulk exports (resumable, rate-aware) and the fake WeCom server.

    wecom-async export customers --sandbox                   # no account needed
    WECOM_CORP_ID=ww... WECOM_SECRET=... wecom-async export customers -o customers.jsonl
    wecom-async export customers -o customers.jsonl --resume # after a crash or Ctrl-C
    wecom-async fake-server --port 8000 --customers 100000

The secret comes from ``--secret`` or ``WECOM_SECRET``; it is never printed, logged or
written to the checkpoint. Exit statuses are listed in :data:`EXIT_HELP`.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio

from .. import __version__
from .._budget import (
    DEFAULT_HOURLY_RATE_LIMIT,
    DEFAULT_RATE_LIMIT,
    WECOM_HOURLY_RATE_LIMIT,
    WECOM_RATE_LIMIT,
)
from .._jsontext import json_text
from .._retry import LONGEST_DELAY
from ._argtypes import calls, in_flight, positive
from ._command import (
    logging_to,
    redis_problem,
    redis_url,
    settings_from,
    summary_problem,
)
from ._dist_args import MANAGE_COMMANDS, add_worker_parser
from ._engine import DEFAULT_CONCURRENCY
from ._jobs import JOBS, make_job
from ._multi import DEFAULT_CORP_CONCURRENCY, export_corps
from ._run import ExportSettings, Redactor, run_command
from ._sandbox import DEFAULT_SANDBOX_CUSTOMERS, SANDBOX_CORP_ID, SANDBOX_SEED
from ._since import is_last, resolve_job, unranged
from ._status import (
    EXIT_HELP,
    ExitStatus,
    conclude,
)
from ._store import location_arg, location_problem
from ._writer import EXTENSIONS, FORMATS, Format

__all__ = ["EXIT_HELP", "ExitStatus", "main"]


COLUMNS_HELP: Final = (
    "csv columns (lists and objects as JSON; each Unix time is followed by <name>_local,\n"
    "the same moment in ISO 8601 with its offset, in --timezone):\n"
) + "".join(
    textwrap.fill(
        f"{name}: {', '.join(make_job(name).table().columns)}",
        width=88,
        initial_indent="  ",
        subsequent_indent="    ",
        break_on_hyphens=False,
    )
    + "\n"
    for name in JOBS
)

EXPORT_DESCRIPTION: Final = f"""\
Export every record of one kind to a file, streaming pages as they arrive.

  customers     every (customer, follow-user) pair: get_follow_user_list, then
                batch/get_by_user over chunks of up to 100 follow-users
  group-chats   every customer group of the follow-users, members included
                (groupchat/list by owner, then groupchat/get with member names)
  tags          every corp tag group, then every strategy tag group, with tags
  contact-ways  every contact way (list_contact_way in 90-day windows since
                2021-07-10, then get_contact_way)
  group-messages  every mass message of the range, to customers and to groups, with
                its member tasks and send results (get_groupmsg_list_v2 in 30-day
                windows, get_groupmsg_task, get_groupmsg_send_result)
  moments       every moment of the range, with its members' target customers, send
                results, comments and likes (get_moment_list in 30-day windows)
  behavior-stats  per member and day: get_user_behavior_data; per owner and day:
                groupchat/statistic; per owner chunk and day: statistic_group_by_day
                (30-day windows; default: the last 180 days up to yesterday)
  transfers     customers of resigned members awaiting a new member
                (get_unassigned_list), and the on-job and resigned transfer results
                of each pair in --transfer-pairs (WeCom lists no transfers by itself)
  acquisition   every acquisition link with its settings and every customer it
                brought (list_link, get, customer)

--since / --until (group-messages, moments, behavior-stats) take a date, YYYY-MM-DD,
a whole day of Beijing time (UTC+8) included whole (--until 2024-03-31 ends at
23:59:59 of that day), or an ISO 8601 datetime with its offset
(2024-03-01T08:30:00+08:00, or Z for UTC); a datetime without an offset is refused.
Defaults: --until now (behavior-stats: the end of yesterday), --since 90 days before
it (behavior-stats: 180 days before today, all WeCom keeps). A completed export of
these kinds writes <output>.manifest.json with the range it covered; --since last
starts one second after the range of the previous completed export to the same
output (same kind and corp), for nightly runs: add --force to replace that output.

JSON Lines output holds one wire-format object per line (wecom_async.to_dict: WeCom's
field names, fields unknown to this release included). Records go to <output>.part
first, which is renamed onto the output only once the export is complete: an existing
output (replaced only with --force) stays whole until then. A checkpoint beside it
(<output>.checkpoint) makes the export resumable with --resume after a crash, a full
disk or Ctrl-C, with no record missing or repeated; both are gone when the export
completes. A lock (<output>.lock) refuses a second export to the same output while
one runs. Records of different units interleave: the output is a set, not a sorted
list.

--format xlsx (the 'xlsx' extra, openpyxl) and --format parquet (the 'parquet' extra,
pyarrow) write the csv columns below with typed cells (numbers, booleans, empty for
absent, lists and objects as JSON text). Records go to the .part as JSON Lines and the
file is written from it when the export completes, so --resume works the same.

Many corps: --corps corps.toml exports each corp of the file to its own output,
DIR/<corp_id>/KIND.FORMAT (-o DIR), with its own checkpoint and manifest (--resume and
--since last work per corp), its own pacing under --rate-limit, and one progress line
per corp; --corp-concurrency corps run at once. A corp is a self-built app (corp_id,
secret_env or secret_file) or a provider corp (corp_id, provider = NAME, a permanent
code from permanent_code_env / permanent_code_file, and a [provider.NAME] section);
secrets are never written in the file. A corp that fails does not stop the others.
See docs/guides/export.md ("Many corps").

{COLUMNS_HELP}
{EXIT_HELP}"""


def _seconds(text: str) -> float:
    value = float(text)
    # float() takes "inf" and "nan": a pause that never ends, or that compares false with
    # everything, is a typo here, not a setting.
    if not math.isfinite(value) or not 0 <= value <= LONGEST_DELAY:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds from 0 to {LONGEST_DELAY:g}, got {text!r}"
        )
    return value


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r} (try Asia/Shanghai)"
        ) from None
    return text


def _chunk(text: str) -> int:
    value = positive(text)
    if value > 100:
        raise argparse.ArgumentTypeError("batch/get_by_user takes at most 100 userids")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``wecom-async``."""
    parser = argparse.ArgumentParser(
        prog="wecom-async",
        description="Bulk exports from WeCom 客户联系, and a fake WeCom server for trying it.",
        epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wecom-async {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    export = commands.add_parser(
        "export",
        help="export customers, group chats, tags, contact ways, mass messages, moments, "
        "statistics, transfers or acquisition links",
        description=EXPORT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("kind", choices=list(JOBS), help="what to export")
    export.add_argument(
        "-o",
        "--output",
        type=location_arg,
        help="output file (default: KIND.FORMAT); with --workers a directory or fsspec URL",
    )
    export.add_argument(
        "--format",
        choices=FORMATS,
        help="jsonl (default), csv, xlsx (the 'xlsx' extra) or parquet (the 'parquet' extra); "
        "inferred from the output's extension (.jsonl, .csv, .xlsx, .parquet, any case), "
        "which an explicit --format must match",
    )
    creds = export.add_argument_group("credentials")
    creds.add_argument("--corp-id", help="the corp id (default: $WECOM_CORP_ID)")
    creds.add_argument(
        "--secret", help="the app secret (default: $WECOM_SECRET, preferred: not in `ps`)"
    )
    creds.add_argument(
        "--corps",
        type=Path,
        metavar="FILE",
        help="export every corp of this TOML file, each to DIR/<corp_id>/KIND.FORMAT under "
        "-o DIR (default: here); see 'Many corps' below",
    )
    creds.add_argument(
        "--base-url", help="the WeCom host, or a proxy / fake (default: qyapi.weixin.qq.com)"
    )
    sandbox = export.add_argument_group("sandbox")
    sandbox.add_argument(
        "--sandbox", action="store_true", help="export from a built-in fake corp (no account)"
    )
    sandbox.add_argument(
        "--sandbox-customers",
        type=positive,
        default=DEFAULT_SANDBOX_CUSTOMERS,
        metavar="N",
        help=f"customers of the sandbox corp (default {DEFAULT_SANDBOX_CUSTOMERS:,})",
    )
    pacing = export.add_argument_group("pacing and retries")
    pacing.add_argument(
        "--concurrency",
        type=in_flight,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests in flight, 1 to 1,000 (default {DEFAULT_CONCURRENCY})",
    )
    pacing.add_argument(
        "--corp-concurrency",
        type=positive,
        default=DEFAULT_CORP_CONCURRENCY,
        metavar="N",
        help=f"with --corps: corps exported at once (default {DEFAULT_CORP_CONCURRENCY}), "
        "each with --concurrency requests in flight",
    )
    pacing.add_argument(
        "--rate-limit",
        type=calls,
        default=DEFAULT_RATE_LIMIT,
        metavar="N",
        help=f"calls per minute per API (default {DEFAULT_RATE_LIMIT:,}; WeCom allows "
        f"{WECOM_RATE_LIMIT:,} per corp: lower it when other jobs share the corp)",
    )
    pacing.add_argument(
        "--hourly-rate-limit",
        type=calls,
        default=DEFAULT_HOURLY_RATE_LIMIT,
        metavar="N",
        help=f"calls per hour per API (default {DEFAULT_HOURLY_RATE_LIMIT:,}; WeCom allows "
        f"{WECOM_HOURLY_RATE_LIMIT:,} per corp and blocks the API for an hour past it)",
    )
    pacing.add_argument(
        "--redis-url",
        metavar="URL",
        help="share the rate budget with the corp's other processes through Redis "
        "(redis://[:password@]host:port/db; default $WECOM_REDIS_URL, which keeps the "
        "password out of the process list; needs the 'redis' extra)",
    )
    pacing.add_argument(
        "--rate-limit-delay",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="the client's pause after 45009, WeCom's blocking window (default 60)",
    )
    pacing.add_argument(
        "--retry-delay",
        type=_seconds,
        default=0.5,
        metavar="S",
        help="the client's first backoff after a transient failure, doubling (default 0.5)",
    )
    pacing.add_argument(
        "--chunk-size",
        type=_chunk,
        metavar="N",
        help="follow-users per batch (1-100; default: 100, fewer for small corps so that "
        "every worker has work)",
    )
    table = export.add_argument_group("csv for people")
    table.add_argument(
        "--timezone",
        type=_zone,
        metavar="ZONE",
        help="IANA time zone of the *_local columns (default: this machine's)",
    )
    table.add_argument(
        "--csv-raw-formulas",
        action="store_true",
        help="write cells starting with = + - @ tab or CR as they are (default: after a ', "
        "so that a spreadsheet shows them as text instead of running them)",
    )
    table.add_argument(
        "--no-bom",
        action="store_true",
        help="no UTF-8 byte order mark at the start of a CSV file (Excel needs it)",
    )
    ranges = export.add_argument_group("time range and pairs (see above)")
    ranges.add_argument(
        "--since",
        metavar="WHEN",
        help="first day (YYYY-MM-DD, Beijing time) or aware datetime; 'last': where the "
        "previous export to this output ended",
    )
    ranges.add_argument(
        "--until", metavar="WHEN", help="last day (included whole) or aware datetime"
    )
    ranges.add_argument(
        "--transfer-pairs",
        type=Path,
        metavar="FILE",
        help="transfers: a file of handover_userid,takeover_userid lines whose results to read",
    )
    workers = export.add_argument_group(
        "workers (the 'taskiq' extra; `wecom-async worker`, `export status|assemble|resume ID`)"
    )
    workers.add_argument(
        "--workers",
        action="store_true",
        help="submit the export as shards to `wecom-async worker` processes (through "
        "--redis-url) and print its id; -o is then the output directory, or an fsspec "
        "URL (the fsspec extra); with --corps, one export holds every corp's shards "
        "(`export assemble ID --corp CORP_ID`)",
    )
    workers.add_argument(
        "--workers-wait", action="store_true", help="as --workers, then show progress until done"
    )
    run = export.add_argument_group("run")
    run.add_argument("--resume", action="store_true", help="continue an interrupted export")
    run.add_argument(
        "--force",
        action="store_true",
        help="replace the output if it exists (once the new export is complete)",
    )
    run.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress, no summary (warnings, errors still)",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="debug logs on stderr")
    run.add_argument(
        "--summary-json", type=Path, metavar="PATH", help="also write the summary as JSON"
    )
    add_worker_parser(commands)
    fake = commands.add_parser(
        "fake-server",
        help="serve a seeded fake WeCom over HTTP (needs the 'server' extra)",
        description="Serve the sandbox corp over HTTP with uvicorn until Ctrl-C. The first "
        "line on stdout is its base URL, for --base-url.",
    )
    fake.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    fake.add_argument("--port", type=int, default=8000, help="port, 0 for any (default 8000)")
    fake.add_argument("--customers", type=positive, default=DEFAULT_SANDBOX_CUSTOMERS)
    fake.add_argument("--latency", type=_seconds, default=0.0, help="seconds per response")
    fake.add_argument("--rate-limit", type=positive, default=WECOM_RATE_LIMIT)
    fake.add_argument("--seed", type=int, default=SANDBOX_SEED)
    fake.add_argument("--corp-id", default="wwfake")
    fake.add_argument("--secret", default="fake-secret")
    return parser


def _settings(args: argparse.Namespace) -> ExportSettings | str:
    """Resolve options and environment into settings, or return a usage error."""
    named = EXTENSIONS.get(args.output.suffix.lower()) if args.output else None
    if args.format and named and args.format != named:
        return (
            f"--format {args.format} does not match the output {args.output} (a {named} "
            "file name): change one of them"
        )
    fmt: Format = args.format or named or "jsonl"
    if args.resume and args.chunk_size is not None:
        return (
            "--chunk-size cannot change on --resume: the chunks were fixed when the export "
            "started (drop the option)"
        )
    output = args.output or Path(f"{args.kind}.{fmt}")
    if problem := _output_problem(output, args.summary_json):
        return problem
    redis = redis_url(args)
    if redis is not None and (problem := redis_problem(redis)):
        return problem
    corp_id = args.corp_id or os.environ.get("WECOM_CORP_ID", "")
    secret = args.secret or os.environ.get("WECOM_SECRET", "")
    if args.sandbox:
        if args.base_url:
            return "--sandbox and --base-url exclude each other"
    elif not corp_id or not secret:
        return (
            "missing credentials: pass --corp-id and --secret, or set WECOM_CORP_ID and "
            "WECOM_SECRET (or try --sandbox)"
        )
    request = resolve_job(
        args.kind,
        since=args.since,
        until=args.until,
        pairs=args.transfer_pairs,
        resume=args.resume,
        output=output,
        corp_id=SANDBOX_CORP_ID if args.sandbox else corp_id,
    )
    if isinstance(request, str):
        return request
    return settings_from(
        args,
        output=output,
        format=fmt,
        corp_id=corp_id,
        secret=secret,
        request=request,
        redis_url=redis,
    )


def _output_problem(output: Path, summary: Path | None) -> str | None:
    """Why ``output`` cannot be the export's file, found before anything is fetched."""
    if not output.name or output.name in (".", ".."):
        return f"-o {output} names no file: give a file name, e.g. -o customers.jsonl"
    if output.is_dir():
        return f"-o {output} is a directory: give a file name inside it"
    if summary is not None and summary.resolve() == output.resolve():
        return "--summary-json and -o name the same file: the summary would replace the export"
    return None


def _export(args: argparse.Namespace, err: TextIO) -> int:
    if args.workers or args.workers_wait:
        return _submit(args, err)
    if isinstance(args.output, str):  # a URL (see location_arg)
        err.write(
            "wecom-async: error: an fsspec URL output needs --workers / --workers-wait (a "
            "single-process export keeps its checkpoint and lock beside a local file)\n"
        )
        return ExitStatus.USAGE
    if args.corps is not None:
        return export_corps(args, err)
    settings = _settings(args)
    redactor = Redactor(settings.secret if isinstance(settings, ExportSettings) else "")
    say = redactor.writer(err)
    if isinstance(settings, str):
        say(f"wecom-async: error: {settings}")
        return ExitStatus.USAGE
    if args.summary_json and (problem := summary_problem(args.summary_json)):
        say(f"wecom-async: error: cannot write the summary to {args.summary_json}: {problem}")
        return ExitStatus.USAGE
    with logging_to(err, verbose=args.verbose, redactor=redactor):
        outcome = anyio.run(run_command, settings, err)
    status, document = conclude(outcome, settings, say)
    if args.summary_json:
        try:
            args.summary_json.write_text(
                redactor(json_text(document, indent=2)) + "\n", encoding="utf-8"
            )
        except OSError as error:
            say(f"wecom-async: warning: the summary was not written: {error}")
    return status


def _submit(args: argparse.Namespace, err: TextIO) -> int:
    """``export KIND --workers[-wait]``: hand the export to the workers (``--since last``
    is each corp's own, read by :mod:`.distributed.cli` once it knows the corps)."""
    submit = _distributed("submit")
    if problem := location_problem(args.output):
        err.write(f"wecom-async: error: -o: {problem}\n")
        return ExitStatus.USAGE
    last = is_last(args.since)
    request = unranged(args.kind, args.since, args.until) or resolve_job(
        args.kind,
        since=None if last else args.since,
        until=args.until,
        pairs=args.transfer_pairs,
        resume=False,
        output=Path(),  # read only for --since last, which is not passed here
        corp_id="",
    )
    if isinstance(request, str):
        err.write(f"wecom-async: error: {request}\n")
        return ExitStatus.USAGE
    return submit(args, request, err)


def _distributed(name: str) -> Callable[..., int]:
    """A command of :mod:`.distributed.cli`; exits with a usage error without the extra."""
    try:
        from .distributed import cli
    except ImportError:
        sys.stderr.write(
            "wecom-async: error: workers need the 'taskiq' extra: "
            "pip install 'wecom-async[taskiq]'\n"
        )
        raise SystemExit(ExitStatus.USAGE) from None
    command: Callable[..., int] = getattr(cli, name)
    return command


def _fake_server(args: argparse.Namespace, err: TextIO) -> int:
    from ._sandbox import sandbox_fake, serve_fake

    fake = sandbox_fake(
        args.customers,
        corp_id=args.corp_id,
        secret=args.secret,
        latency=args.latency,
        rate_limit=args.rate_limit,
        seed=args.seed,
    )
    gc.freeze()  # the seeded corp lives as long as the server: keep it out of collections

    def ready(url: str) -> None:
        print(url, flush=True)
        err.write(
            f"fake WeCom ({args.customers:,} customers) at {url}; try:\n"
            f"  wecom-async export customers --base-url {url} --corp-id {args.corp_id} "
            "--secret <the fake's secret>\n"
        )
        err.flush()

    try:
        serve_fake(fake, host=args.host, port=args.port, ready=ready)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: a clean stop
        pass
    except ImportError:
        err.write(
            "wecom-async: error: fake-server needs uvicorn: pip install 'wecom-async[server]'\n"
        )
        return ExitStatus.USAGE
    except OSError as exc:
        err.write(f"wecom-async: error: cannot listen on {args.host}:{args.port}: {exc}\n")
        return ExitStatus.FAILED
    return ExitStatus.OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wecom-async`` with ``argv`` (default: the process's) and return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    err = sys.stderr
    if argv[:1] == ["export"] and argv[1:2] and argv[1] in MANAGE_COMMANDS:
        manage = _distributed("manage")

        return manage(argv[1:], err)
    args = build_parser().parse_args(argv)
    if args.command == "fake-server":
        return _fake_server(args, err)
    if args.command == "worker":
        worker = _distributed("worker")

        return worker(args, err)
    # Everything imported and built so far lives until exit: exempting it from the cyclic
    # collector keeps full collections short while pages stream (fewer event-loop stalls).
    gc.freeze()
    try:
        return _export(args, err)
    except KeyboardInterrupt:  # pragma: no cover - only where signals cannot be caught
        return ExitStatus.INTERRUPTED
