"""The command's ``--since`` / ``--until`` / ``--transfer-pairs``: read and checked before
any request, so that a bad range costs nothing.

Refused, with a message naming the problem: a bound that is neither a date nor an
aware datetime (a naive one included), ``--since`` after ``--until`` (the kind's default
bound included), a range given to a kind without one, ``--since last`` without a
completed previous export to the same output (of the same kind and corp), and a pairs
file that cannot be read. On ``--resume`` the plan is the checkpoint's: a range given
again must be the one it started with (so the same command line resumes, ``--since
last`` included), and pairs may not be given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ._checkpoint import Checkpoint, CheckpointError
from ._job import Job
from ._jobs import JOBS, make_job, ranged
from ._jobs_transfers import TransfersJob, read_pairs
from ._manifest import Manifest, ManifestError, corp_output
from ._range import covered, parse_bound, shown
from ._windowed import WindowedJob

__all__ = ["LAST", "JobRequest", "is_last", "resolve_job", "since_last_each", "unranged"]

#: ``--since last``: where the previous export to the same output ended.
LAST = "last"


@dataclass(frozen=True)
class JobRequest:
    """What the command asked of the kind: its range and pairs, read and checked."""

    since: int | None = None
    until: int | None = None
    pairs: tuple[tuple[str, str], ...] = ()

    def build(self, kind: str, *, chunk_size: int | None, concurrency: int) -> Job:
        """The export kind, with this range and these pairs."""
        return make_job(
            kind,
            chunk_size=chunk_size,
            concurrency=concurrency,
            since=self.since,
            until=self.until,
            pairs=self.pairs,
        )


def unranged(kind: str, since: str | None, until: str | None) -> str | None:
    """The usage error of a range given to a kind without one (None: no such error)."""
    if (since or until) and not issubclass(JOBS[kind], WindowedJob):
        return f"{kind} has no time range: --since / --until apply to {ranged()}"
    return None


def is_last(since: str | None) -> bool:
    """``since`` is ``--since last``."""
    return (since or "").strip().lower() == LAST


def since_last_each(
    kind: str, request: JobRequest, directory: Path | str, corp_ids: Sequence[str]
) -> dict[str, JobRequest] | str:
    """``--since last`` of a distributed export to ``directory``: each corp's request,
    starting one second after that corp's previous run of ``kind`` there (its manifest,
    see :func:`~._manifest.corp_output`); or the usage error naming every corp that has
    no such run (or whose range would be empty). All or nothing: a corp without a
    previous run is never given a range silently."""
    requests: dict[str, JobRequest] = {}
    problems: list[str] = []
    for corp_id in corp_ids:
        try:
            manifest = Manifest.load(corp_output(directory, corp_id, kind))
            each = replace(request, since=manifest.next_since(kind, corp_id))
            each.build(kind, chunk_size=None, concurrency=1)
        except ManifestError as error:
            problems.append(f"corp {corp_id}: {error}")
            continue
        except ValueError as error:  # the range is reversed: the only error left
            problems.append(f"corp {corp_id}: {_reversed(each) or error}")
            continue
        requests[corp_id] = each
    if problems:
        return "\n".join(problems)
    return requests


def resolve_job(
    kind: str,
    *,
    since: str | None,
    until: str | None,
    pairs: Path | None,
    resume: bool,
    output: Path | str,
    corp_id: str,
) -> JobRequest | str:
    """Read the range and pairs options of ``kind``; return them, or the usage error."""
    job = JOBS[kind]
    if problem := unranged(kind, since, until):
        return problem
    if pairs and job is not TransfersJob:
        return "--transfer-pairs applies to transfers only"
    if resume and pairs:
        return (
            "--transfer-pairs cannot change on --resume: the plan was fixed when the export "
            "started (drop it)"
        )
    try:
        request = JobRequest(
            since=_since(since, kind, output, corp_id) if since else None,
            until=parse_bound(until, end=True) if until else None,
            pairs=tuple(read_pairs(pairs)) if pairs else (),
        )
    except (ValueError, ManifestError) as error:
        return str(error)
    except OSError as error:
        return f"cannot read --transfer-pairs {pairs}: {error.strerror or error}"
    try:
        request.build(kind, chunk_size=None, concurrency=1)
    except ValueError as error:  # the range is reversed: the only error left
        return _reversed(request) or str(error)
    return _same_plan(kind, request, Path(output)) if resume else request


def _same_plan(kind: str, request: JobRequest, output: Path) -> JobRequest | str:
    """On ``--resume``, a range given again must be the one the export started with
    (the same command line, ``--since last`` included, resumes; another range does not)."""
    try:
        checkpoint = Checkpoint.load(Checkpoint.path_for(output))
        fixed = covered(checkpoint.units)
    except CheckpointError:
        return request  # the engine says why there is nothing to resume
    if fixed is None or checkpoint.kind != kind or (request.since, request.until) == (None, None):
        return request  # nothing to compare (the engine refuses another kind's export)
    since = fixed.since if request.since is None else request.since
    until = fixed.until if request.until is None else request.until
    job = make_job(kind, since=since, until=until)
    asked = job.planned() if isinstance(job, WindowedJob) else fixed
    if asked != fixed:
        return (
            f"--since / --until ({shown(asked.since)} .. {shown(asked.until)}) are not the "
            f"range the interrupted export started with ({shown(fixed.since)} .. "
            f"{shown(fixed.until)}): resume without them, or start over without --resume"
        )
    return request


def _since(text: str, kind: str, output: Path | str, corp_id: str) -> int:
    if is_last(text):
        return Manifest.load(output).next_since(kind, corp_id)
    return parse_bound(text, end=False)


def _reversed(request: JobRequest) -> str | None:
    if request.since is not None and request.until is not None and request.since > request.until:
        return (
            f"--since ({shown(request.since)}) is after --until ({shown(request.until)}): "
            "nothing to export"
        )
    if request.since is not None:
        return (
            f"--since ({shown(request.since)}) is after the kind's default end: give --until, "
            "or wait until there is something new"
        )
    return None
