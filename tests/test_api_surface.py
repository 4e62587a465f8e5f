"""The public surface promised in the public API table: every service method exists, is
documented with its exact ``METHOD /cgi-bin/...`` line and doc link, takes the promised
parameters (keyword-only where the table says so), is a coroutine or a paginator factory as
promised, and its endpoint's verb, path and retry safety are the ones its row gives.

Every method also takes the per-call options ``**options: Unpack[RequestOptions]``.

The table is read from the repository's own copy, ``docs/reference/api-table.md``: one
``### client.<service>`` heading per service, one row per method.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import NamedTuple

import pytest

import wecom_async.services
from wecom_async import WeComClient
from wecom_async._core import Endpoint

API_TABLE = Path(__file__).parent.parent / "docs" / "reference" / "api-table.md"

SERVICE_HEADING = re.compile(r"^### client\.(\w+)")
ROW = re.compile(
    r"^\| (?P<number>\d+) \| (?P<verb>GET|POST) (?P<path>[\w/]+)(?: \(legacy\))? "
    r"\| `(?P<signature>[^`]+)` \| (?P<returns>[^|]*) \| (?P<retry_safe>yes|no) \|$"
)


class Promise(NamedTuple):
    """One row of the table: a method of ``client.<service>`` and its endpoint."""

    service: str
    name: str
    verb: str
    path: str
    retry_safe: bool
    paged: bool
    positional: tuple[str, ...]
    keyword_only: tuple[str, ...]


def _promise(service: str, row: re.Match[str]) -> Promise:
    function = ast.parse(f"def {row['signature']}: pass").body[0]
    assert isinstance(function, ast.FunctionDef)
    return Promise(
        service=service,
        name=function.name,
        verb=row["verb"],
        path=row["path"],
        retry_safe=row["retry_safe"] == "yes",
        paged=row["returns"].startswith("`AsyncPaginator["),
        positional=tuple(a.arg for a in function.args.args),
        keyword_only=tuple(a.arg for a in function.args.kwonlyargs),
    )


def _read_table(text: str) -> list[Promise]:
    promises: list[Promise] = []
    service = ""
    for line in text.splitlines():
        if heading := SERVICE_HEADING.match(line):
            service = heading.group(1)
        elif line.startswith("| ") and line[2].isdigit():
            row = ROW.match(line)
            assert row is not None, f"api-table.md row not in the table's format: {line}"
            assert service, f"api-table.md row outside a ### client.<service> section: {line}"
            promises.append(_promise(service, row))
    return promises


API = _read_table(API_TABLE.read_text(encoding="utf-8"))
DOC_LINK = "https://developer.work.weixin.qq.com/document/path/"


def _endpoints() -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}
    for info in pkgutil.iter_modules(wecom_async.services.__path__):
        module = importlib.import_module(f"wecom_async.services.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Endpoint):
                found[value.path] = value
    return found


@pytest.fixture(scope="module")
def client() -> WeComClient:
    return WeComClient("wwsurface", "surface-secret")


@pytest.mark.parametrize("promise", API, ids=[f"{p.service}.{p.name}" for p in API])
def test_promised_method(client: WeComClient, promise: Promise) -> None:
    method = getattr(getattr(client, promise.service), promise.name, None)
    assert method is not None, f"client.{promise.service}.{promise.name} is missing"
    line = f"{promise.verb} /cgi-bin/{promise.path}"
    doc = inspect.getdoc(method) or ""
    assert line in doc, f"docstring lacks '{line}'"
    assert DOC_LINK in doc, "docstring lacks the official doc link"
    assert doc.splitlines()[0].strip(), "docstring lacks a summary line"
    assert inspect.iscoroutinefunction(method) is not promise.paged
    parameters = inspect.signature(method).parameters
    missing = [p for p in promise.positional + promise.keyword_only if p not in parameters]
    assert not missing, f"parameters promised by api-table.md are missing: {missing}"
    not_keyword_only = [
        p for p in promise.keyword_only if parameters[p].kind is not inspect.Parameter.KEYWORD_ONLY
    ]
    assert not not_keyword_only, f"promised keyword-only: {not_keyword_only}"
    # Every method takes the per-call options (extra_body, extra_query, deadline).
    options = parameters.get("options")
    assert options is not None, "no **options"
    assert options.kind is inspect.Parameter.VAR_KEYWORD
    assert options.annotation == "Unpack[RequestOptions]"
    endpoint = _endpoints().get(promise.path)
    assert endpoint is not None, f"no Endpoint for {promise.path}"
    assert (endpoint.method, endpoint.retry_safe) == (promise.verb, promise.retry_safe)


def test_the_table_is_read_whole() -> None:
    # A row the parser skipped would silently drop a promise: count them.
    rows = [line for line in API_TABLE.read_text(encoding="utf-8").splitlines() if ROW.match(line)]
    assert len(API) == len(rows)
    assert len({(p.service, p.name) for p in API}) == len(API), "a method has two rows"
    # One row per endpoint, and (with the test below) one endpoint per row.
    assert len({p.path for p in API}) == len(API)
    assert len(API) == len(set(_endpoints()) - {"gettoken"})
    assert {p.service for p in API} == {
        "external_contact",
        "tags",
        "transfer",
        "group_chat",
        "contact_way",
        "messages",
        "moments",
        "statistics",
        "media",
        "strategy",
        "acquisition",
        "id_convert",
        "infra",
        "intercept_rules",
        "product_albums",
    }


def test_every_service_endpoint_is_promised() -> None:
    promised = {p.path for p in API}
    extra = {p for p in _endpoints() if p not in promised and p != "gettoken"}
    assert not extra, f"endpoints without a row in api-table.md: {extra}"


def test_the_version_has_one_source() -> None:
    """pyproject.toml reads ``__version__``; the installed metadata says the same."""
    import importlib.metadata
    from pathlib import Path

    import wecom_async

    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert not re.search(r"(?m)^version\s*=", pyproject)
    assert importlib.metadata.version("wecom-async") == wecom_async.__version__
