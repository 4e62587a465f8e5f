"""One service per WeCom doc group, reached as cached attributes of ``WeComClient``.

Each endpoint is declared once, as an :class:`~wecom_async._core.Endpoint` in its group's
service module (or in one of the private parts a large group is built from, such as
``_transfer_onjob``), carrying its verb, path, retry safety, whole-answer model and the field a
method returns. The tables below are read from those declarations, never written by hand:

* ``ENDPOINTS``: path -> endpoint, for every endpoint a service calls;
* ``RESPONSES``: path -> whole-answer model (envelope aside), what the fixture and
  lossless tests and ``scripts/check_peer_fixtures.py`` read answers with.

Adding ``services/<group>.py`` adds its endpoints here; nothing else needs listing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Final

from .._core import Endpoint
from ..models._base import WireModel

__all__ = ["ENDPOINTS", "RESPONSES"]


def _declared() -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Endpoint):
                other = found.setdefault(value.path, value)
                if other != value:
                    raise RuntimeError(f"{value.path} is declared twice, differently")
    return found


ENDPOINTS: Final[Mapping[str, Endpoint]] = _declared()
RESPONSES: Final[Mapping[str, type[WireModel]]] = {
    path: endpoint.response for path, endpoint in ENDPOINTS.items()
}
