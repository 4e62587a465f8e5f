"""What an export kind is made of, and how the engine judges a failure.

An export kind (a :class:`Job`) answers three questions and nothing else:

* :meth:`Job.plan`: which *units* make up the export (for customers: chunks of follow-user
  ids), each described by a small JSON spec that the checkpoint stores;
* :meth:`Job.fetch`: the page of a unit that starts at a cursor, as wire records (plus the
  next cursor, and the partial failures the page reported);
* :meth:`Job.rows`: how a record flattens into rows of the job's CSV columns, and
  :attr:`Job.identity`: which of those columns identify a record.

Everything else (concurrency, the writer, the checkpoint, progress) is the engine's,
shared by every kind; retries are the client's (its ``RetryPolicy``), never the export's.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import ClassVar, Final, Literal, TypeVar

import anyio

from .._client import WeComClient
from .._exceptions import (
    APIError,
    ConfigurationError,
    ConflictError,
    PermissionDeniedError,
    RateLimitError,
    SystemBusyError,
    TokenError,
    WeComError,
)
from ..models._base import JsonObject, JsonValue
from ._checkpoint import Failure
from ._writer import Key, Table, cell

__all__ = [
    "Batch",
    "ErrorKind",
    "Job",
    "Unit",
    "classify",
    "cursor_expired",
    "fetch_each",
    "one_line",
    "unit_failure",
]

T = TypeVar("T")

#: errcodes that mean the app may not call the API at all: no unit can succeed.
FATAL_PERMISSION_ERRCODES: Final = frozenset({48002})

#: errcodes of a cursor WeCom no longer accepts (expired, or from another traversal).
EXPIRED_CURSOR_ERRCODES: Final = frozenset({50100})

#: What a failed page means for the export: stop it (resumable), or record the unit as failed.
ErrorKind = Literal["stop", "unit"]
#: WeCom errors that say nothing about the unit: the app, the token or WeCom's load.
_NOT_THE_UNITS: Final = (
    ConfigurationError, TokenError, RateLimitError, SystemBusyError, ConflictError,
)  # fmt: skip


@dataclass(frozen=True)
class Unit:
    """One independently paged part of an export.

    Attributes:
        spec: what the job needs to fetch it (JSON, stored in the checkpoint).
        size: its weight in the progress display (e.g. follow-users in the chunk).
    """

    spec: JsonObject
    size: int = 1


@dataclass(frozen=True)
class Batch:
    """One fetched page of a unit.

    Attributes:
        records: wire dicts to write, in order.
        next_cursor: where the unit continues, or None when it is finished.
        failures: partial failures the page reported (e.g. unlicensed members).
    """

    records: Sequence[JsonObject]
    next_cursor: str | None
    failures: Sequence[Failure] = field(default=())


class Job(abc.ABC):
    """One export kind over the shared engine; see the module docstring."""

    #: The kind's name on the command line (``export customers``).
    name: ClassVar[str]
    #: What a unit's ``size`` counts, for the progress display ("follow-users").
    unit_label: ClassVar[str]
    #: The CSV header (documented in the command's help).
    columns: ClassVar[tuple[str, ...]]
    #: The columns that identify a record, e.g. ``("chat_id",)``. A unit whose cursor
    #: expired restarts from its first page and skips the records whose identity is
    #: already in the output; with none (the default), it is reported as failed instead.
    identity: ClassVar[tuple[str, ...]] = ()
    #: The columns that hold Unix times: table formats add a readable ``<name>_local``
    #: column after each.
    times: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    async def plan(self, client: WeComClient) -> list[Unit]:
        """Return the units of a fresh export (may call WeCom, e.g. the follow-user list)."""

    @abc.abstractmethod
    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """Return the page of unit ``spec`` that starts at ``cursor`` (None: the first)."""

    @abc.abstractmethod
    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """Flatten one record into CSV rows of one value per entry of :attr:`columns`."""

    def table(self, zone: tzinfo | None = None) -> Table:
        """The kind's table: :attr:`columns` plus the local-time columns, in ``zone``."""
        return Table(self.columns, self.rows, times=self.times, identity=self.identity, zone=zone)

    def keys(self, record: JsonObject) -> list[Key]:
        """The identity of each CSV row of ``record``: its :attr:`identity` cells."""
        where = self._identity_indexes()
        return [tuple(cell(row[i]) for i in where) for row in self.rows(record)]

    def _identity_indexes(self) -> list[int]:
        return [self.columns.index(column) for column in self.identity]

    def ids(self, spec: JsonObject) -> tuple[str, ...]:
        """The ids a unit covers, named in a failure report when the whole unit fails."""
        return ()

    def split(self, spec: JsonObject, error: WeComError) -> list[Unit]:
        """Smaller units to try instead of a unit WeCom refused on its first page.

        Empty (the default): the unit is reported as failed. A job whose units group ids
        that WeCom refuses as a whole for one bad id returns the halves, so that one
        member who left between the plan and the fetch costs only themself.
        """
        return []


def classify(error: BaseException) -> ErrorKind:
    """Decide what a page that failed (after the client's own retries) means for the export.

    The client already retried what is worth retrying (``RetryPolicy``: connect errors,
    45009, busy, conflicts, garbled answers on these read-only endpoints), so the export
    never tries again itself; it only decides between:

    ``stop``: no later page is likely to succeed either, or the failure is not the unit's
    own (bad credentials, a refused token, the app may not call the API, a response that
    does not match its model, a rate limit or the network still failing after the
    client's retries, a local bug). The export stops with its checkpoint, and ``--resume``
    continues where it stopped once the cause is gone: nothing is lost.
    ``unit``: WeCom refused this unit only (e.g. 701008, no member of the chunk has an
    interop license); the unit is reported as a partial failure and the export goes on.
    """
    if isinstance(error, PermissionDeniedError):
        return "stop" if error.errcode in FATAL_PERMISSION_ERRCODES else "unit"
    if isinstance(error, APIError) and not isinstance(error, _NOT_THE_UNITS):
        return "unit"
    return "stop"


def cursor_expired(error: WeComError) -> bool:
    """Whether WeCom refused a page because its cursor expired (50100)."""
    return isinstance(error, APIError) and error.errcode in EXPIRED_CURSOR_ERRCODES


def one_line(error: WeComError) -> str:
    """A one-line reason: ``errcode N: message`` without WeCom's hint and link suffix."""
    if isinstance(error, APIError):
        message = error.errmsg.split(", hint:", 1)[0].strip() or "no message"
        return f"errcode {error.errcode}: {message}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


async def fetch_each(
    ids: Sequence[str],
    get: Callable[[str], Awaitable[T]],
    render: Callable[[T], JsonObject],
) -> tuple[list[JsonObject], list[Failure]]:
    """Fetch every id concurrently (the client caps requests in flight) and keep id order.

    An id that WeCom refuses on its own (a ``unit`` error, e.g. a dismissed group) becomes
    a :class:`Failure`; any other error propagates and stops the export (resumable).
    """
    results: list[JsonObject | Failure | None] = [None] * len(ids)
    errors: list[WeComError] = []

    async def one(index: int, item_id: str) -> None:
        try:
            results[index] = render(await get(item_id))
        except WeComError as error:
            if classify(error) == "unit":
                results[index] = unit_failure(error, (item_id,))
            else:
                # Raised after the group, bare: a task group would wrap it in a group.
                errors.append(error)
                group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, item_id in enumerate(ids):
            group.start_soon(one, index, item_id)
    if errors:
        raise errors[0]
    records = [r for r in results if isinstance(r, dict)]
    failures = [r for r in results if isinstance(r, Failure)]
    return records, failures


def _reason(error: WeComError) -> str:
    return f"errcode {error.errcode}" if isinstance(error, APIError) else type(error).__name__


def unit_failure(error: WeComError, ids: tuple[str, ...]) -> Failure:
    """The failure recorded when WeCom refused a whole unit."""
    return Failure(_reason(error), ids, one_line(error))
