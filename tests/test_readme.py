"""The README's examples that can run here do run: the user test suite, the quick start."""

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
    assert "python -m pip install -e '.[dev]' && python -m pytest" in README
    assert "python -m pip install --quiet -e '.[dev]'" in ci
    assert "\npython -m pytest\n" in ci


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\0" * 64


async def test_readme_services_tour_runs_against_the_fake(
    wecom_fake, wecom_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wecom_fake.add_staff("zhangsan")
    wecom_fake.add_staff("lisi")
    customer_ids = [wecom_fake.add_customer(followers=["zhangsan"]) for _ in range(3)]
    (tmp_path / "banner.png").write_bytes(PNG)
    monkeypatch.chdir(tmp_path)
    source = _block_with("# Tags: create a group")
    body = "\n".join("    " + line for line in source.splitlines())
    namespace: dict[str, object] = {}
    exec(f"async def tour(client, external_userid, customer_ids):\n{body}\n", namespace)
    await namespace["tour"](wecom_client, customer_ids[0], customer_ids)  # type: ignore[operator]
    assert wecom_fake.calls("externalcontact/mark_tag") == 1
    assert wecom_fake.calls("externalcontact/add_moment_task") == 1
    assert wecom_fake.calls("externalcontact/transfer_customer") == 1
    assert wecom_fake.calls("externalcontact/customer_strategy/create") == 1
    assert wecom_fake.calls("externalcontact/customer_acquisition/create_link") == 1
