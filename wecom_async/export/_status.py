"""Exit statuses of ``wecom-async export``, how failures map to them, and the summary."""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable
from typing import Final

from .._exceptions import (
    ConfigurationError,
    NotAuthorizedError,
    PermissionDeniedError,
    SuiteTicketError,
    TokenError,
    TransportError,
    WeComError,
)
from ._checkpoint import CheckpointError
from ._engine import ExportResult
from ._job import one_line
from ._output import OutputBusyError, OutputError, part_path
from ._ratelimit import Refusals
from ._run import ExportSettings, Outcome

__all__ = [
    "EXIT_HELP",
    "ExitStatus",
    "conclude",
    "failure_report",
    "failure_status",
    "report",
    "summary_lines",
    "worst",
]


class ExitStatus:
    """The command's exit statuses (also in ``wecom-async export --help``)."""

    OK: Final = 0
    FAILED: Final = 1
    USAGE: Final = 2
    PARTIAL: Final = 3
    CREDENTIALS: Final = 4
    PERMISSION: Final = 5
    UNREACHABLE: Final = 6
    BUSY: Final = 7
    INTERRUPTED: Final = 130


EXIT_HELP: Final = """\
exit status:
  0    the export is complete
  1    another failure (a WeCom error after retries, a response that does not match
       its model, a file that cannot be written); the checkpoint is kept: --resume
  2    usage error: bad arguments, missing credentials, an output that exists
       (without --force), nothing to --resume, a checkpoint that belongs to another
       export, or an output changed since its checkpoint
  3    the export finished, but some members (or groups, contact ways) could not be
       exported: listed on stderr (e.g. members without an interop license, 701008)
  4    bad credentials or app setup: WeCom refused the corp id or secret
       (ConfigurationError, e.g. 40001 / 40013), or a token right after a refresh;
       for a provider corp also no suite ticket, or a permanent code WeCom refused
  5    permission denied: the app may not call the API (48002, PermissionDeniedError)
  6    WeCom (or --base-url) cannot be reached (TransportError after retries)
  7    another export is writing the same output now (nothing was touched)
  130  interrupted (Ctrl-C / SIGTERM): the checkpoint is saved; --resume continues
with --corps, the status of the worst corp, from worst to best:
  130, 2, 4, 5, 6, 7, 1, 3, 0 (each corp's own is in the summary)
"""

#: ``--corps``: the order in which one corp's status outweighs another's, worst first.
#: An interruption stops every corp, a usage error or bad credentials need the operator,
#: a partial export is a warning.
_SEVERITY: Final = (
    ExitStatus.INTERRUPTED,
    ExitStatus.USAGE,
    ExitStatus.CREDENTIALS,
    ExitStatus.PERMISSION,
    ExitStatus.UNREACHABLE,
    ExitStatus.BUSY,
    ExitStatus.FAILED,
    ExitStatus.PARTIAL,
    ExitStatus.OK,
)


def worst(statuses: Iterable[int]) -> int:
    """The status of a run of many corps: the worst of theirs (OK when there are none)."""
    return min(statuses, key=_SEVERITY.index, default=ExitStatus.OK)


#: A full disk, a file size limit, a disk quota.
_NO_ROOM: Final = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def failure_status(error: BaseException, settings: ExportSettings) -> tuple[int, str]:
    """Map a fatal error to its exit status and one-line reason."""
    where = "the sandbox" if settings.sandbox_customers else settings.base_url or "WeCom"
    if isinstance(error, OutputBusyError):
        return ExitStatus.BUSY, str(error)
    if isinstance(error, CheckpointError | OutputError):
        return ExitStatus.USAGE, str(error)
    # Before WeComError: an OutputWriteError is both, and says what the disk said.
    if isinstance(error, OSError) and error.errno in _NO_ROOM:
        return ExitStatus.FAILED, (
            f"no room to write {settings.output} ({error.strerror or error}): the records "
            "written so far are saved; make room, then run the same command with --resume"
        )
    if isinstance(error, OSError):
        return ExitStatus.FAILED, f"cannot write the output: {error}"
    if isinstance(error, ConfigurationError | TokenError | SuiteTicketError | NotAuthorizedError):
        return ExitStatus.CREDENTIALS, (
            f"bad credentials or app setup ({_reason(error)}): check the corp id, the "
            "secret and that the app may use 客户联系"
        )
    if isinstance(error, PermissionDeniedError):
        return ExitStatus.PERMISSION, (
            f"permission denied ({_reason(error)}): add the app to 客户联系 → "
            "可调用接口的应用 (API-callable apps)"
        )
    if isinstance(error, TransportError):
        return ExitStatus.UNREACHABLE, f"cannot reach {where}: {_reason(error)}"
    if isinstance(error, WeComError):
        return ExitStatus.FAILED, f"export failed: {_reason(error)}"
    return ExitStatus.FAILED, f"export failed: {type(error).__name__}: {error}"


def _reason(error: BaseException) -> str:
    return one_line(error) if isinstance(error, WeComError) else str(error)


def summary_lines(
    result: ExportResult, requests: dict[str, int], refusals: Refusals | None = None
) -> list[str]:
    """The lines of the summary printed after a finished export."""
    lines = [
        f"exported {result.items:,} records of {result.kind} ({result.pages:,} pages, "
        f"{result.size:,} {result.unit_label}) to {result.output} in {result.elapsed:.1f} s"
        + (" (resumed)" if result.resumed else "")
    ]
    if requests:
        counts = ", ".join(
            f"{path.removeprefix('/cgi-bin/')} {n:,}" for path, n in requests.items()
        )
        lines.append(f"requests: {sum(requests.values()):,} ({counts})")
    if refusals is not None and refusals.count:
        lines.append(
            f"rate limit (45009): {refusals.count:,} requests refused, "
            f"{refusals.waited:,.1f} s waited (another job may share the corp's budget: "
            "lower --rate-limit)"
        )
    return lines


def _rate_limited(refusals: Refusals | None) -> dict[str, object]:
    refusals = refusals or Refusals()
    return {"refusals": refusals.count, "waited": round(refusals.waited, 3)}


def report(
    result: ExportResult,
    requests: dict[str, int],
    status: int,
    refusals: Refusals | None = None,
) -> dict[str, object]:
    """The summary as JSON (``--summary-json``)."""
    return {
        "kind": result.kind,
        "output": str(result.output),
        "format": result.format,
        "records": result.items,
        "pages": result.pages,
        "units": result.units,
        result.unit_label: result.size,
        "failures": [f.to_json() for f in result.failures],
        "requests": requests,
        "rate_limited": _rate_limited(refusals),
        "elapsed": round(result.elapsed, 3),
        "resumed": result.resumed,
        "exit_status": status,
    }


def failure_report(
    settings: ExportSettings, outcome: Outcome, status: int, reason: str
) -> dict[str, object]:
    """The JSON summary of a run that failed or was interrupted (``--summary-json``)."""
    return {
        "kind": settings.kind,
        "output": str(settings.output),
        "format": settings.format,
        "records": outcome.written or 0,
        "requests": outcome.requests,
        "rate_limited": _rate_limited(outcome.refusals),
        "resumed": settings.resume,
        "exit_status": status,
        "error": reason,
    }


def conclude(
    outcome: Outcome, settings: ExportSettings, say: Callable[[str], None], *, name: str = ""
) -> tuple[int, dict[str, object]]:
    """Report how a run ended through ``say``; return its exit status and JSON summary.

    ``name`` (a corp id, with ``--corps``) starts every line, so that the lines of many
    corps can be told apart.
    """
    head = f"wecom-async: {name}: " if name else "wecom-async: "
    if outcome.error is not None:
        status, reason = failure_status(outcome.error, settings)
        say(f"{head}error: {reason}")
        return status, failure_report(settings, outcome, status, reason)
    result = outcome.result
    if result is None:
        if outcome.written is None:
            reason = "interrupted before the export started: nothing was written"
            say(f"{head}{reason}")
        else:
            reason = f"interrupted; {outcome.written:,} records are saved"
            say(
                f"{head}{reason} in {part_path(settings.output)}: run the same "
                "command with --resume to continue"
            )
        status = ExitStatus.INTERRUPTED
        return status, failure_report(settings, outcome, status, reason)
    status = ExitStatus.PARTIAL if result.failures else ExitStatus.OK
    if not settings.quiet:
        for line in summary_lines(result, outcome.requests, outcome.refusals):
            say(f"{head}{line}")
    for failure in result.failures:
        say(
            f"{head}warning: {len(failure.ids)} not exported ({failure.detail}): "
            f"{', '.join(failure.ids)}"
        )
    return status, report(result, outcome.requests, status, outcome.refusals)
