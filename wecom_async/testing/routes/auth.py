"""``gettoken`` (endpoints.md #1, §5.1): access tokens for the corp's app secrets."""

from __future__ import annotations

from .._route import JSON, RequestContext, Route

__all__ = ["ROUTES"]


def gettoken(ctx: RequestContext) -> JSON:
    """GET gettoken?corpid=ID&corpsecret=SECRET -> access_token, expires_in."""
    token, expires_in = ctx.state.tokens.issue(
        ctx.query.get("corpid"), ctx.query.get("corpsecret"), ctx.clock.now()
    )
    return {"access_token": token, "expires_in": expires_in}


ROUTES = [Route("GET", "gettoken", gettoken, auth=False)]
