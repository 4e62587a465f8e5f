"""The arguments of the command's distributed parts, without importing them.

``wecom-async --help`` and every single-process export parse their arguments without
the ``taskiq`` extra; :mod:`.distributed.cli` (which needs it) runs the commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

from ._argtypes import calls, positive, positive_seconds
from ._store import location_arg

__all__ = ["MANAGE_COMMANDS", "add_worker_parser", "manage_parser"]

#: ``wecom-async export <command> ID``: commands on a submitted export.
MANAGE_COMMANDS: Final = ("status", "assemble", "resume")


def add_worker_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``wecom-async worker``."""
    worker = commands.add_parser(
        "worker",
        help="run shards of distributed exports (needs the 'taskiq' extra)",
        description="Run shards of exports submitted with --workers / --workers-wait "
        "until Ctrl-C: taskiq shard tasks, and any shard whose worker died (from the "
        "ledger). One corp: --corp-id, its secret from WECOM_SECRET; many corps: --corps "
        "corps.toml (the file of `export --corps`), each corp's credentials read here and "
        "never sent through Redis. A worker runs only the shards of the corps it serves.",
    )
    worker.add_argument("--redis-url", metavar="URL", help="default: $WECOM_REDIS_URL")
    worker.add_argument("--corp-id", help="the corp served (default: $WECOM_CORP_ID)")
    worker.add_argument(
        "--corps", type=Path, metavar="FILE", help="serve every corp of this TOML corps file"
    )
    worker.add_argument("--base-url", help="the WeCom host, or a proxy / fake")
    worker.add_argument("--shards", type=positive, default=2, metavar="N", help="at once (2)")
    worker.add_argument(
        "--lease", type=positive_seconds, default=30.0, metavar="S", help="seconds (30)"
    )
    worker.add_argument(
        "--poll", type=positive_seconds, default=2.0, metavar="S", help="seconds (2)"
    )
    worker.add_argument("--rate-limit", type=calls, default=9000, metavar="N")
    worker.add_argument("--hourly-rate-limit", type=calls, default=135_000, metavar="N")


def manage_parser() -> argparse.ArgumentParser:
    """The parser of ``wecom-async export status|assemble|resume ID``."""
    parser = argparse.ArgumentParser(
        prog="wecom-async export",
        description="status: where a distributed export stands; assemble: its committed "
        "parts in one file; resume: rebuild its ledger from --dir if Redis lost it, and wait.",
    )
    parser.add_argument("command", choices=MANAGE_COMMANDS)
    parser.add_argument("export_id", metavar="ID")
    parser.add_argument("--redis-url", metavar="URL", help="default: $WECOM_REDIS_URL")
    parser.add_argument(
        "--dir",
        type=location_arg,
        help="the export's output directory or fsspec URL (for resume)",
    )
    parser.add_argument(
        "-o", "--output", type=location_arg, help="assemble: the file (or fsspec URL) to write"
    )
    parser.add_argument("--corp", help="assemble: only this corp's records")
    return parser
