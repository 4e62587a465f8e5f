"""Where a provider app keeps its suite tickets and the corps' permanent codes.

Both are small async protocols, so that a vendor's own storage backs them: the suite
ticket is pushed to whichever process receives callbacks and read by every process that
fetches the suite token (Redis, a database row); the permanent codes are the vendor's most
sensitive data and live in its database. The memory implementations serve one process
and tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

from .._logging import register_secret

__all__ = [
    "SUITE_TICKET_LIFETIME",
    "MemoryPermanentCodeStore",
    "MemorySuiteTicketStore",
    "PermanentCodeStore",
    "SuiteTicketStore",
]

#: Seconds a suite ticket stays valid after WeCom pushed it (D:90628: 30 minutes).
SUITE_TICKET_LIFETIME: Final = 1800.0


@runtime_checkable
class SuiteTicketStore(Protocol):
    """The latest ``suite_ticket`` of each suite."""

    async def get(self, suite_id: str) -> str | None:
        """Return the latest valid ticket of ``suite_id``, or None when there is none."""
        ...

    async def put(self, suite_id: str, ticket: str) -> None:
        """Keep ``ticket`` as the latest of ``suite_id`` (it replaces any older one)."""
        ...


@runtime_checkable
class PermanentCodeStore(Protocol):
    """The permanent code of each corp that authorized the app, keyed by corp id.

    Back it with the vendor's database; encrypt the codes at rest: a permanent code is
    the lasting credential of a corp (for a 代开发 app it *is* the app's secret).
    """

    async def get(self, corp_id: str) -> str | None:
        """Return the permanent code of ``corp_id``, or None when it has none (never
        authorized, or cancelled)."""
        ...

    async def put(self, corp_id: str, permanent_code: str) -> None:
        """Store the permanent code of ``corp_id`` (replacing a reset one)."""
        ...

    async def delete(self, corp_id: str) -> None:
        """Forget the permanent code of ``corp_id`` (its authorization was cancelled)."""
        ...


class MemorySuiteTicketStore:
    """A :class:`SuiteTicketStore` in this process's memory; a ticket expires after
    :data:`SUITE_TICKET_LIFETIME` seconds on ``clock`` (monotonic seconds)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tickets: dict[str, tuple[str, float]] = {}

    def __repr__(self) -> str:
        return f"MemorySuiteTicketStore(suites={len(self._tickets)})"

    async def get(self, suite_id: str) -> str | None:
        """See :meth:`SuiteTicketStore.get`."""
        entry = self._tickets.get(suite_id)
        if entry is None or self._clock() >= entry[1]:
            return None
        return entry[0]

    async def put(self, suite_id: str, ticket: str) -> None:
        """See :meth:`SuiteTicketStore.put`."""
        register_secret(ticket)
        self._tickets[suite_id] = (ticket, self._clock() + SUITE_TICKET_LIFETIME)


class MemoryPermanentCodeStore:
    """A :class:`PermanentCodeStore` in this process's memory (tests, demos)."""

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MemoryPermanentCodeStore(corps={len(self._codes)})"

    async def get(self, corp_id: str) -> str | None:
        """See :meth:`PermanentCodeStore.get`."""
        return self._codes.get(corp_id)

    async def put(self, corp_id: str, permanent_code: str) -> None:
        """See :meth:`PermanentCodeStore.put`."""
        register_secret(permanent_code)
        self._codes[corp_id] = permanent_code

    async def delete(self, corp_id: str) -> None:
        """See :meth:`PermanentCodeStore.delete`."""
        self._codes.pop(corp_id, None)
