"""The export engine shared by every export kind: workers, one writer, the checkpoint.

::

    plan (or load the checkpoint)          units: e.g. chunks of follow-user ids
      N workers                            each pages through one unit at a time
        job.fetch(unit, cursor)            (the client retries what is worth it)
          -> memory stream (bounded)       and hands every page to the writer
      1 writer                             writes whole pages with one os.write, then,
        output.write(page bytes)           at most every ``checkpoint_interval``,
        snapshot, fsync, replace           snapshots the checkpoint, fsyncs the output
                                           and replaces the checkpoint file atomically

Only the writer touches the output, and it records a unit's new cursor in the same step as
the unit's page bytes, so the checkpoint on disk always describes a prefix of the output
(see :mod:`._checkpoint`). The one change a worker makes to the checkpoint, swapping a unit
refused on its first page for smaller ones, is a single synchronous step with nothing of
that unit written, so it keeps that promise. The bounded stream makes workers wait
when the disk is slower than WeCom, so memory stays flat whatever the export's size.

The run holds the output's lock and writes ``<output>.part``; only a complete export is
renamed onto the output (see :mod:`._output`), so an existing file is replaced whole or
not at all, and never without ``overwrite``.

Cancelling the export (Ctrl-C) stops the workers at once; the writer's final commit runs
shielded, so the checkpoint matches the output and ``--resume`` continues from there.

A cursor expires (50100) when a resume comes hours later, or a unit outlives it. Such a
unit restarts from its first page, once per run, and the writer skips every record
whose identity (:attr:`Job.identity`, e.g. the (customer, follow-user) pair or the
chat id) is already in the output from where the unit's first page began. The skip is
by identity, not by count: WeCom documents no order for these lists, and records come
and go between two traversals (a customer added, a follow removed, a group handed
over), so "the first N records" of the new traversal need not be the N written before.
A record written before and gone since stays in the output (it existed when exported).
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._client import DEFAULT_MAX_IN_FLIGHT, WeComClient
from .._exceptions import ResponseError, WeComError
from .._validation import check_seconds, check_whole
from ..models._base import JsonObject
from ..pagination import SeenTokens
from ._checkpoint import Checkpoint, CheckpointError, Failure, merge_failures, write_atomic
from ._job import Batch, Job, Unit, classify, cursor_expired, unit_failure
from ._output import OutputExistsError, output_lock, part_path, publish, write_failure
from ._progress import NullProgress, Progress
from ._tables import TABLE_FORMATS, require, write_table
from ._writer import CsvEncoder, Encoder, Format, JsonlEncoder, Key, OutputFile, TableOptions

__all__ = ["DEFAULT_CONCURRENCY", "EngineOptions", "ExportResult", "run_export"]

logger: Final = logging.getLogger("wecom_async.export")

#: Pages fetched at once by default: the client's default in-flight cap.
DEFAULT_CONCURRENCY: Final = DEFAULT_MAX_IN_FLIGHT


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """How the engine runs an export.

    Retries are not among them: the client's ``RetryPolicy`` is the one retry layer, and
    a page that still fails after it either fails its unit or stops the export
    (:func:`~wecom_async.export._job.classify`).

    Attributes:
        concurrency: units paged at once (give the client the same ``max_in_flight``).
        checkpoint_interval: least seconds between two checkpoint writes (0: after every
            batch of pages); work done since the last one is redone after a crash.

    Raises:
        ValidationError: ``concurrency`` is not a whole number of at least 1, or
            ``checkpoint_interval`` is not a finite number of seconds of 0 or more.
    """

    concurrency: int = DEFAULT_CONCURRENCY
    checkpoint_interval: float = 0.1

    def __post_init__(self) -> None:
        check_whole(self.concurrency, "concurrency")
        check_seconds(self.checkpoint_interval, "checkpoint_interval", zero=True)


@dataclass(frozen=True, kw_only=True)
class ExportResult:
    """What a finished export did (the command prints it as its summary)."""

    kind: str
    output: Path
    format: Format
    #: Records in the output (across resumes).
    items: int
    #: Pages fetched (across resumes).
    pages: int
    #: Units in the plan and their total size, e.g. chunks and follow-users.
    units: int
    size: int
    unit_label: str
    failures: list[Failure]
    #: Seconds this run took (not counting earlier interrupted runs).
    elapsed: float
    resumed: bool


@dataclass(frozen=True)
class _Page:
    index: int
    batch: Batch
    #: False for a unit that WeCom refused outright (no page was fetched).
    fetched: bool = True
    #: Smaller units to run instead of this one (it was refused on its first page).
    parts: Sequence[Unit] = ()
    #: Not a page: the unit's cursor expired and it starts over from its first page.
    restart: bool = False


async def run_export(
    job: Job,
    client: WeComClient,
    output: Path,
    *,
    format: Format = "jsonl",
    resume: bool = False,
    progress: Progress | None = None,
    options: EngineOptions | None = None,
    overwrite: bool = False,
    table: TableOptions | None = None,
) -> ExportResult:
    """Run (or resume) one export into ``output``; see the module docstring.

    Args:
        job: the export kind.
        client: the WeCom client (its ``max_in_flight`` should match the concurrency).
        output: the output file; the checkpoint goes beside it (``<output>.checkpoint``).
        format: ``"jsonl"`` (wire format, nothing dropped), or the job's table as
            ``"csv"``, ``"xlsx"`` or ``"parquet"`` (the last two written at the end from
            the JSON Lines ``.part``; see :mod:`._tables`).
        resume: continue the export recorded in the checkpoint instead of starting over.
        progress: where progress goes (default: nowhere).
        options: concurrency and checkpoint pacing (retries are the client's).
        overwrite: replace ``output`` if it exists (when the export completes; until then
            it stays as it was). A resume may also replace it if the interrupted run
            was allowed to.
        table: how CSV is written for people (BOM, formulas, the zone of the local-time
            columns); a resume must use the same.

    Returns:
        The summary. Units WeCom refused (e.g. 701008) are in ``failures``.

    Raises:
        OutputBusyError: another export is writing ``output`` (nothing was touched).
        OutputExistsError: ``output`` exists and ``overwrite`` is false.
        OutputError: the format's library is not installed (checked before anything).
        CheckpointError: ``resume`` without a matching checkpoint, or a changed output.
        OutputWriteError: the output or its checkpoint cannot be written (e.g. the disk
            is full; an ``OSError`` too, with its ``errno``); the output holds whole
            records only and the checkpoint is kept, so the export can be resumed.
        WeComError: a failure that stops the export (bad credentials, permission, the
            network or a rate limit after the client's retries); the checkpoint is kept
            so the export can be resumed.
    """
    table = table or TableOptions()
    engine = _Engine(job, client, output, format, progress or NullProgress(), options, table)
    try:
        return await engine.run(resume, overwrite=overwrite)
    except OSError as error:  # a file of the export; the network's are WeComErrors already
        raise write_failure(error) from error


class _Engine:
    def __init__(
        self,
        job: Job,
        client: WeComClient,
        output: Path,
        format: Format,
        progress: Progress,
        options: EngineOptions | None,
        table: TableOptions,
    ) -> None:
        self._job, self._client, self._format = job, client, format
        self._progress = progress
        self._options = options or EngineOptions()
        self._table_json = table.to_json() if format != "jsonl" else {}
        self._zone = table.zone()
        # xlsx and parquet are written from the complete JSON Lines at the end.
        self._encoder: Encoder = (
            CsvEncoder(job.table(self._zone), table) if format == "csv" else JsonlEncoder(job.keys)
        )
        self._final = output
        self._out = OutputFile(part_path(output))
        self._path = Checkpoint.path_for(output)
        self._ckpt: Checkpoint | None = None
        self._error: BaseException | None = None
        self._dirty = False
        #: A write failed: the state in memory is ahead of the file, so the checkpoint
        #: on disk (which describes a prefix of it) must stay as it is.
        self._stale = False
        self._last_commit = 0.0
        self._done_size = 0
        self._scope: anyio.CancelScope | None = None
        self._header_size = len(self._encoder.header())
        #: Identities in the output of each restarted unit, read once per run.
        self._written: dict[int, set[Key]] = {}

    @property
    def ckpt(self) -> Checkpoint:
        if self._ckpt is None:
            raise RuntimeError("the export has not started")
        return self._ckpt

    async def run(self, resume: bool, *, overwrite: bool) -> ExportResult:
        started = time.monotonic()
        require(self._format)  # now, not after an hour of export
        with output_lock(self._final):
            try:
                ckpt = self._ckpt = await (
                    self._load(overwrite) if resume else self._plan(overwrite)
                )
                self._done_size = ckpt.done_size()
                self._progress.start(
                    title=self._job.name,
                    unit_label=self._job.unit_label,
                    total=sum(ckpt.sizes),
                    done=self._done_size,
                    items=ckpt.items,
                )
                try:
                    await self._run_units()
                finally:
                    self._progress.close()
            finally:
                self._out.close()
            if self._error is not None:
                raise self._error
            # The final commit fsynced the output: put it in place, then forget the run.
            await anyio.to_thread.run_sync(self._put_in_place)
            self._path.unlink(missing_ok=True)
            self._out.path.unlink(missing_ok=True)
        return ExportResult(
            kind=self._job.name,
            output=self._final,
            format=self._format,
            items=ckpt.items,
            pages=ckpt.pages,
            units=len(ckpt.units),
            size=sum(ckpt.sizes),
            unit_label=self._job.unit_label,
            failures=list(ckpt.failures),
            elapsed=time.monotonic() - started,
            resumed=resume,
        )

    def _put_in_place(self) -> None:
        if self._format in TABLE_FORMATS:
            table = self._job.table(self._zone)
            write_table(self._format, self._out.path, self._final, table)
        else:
            publish(self._out.path, self._final)

    def _refuse_to_replace(self, overwrite: bool) -> None:
        if not overwrite and self._final.exists():
            raise OutputExistsError(
                f"{self._final} already exists: pass --force to replace it (it is replaced "
                "only once the new export is complete)"
            )

    async def _plan(self, overwrite: bool) -> Checkpoint:
        self._refuse_to_replace(overwrite)
        if self._path.exists():
            logger.warning("starting over; the unfinished export in %s is dropped", self._path)
        units = await self._job.plan(self._client)
        ckpt = Checkpoint(
            kind=self._job.name,
            format=self._format,
            corp_id=self._client.corp_id,
            units=[u.spec for u in units],
            sizes=[u.size for u in units],
            overwrite=overwrite,
            table=self._table_json,
        )
        self._out.create(self._encoder.header())
        ckpt.output_bytes, ckpt.output_sha256 = self._out.size, self._out.digest()
        await anyio.to_thread.run_sync(self._persist, ckpt.to_bytes())
        return ckpt

    async def _load(self, overwrite: bool) -> Checkpoint:
        ckpt = Checkpoint.load(self._path)
        asked = (self._job.name, self._format, self._client.corp_id)
        found = (ckpt.kind, ckpt.format, ckpt.corp_id)
        if asked != found:
            raise CheckpointError(
                f"{self._path} belongs to another export (kind, format, corp: {found}); "
                f"this one is {asked}"
            )
        if ckpt.table != self._table_json:
            raise CheckpointError(
                f"the export in {self._path} was started with other table options "
                f"({_options_text(ckpt.table)}); resume it with the same options"
            )
        if ckpt.output_sha256 is None:
            raise CheckpointError(
                f"{self._path} was written by an earlier release, which did not record what "
                "the output held: its content cannot be checked, start the export over"
            )
        if not self._out.path.exists() and not ckpt.pending() and self._final.exists():
            raise CheckpointError(
                f"the export recorded in {self._path} had completed and {self._final} was "
                "written: nothing to resume (delete the checkpoint)"
            )
        ckpt.overwrite = ckpt.overwrite or overwrite
        self._refuse_to_replace(ckpt.overwrite)
        await anyio.to_thread.run_sync(self._out.reopen, ckpt.output_bytes, ckpt.output_sha256)
        return ckpt

    # -- workers ------------------------------------------------------------------------

    async def _run_units(self) -> None:
        pending = deque(self.ckpt.pending())
        buffer = 2 * self._options.concurrency
        send, receive = anyio.create_memory_object_stream[_Page](buffer)
        async with anyio.create_task_group() as group:
            self._scope = group.cancel_scope
            group.start_soon(self._writer, receive)
            async with send:
                for _ in range(min(self._options.concurrency, len(pending))):
                    group.start_soon(self._worker, pending, send.clone())

    def _fail(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        if self._scope is not None:
            self._scope.cancel()

    async def _worker(self, pending: deque[int], send: MemoryObjectSendStream[_Page]) -> None:
        async with send:
            try:
                while pending:
                    index = pending.popleft()
                    parts = await self._page_unit(index, send)
                    pending.extend(self._replace(index, parts) if parts else ())
            except Exception as error:  # reported by run(), not as an exception group
                self._fail(error)

    async def _page_unit(self, index: int, send: MemoryObjectSendStream[_Page]) -> Sequence[Unit]:
        """Send every page of unit ``index`` to the writer, from its checkpointed cursor.

        Every cursor followed is remembered, so a server whose cursors cycle (even
        ``A -> B -> A``) ends the unit as a failure instead of paging it forever; the
        pages before the repeat are kept. A cursor WeCom no longer accepts restarts the
        unit from its first page, once per run (see the module docstring); a second
        expiry fails the unit, so a server that refuses every cursor cannot loop either.
        Returns the smaller units to run instead, when WeCom refused the unit on its
        first page.
        """
        cursor = self.ckpt.cursors.get(index)
        seen = SeenTokens(cursor, what=f"{self._job.name} unit {index}")
        may_restart = True
        while True:
            page = await self._fetch(index, cursor, may_restart=may_restart)
            if page.parts:
                return page.parts
            if page.restart:
                logger.warning(
                    "%s unit %d: WeCom no longer accepts its cursor; starting it over, "
                    "skipping the records already written",
                    self._job.name,
                    index,
                )
                await send.send(page)
                cursor, may_restart = None, False
                seen = SeenTokens(None, what=f"{self._job.name} unit {index}")
                continue
            following = page.batch.next_cursor
            try:
                seen.follow(following)
            except ResponseError as error:
                page = self._with_failure(page, error)
                following = None
            await send.send(page)
            if following is None:
                return ()
            cursor = following

    def _with_failure(self, page: _Page, error: WeComError) -> _Page:
        """``page``, now the unit's last, with the unit recorded as failed for ``error``."""
        failure = unit_failure(error, self._job.ids(self.ckpt.units[page.index]))
        batch = Batch(page.batch.records, None, (*page.batch.failures, failure))
        return _Page(page.index, batch, page.fetched)

    def _replace(self, index: int, parts: Sequence[Unit]) -> list[int]:
        """Swap a unit refused on its first page for smaller ones; return their indexes.

        One synchronous step (no await), so a checkpoint never holds both the unit and
        its parts as pending; nothing of the unit was written, so nothing repeats.
        """
        ckpt = self.ckpt
        first = len(ckpt.units)
        ckpt.units.extend(part.spec for part in parts)
        ckpt.sizes.extend(part.size for part in parts)
        ckpt.sizes[index] = 0
        ckpt.done.add(index)
        self._dirty = True
        logger.warning(
            "%s unit %d refused as a whole; trying it as %d smaller units",
            self._job.name,
            index,
            len(parts),
        )
        return list(range(first, len(ckpt.units)))

    async def _fetch(self, index: int, cursor: str | None, *, may_restart: bool) -> _Page:
        """Fetch one page; a failure either fails the unit or stops the export.

        No retry here: the client already retried the call as its policy allows, and a
        second loop on top would multiply the attempts and the waits (a 45009 storm
        would sleep for many minutes per page before the export could stop).
        """
        spec = self.ckpt.units[index]
        try:
            batch = await self._job.fetch(self._client, spec, cursor)
        except WeComError as error:
            if classify(error) == "stop":
                raise
            restartable = cursor is not None and may_restart and bool(self._job.identity)
            if restartable and cursor_expired(error):
                return _Page(index, Batch((), None), fetched=False, restart=True)
            parts = self._job.split(spec, error) if cursor is None else []
            if parts:
                return _Page(index, Batch((), None), fetched=False, parts=parts)
            failure = unit_failure(error, self._job.ids(spec))
            return _Page(index, Batch((), None, (failure,)), fetched=False)
        return _Page(index, batch)

    # -- the writer ---------------------------------------------------------------------

    async def _writer(self, receive: MemoryObjectReceiveStream[_Page]) -> None:
        try:
            async with receive:
                await self._write_loop(receive)
        except Exception as error:
            self._fail(error)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self._commit()
                except Exception as error:
                    self._fail(error)

    async def _write_loop(self, receive: MemoryObjectReceiveStream[_Page]) -> None:
        interval = self._options.checkpoint_interval
        while True:
            due = self._last_commit + interval - time.monotonic()
            pages: list[_Page] = []
            with anyio.move_on_after(max(0.0, due) if self._dirty else math.inf):
                try:
                    pages.append(await receive.receive())
                except anyio.EndOfStream:
                    return
            while True:
                try:
                    pages.append(receive.receive_nowait())
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
            if pages:
                await self._write(pages)
            if self._dirty and time.monotonic() - self._last_commit >= interval:
                await self._commit()

    async def _write(self, pages: list[_Page]) -> None:
        """Write the pages' records in one ``os.write`` and record them in the checkpoint.

        Before anything is awaited (reading back what a restarted unit wrote), the bytes
        gathered so far are written and ``output_bytes`` follows, so a commit at any
        await point still describes the output exactly.
        """
        ckpt = self.ckpt
        self._dirty = True
        chunks: list[bytes] = []
        for page in pages:
            index = page.index
            if page.restart:
                self._flush(chunks)
                self._restart(index)
                continue
            records = page.batch.records
            if index in ckpt.restarted:
                if index not in self._written:
                    self._flush(chunks)
                    self._written[index] = await anyio.to_thread.run_sync(self._keys_reader(index))
                records = self._unwritten(index, records)
            try:
                chunk = self._encoder.encode(records)
            except Exception:
                # The pages before this one are recorded as written: write them, so a
                # commit still describes the output (this page is not recorded at all).
                self._flush(chunks)
                raise
            ckpt.starts.setdefault(index, self._out.size + sum(map(len, chunks)))
            chunks.append(chunk)
            ckpt.items += len(records)
            ckpt.pages += page.fetched
            if page.batch.failures:
                ckpt.failures = merge_failures([*ckpt.failures, *page.batch.failures])
            if page.batch.next_cursor is None:
                self._finish(index)
            else:
                ckpt.cursors[index] = page.batch.next_cursor
        self._flush(chunks)
        self._progress.update(done=self._done_size, items=ckpt.items, pages=ckpt.pages)

    def _flush(self, chunks: list[bytes]) -> None:
        if chunks:
            try:
                self._out.write(b"".join(chunks))
            except OSError:
                self._stale = True
                raise
            chunks.clear()
        self.ckpt.output_bytes = self._out.size

    def _finish(self, index: int) -> None:
        ckpt = self.ckpt
        ckpt.done.add(index)
        ckpt.cursors.pop(index, None)
        ckpt.starts.pop(index, None)
        ckpt.restarted.discard(index)
        self._written.pop(index, None)
        self._done_size += ckpt.sizes[index]

    def _restart(self, index: int) -> None:
        """Unit ``index`` starts over: from its first page, skipping what it wrote."""
        ckpt = self.ckpt
        ckpt.cursors.pop(index, None)
        ckpt.restarted.add(index)
        # Unknown for a checkpoint of an earlier release: then everything is read, and the
        # first page of the new pass must not move the start past what the unit wrote.
        ckpt.starts.setdefault(index, self._header_size)
        self._written.pop(index, None)  # read again: it wrote more since the last read

    def _keys_reader(self, index: int) -> Callable[[], set[Key]]:
        """Reads the identities already in the output from where unit ``index`` began
        (the whole output after the header for a checkpoint without its start)."""
        return functools.partial(
            self._encoder.read_keys,
            self._out.path,
            max(self.ckpt.starts.get(index, 0), self._header_size),
            self._out.size,
        )

    def _unwritten(self, index: int, records: Sequence[JsonObject]) -> list[JsonObject]:
        """The records of a restarted unit not in the output yet (now counted as in it)."""
        written = self._written[index]
        fresh = []
        for record in records:
            keys = self._encoder.keys(record)
            if keys and keys[0] in written:
                continue
            written.update(keys)
            fresh.append(record)
        return fresh

    async def _commit(self) -> None:
        if not self._dirty or self._ckpt is None or self._stale:
            return
        # Every write went through _flush, so the size is the checkpoint's length already.
        self._ckpt.output_sha256 = self._out.digest()
        snapshot = self._ckpt.to_bytes()
        self._dirty = False
        try:
            await anyio.to_thread.run_sync(self._persist, snapshot)
        except BaseException:
            self._dirty = True
            raise
        self._last_commit = time.monotonic()

    def _persist(self, snapshot: bytes) -> None:
        self._out.sync()
        write_atomic(self._path, snapshot)


def _options_text(options: JsonObject) -> str:
    """Table options as the command's flags would give them."""
    zone = options.get("timezone")
    return ", ".join(
        [
            f"--timezone {zone}" if zone else "the machine's time zone",
            "--csv-raw-formulas" if options.get("raw_formulas") else "formulas neutralised",
            "BOM" if options.get("bom", True) else "--no-bom",
        ]
    )
