"""The fake's module layout: route modules stand alone, discovery finds them, no import cycles.

These read the source with :mod:`ast`, so they check every import, also the ones under
``if TYPE_CHECKING:`` or inside a function, which would only hide a cycle.
"""

from __future__ import annotations

import ast
import graphlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import wecom_async.testing
from wecom_async.testing import Route
from wecom_async.testing.routes import discover, discover_in

TESTING = Path(wecom_async.testing.__file__).parent
ROUTES_DIR = TESTING / "routes"
PACKAGE = "wecom_async.testing"


def _module_name(path: Path) -> str:
    parts = path.relative_to(TESTING).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, anywhere in the file, as an absolute name."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = node.module or ""
            target = (f"{base}.{module}" if module else base) if node.level else module
            yield target
            # ``from . import name`` may import the submodule ``name``.
            yield from (f"{target}.{alias.name}" for alias in node.names)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(TESTING.rglob("*.py"))}


def _route_modules() -> list[str]:
    return sorted(p.stem for p in ROUTES_DIR.glob("*.py") if not p.stem.startswith("_"))


def test_every_public_module_of_routes_is_a_route_module() -> None:
    for stem in _route_modules():
        module = __import__(f"{PACKAGE}.routes.{stem}", fromlist=["ROUTES"])
        routes = getattr(module, "ROUTES", None)
        assert routes, f"routes/{stem}.py has no ROUTES: make it private (_{stem}.py)"
        assert all(isinstance(r, Route) for r in routes)


def test_no_module_of_routes_imports_a_route_module() -> None:
    route_modules = {f"{PACKAGE}.routes.{stem}" for stem in _route_modules()}
    offenders = {
        f"{path.relative_to(TESTING)} imports {target}"
        for path in ROUTES_DIR.glob("*.py")
        for target in _imports(path)
        if target in route_modules and target != _module_name(path)
    }
    assert offenders == set()


def test_the_fakes_modules_import_each_other_without_a_cycle() -> None:
    modules = _modules()
    graph = {
        name: {t for t in _imports(path) if t in modules and t != name}
        for name, path in modules.items()
    }
    # The package's __init__ re-exports everything; nothing inside may lean on it.
    leaning = sorted(n for n, deps in graph.items() if PACKAGE in deps and n != PACKAGE)
    assert leaning == []
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError on a cycle


def test_discover_serves_the_routes_of_every_route_module_and_nothing_else() -> None:
    routes, seeders, tickers = discover()
    served: list[str] = []
    for stem in _route_modules():
        module = __import__(f"{PACKAGE}.routes.{stem}", fromlist=["ROUTES"])
        served += [route.path for route in module.ROUTES]
        assert all(routes[route.path] is route for route in module.ROUTES)
    assert sorted(served) == sorted(routes)
    assert {name for name, _ in seeders} <= set(_route_modules())
    assert all(t.__module__.rpartition(".")[2] in _route_modules() for t in tickers)


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty route package ``fakeroutes`` on sys.path, forgotten afterwards."""
    root = tmp_path / "fakeroutes"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [m for m in sys.modules if m == "fakeroutes" or m.startswith("fakeroutes.")]:
        del sys.modules[name]


def _write(path: Path, source: str) -> None:
    path.write_text(textwrap.dedent(source), encoding="utf-8")


def test_adding_a_module_is_enough_and_private_modules_are_not_imported(package: Path) -> None:
    _write(
        package / "_pets_state.py",
        """
        class PetsState:
            pass
        """,
    )
    _write(
        package / "_unused_state.py",
        """
        raise AssertionError("discover imported a private module")
        """,
    )
    _write(
        package / "pets.py",
        """
        from wecom_async.testing import Route
        from ._pets_state import PetsState

        def list_pets(ctx):
            return {"pets": [], "state": type(ctx.state.ext(PetsState)).__name__}

        def seed_pets(ctx):
            pass

        def tick(state, now):
            pass

        ROUTES = [Route("GET", "pets/list", list_pets)]
        SEEDERS = [seed_pets]
        TICKERS = [tick]
        """,
    )
    routes, seeders, tickers = discover_in("fakeroutes")
    assert list(routes) == ["pets/list"]
    assert [name for name, _ in seeders] == ["pets"]
    assert [t.__name__ for t in tickers] == ["tick"]
    assert "fakeroutes._unused_state" not in sys.modules
