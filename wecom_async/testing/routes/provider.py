"""A service provider's endpoints (服务商, D:90597): suite, provider and corp tokens, and
the authorization calls. Rules and errcodes: ``_provider_state.py``.

These routes carry their own credentials (a suite or provider token, or none), so they
are ``auth=False`` for the dispatcher and check the suite token themselves.  A call about
one corp (``auth_corpid``, or the corp of an auth code) spends that corp's budgets; the
provider's own token calls spend budgets that are no corp's.
"""

from __future__ import annotations

from .._errors import WeComFault
from .._params import opt_str, req_str
from .._route import JSON, RequestContext, Route
from .._tokens import TOKEN_LIFETIME
from ._provider_state import (
    ProviderState,
    Suite,
    auth_code_payer,
    body_payer,
    corp_secret,
    exchange,
)

__all__ = ["ROUTES"]


def _provider(ctx: RequestContext) -> ProviderState:
    return ctx.state.ext(ProviderState)


def _suite(ctx: RequestContext) -> Suite:
    return _provider(ctx).suite_of_token(ctx.query.get("suite_access_token"), ctx.clock.now())


def get_suite_token(ctx: RequestContext) -> JSON:
    """POST service/get_suite_token {suite_id, suite_secret, suite_ticket}."""
    suite_id = req_str(ctx.body, "suite_id", errcode=41021)
    secret = req_str(ctx.body, "suite_secret", errcode=41024)
    ticket = req_str(ctx.body, "suite_ticket", errcode=41023)
    suite = _provider(ctx).suites.get(suite_id)
    if suite is None:
        raise WeComFault(40083)
    if secret != suite.secret:
        raise WeComFault(40080)
    now = ctx.clock.now()
    if suite.tickets.get(ticket, 0.0) <= now:
        raise WeComFault(40085)
    token, expires_in = suite.tokens.issue(suite_id, secret, now)
    return {"suite_access_token": token, "expires_in": expires_in}


def get_permanent_code(ctx: RequestContext) -> JSON:
    """POST service/v2/get_permanent_code?suite_access_token= {auth_code}."""
    suite = _suite(ctx)
    authorization = exchange(suite, opt_str(ctx.body, "auth_code"), ctx.clock.now())
    corp = _provider(ctx).corps[authorization.corp_id]
    admin = next(iter(corp.staff), "")
    data: JSON = {
        "permanent_code": authorization.permanent_code,
        "auth_corp_info": {"corpid": corp.corp_id, "corp_name": f"Corp {corp.corp_id}"},
        "auth_user_info": {"userid": admin, "open_userid": admin, "name": admin},
    }
    if authorization.state:
        data["state"] = authorization.state
    return data


def _authorized(ctx: RequestContext, suite: Suite) -> str:
    corp_id = req_str(ctx.body, "auth_corpid", errcode=41002)
    code = req_str(ctx.body, "permanent_code", errcode=41025)
    authorization = suite.authorized.get(corp_id)
    if authorization is None or authorization.permanent_code != code:
        raise WeComFault(40084)
    return corp_id


def get_auth_info(ctx: RequestContext) -> JSON:
    """POST service/get_auth_info?suite_access_token= {auth_corpid, permanent_code}."""
    suite = _suite(ctx)
    corp = _provider(ctx).corps[_authorized(ctx, suite)]
    agent = {
        "agentid": 1000001,
        "name": f"App {suite.suite_id}",
        "auth_mode": 0,
        "is_customized_app": suite.custom,
        "privilege": {"level": 1, "allow_user": list(corp.staff), "allow_party": [1]},
    }
    return {
        "auth_corp_info": {"corpid": corp.corp_id, "corp_name": f"Corp {corp.corp_id}"},
        "auth_info": {"agent": [agent]},
    }


def get_corp_token(ctx: RequestContext) -> JSON:
    """POST service/get_corp_token?suite_access_token= {auth_corpid, permanent_code}.

    WeCom answers success without errcode here (D:90605); so does the fake.
    """
    suite = _suite(ctx)
    corp_id = _authorized(ctx, suite)
    secret = corp_secret(suite, suite.authorized[corp_id].permanent_code)
    token, expires_in = _provider(ctx).corp_tokens(corp_id).issue(corp_id, secret, ctx.clock.now())
    return {"access_token": token, "expires_in": expires_in}


def get_provider_token(ctx: RequestContext) -> JSON:
    """POST service/get_provider_token {corpid, provider_secret}."""
    corp_id = req_str(ctx.body, "corpid", errcode=41002)
    secret = req_str(ctx.body, "provider_secret", errcode=41004)
    registry = _provider(ctx).providers.get(corp_id)
    if registry is None:
        raise WeComFault(40013)
    token, expires_in = registry.issue(corp_id, secret, ctx.clock.now())
    return {"provider_access_token": token, "expires_in": min(expires_in, TOKEN_LIFETIME)}


_AUTH_CORP = body_payer("auth_corpid")

ROUTES = [
    Route("POST", "service/get_suite_token", get_suite_token, auth=False),
    Route(
        "POST",
        "service/v2/get_permanent_code",
        get_permanent_code,
        auth=False,
        payer=auth_code_payer,
    ),
    Route("POST", "service/get_auth_info", get_auth_info, auth=False, payer=_AUTH_CORP),
    Route("POST", "service/get_corp_token", get_corp_token, auth=False, payer=_AUTH_CORP),
    Route("POST", "service/get_provider_token", get_provider_token, auth=False),
]
