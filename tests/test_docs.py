"""The documentation in docs/ holds up: its examples run, its reference covers every public
module, and the code cites only documents that are in the repository.

The strict site build (``mkdocs build --strict``, in .ci/run) checks links and references;
these tests check what the build cannot: that the code shown works.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def blocks(page: str) -> list[str]:
    return PYTHON_BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


def block_with(page: str, marker: str) -> str:
    (block,) = [b for b in blocks(page) if marker in b]
    return block


def test_every_python_block_of_the_docs_and_readme_is_valid_python() -> None:
    pages = [*DOCS.rglob("*.md"), ROOT / "README.md"]
    for page in pages:
        for block in PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")):
            # Blocks show calls inside an async function: top-level await is allowed.
            compile(block, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_testing_guide_user_suite_passes_as_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    block = block_with("guides/testing.md", "def test_my_export_reads_every_customer")
    pytester.makepyfile(test_from_guide=block)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=2)


def test_testing_guide_outside_the_api_example_passes_as_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    block = block_with("guides/testing.md", "def test_my_welcome_flow")
    pytester.makepyfile(test_from_guide=block)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=1)


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\0" * 64


async def test_quickstart_services_tour_runs_against_the_fake(
    wecom_fake, wecom_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wecom_fake.add_staff("zhangsan")
    wecom_fake.add_staff("lisi")
    customer_ids = [wecom_fake.add_customer(followers=["zhangsan"]) for _ in range(3)]
    (tmp_path / "banner.png").write_bytes(PNG)
    monkeypatch.chdir(tmp_path)
    source = block_with("guides/quickstart.md", "# Tags: create a group")
    body = "\n".join("    " + line for line in source.splitlines())
    namespace: dict[str, object] = {}
    exec(f"async def tour(client, external_userid, customer_ids):\n{body}\n", namespace)
    await namespace["tour"](wecom_client, customer_ids[0], customer_ids)  # type: ignore[operator]
    assert wecom_fake.calls("externalcontact/mark_tag") == 1
    assert wecom_fake.calls("externalcontact/add_moment_task") == 1
    assert wecom_fake.calls("externalcontact/transfer_customer") == 1
    assert wecom_fake.calls("externalcontact/customer_strategy/create") == 1
    assert wecom_fake.calls("externalcontact/customer_acquisition/create_link") == 1


#: Every public module and the reference page that renders it.
PUBLIC_MODULES = {
    "wecom_async": "client.md",
    "wecom_async.models": "models.md",
    "wecom_async.testing": "testing.md",
    "wecom_async.testing.push": "testing.md",
    "wecom_async.testing.plugin": "testing.md",
    "wecom_async.callback": "callback.md",
    "wecom_async.callback.starlette": "callback.md",
    "wecom_async.callback.aiohttp": "callback.md",
    "wecom_async.export": "export.md",
    "wecom_async.provider": "provider.md",
}


@pytest.mark.parametrize(("module", "page"), PUBLIC_MODULES.items())
def test_the_api_reference_renders_every_public_module(module: str, page: str) -> None:
    text = (DOCS / "reference" / page).read_text(encoding="utf-8")
    assert re.search(rf"^::: {re.escape(module)}$", text, re.MULTILINE), f"{page} lacks {module}"
    assert importlib.import_module(module).__all__, "a public module declares its names"


def test_the_api_reference_renders_every_service() -> None:
    text = (DOCS / "reference" / "services.md").read_text(encoding="utf-8")
    services = {
        path.stem
        for path in (ROOT / "wecom_async" / "services").glob("*.py")
        if not path.stem.startswith("_")
    }
    rendered = set(
        re.findall(r"^::: wecom_async\.services\.(\w+)\.\w+Service$", text, re.MULTILINE)
    )
    assert rendered == services


def test_code_cites_only_documents_in_the_repository() -> None:
    # DESIGN.md, API.md and the WeCom catalog lived outside the repository; their content
    # is now docs/architecture.md, docs/reference/api-table.md and docs/wecom/endpoints.md.
    grep = subprocess.run(
        [
            "git",
            "grep",
            "-n",
            "-I",
            "-E",
            r"DESIGN\.md|API\.md|catalog [#0-9]|\.\./shared",
            "--",
            "wecom_async",
            "tests",
            "scripts",
            "examples",
            "CONTRIBUTING.md",
            "README.md",
            ":!tests/test_docs.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert grep.returncode == 1, f"citations of documents users do not have:\n{grep.stdout}"
    for cited in ("architecture.md", "reference/api-table.md", "wecom/endpoints.md"):
        assert (DOCS / cited).is_file()
