"""The fake's endpoints, one module per WeCom doc group, discovered automatically.

Every public module of this package (name not starting with ``_``) is imported in name
order.  It may define:

``ROUTES: list[Route]``
    its endpoints; a path may be served by one module only.
``SEEDERS: list[Seeder]``
    functions that add the group's demo data when ``FakeWeCom.seed()`` builds a corp.
``TICKERS: list[Ticker]``
    functions run before every handler to apply what fake time has made due.

Adding a module is enough: no shared code lists the modules.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from .._route import Route, Seeder, Ticker

__all__ = ["discover"]


@functools.cache
def discover() -> tuple[dict[str, Route], tuple[tuple[str, Seeder], ...], tuple[Ticker, ...]]:
    """Return every route by path, every (module name, seeder) and every ticker."""
    routes: dict[str, Route] = {}
    seeders: list[tuple[str, Seeder]] = []
    tickers: list[Ticker] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for route in getattr(module, "ROUTES", ()):
            if not isinstance(route, Route):
                raise TypeError(f"{module.__name__}.ROUTES holds {route!r}, not a Route")
            if route.path in routes:
                raise RuntimeError(f"path {route.path!r} is served twice ({module.__name__})")
            routes[route.path] = route
        seeders.extend((info.name, seeder) for seeder in getattr(module, "SEEDERS", ()))
        tickers.extend(getattr(module, "TICKERS", ()))
    return routes, tuple(seeders), tuple(tickers)
