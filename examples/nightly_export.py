"""Nightly export of every customer relation to a dated JSON Lines file.

Run it from cron (``pip install wecom-async``)::

    # m h dom mon dow  command
    0 2 * * *  WECOM_CORP_ID=ww... WECOM_SECRET=... python examples/nightly_export.py /var/exports

Each night writes ``customers-YYYY-MM-DD.jsonl``: one line per (customer, member) pair in
WeCom's wire format, every field WeCom sent kept. A run that stopped (crash, deploy, a
network outage) leaves its checkpoint beside the file; running the script again the same
day resumes it with no record missing or repeated.

Exit status: 0 when every record was exported; 3 when some members could not be read
(listed on stderr, e.g. 701008 without an interop license); 1 when the export stopped
(bad credentials, permissions, network): run it again to resume. ``WECOM_BASE_URL``
points the client at another WeCom, e.g. the fake (tests/test_examples.py does).
For large corps, the ``wecom-async export customers`` command does the same and also
paces requests below WeCom's per-minute and per-hour limits.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from wecom_async import DEFAULT_BASE_URL, WeComClient, WeComError
from wecom_async.export import Checkpoint, CustomersJob, ExportResult, run_export

CHINA = dt.timezone(dt.timedelta(hours=8))


def output_for(directory: Path, day: dt.date) -> Path:
    return directory / f"customers-{day:%Y-%m-%d}.jsonl"


async def export_customers(client: WeComClient, output: Path) -> ExportResult:
    """Export into ``output``, resuming the run that an earlier attempt left unfinished."""
    resume = Checkpoint.path_for(output).exists()
    return await run_export(CustomersJob(), client, output, resume=resume)


async def run(directory: Path) -> int:
    output = output_for(directory, dt.datetime.now(CHINA).date())
    async with WeComClient(
        os.environ["WECOM_CORP_ID"],
        os.environ["WECOM_SECRET"],
        base_url=os.environ.get("WECOM_BASE_URL", DEFAULT_BASE_URL),
    ) as client:
        try:
            result = await export_customers(client, output)
        except WeComError as exc:
            print(f"export stopped, run again to resume: {exc}", file=sys.stderr)
            return 1
    for failure in result.failures:
        print(f"not exported ({failure.reason}): {' '.join(failure.ids)}", file=sys.stderr)
    print(f"{result.items} records in {output}")
    return 3 if result.failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="where the dated files go")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    return asyncio.run(run(args.directory))


if __name__ == "__main__":
    sys.exit(main())
