"""No module imports a private helper of a sibling module of another group.

A name with a leading underscore is private to its module. Code that two groups share
lives in a shared module whose own name starts with an underscore (``services/_base.py``,
``models/_base.py``, ``wecom_async/_core.py``, ``testing/_route.py``, ...); such a module
is private to the package and exists to be imported, so its private names may be.

The rule, for every ``from X import name`` under ``wecom_async`` (relative or absolute,
``TYPE_CHECKING`` blocks included): when ``name`` starts with ``_`` (dunders aside), X
must be the module itself or a shared module, i.e. the last component of X starts with
``_``. Importing a private module itself (``from . import _base``) is importing a shared
module and is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "wecom_async"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source_module(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def violations(path: Path, source: str | None = None) -> list[str]:
    """``from X import _name`` lines of ``path`` (or of ``source``, read as if it were the
    text of ``path``) that break the rule."""
    module = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _source_module(node, module, path.name == "__init__.py")
        if not source.startswith("wecom_async") or source == module:
            continue
        shared = _is_private(source.rsplit(".", 1)[-1])
        for alias in node.names:
            if not _is_private(alias.name) or shared:
                continue
            if _is_module(f"{source}.{alias.name}"):
                continue  # a shared module itself
            found.append(f"{module}:{node.lineno} imports {alias.name} from {source}")
    return found


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_helper_of_another_group_is_imported(path: Path) -> None:
    assert violations(path) == []


def test_the_rule_sees_what_it_must() -> None:
    # The checker itself: each shape it must refuse, and each it must let through.
    # Read as a module of services/ without being written there: a file in the package,
    # even for a moment, would be imported by a test running beside this one (-n 2).
    probe = PACKAGE / "services" / "_probe_for_test.py"
    assert not probe.exists()
    found = violations(
        probe,
        "from .tags import _id_filter\n"
        "from ..models.welcome import _check_content\n"
        "from wecom_async.services.messages import _MAX_LIST_LIMIT\n"
        "from ._base import _page\n"
        "from .._core import ENVELOPE_KEYS\n"
        "from . import _base\n"
        "from .tags import TagsService\n",
    )
    assert [line.split(" imports ")[1] for line in found] == [
        "_id_filter from wecom_async.services.tags",
        "_check_content from wecom_async.models.welcome",
        "_MAX_LIST_LIMIT from wecom_async.services.messages",
    ]


#: The only imports between group modules of one layer: the shared content shapes, and
#: the welcome methods ``client.messages`` offers through its base class.
SIBLING_IMPORTS = {
    ("wecom_async.models.contact_way", "wecom_async.models.attachments"),
    ("wecom_async.models.messages", "wecom_async.models.attachments"),
    ("wecom_async.models.moments", "wecom_async.models.attachments"),
    ("wecom_async.models.product_albums", "wecom_async.models.attachments"),
    ("wecom_async.models.welcome", "wecom_async.models.attachments"),
    ("wecom_async.services.messages", "wecom_async.services.welcome"),
}


@pytest.mark.parametrize("layer", ["models", "services"])
def test_group_modules_of_a_layer_share_code_only_through_shared_modules(layer: str) -> None:
    found = set()
    for path in sorted((PACKAGE / layer).glob("[!_]*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                source = _source_module(node, module, is_package=False)
                parent, _, last = source.rpartition(".")
                if parent == f"wecom_async.{layer}" and not last.startswith("_"):
                    found.add((module, source))
    assert found == {pair for pair in SIBLING_IMPORTS if pair[0].split(".")[1] == layer}
