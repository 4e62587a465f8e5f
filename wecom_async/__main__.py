"""``python -m wecom_async``: the same as the ``wecom-async`` command."""

from __future__ import annotations

from .export.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
