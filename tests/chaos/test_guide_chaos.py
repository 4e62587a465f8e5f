"""The testing guide's chaos-mode example runs as written, in a plain pytest-asyncio suite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent.parent
GUIDE = (ROOT / "docs" / "guides" / "testing.md").read_text(encoding="utf-8")


def test_guide_chaos_example_passes_as_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The subprocess imports this checkout's package, whichever one the venv installed.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    (block,) = [
        b for b in re.findall(r"```python\n(.*?)```", GUIDE, re.DOTALL) if "set_chaos(" in b
    ]
    pytester.makepyfile(test_chaos_from_readme=block)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=1)
