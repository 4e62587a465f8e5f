"""A griffe extension for the docs build: render Sphinx roles in docstrings as code.

The package's docstrings cross-reference names the Sphinx way (``:class:`~wecom_async.X```),
which mkdocstrings does not resolve. This extension, loaded by ``mkdocs.yml``, rewrites
each role to an inline code span of the name as Sphinx would display it (``~`` keeps the
last component), so the reference pages read cleanly and no unresolved reference can
break ``mkdocs build --strict``. The docstrings themselves stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|data|exc|obj|const):`(?P<target>[^`]+)`")


def display(target: str) -> str:
    """Return how Sphinx shows ``target``: after ``~`` only its last dotted component."""
    if target.startswith("~"):
        return target[1:].rsplit(".", 1)[-1]
    return target.lstrip(".")


def rewrite(text: str) -> str:
    """Replace every Sphinx role in ``text`` by a code span of its displayed name."""
    return ROLE.sub(lambda m: f"`{display(m.group('target'))}`", text)


class SphinxRoles(griffe.Extension):
    """Rewrites Sphinx roles in every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
