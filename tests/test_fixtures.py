"""Every JSON fixture in tests/fixtures round-trips through the strict converter.

A fixture's path under ``tests/fixtures`` is its endpoint's path under ``/cgi-bin/``
(``externalcontact/groupchat/get.json``; variants as ``get.<variant>.json``). The model is
the endpoint's whole-answer model, ``response`` of its ``Endpoint`` (collected in
``wecom_async.services.RESPONSES``); unknown keys are forbidden, so model drift fails here.
The fixture files are written from the official doc examples, independently of the code:
an endpoint without a fixture, or a fixture without an endpoint, fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wecom_async import to_dict
from wecom_async._converter import make_converter
from wecom_async.models._base import WireModel
from wecom_async.services import RESPONSES

FIXTURES = Path(__file__).parent / "fixtures"
STRICT = make_converter(detailed_validation=True, forbid_extra_keys=True)


def response_models() -> dict[str, type[WireModel]]:
    """The whole-answer model of every endpoint path the services call."""
    return dict(RESPONSES)


def endpoint_of(path: Path) -> str:
    relative = path.relative_to(FIXTURES).with_suffix("")
    return str(relative.parent / relative.name.split(".")[0])


FILES = sorted(FIXTURES.rglob("*.json"))


def test_there_are_fixtures_and_every_one_has_a_model() -> None:
    models = response_models()
    assert len(FILES) >= len(models) > 0
    unknown = {endpoint_of(f) for f in FILES} - models.keys()
    assert not unknown, f"fixtures without a response model: {unknown}"
    missing = models.keys() - {endpoint_of(f) for f in FILES}
    assert not missing, f"response models without a fixture: {missing}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_round_trips_through_the_strict_converter(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    assert body.pop("errcode") == 0
    body.pop("errmsg")
    model = response_models()[endpoint_of(path)]
    parsed = STRICT.structure(body, model)
    assert to_dict(parsed) == body
