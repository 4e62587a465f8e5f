"""The corps file of ``wecom-async export --corps``: which corps to export, with which
credentials, read and checked whole before any request.

A TOML file lists the corps; each is a self-built app (corp id and app secret) or a corp
that authorized a service provider's app (corp id, a ``[provider.<name>]`` section and the
corp's permanent code)::

    [[corp]]
    corp_id = "ww1111"
    secret_env = "WECOM_SECRET_1111"          # or secret_file = "secrets/ww1111"

    [[corp]]
    corp_id = "ww3333"
    provider = "acme"
    permanent_code_file = "codes/ww3333"      # or permanent_code_env = "..."

    [provider.acme]
    suite_id = "wwsuite"
    suite_secret_env = "ACME_SUITE_SECRET"    # or suite_secret_file
    kind = "third_party"                      # or "custom" (代开发, needs no ticket)
    suite_ticket_file = "/run/acme/ticket"    # or suite_ticket_env, or
                                              # suite_ticket_redis_key (with --redis-url)

Secrets are never written in the file itself: each comes from an environment variable
(``*_env``) or a file (``*_file``, relative to the corps file, surrounding whitespace
stripped), so that the corps file can be kept in version control. An inline ``secret``,
``suite_secret``, ``permanent_code`` or ``suite_ticket`` is refused. Every value is read
when the file is loaded; what is missing or malformed is a :class:`CorpsFileError`
naming the entry (its position and corp id) and the key, never a secret's value.

:func:`load_corps` is independent of the command: a distributed worker builds the same
clients with :meth:`CorpEntry.client`.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn, cast

import httpx

from .._client import DEFAULT_BASE_URL, DEFAULT_MAX_IN_FLIGHT, WeComClient
from .._exceptions import WeComError
from .._logging import Secret, register_secret
from .._retry import DEFAULT_DEADLINE, RetryPolicy
from .._token import TokenStore
from .._wire import RateBudget
from ..provider import AppKind, ProviderApp, SuiteTicketStore
from ._userfile import read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["CorpEntry", "CorpsFileError", "ProviderSuite", "load_corps", "ticket_keys"]

#: What a corp id may hold: it names the corp's output folder, so no separator or dot-dot.
_CORP_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_CORP_KEYS: Final = frozenset(
    {
        "corp_id",
        "secret_env",
        "secret_file",
        "provider",
        "permanent_code_env",
        "permanent_code_file",
    }
)
_PROVIDER_KEYS: Final = frozenset(
    {
        "suite_id",
        "suite_secret_env",
        "suite_secret_file",
        "kind",
        "suite_ticket_env",
        "suite_ticket_file",
        "suite_ticket_redis_key",
    }
)
#: Keys that would put a secret in the file itself.
_INLINE: Final = frozenset({"secret", "suite_secret", "permanent_code", "suite_ticket"})


class CorpsFileError(WeComError, ValueError):
    """Raised when the corps file cannot be read or an entry is incomplete or malformed;
    the message names the entry and the key, never a secret."""


@dataclass(frozen=True, kw_only=True)
class ProviderSuite:
    """A ``[provider.<name>]`` section: a service provider's suite and its credentials."""

    name: str
    suite_id: str
    suite_secret: str = field(repr=False)
    kind: AppKind
    #: The suite ticket read from the file or environment (third-party apps), if any.
    suite_ticket: str | None = field(default=None, repr=False)
    #: The Redis key holding the latest suite ticket (with ``--redis-url``), if any.
    suite_ticket_redis_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class CorpEntry:
    """One corp of the corps file, its credentials resolved."""

    #: The entry's position in the file, from 1.
    index: int
    corp_id: str
    #: The app secret of a self-built app (None for a provider corp).
    secret: str | None = field(default=None, repr=False)
    #: The provider suite of a corp that authorized a provider's app (None: self-built).
    provider: ProviderSuite | None = None
    #: The corp's permanent code (provider corps).
    permanent_code: str | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """``corp #2 (ww1234)``: how messages name the entry."""
        return f"corp #{self.index} ({self.corp_id})"

    def secrets(self) -> tuple[str, ...]:
        """Every secret value of the entry, for redacting output."""
        suite = self.provider
        values = (
            self.secret,
            self.permanent_code,
            suite.suite_secret if suite else None,
            suite.suite_ticket if suite else None,
        )
        return tuple(value for value in values if value)

    @contextlib.asynccontextmanager
    async def client(
        self,
        *,
        http_client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        token_store: TokenStore | None = None,
        rate_budget: RateBudget | None = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        deadline: float = DEFAULT_DEADLINE,
        redis: Redis | None = None,
    ) -> AsyncIterator[WeComClient]:
        """Yield :meth:`build_client`'s client, closed on exit (``http_client`` left open).

        Args:
            http_client, base_url, token_store, rate_budget, retry, max_in_flight,
                deadline, redis: as for :meth:`build_client`.

        Raises:
            CorpsFileError: the suite ticket is in Redis and ``redis`` is None.
        """
        async with self.build_client(
            http_client=http_client,
            base_url=base_url,
            token_store=token_store,
            rate_budget=rate_budget,
            retry=retry,
            max_in_flight=max_in_flight,
            deadline=deadline,
            redis=redis,
        ) as client:
            yield client

    def build_client(
        self,
        *,
        http_client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        token_store: TokenStore | None = None,
        rate_budget: RateBudget | None = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        deadline: float = DEFAULT_DEADLINE,
        redis: Redis | None = None,
    ) -> WeComClient:
        """Return a client of this corp on ``http_client``, which closing it leaves open.

        A self-built entry is a :class:`~wecom_async.WeComClient` of its corp id and
        secret; a provider entry is ``client_for(corp_id)`` of a
        :class:`~wecom_async.provider.ProviderApp` holding the suite credentials, the
        corp's permanent code and the suite ticket (read from ``redis`` when the section
        names a ``suite_ticket_redis_key``). Nothing is sent until the client is used.
        What a distributed worker's client factory returns.

        Args:
            http_client: the HTTP client every request goes through.
            base_url, token_store, rate_budget, retry, deadline: as for
                :class:`~wecom_async.WeComClient`. Share one ``token_store`` between the
                entries of a run: the corps of one suite then share its suite token.
            max_in_flight: the in-flight cap of a self-built client (a provider client
                relies on ``http_client``'s pool).
            redis: the Redis client of ``--redis-url``, for a suite ticket kept there.

        Returns:
            The client (the caller closes it).

        Raises:
            CorpsFileError: the suite ticket is in Redis and ``redis`` is None.
        """
        suite = self.provider
        if suite is None:
            return WeComClient(
                self.corp_id,
                cast(str, self.secret),
                http_client=http_client,
                base_url=base_url,
                token_store=token_store,
                retry=retry,
                max_in_flight=max_in_flight,
                rate_budget=rate_budget,
                deadline=deadline,
            )
        # The app owns nothing (the HTTP client is the caller's): closing its one client
        # is all the cleanup it needs.
        app = ProviderApp(
            suite.suite_id,
            suite.suite_secret,
            kind=suite.kind,
            permanent_codes=_FixedCode(self.corp_id, cast(str, self.permanent_code)),
            tickets=_tickets(suite, redis),
            token_store=token_store,
            http_client=http_client,
            base_url=base_url,
            retry=retry,
            deadline=deadline,
            rate_budget=rate_budget,
        )
        return app.client_for(self.corp_id)


class _FixedCode:
    """The one corp's permanent code read from the corps file's environment or a file."""

    def __init__(self, corp_id: str, code: str) -> None:
        self._corp_id, self._code = corp_id, code

    def __repr__(self) -> str:
        return f"_FixedCode(corp_id={self._corp_id!r}, code=***)"

    async def get(self, corp_id: str) -> str | None:
        return self._code if corp_id == self._corp_id else None

    async def put(self, corp_id: str, permanent_code: str) -> None:
        register_secret(permanent_code)
        if corp_id == self._corp_id:
            self._code = permanent_code

    async def delete(self, corp_id: str) -> None:
        pass  # the file is the source of truth: an uninstall is the operator's edit


class _FixedTicket:
    """The suite ticket given in the file's environment or a file: WeCom judges it
    (40085 when it has expired)."""

    def __init__(self, ticket: str) -> None:
        self._ticket = ticket

    def __repr__(self) -> str:
        return "_FixedTicket(***)"

    async def get(self, suite_id: str) -> str | None:
        return self._ticket

    async def put(self, suite_id: str, ticket: str) -> None:
        register_secret(ticket)
        self._ticket = ticket


class _RedisTicket:
    """The latest suite ticket under a Redis key that the provider's callback receiver
    keeps up to date (a plain string value); read at each suite-token fetch."""

    def __init__(self, redis: Redis, key: str) -> None:
        self._redis, self._key = redis, key

    def __repr__(self) -> str:
        return f"_RedisTicket(key={self._key!r})"

    async def get(self, suite_id: str) -> str | None:
        from redis.exceptions import RedisError

        from .._exceptions import SuiteTicketError

        try:
            value = await self._redis.get(self._key)
        except RedisError as error:
            raise SuiteTicketError(
                f"the suite ticket of {suite_id!r} could not be read from Redis key "
                f"{self._key!r} ({type(error).__name__})"
            ) from None
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str) or not value.strip():
            return None
        register_secret(value.strip())
        return value.strip()

    async def put(self, suite_id: str, ticket: str) -> None:
        register_secret(ticket)
        await self._redis.set(self._key, ticket)


def _tickets(suite: ProviderSuite, redis: Redis | None) -> SuiteTicketStore | None:
    if suite.suite_ticket_redis_key is not None:
        if redis is None:
            raise CorpsFileError(
                f"provider {suite.name!r} reads its suite ticket from Redis: give --redis-url"
            )
        return _RedisTicket(redis, suite.suite_ticket_redis_key)
    if suite.suite_ticket is not None:
        return _FixedTicket(suite.suite_ticket)
    return None  # a custom (代开发) app needs no ticket


def ticket_keys(entries: list[CorpEntry]) -> list[str]:
    """The Redis keys the entries' suite tickets are read from (empty: Redis not needed)."""
    return sorted(
        {
            e.provider.suite_ticket_redis_key
            for e in entries
            if e.provider is not None and e.provider.suite_ticket_redis_key is not None
        }
    )


#: The largest secret file read (a secret, a permanent code, a ticket: a few hundred bytes).
_MAX_SECRET_FILE: Final = 64 * 1024
#: The largest corps file read (thousands of corps fit in far less).
_MAX_CORPS_FILE: Final = 16 * 1024 * 1024


def load_corps(path: Path, *, environ: Mapping[str, str] | None = None) -> list[CorpEntry]:
    """Read the corps file at ``path`` and every secret it points to.

    Args:
        path: the TOML file (see the module docstring).
        environ: where ``*_env`` names are looked up (default: ``os.environ``).

    Returns:
        The corps in file order.

    Raises:
        CorpsFileError: the file cannot be read or parsed, lists no corp, lists a corp
            id twice, or an entry is incomplete, malformed or names a secret that is
            missing or empty.
    """
    try:
        document = tomllib.loads(read_regular(path, _MAX_CORPS_FILE).decode("utf-8"))
    except OSError as error:
        raise CorpsFileError(f"cannot read {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CorpsFileError(f"{path} is not valid TOML: {error}") from None
    except RecursionError:  # the parser recurses per level of nesting
        raise CorpsFileError(f"{path} is not valid TOML: nested too deeply to read") from None
    reader = _Reader(path, os.environ if environ is None else environ)
    unknown = set(document) - {"corp", "provider"}
    if unknown:
        reader.fail(
            path.name, f"unknown top-level keys {sorted(unknown)} (expected corp, provider)"
        )
    providers = reader.providers(document.get("provider", {}))
    corps = document.get("corp", [])
    if not isinstance(corps, list) or not corps:
        reader.fail(path.name, "lists no corps: add [[corp]] entries")
    entries: list[CorpEntry] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(corps, start=1):
        entry = reader.corp(index, table, providers)
        if entry.corp_id in seen:
            reader.fail(entry.label, f"corp_id is listed twice (also corp #{seen[entry.corp_id]})")
        seen[entry.corp_id] = index
        entries.append(entry)
    return entries


class _Reader:
    """Checks the tables of one corps file and resolves their secrets."""

    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self._path, self._environ = path, environ

    def fail(self, where: str, problem: str) -> NoReturn:
        raise CorpsFileError(f"{self._path}: {where}: {problem}")

    def providers(self, tables: object) -> dict[str, ProviderSuite]:
        if not isinstance(tables, dict):
            self.fail("provider", "must be a table of [provider.<name>] sections")
        return {
            name: self._provider(name, table)
            for name, table in cast(dict[str, object], tables).items()
        }

    def _provider(self, name: str, table: object) -> ProviderSuite:
        where = f"[provider.{name}]"
        keys = self._table(where, table, _PROVIDER_KEYS)
        suite_id = self._id(where, keys, "suite_id")
        kind = keys.get("kind", "third_party")
        if kind not in ("third_party", "custom"):
            self.fail(where, f"kind must be 'third_party' or 'custom', got {kind!r}")
        redis_key = keys.get("suite_ticket_redis_key")
        if redis_key is not None and (not isinstance(redis_key, str) or not redis_key):
            self.fail(where, "suite_ticket_redis_key must be a non-empty string")
        ticket_sources: list[str] = [
            k for k in ("suite_ticket_env", "suite_ticket_file") if k in keys
        ]
        if redis_key is not None:
            ticket_sources.append("suite_ticket_redis_key")
        if kind == "custom" and ticket_sources:
            self.fail(
                where, "a custom (代开发) app needs no suite ticket: remove " + ticket_sources[0]
            )
        if kind == "third_party" and len(ticket_sources) != 1:
            self.fail(
                where,
                "a third_party app needs its suite ticket from exactly one of "
                "suite_ticket_env, suite_ticket_file, suite_ticket_redis_key",
            )
        ticket = (
            self._secret(where, keys, "suite_ticket", required=False) if redis_key is None else None
        )
        return ProviderSuite(
            name=name,
            suite_id=suite_id,
            suite_secret=cast(str, self._secret(where, keys, "suite_secret")),
            kind=kind,
            suite_ticket=ticket,
            suite_ticket_redis_key=redis_key,
        )

    def corp(self, index: int, table: object, providers: dict[str, ProviderSuite]) -> CorpEntry:
        where = f"corp #{index}"
        keys = self._table(where, table, _CORP_KEYS)
        corp_id = self._id(where, keys, "corp_id")
        if not _CORP_ID.fullmatch(corp_id):
            self.fail(where, f"corp_id {corp_id!r} is not a corp id (letters, digits, _ and -)")
        where = f"corp #{index} ({corp_id})"
        name = keys.get("provider")
        if name is None:
            if "permanent_code_env" in keys or "permanent_code_file" in keys:
                self.fail(where, 'a permanent code needs provider = "<name>"')
            return CorpEntry(
                index=index, corp_id=corp_id, secret=self._secret(where, keys, "secret")
            )
        if not isinstance(name, str) or name not in providers:
            self.fail(where, f"provider {name!r} has no [provider.{name}] section")
        if "secret_env" in keys or "secret_file" in keys:
            self.fail(where, "a provider corp has a permanent code, not a secret")
        return CorpEntry(
            index=index,
            corp_id=corp_id,
            provider=providers[name],
            permanent_code=self._secret(where, keys, "permanent_code"),
        )

    def _table(self, where: str, table: object, allowed: frozenset[str]) -> dict[str, object]:
        if not isinstance(table, dict):
            self.fail(where, "must be a table")
        keys = cast(dict[str, object], table)
        inline = sorted(_INLINE & set(keys))
        if inline:
            self.fail(
                where,
                f"{inline[0]} is written in the file: give {inline[0]}_env (an environment "
                f"variable) or {inline[0]}_file (a file) instead",
            )
        unknown = sorted(set(keys) - allowed)
        if unknown:
            self.fail(where, f"unknown keys {unknown} (expected some of {sorted(allowed)})")
        return keys

    def _id(self, where: str, keys: dict[str, object], key: str) -> str:
        value = keys.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"{key} is missing (a non-empty string)")
        return value.strip()

    def _secret(
        self, where: str, keys: dict[str, object], name: str, *, required: bool = True
    ) -> str | None:
        env, file = keys.get(f"{name}_env"), keys.get(f"{name}_file")
        if env is not None and file is not None:
            self.fail(where, f"give {name}_env or {name}_file, not both")
        if env is None and file is None:
            if required:
                self.fail(where, f"{name}_env or {name}_file is missing")
            return None
        if env is not None:
            if not isinstance(env, str) or not env:
                self.fail(where, f"{name}_env must name an environment variable")
            value = self._environ.get(env, "").strip()
            source = f"environment variable {env}"
        else:
            if not isinstance(file, str) or not file:
                self.fail(where, f"{name}_file must be a path")
            target = self._path.parent / file
            try:
                value = read_regular(target, _MAX_SECRET_FILE).decode("utf-8").strip()
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or type(error).__name__
                self.fail(where, f"{name}_file {target} cannot be read ({reason})")
            source = f"{name}_file {target}"
        if not value:
            self.fail(where, f"{source} is not set or empty (it holds the {name})")
        register_secret(value)
        return Secret(value)
