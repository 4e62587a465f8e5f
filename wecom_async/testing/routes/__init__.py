"""The fake's endpoints, one module per WeCom doc group, discovered automatically.

Every public module of this package (name not starting with ``_``) is a route module and is
imported in name order.  It may define:

``ROUTES: list[Route]``
    its endpoints; a path may be served by one module only.
``SEEDERS: list[Seeder]``
    functions that add the group's demo data when ``FakeWeCom.seed()`` builds a corp.
``TICKERS: list[Ticker]``
    functions run before every handler to apply what fake time has made due.

Adding a module is enough: no shared code lists the modules.  That holds because a route
module imports only private modules, never another route module: the fake's shared pieces
(``wecom_async.testing._*``: params, cursors, errors, state), the helpers several groups use
(``_shared.py``) and the groups' records (``_<group>_state.py``, which other groups may read
where WeCom's features meet, e.g. mass messages sent to group chats).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import TypeAlias

from .._route import Route, Seeder, Ticker

__all__ = ["Discovered", "discover", "discover_in"]

#: Every route by path, every (module name, seeder) and every ticker.
Discovered: TypeAlias = tuple[dict[str, Route], tuple[tuple[str, Seeder], ...], tuple[Ticker, ...]]


@functools.cache
def discover() -> Discovered:
    """Return the routes, seeders and tickers of this package's route modules."""
    return discover_in(__name__)


def discover_in(package: str) -> Discovered:
    """Return every route by path, every (module name, seeder) and every ticker of the
    public modules of ``package``; private modules (``_*``) are not imported."""
    routes: dict[str, Route] = {}
    seeders: list[tuple[str, Seeder]] = []
    tickers: list[Ticker] = []
    path = importlib.import_module(package).__path__
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for route in getattr(module, "ROUTES", ()):
            if not isinstance(route, Route):
                raise TypeError(f"{module.__name__}.ROUTES holds {route!r}, not a Route")
            if route.path in routes:
                raise RuntimeError(f"path {route.path!r} is served twice ({module.__name__})")
            routes[route.path] = route
        seeders.extend((info.name, seeder) for seeder in getattr(module, "SEEDERS", ()))
        tickers.extend(getattr(module, "TICKERS", ()))
    return routes, tuple(seeders), tuple(tickers)
