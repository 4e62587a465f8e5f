"""Check that the peer SDKs' response samples are read by our models without losing a field.

Usage: python scripts/check_peer_fixtures.py PATH/TO/peer-fixtures

The samples live outside this repository (the project never depends on them at run
time); CI runs this script when they are present beside the checkout. For every sample
its README marks as used, the endpoint's whole-answer model (``RESPONSES`` of
``wecom_async.services``, read from each ``Endpoint``) must read it, and ``to_dict``
must give back exactly the sample (fields the models do not name are kept in ``extra``).
Samples that need ``extra`` are listed, so that model gaps stay visible. Exit status 1 on
any loss.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from wecom_async import to_dict
from wecom_async._converter import make_converter
from wecom_async.models._base import WireModel
from wecom_async.services import RESPONSES

USED = re.compile(r"^\|\s*`(?P<file>[^`]+)`\s*\|.*\|\s*used:", re.MULTILINE)


def response_models() -> dict[str, type[WireModel]]:
    return dict(RESPONSES)


def endpoint_of(file: str, models: dict[str, type[WireModel]]) -> str | None:
    if "/cgi-bin/" in file:
        return file.split("/cgi-bin/", 1)[1].removesuffix(".response.json")
    name = Path(file).stem
    matches = [path for path in models if path.replace("/", "_") == name]
    return matches[0] if len(matches) == 1 else None


def main(root: Path) -> int:
    models = response_models()
    fast = make_converter()
    strict = make_converter(detailed_validation=True, forbid_extra_keys=True)
    files = USED.findall((root / "README.md").read_text(encoding="utf-8"))
    failures, loose = [], []
    for file in files:
        endpoint = endpoint_of(file, models)
        if endpoint is None or endpoint not in models:
            failures.append(f"{file}: no response model for {endpoint!r}")
            continue
        body = json.loads((root / file).read_text(encoding="utf-8"))
        body = {k: v for k, v in body.items() if k not in ("errcode", "errmsg")}
        try:
            parsed = fast.structure(body, models[endpoint])
        except Exception as exc:
            failures.append(f"{file}: not read ({type(exc).__name__}: {exc})")
            continue
        if to_dict(parsed) != body:
            failures.append(f"{file}: fields lost or changed on the way back")
            continue
        try:
            strict.structure(body, models[endpoint])
        except Exception:
            loose.append(file)
    print(f"{len(files) - len(failures)} of {len(files)} used peer samples read without loss")
    for file in loose:
        print(f"  kept unknown fields in extra: {file}")
    for failure in failures:
        print(f"  FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
