"""The shard ledger: which shard of a distributed export is pending, leased or committed.

The ledger, not the task queue, decides who runs a shard and whose output counts. The
broker only has to deliver "run shard k" at least once: a message delivered twice, or
to a worker that died, costs a refused claim, never a duplicate record.

Each transition is one Lua script (one round trip, atomic), and every time comes from
Redis' ``TIME``, never from a worker's clock::

    claim       pending, or leased with the lease expired  ->  leased (a new epoch)
    heartbeat   leased with my epoch and owner             ->  lease extended
    commit      leased with my epoch and owner             ->  committed (once, for ever)
    release     leased with my epoch and owner (it failed) ->  pending after a pause, or
                                                               failed after max_errors

The **epoch** is the fencing token: every grant takes a value above the export's fence
counter and stores it there, so a worker whose lease was taken over (it was paused, or
cut off) holds an older epoch, and its heartbeat and its commit are refused. A lease
that expired but was not taken over still holds: the epoch is what counts, not the
clock. An epoch is also at least Redis' clock in microseconds, so a fence that Redis
lost (restarted without its data) or rolled back (restarted from an older snapshot, an
asynchronous replica promoted) never grants again an epoch a worker from before still
holds; and the owner is checked with the epoch, so even two grants of one epoch (a
clock set back as well) never both count. A part's file name holds both (see
:mod:`._parts`): two leases never write one file.

Keys of export ``E`` (one hash tag, so every script runs on a cluster too)::

    <prefix>{E}:meta          hash: kind, directory, request, corps, shards, committed,
                              failed, fence, created; waiting, waiting_at: why a worker
                              could not run its shards, and when (Redis time, seconds)
    <prefix>{E}:shards        hash: <k>:<field> for every shard k (state, epoch, owner,
                              expires, corp, spec, size, file, items, commits, refused,
                              errors, error, failures)
    <prefix>{E}:open:<corp>   sorted set: the shards of a corp not committed or failed,
                              scored by when they can be claimed (ms, Redis time; 0: now)
    <prefix>active            set: the ids of exports with open shards
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from ..._exceptions import WeComError
from ..._logging import redact
from ...models._base import JsonObject
from .._store import is_url, url_problem

__all__ = [
    "DEFAULT_PREFIX",
    "Claim",
    "ExportInfo",
    "ExportStatus",
    "Ledger",
    "LedgerError",
    "ShardPlan",
    "ShardState",
    "ShardStatus",
]

#: What every key of the ledger starts with by default.
DEFAULT_PREFIX: Final = "wecom:export:"

ShardState = Literal["pending", "leased", "committed", "failed"]

# KEYS: meta, shards, open (of the corps the caller serves...). ARGV: owner, lease ms,
# shard id ("" for any claimable shard of the given corps).
# Reply: {-1} no such export | {0, ms until one may be claimable or -1}
#      | {1, k, epoch, corp, spec, the open set it was in}.
_CLAIM: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(redis.call('HGET', KEYS[1], 'shards')) or 0
-- A member of an open set that is no shard of the export, or a shard committed or
-- failed already, was never put there by these scripts: it is dropped, never leased
-- (a second commit of a shard would be counted twice).
local function claimable(k)
  local n = tonumber(k)
  if n == nil or n < 0 or n >= count or n ~= math.floor(n) or tostring(n) ~= k then
    return false
  end
  local state = redis.call('HGET', KEYS[2], k .. ':state')
  return state == 'pending' or state == 'leased'
end
local k = ARGV[3]
local open = nil
if k == '' then
  local soonest = -1
  for i = 3, #KEYS do
    local due = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    while due[1] and not claimable(due[1]) do
      redis.call('ZREM', KEYS[i], due[1])
      due = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    end
    if due[1] then
      if tonumber(due[2]) <= now then
        k, open = due[1], KEYS[i]
        break
      end
      local wait = tonumber(due[2]) - now
      if soonest < 0 or wait < soonest then soonest = wait end
    end
  end
  if open == nil then return {0, soonest} end
else
  if not claimable(k) then return {0, -1} end
  -- The shard's open set is the caller's only if it serves the shard's corp: KEYS[1]
  -- is "<prefix>{E}:meta", the open sets "<prefix>{E}:open:<corp>".
  local corp = redis.call('HGET', KEYS[2], k .. ':corp')
  for i = 3, #KEYS do
    if corp and KEYS[i] == KEYS[1]:sub(1, -5) .. 'open:' .. corp then open = KEYS[i] end
  end
  if open == nil then return {0, -1} end
  local due = redis.call('ZSCORE', open, k)
  if not due then return {0, -1} end
  if tonumber(due) > now then return {0, tonumber(due) - now} end
end
-- Above the fence and above Redis' clock in microseconds: a fence rolled back (Redis
-- restarted from an older snapshot, a replica promoted) still grants a new epoch.
local fence = tonumber(redis.call('HGET', KEYS[1], 'fence')) or 0
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
local epoch = string.format('%.0f', math.max(fence + 1, micros))
redis.call('HSET', KEYS[1], 'fence', epoch)
local expires = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[2], k .. ':state', 'leased', k .. ':epoch', epoch,
  k .. ':owner', ARGV[1], k .. ':expires', expires)
redis.call('ZADD', open, expires, k)
local shard = redis.call('HMGET', KEYS[2], k .. ':corp', k .. ':spec')
return {1, k, epoch, shard[1] or '', shard[2] or '', open}
"""

# KEYS: meta. ARGV: the note. Reply: 1 noted | 0 no such export.
_NOTE: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'waiting', ARGV[1], 'waiting_at', redis.call('TIME')[1])
return 1
"""
#: The longest note kept.
_NOTE_CHARS: Final = 500

# KEYS: meta, shards, open of the shard's corp. ARGV: shard id, epoch, lease ms, owner.
# Reply: ms the lease now lasts, or 0: the shard is no longer this lease's.
_HEARTBEAT: Final = """
local k = ARGV[1]
local state = redis.call('HMGET', KEYS[2], k .. ':state', k .. ':epoch', k .. ':owner')
if state[1] ~= 'leased' or state[2] ~= ARGV[2] or state[3] ~= ARGV[4] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expires = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[2], k .. ':expires', expires)
redis.call('ZADD', KEYS[3], expires, k)
return tonumber(ARGV[3])
"""

# KEYS: meta, shards, open of the shard's corp. ARGV: shard id, epoch, file, items,
# failures (JSON), owner. Reply: 1 committed | 2 committed already by this very call (a
# retry after a lost answer) | 0 refused (not this lease's, or another part committed).
_COMMIT: Final = """
local k = ARGV[1]
local state = redis.call('HMGET', KEYS[2], k .. ':state', k .. ':epoch', k .. ':file',
  k .. ':owner')
local mine = state[2] == ARGV[2] and state[4] == ARGV[6]
if state[1] == 'committed' and mine and state[3] == ARGV[3] then
  return 2
end
if state[1] ~= 'leased' or not mine then
  if state[1] then redis.call('HINCRBY', KEYS[2], k .. ':refused', 1) end
  return 0
end
redis.call('HSET', KEYS[2], k .. ':state', 'committed', k .. ':file', ARGV[3],
  k .. ':items', ARGV[4], k .. ':failures', ARGV[5], k .. ':expires', 0)
redis.call('HINCRBY', KEYS[2], k .. ':commits', 1)
redis.call('ZREM', KEYS[3], k)
redis.call('HINCRBY', KEYS[1], 'committed', 1)
redis.call('HINCRBY', KEYS[1], 'items', tonumber(ARGV[4]))
return 1
"""

# KEYS: meta, shards, open of the shard's corp. ARGV: shard id, epoch, error, max
# errors, pause ms, owner. Reply: the new state, or "" when the shard is not this lease's.
_RELEASE: Final = """
local k = ARGV[1]
local state = redis.call('HMGET', KEYS[2], k .. ':state', k .. ':epoch', k .. ':owner')
if state[1] ~= 'leased' or state[2] ~= ARGV[2] or state[3] ~= ARGV[6] then
  return ''
end
local errors = redis.call('HINCRBY', KEYS[2], k .. ':errors', 1)
redis.call('HSET', KEYS[2], k .. ':error', ARGV[3], k .. ':expires', 0)
if errors >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[2], k .. ':state', 'failed')
  redis.call('ZREM', KEYS[3], k)
  redis.call('HINCRBY', KEYS[1], 'failed', 1)
  return 'failed'
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], k .. ':state', 'pending')
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]), k)
return 'pending'
"""

# KEYS: meta, shards, then the open set of each corp in ARGV[2]'s order.
# ARGV: meta fields (JSON object), shards (JSON list of [corp index, spec, size,
# committed file or false, items, failures]). Reply: 1 created | 0 it exists already.
_CREATE: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local t = redis.call('TIME')
local meta = cjson.decode(ARGV[1])
local shards = cjson.decode(ARGV[2])
local committed, items = 0, 0
for k0, shard in ipairs(shards) do
  local k = tostring(k0 - 1)
  redis.call('HSET', KEYS[2], k .. ':corp', meta['corps'][shard[1]], k .. ':spec', shard[2],
    k .. ':size', shard[3], k .. ':commits', 0, k .. ':refused', 0, k .. ':errors', 0)
  if shard[4] then
    redis.call('HSET', KEYS[2], k .. ':state', 'committed', k .. ':file', shard[4],
      k .. ':items', shard[5], k .. ':failures', shard[6])
    committed = committed + 1
    items = items + shard[5]
  else
    redis.call('HSET', KEYS[2], k .. ':state', 'pending')
    redis.call('ZADD', KEYS[2 + shard[1]], 0, k)
  end
end
redis.call('HSET', KEYS[1], 'kind', meta['kind'], 'directory', meta['directory'],
  'request', meta['request'], 'corps', cjson.encode(meta['corps']), 'shards', #shards,
  'committed', committed, 'items', items, 'failed', 0, 'created', t[1],
  'fence', t[1] .. string.format('%06d', tonumber(t[2])))
return 1
"""


@dataclass(frozen=True)
class ShardPlan:
    """One shard as planned: the corp it belongs to and its unit of the export kind.

    Attributes:
        corp: the corp's label.
        spec: the unit's spec (what the kind's ``fetch`` needs).
        size: its weight in the progress display.
        committed: the committed part's file name, when the shard is known committed
            (a ledger rebuilt from the output directory).
        items: records in the committed part.
        failures: partial failures the committed shard reported (JSON).
    """

    corp: str
    spec: JsonObject
    size: int = 1
    committed: str | None = None
    items: int = 0
    failures: str = "[]"


@dataclass(frozen=True)
class Claim:
    """A lease on a shard: run it, heartbeat it, commit it with this epoch and owner.

    The ledger checks both: the epoch fences a lease taken over, the owner a second
    lease granted the same epoch (a fence that Redis rolled back and its clock did not
    outrun).
    """

    export_id: str
    shard: int
    epoch: int
    corp: str
    spec: JsonObject
    owner: str = ""


@dataclass(frozen=True)
class ShardStatus:
    """What the ledger holds about one shard."""

    shard: int
    corp: str
    state: ShardState
    epoch: int
    spec: JsonObject
    size: int
    file: str | None
    items: int
    commits: int
    refused: int
    errors: int
    error: str | None
    failures: list[JsonObject] = field(default_factory=list)


@dataclass(frozen=True)
class ExportInfo:
    """What a worker needs to know of an export to run its shards."""

    export_id: str
    kind: str
    directory: str
    request: JsonObject
    corps: list[str]


@dataclass(frozen=True)
class ExportStatus:
    """What the ledger holds about one export."""

    export_id: str
    kind: str
    directory: str
    request: JsonObject
    corps: list[str]
    committed: int
    failed: int
    items: int
    shards: list[ShardStatus]
    #: Why a worker could not run the export's shards (its files out of its reach), the
    #: newest such note; None: no worker said so.
    waiting: str | None = None
    #: When that note was made (Unix seconds, Redis' clock).
    waiting_at: int | None = None

    @property
    def complete(self) -> bool:
        """Every shard is committed or failed for good."""
        return self.committed + self.failed == len(self.shards)


class Ledger:
    """The scripts of the shard ledger on one Redis; see the module docstring.

    Args:
        redis: a ``redis.asyncio.Redis`` client (never closed by the ledger).
        prefix: what every key starts with.
    """

    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis = redis
        self.prefix = prefix
        self._claim = redis.register_script(_CLAIM)
        self._heartbeat = redis.register_script(_HEARTBEAT)
        self._commit = redis.register_script(_COMMIT)
        self._release = redis.register_script(_RELEASE)
        self._create = redis.register_script(_CREATE)
        self._note = redis.register_script(_NOTE)

    def __repr__(self) -> str:
        return f"Ledger(prefix={self.prefix!r})"

    def _meta(self, export_id: str) -> str:
        return f"{self.prefix}{{{export_id}}}:meta"

    def _shards(self, export_id: str) -> str:
        return f"{self.prefix}{{{export_id}}}:shards"

    def _open(self, export_id: str, corp: str) -> str:
        return f"{self.prefix}{{{export_id}}}:open:{corp}"

    @property
    def _active(self) -> str:
        return f"{self.prefix}active"

    async def create(
        self,
        export_id: str,
        *,
        kind: str,
        directory: str,
        request: JsonObject,
        corps: Sequence[str],
        shards: Sequence[ShardPlan],
    ) -> bool:
        """Record a new export (or rebuild a lost one); False if the ledger has it already."""
        index = {corp: i + 1 for i, corp in enumerate(corps)}
        meta = {
            "kind": kind,
            "directory": directory,
            "request": json.dumps(request, sort_keys=True),
            "corps": list(corps),
        }
        rows = [
            [
                index[s.corp],
                json.dumps(s.spec, sort_keys=True),
                s.size,
                s.committed or False,
                s.items,
                s.failures,
            ]
            for s in shards
        ]
        keys = [self._meta(export_id), self._shards(export_id)]
        keys += [self._open(export_id, corp) for corp in corps]
        created = await self._create(keys=keys, args=[json.dumps(meta), json.dumps(rows)])
        await self.redis.sadd(self._active, export_id)
        return bool(created)

    async def claim(
        self, export_id: str, corps: Sequence[str], owner: str, lease: float, shard: int | None
    ) -> Claim | float | None:
        """Lease ``shard`` (or any claimable shard of ``corps``) for ``lease`` seconds.

        Returns:
            The claim; or the seconds until a shard of ``corps`` may become claimable
            (``math.inf``: none will: every one is committed, failed, or not ``corps``');
            or None when the ledger has no such export.
        """
        keys = [self._meta(export_id), self._shards(export_id)]
        keys += [self._open(export_id, corp) for corp in corps]
        args: list[str | int] = [owner, _ms(lease), "" if shard is None else str(shard)]
        reply = await self._claim(keys=keys, args=args)
        head = _ints(reply[:3] if isinstance(reply, list) else reply)
        if head[0] == -1:
            return None
        if head[0] == 0:
            return float("inf") if head[1] < 0 else head[1] / 1000
        open_key = _text(reply[5])
        claim = Claim(export_id, head[1], head[2], "", {}, owner)
        try:
            corp = _text(reply[3])
            if open_key != self._open(export_id, corp):
                raise ValueError(f"its corp {corp!r} is not the corp of its open set")
            claim = Claim(export_id, head[1], head[2], corp, _object(_text(reply[4])), owner)
        except (ValueError, TypeError) as error:
            await self._fail(claim, open_key, f"LedgerError: {error}")
            raise LedgerError(
                f"shard {claim.shard} of export {export_id} cannot be read from the ledger "
                f"({error}); it is marked failed"
            ) from None
        return claim

    async def _fail(self, claim: Claim, open_key: str, reason: str) -> None:
        """Mark a leased shard failed for good (its ledger data cannot be run)."""
        export_id = claim.export_id
        await self._release(
            keys=[self._meta(export_id), self._shards(export_id), open_key],
            args=[claim.shard, claim.epoch, reason[:500], 1, 0, claim.owner],
        )

    async def heartbeat(self, claim: Claim, lease: float) -> bool:
        """Extend the lease by ``lease`` seconds; False: the shard is no longer ours."""
        reply = await self._heartbeat(
            keys=self._shard_keys(claim),
            args=[claim.shard, claim.epoch, _ms(lease), claim.owner],
        )
        return bool(_int(reply))

    async def commit(
        self, claim: Claim, file: str, items: int, failures: Sequence[JsonObject]
    ) -> bool:
        """Record ``file`` as the shard's output; False (refused): not ours any more."""
        reply = await self._commit(
            keys=self._shard_keys(claim),
            args=[claim.shard, claim.epoch, file, items, json.dumps(list(failures)), claim.owner],
        )
        return bool(_int(reply))

    async def release(
        self, claim: Claim, error: str, *, max_errors: int, pause: float
    ) -> ShardState | None:
        """Give the shard back after a failure: pending again in ``pause`` seconds, or
        failed once it failed ``max_errors`` times. None: it was not ours any more."""
        reply = await self._release(
            keys=self._shard_keys(claim),
            args=[claim.shard, claim.epoch, error, max_errors, _ms(pause), claim.owner],
        )
        state = reply.decode() if isinstance(reply, bytes) else str(reply)
        if state in ("pending", "failed"):
            return "pending" if state == "pending" else "failed"
        return None

    def _shard_keys(self, claim: Claim) -> list[str]:
        export_id = claim.export_id
        return [self._meta(export_id), self._shards(export_id), self._open(export_id, claim.corp)]

    async def active(self) -> list[str]:
        """The ids of exports that may have shards to run (plain names only: anything
        else in the set was not put there by :meth:`create`)."""
        members = await self.redis.smembers(self._active)
        ids = (m.decode(errors="replace") if isinstance(m, bytes) else str(m) for m in members)
        return sorted(i for i in ids if plain_name(i))

    async def is_active(self, export_id: str) -> bool:
        """``export_id`` is in the active set (not finished yet)."""
        return bool(await self.redis.sismember(self._active, export_id))

    async def retire(self, export_id: str) -> None:
        """Take a finished (or forgotten) export out of the active set."""
        await self.redis.srem(self._active, export_id)

    async def info(self, export_id: str) -> ExportInfo | None:
        """The export's kind, directory, request and corps; None: no such export.

        Raises:
            LedgerError: the ledger's fields cannot be read.
        """
        names = ("kind", "directory", "request", "corps")
        values = await self.redis.hmget(self._meta(export_id), list(names))
        if all(value is None for value in values):
            return None
        meta = {name: _text(v) for name, v in zip(names, values, strict=True) if v is not None}
        with _reading(export_id):
            return ExportInfo(export_id, *_export_fields(export_id, meta))

    async def complete(self, export_id: str) -> bool:
        """Every shard of ``export_id`` is committed or failed (False: not, or no such
        export); one cheap read, not the whole ledger."""
        values = await self.redis.hmget(self._meta(export_id), ["shards", "committed", "failed"])
        try:
            shards, committed, failed = (int(_text(v)) for v in values if v is not None)
        except ValueError:
            return False
        return committed + failed == shards

    async def note_waiting(self, export_id: str, note: str) -> None:
        """Record why a worker cannot run ``export_id``'s shards (``export status`` shows
        it; the newest note replaces the one before). Nothing for an export the ledger
        does not have.

        Args:
            export_id: the export.
            note: the reason, without secrets (redacted again, cut to 500 characters).
        """
        await self._note(keys=[self._meta(export_id)], args=[redact(note)[:_NOTE_CHARS]])

    async def status(self, export_id: str) -> ExportStatus | None:
        """Everything the ledger holds about an export; None: it has no such export.

        Raises:
            LedgerError: the ledger's fields cannot be read.
        """
        meta = _texts(await self.redis.hgetall(self._meta(export_id)))
        if not meta:
            return None
        fields = _texts(await self.redis.hgetall(self._shards(export_id)))
        with _reading(export_id):
            kind, directory, request, corps = _export_fields(export_id, meta)
            return ExportStatus(
                export_id=export_id,
                kind=kind,
                directory=directory,
                request=request,
                corps=corps,
                committed=_count(meta["committed"]),
                failed=_count(meta["failed"]),
                items=_count(meta["items"]),
                shards=[_shard(k, fields) for k in range(_count(meta["shards"]))],
                waiting=meta.get("waiting"),
                waiting_at=_seconds(meta.get("waiting_at")),
            )


class LedgerError(WeComError):
    """Raised when what the ledger holds in Redis cannot be used: a field that is not
    what the scripts write (garbage), or an export id that exists already."""


#: An export id, a corp label, a file name read from Redis: one plain name, never a path.
_PLAIN: Final = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")


def plain_name(text: str) -> bool:
    """``text`` is one plain name (letters, digits, ``.``, ``_``, ``-``; not a path,
    not ``..``)."""
    return _PLAIN.fullmatch(text) is not None


@contextlib.contextmanager
def _reading(export_id: str) -> Iterator[None]:
    try:
        yield
    except (KeyError, ValueError, TypeError) as error:
        problem = f"no field {error}" if isinstance(error, KeyError) else str(error)
        raise LedgerError(f"the ledger of export {export_id} is damaged ({problem})") from None


def _export_fields(
    export_id: str, meta: Mapping[str, str]
) -> tuple[str, str, JsonObject, list[str]]:
    """Kind, directory, request and corps of the export's meta, checked."""
    if not plain_name(export_id):
        raise ValueError(f"export id {export_id!r} is not a plain name")
    directory = meta["directory"]
    if is_url(directory):
        if url_problem(directory):  # never repeated: it may hold a secret
            raise ValueError("directory is not a URL an export may use")
    elif not Path(directory).is_absolute() or ".." in Path(directory).parts or "\0" in directory:
        raise ValueError(f"directory {directory!r} is not an absolute path without '..'")
    corps = json.loads(meta["corps"])
    if not isinstance(corps, list) or not all(isinstance(c, str) and plain_name(c) for c in corps):
        raise ValueError("corps is not a list of corp labels")
    return _name(meta["kind"]), directory, _object(meta["request"]), corps


def _shard(k: int, fields: Mapping[str, str]) -> ShardStatus:
    def get(name: str) -> str | None:
        return fields.get(f"{k}:{name}")

    state = get("state") or "pending"
    if state not in ("pending", "leased", "committed", "failed"):
        raise ValueError(f"shard {k} is in no state the ledger knows: {state!r}")
    file = get("file")
    if file is not None and not plain_name(file):
        raise ValueError(f"shard {k}'s file {file!r} is not a plain file name")
    failures = json.loads(get("failures") or "[]")
    if not isinstance(failures, list) or not all(isinstance(f, dict) for f in failures):
        raise ValueError(f"shard {k}'s failures are not a list of objects")
    try:
        return ShardStatus(
            shard=k,
            corp=get("corp") or "",
            state=state,  # type: ignore[arg-type]  # checked above
            epoch=_count(get("epoch") or "0"),
            spec=_object(get("spec") or "{}"),
            size=_count(get("size") or "1"),
            file=file,
            items=_count(get("items") or "0"),
            commits=_count(get("commits") or "0"),
            refused=_count(get("refused") or "0"),
            errors=_count(get("errors") or "0"),
            error=get("error"),
            failures=failures,
        )
    except ValueError as error:
        raise ValueError(f"shard {k}: {error}") from None


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"{text!r} is not a count")
    return value


def _seconds(text: str | None) -> int | None:
    """A note's time; None if absent or not a time (a note never makes status fail)."""
    try:
        return _count(text) if text is not None else None
    except ValueError:
        return None


def _name(text: str) -> str:
    if not plain_name(text):
        raise ValueError(f"{text!r} is not a plain name")
    return text


def _object(text: str) -> JsonObject:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"{text[:80]!r} is not a JSON object")
    return value


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _texts(mapping: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in mapping.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _int(value: object) -> int:
    if isinstance(value, int):
        return value
    raise ResponseError(f"unexpected answer from a ledger script: {value!r}")


def _ints(reply: object) -> list[int]:
    if not isinstance(reply, list) or not reply:
        raise ResponseError(f"unexpected answer from a ledger script: {reply!r}")
    return [int(_text(part)) if isinstance(part, bytes | str) else _int(part) for part in reply]
