"""WeCom's own infrastructure (endpoints.md #87): getcallbackip.

The fake answers the callback addresses the official page listed when these notes were
written; WeCom's real list changes over time.
"""

from __future__ import annotations

from typing import Final

from .._route import JSON, RequestContext, Route

__all__ = ["CALLBACK_IPS", "ROUTES"]

#: A sample of the callback addresses the official page (document/path/92521) listed.
CALLBACK_IPS: Final = ("159.75.144.151", "112.53.2.93", "106.55.227.187", "183.47.98.227")


def getcallbackip(ctx: RequestContext) -> JSON:
    """GET getcallbackip: the addresses WeCom calls back from."""
    return {"ip_list": list(CALLBACK_IPS)}


ROUTES = [Route("GET", "getcallbackip", getcallbackip)]
