"""What a route module sees: :class:`Route`, :class:`RequestContext` and the ``JSON`` alias.

A route module in :mod:`wecom_async.testing.routes` exposes ``ROUTES: list[Route]``; the
fake discovers it on its own.  A handler is a plain synchronous function that takes a
:class:`RequestContext` and returns the response data as a dict, without the envelope:
the framework adds ``errcode: 0, errmsg: "ok"``.  To answer an error, raise
:class:`~wecom_async.testing.WeComFault`.  Handlers run one at a time under the fake's
lock, so they may read and change the state freely.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ._clock import FakeClock
from ._cursor import CursorCodec
from ._json import JSON
from ._state import CorpState

__all__ = [
    "JSON",
    "Handler",
    "Method",
    "Payer",
    "RequestContext",
    "Route",
    "SeedContext",
    "Seeder",
    "Ticker",
]

#: The HTTP verbs WeCom uses.
Method: TypeAlias = Literal["GET", "POST"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Everything a handler may use to answer one request, and nothing else.

    A handler sees the corp's records (``state``, its app secrets and tokens included), the
    clock, the cursor codec and the request; it never sees the fake itself, so that it
    cannot depend on the fake's faults, limits or public helpers.
    """

    #: The corp's records; ``state.ext(MyGroupState)`` holds a group's own records.
    state: CorpState
    #: The fake clock; ``clock.now()`` is the request time.
    clock: FakeClock
    #: Signs and checks opaque cursors (``cursors.encode(kind, ...)`` / ``decode``) for
    #: this corp only: another corp's cursor answers 50100.
    cursors: CursorCodec
    #: ``"GET"`` or ``"POST"`` (already checked against the route).
    method: str
    #: The path without ``/cgi-bin/``, e.g. ``"externalcontact/get"``.
    path: str
    #: Query parameters (first value of each), ``access_token`` included.
    query: Mapping[str, str]
    #: The JSON object of a POST body; ``{}`` for GET, an empty body or a multipart upload.
    body: JSON
    #: The raw request body, for multipart uploads.
    raw_body: bytes
    #: The request's ``Content-Type`` header ("" when absent).
    content_type: str


#: A route handler: answers the request or raises ``WeComFault``.
Handler: TypeAlias = Callable[[RequestContext], JSON]


#: For a route without a corp token: the id of the corp whose budgets a request spends,
#: read from the first corp's state (which holds a provider's records), the query and the
#: JSON body; None when the request concerns no corp.
Payer: TypeAlias = Callable[[CorpState, Mapping[str, str], JSON], str | None]


@dataclass(frozen=True, slots=True)
class Route:
    """One WeCom endpoint of the fake: verb, path under ``/cgi-bin/`` and handler.

    Every endpoint requires a valid ``access_token`` in the query before its handler
    runs, but those with ``auth=False``: ``gettoken`` and a provider's calls, which carry
    their own credentials and check them themselves. Such a route's requests spend the
    budgets of the corp its ``payer`` names (one the fake serves), else budgets of their
    own that are no corp's (``NO_CORP``).
    """

    method: Method
    path: str
    handler: Handler
    auth: bool = True
    payer: Payer | None = None


@dataclass(frozen=True, slots=True)
class SeedContext:
    """What a route module's seeders get when :meth:`FakeWeCom.seed` builds a corp.

    ``rng`` is private to the module (seeded from the seed and the module name), so adding
    a module never changes the data other modules seed.
    """

    state: CorpState
    rng: random.Random
    now: float
    #: The userids of the active staff the seed created, in order.
    staff: Sequence[str]


#: A function a route module lists in ``SEEDERS`` to add its group's demo data.
Seeder: TypeAlias = Callable[[SeedContext], None]


#: A function a route module lists in ``TICKERS``: it brings the group's time-driven state
#: up to ``now`` (e.g. transfers that complete 24 h later) before any handler runs, so that
#: every endpoint sees the effects of fake time passing, not only the group's own.
Ticker: TypeAlias = Callable[[CorpState, float], None]
