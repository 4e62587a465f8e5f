"""No field WeCom sends is dropped on the way to the caller, for every endpoint.

Every public method is called (``every_call.CALLS``) against a WeCom whose answers carry,
beside the documented fields of their fixture, a top-level field this release does not
know. Wherever the method returns its answer, that field must be reachable:

* a whole-answer model keeps it in ``extra``;
* a part of the answer (a list, an id, a nested model) carries the whole answer as
  ``response``, whose ``extra`` keeps it;
* a page keeps it in ``page.extra``;
* a method that returns ``None`` logs it.

The table of what each endpoint answers is ``wecom_async.services.ENDPOINTS``; this test
reads it only to name the field a part came from, and checks that the part returned is
that field of the whole answer.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
import pytest

from wecom_async import StructureError, from_dict
from wecom_async._core import Endpoint
from wecom_async.models._base import WireInt, WireList, WireModel, WireStr
from wecom_async.pagination import Page
from wecom_async.services import ENDPOINTS
from wecom_async.services._base import _keyed

from ..test_api_surface import API
from .every_call import CALLS, FixtureWeCom, fixture, public_methods

NEW: dict[str, Any] = {"field_added_later": {"by": "WeCom", "n": [1, 2]}}


#: The endpoint each method calls, by the row of the public API table that promises it.
ENDPOINTS_BY_METHOD = {f"{p.service}.{p.name}": ENDPOINTS[p.path] for p in API}


def one_page_with_a_new_field(path: str, token: str | int | None) -> dict[str, Any]:
    """The fixture's answer plus ``NEW``, made the last page where the fixture pages."""
    documented = fixture(path)
    last: dict[str, Any] = {"next_cursor": ""} if "next_cursor" in documented else {}
    if "next_offset" in documented:
        last["next_offset"] = documented["total"]
    return {**NEW, **last}


def test_every_public_method_is_called() -> None:
    assert set(CALLS) == public_methods()


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_an_unknown_top_level_field_stays_reachable(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    wecom = FixtureWeCom(one_page_with_a_new_field)
    service, _ = name.split(".")
    caplog.set_level(logging.INFO, logger="wecom_async")
    async with wecom.client() as client:
        result = CALLS[name](getattr(client, service), {})
        result = await result  # a paginator's first page, or a coroutine's answer
    endpoint = ENDPOINTS_BY_METHOD[name]
    assert wecom.sent[0].path == endpoint.path
    key = "field_added_later"
    if result is None:
        assert endpoint.key is None
        assert [r for r in caplog.records if key in r.getMessage()], "not logged"
        assert endpoint.line in caplog.text
    elif isinstance(result, Page):
        assert result.extra[key] == NEW[key]
        assert endpoint.key not in result.extra
    elif isinstance(result, WireList | WireStr | WireInt) or (
        isinstance(result, WireModel) and result.response is not None
    ):
        whole = result.response
        assert isinstance(whole, endpoint.response)
        assert whole.extra == NEW
        assert endpoint.key is not None
        assert getattr(whole, endpoint.key) == result
    else:
        assert isinstance(result, WireModel), f"{name} returned {type(result).__name__}"
        assert result.extra == NEW


def _odd_parts(name: str) -> list[object]:
    """Values of another JSON type than the documented part of ``name``'s answer.

    ``None`` is left out for a list: WeCom leaves out an empty list, so a null list is
    read as an empty one.
    """
    endpoint = ENDPOINTS_BY_METHOD[name]
    documented = fixture(endpoint.path).get(str(endpoint.key))
    odd: list[object] = [None, "odd", [{"odd": True}], 7, {"odd": 1}]
    return [
        value
        for value in odd
        if type(value) is not type(documented)
        and not (value is None and isinstance(documented, list))
    ]


CASES = [
    (name, odd)
    for name in sorted(CALLS)
    if ENDPOINTS_BY_METHOD[name].key
    for odd in _odd_parts(name)
]


@pytest.mark.parametrize(("name", "odd"), CASES)
async def test_a_part_of_another_type_is_a_structure_error_not_a_default(
    name: str, odd: object
) -> None:
    endpoint = ENDPOINTS_BY_METHOD[name]
    assert endpoint.key is not None

    def answer(path: str, token: str | int | None) -> dict[str, Any]:
        return {**one_page_with_a_new_field(path, token), str(endpoint.key): odd}

    service, _ = name.split(".")
    async with FixtureWeCom(answer).client() as client:
        with pytest.raises(StructureError) as caught:
            await CALLS[name](getattr(client, service), {})
    assert caught.value.request_line == endpoint.line


LIST_KEYED = [
    name
    for name in sorted(CALLS)
    if isinstance(
        fixture(ENDPOINTS_BY_METHOD[name].path).get(str(ENDPOINTS_BY_METHOD[name].key)), list
    )
]


def _items(result: object) -> list[object]:
    if isinstance(result, Page):
        return list(result.items)
    assert isinstance(result, WireList), type(result).__name__
    return list(result)


@pytest.mark.parametrize("name", LIST_KEYED)
async def test_a_null_list_reads_as_the_empty_list(name: str) -> None:
    """WeCom leaves out an empty list or sends it as null: either is no item, not an
    error; a null stays in the whole answer as sent."""
    endpoint = ENDPOINTS_BY_METHOD[name]
    key = str(endpoint.key)
    results = []
    for value in (None, []):

        def answer(path: str, token: str | int | None, value: object = value) -> dict[str, Any]:
            return {**one_page_with_a_new_field(path, token), key: value}

        service, _ = name.split(".")
        async with FixtureWeCom(answer).client() as client:
            results.append(await CALLS[name](getattr(client, service), {}))
    null, empty = results
    assert _items(null) == _items(empty) == []
    if isinstance(null, WireList):
        assert null.response is not None
        assert null.response.extra[key] is None


def test_every_key_names_a_field_of_its_endpoints_response() -> None:
    for endpoint in ENDPOINTS.values():
        if endpoint.key is not None:
            assert endpoint.key in attrs.fields_dict(endpoint.response), endpoint.path


@attrs.frozen(kw_only=True)
class _Optional(WireModel):
    chat_id: str | None = None


@attrs.frozen(kw_only=True)
class _Defaulted(WireModel):
    chat_id: str = ""


@pytest.mark.parametrize("model", [_Optional, _Defaulted])
@pytest.mark.parametrize("sent", [{}, {"chat_id": None}, {"chat_id": 5}, {"chat_id": ["a"]}])
def test_a_part_left_out_or_odd_is_a_structure_error_never_the_default(
    model: type[WireModel], sent: dict[str, Any]
) -> None:
    # Keyed fields are required or lists today; a later model may default one. The
    # lenient converter then leaves the field at its default (the odd value in extra).
    endpoint = Endpoint("POST", "x/y", retry_safe=True, response=model, key="chat_id")
    if model is _Defaulted and not sent:
        # WeCom left it out: the declared default holds.
        assert _keyed(from_dict(model, sent), endpoint, str) == ""
        return
    with pytest.raises(StructureError):
        _keyed(from_dict(model, sent), endpoint, str)
