"""Opaque cursors: round trip, and anything the fake did not issue is a 50100."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wecom_async.testing import CursorCodec, WeComFault

CODEC = CursorCodec(b"k" * 32)
fields = st.dictionaries(
    # "k" holds the kind in the cursor and "kind" is encode()'s own parameter.
    st.text(min_size=1, max_size=5).filter(lambda k: k not in ("k", "kind")),
    st.integers() | st.text(max_size=20),
    max_size=4,
)


@given(fields)
def test_round_trip(values: dict[str, int | str]) -> None:
    cursor = CODEC.encode("batch/get_by_user", **values)
    assert cursor.isascii()
    assert "=" not in cursor
    assert CODEC.decode("batch/get_by_user", cursor) == {"k": "batch/get_by_user", **values}


@given(st.text(max_size=80))
def test_anything_else_is_an_invalid_cursor(text: str) -> None:
    with pytest.raises(WeComFault) as caught:
        CODEC.decode("get", text)
    assert caught.value.errcode == 50100


def test_cursor_of_another_endpoint_or_key_is_refused() -> None:
    cursor = CODEC.encode("get", s=1)
    for kind, codec in (("contact_list", CODEC), ("get", CursorCodec(b"other"))):
        with pytest.raises(WeComFault) as caught:
            codec.decode(kind, cursor)
        assert caught.value.errcode == 50100
    assert CursorCodec.int_field(CODEC.decode("get", cursor), "s") == 1
    with pytest.raises(WeComFault):
        CursorCodec.str_field(CODEC.decode("get", cursor), "s")


def test_a_scoped_codec_refuses_the_cursors_of_any_other_scope() -> None:
    root = CursorCodec(b"k" * 32)
    a, b = root.scoped("wwa"), root.scoped("wwb")
    cursor = a.encode("get", s=1)
    assert CursorCodec.int_field(root.scoped("wwa").decode("get", cursor), "s") == 1
    for codec in (b, root, a.scoped("wwb"), root.scoped("ww"), root.scoped("wwa\x00")):
        with pytest.raises(WeComFault) as caught:
            codec.decode("get", cursor)
        assert caught.value.errcode == 50100
    b.rekey(b"new")  # one key for every scope: a rekey anywhere expires every cursor
    with pytest.raises(WeComFault):
        a.decode("get", cursor)
    assert a.decode("get", a.encode("get", s=2))["s"] == 2
