"""Opaque, signed pagination cursors and seq-ordered paging.

A cursor carries the position it resumes from (for example "member #2, after relation
seq 1834") inside a signed token, as WeCom's own cursors carry server state.  A cursor that
was altered, belongs to another endpoint or another request, or has expired answers 50100.

A cursor belongs to its corp too: each corp of a fake signs with its own scoped codec
(:meth:`CursorCodec.scoped`), so corp A's cursor given to corp B, even for the same
endpoint and filters, answers 50100 (分页查询的游标无效, the global errcode table, D:90313;
that WeCom answers exactly this code for another corp's cursor is inferred, not documented).

Records that are paged by cursor carry a ``seq`` that grows with each record created, and
lists of them are kept in ``seq`` order.  Resuming "after seq N" therefore returns every
record that exists during the whole traversal exactly once, even when others are added or
removed between pages.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from ._errors import WeComFault

__all__ = ["INVALID_CURSOR", "CursorCodec", "HasSeq", "digest", "index_after"]

#: errcode for a cursor the fake did not issue for this request (endpoints.md §5.10).
INVALID_CURSOR: Final = 50100
_MAC_BYTES: Final = 8


class HasSeq(Protocol):
    """A record with a creation sequence number."""

    @property
    def seq(self) -> int:
        """The record's creation sequence number."""
        ...


def index_after(items: Sequence[HasSeq], last_seq: int) -> int:
    """Return the index of the first item of a seq-ordered list whose seq exceeds ``last_seq``."""
    return bisect.bisect_right(items, last_seq, key=_seq_of)


def _seq_of(item: HasSeq) -> int:
    return item.seq


def digest(*parts: str) -> str:
    """Return a short digest binding a cursor to the request it was issued for."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=6).hexdigest()


@dataclass(slots=True)
class _Key:
    """The signing key, shared by a codec and every codec scoped from it."""

    value: bytes


class CursorCodec:
    """Encodes cursor state into an opaque URL-safe token and checks it back."""

    def __init__(self, key: bytes) -> None:
        """Create a codec signing with ``key``."""
        self._key = _Key(key)
        self._scope = b""

    def scoped(self, scope: str) -> CursorCodec:
        """Return the codec of one ``scope`` (a corp id): it shares this codec's key, and
        :meth:`rekey` of either, but the cursors of one scope answer 50100 in any other.

        Scopes do not nest: asked of a scoped codec (``fake.cursors.scoped(other)``),
        this returns the same codec as the unscoped one's ``scoped(other)``, the one that
        corp's requests are answered with.
        """
        codec = CursorCodec.__new__(CursorCodec)
        codec._key = self._key
        raw = scope.encode()
        # Length-prefixed, so that no scope signs as the unscoped codec or another scope.
        codec._scope = len(raw).to_bytes(4, "big") + raw
        return codec

    def rekey(self, key: bytes) -> None:
        """Sign with ``key`` from now on (every scope too): every cursor issued before
        answers 50100."""
        self._key.value = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key.value, self._scope + payload, hashlib.sha256).digest()[
            :_MAC_BYTES
        ]

    def encode(self, kind: str, **fields: int | str) -> str:
        """Return an opaque cursor for endpoint ``kind`` carrying ``fields``."""
        payload = json.dumps({"k": kind, **fields}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload + self._mac(payload)).rstrip(b"=").decode()

    def decode(self, kind: str, cursor: str) -> dict[str, int | str]:
        """Return the fields of a cursor issued for ``kind``; anything else answers 50100."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise WeComFault(INVALID_CURSOR) from None
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            raise WeComFault(INVALID_CURSOR)
        data = json.loads(payload)
        if not isinstance(data, dict) or data.get("k") != kind:
            raise WeComFault(INVALID_CURSOR)
        return {k: v for k, v in data.items() if isinstance(v, (int, str))}

    @staticmethod
    def int_field(fields: dict[str, int | str], name: str) -> int:
        """Return the integer ``name`` of decoded cursor fields (50100 when absent)."""
        value = fields.get(name)
        if not isinstance(value, int):
            raise WeComFault(INVALID_CURSOR)
        return value

    @staticmethod
    def str_field(fields: dict[str, int | str], name: str) -> str:
        """Return the string ``name`` of decoded cursor fields (50100 when absent)."""
        value = fields.get(name)
        if not isinstance(value, str):
            raise WeComFault(INVALID_CURSOR)
        return value
