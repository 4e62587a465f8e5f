"""Compiled bytecode for this run and the processes it starts, kept out of the source tree.

The suite starts a few hundred Python processes (``python -m wecom_async``, workers, uvicorn,
taskiq). Where ``PYTHONDONTWRITEBYTECODE`` is set (many container images set it so that no
``__pycache__`` litters the checkout) each of them compiles every module of ``wecom_async``
from source again, and pytest re-rewrites every test module: about a fifth of a second of
CPU per process, minutes over the suite. :func:`cache_bytecode_outside` keeps that wish
(nothing is written beside the sources) and still caches: bytecode goes under
``.pytest_cache/pycache`` (``PYTHONPYCACHEPREFIX``), for this process and its children.
Where bytecode may be written already, nothing changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_bytecode_outside"]


def cache_bytecode_outside(root: Path) -> None:
    """Write bytecode under ``root/.pytest_cache/pycache`` if it would not be written at all.

    Args:
        root: the checkout (``.pytest_cache`` is ignored by git there).
    """
    if not sys.dont_write_bytecode or sys.pycache_prefix is not None:
        return
    prefix = root / ".pytest_cache" / "pycache"
    prefix.mkdir(parents=True, exist_ok=True)
    sys.pycache_prefix = str(prefix)
    sys.dont_write_bytecode = False
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
