"""The README's examples that can run here do run, and its links lead somewhere.

The longer examples moved to the guides in docs/; tests/test_docs.py runs those."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.DOTALL)


def _block_with(marker: str) -> str:
    (block,) = [b for b in BLOCKS if marker in b]
    return block


def test_readme_user_test_suite_passes_as_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_from_readme=_block_with("def test_my_export_reads_every_customer"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=2)


def test_readme_two_commands_are_what_ci_runs() -> None:
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "wecom-async export customers --sandbox -o customers.jsonl" in README
    [command] = re.findall(r"python -m pip install -e '\.\[dev\]' && (python -m pytest.*)", README)
    assert command == "python -m pytest -n 2"  # pytest-xdist: two workers, the suite's pace
    assert "python -m pip install --quiet -e '.[dev]'" in ci
    assert f"\n{command}\n" in ci


def test_readme_links_point_at_files_in_the_repository() -> None:
    root = Path(__file__).parent.parent
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert "docs/index.md" in local, "the README links to the documentation site"
    missing = [link for link in local if not (root / link).exists()]
    assert not missing, f"README links to missing files: {missing}"
