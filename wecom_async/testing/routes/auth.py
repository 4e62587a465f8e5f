"""``gettoken`` (endpoints.md #1, §5.1): access tokens for the corp's app secrets (and, for
the other corps of a fake playing a provider, a 代开发 app's permanent code)."""

from __future__ import annotations

from collections.abc import Mapping

from .._route import JSON, RequestContext, Route
from .._state import CorpState
from ._provider_state import ProviderState

__all__ = ["ROUTES"]


def gettoken(ctx: RequestContext) -> JSON:
    """GET gettoken?corpid=ID&corpsecret=SECRET -> access_token, expires_in."""
    corp_id = ctx.query.get("corpid")
    tokens = ctx.state.tokens
    if corp_id and corp_id != ctx.state.corp_id and corp_id in ctx.state.ext(ProviderState).corps:
        # Another corp of the fake: one a provider's 代开发 app was authorized by.
        tokens = ctx.state.ext(ProviderState).corp_tokens(corp_id)
    token, expires_in = tokens.issue(corp_id, ctx.query.get("corpsecret"), ctx.clock.now())
    return {"access_token": token, "expires_in": expires_in}


def _named_corp(_state: CorpState, query: Mapping[str, str], _body: JSON) -> str | None:
    return query.get("corpid")


#: gettoken spends the budget of the corp it names (no corp's for one the fake lacks).
ROUTES = [Route("GET", "gettoken", gettoken, auth=False, payer=_named_corp)]
