"""The ``JSON`` alias every part of the fake shares (re-exported by :mod:`._route`)."""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["JSON"]

#: A JSON object as the fake reads and writes it.
JSON: TypeAlias = dict[str, object]
