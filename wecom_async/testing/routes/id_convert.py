"""ID conversion (endpoints.md #100-#107): unionids, upgraded ids, provider ids, openids.

The fake derives every converted id from the corp's own customer ids, stably, so a test
can convert there and back: the upgraded id of ``wmX`` is ``wmN<digest>``, the
provider's id ``woS<digest>`` / ``wmS<digest>``, the openid ``o<digest>``, the pending id
of an unknown unionid ``p<digest>``.  Errcodes: 40063 a missing parameter, 40058 a value
of the wrong type or over a documented limit (1000 ids; subject_type 0/1), 40096 an
external_userid that names no customer (or a ``wo`` WeCom user for convert_to_openid),
86003 a chat_id that names no group.

The two provider-level calls (``service/externalcontact/...``) carry a provider's token
instead of a corp token and are checked against the fake's provider side
(``_provider_state.py``, which says which codes are verified): unionid_to_external_userid_3rd
takes a ``suite_access_token`` the fake issued (41022 none, 40082 unknown, 42009 expired)
and searches every corp that authorized that suite (``corpid`` narrows it to one);
finish_external_userid_migration takes a ``provider_access_token`` the fake issued (41001
none, 40082 unknown, 42001 expired) and a corp that authorized one of the fake's suites
(else 40013, by meaning, unverified), whose flag it sets.

Unverified and marked so: the fake leaves out of ``items`` the ids it cannot translate
(WeCom's answer for them is not documented).
"""

from __future__ import annotations

from typing import Final

from .._cursor import digest
from .._errors import WeComFault
from .._params import INVALID, opt_int, opt_str, req_str, req_str_list
from .._route import JSON, RequestContext, Route
from .._state import CorpState
from ._group_chat_state import GroupChatState
from ._provider_state import ProviderState, body_payer

__all__ = ["ROUTES", "IdConvertState"]

MAX_OLD_IDS: Final = 1000
INVALID_EXTERNAL_USERID: Final = 40096
NO_GROUP: Final = 86003
INVALID_CORPID: Final = 40013


class IdConvertState:
    """What the conversions remember: the corp's migration flag."""

    def __init__(self) -> None:
        """No migration finished yet."""
        self.migration_finished = False


def _customer(state: CorpState, external_userid: str) -> str:
    if external_userid not in state.customers:
        raise WeComFault(INVALID_EXTERNAL_USERID, f"invalid external userid: {external_userid}")
    return external_userid


def upgraded_id(external_userid: str) -> str:
    """The fake's upgraded (post-2022) id of a customer id."""
    return f"wmN{digest('new', external_userid)}"


def service_id(external_userid: str) -> str:
    """The fake provider's id of a customer id (its ``wm``/``wo`` kind kept)."""
    return f"{external_userid[:2]}S{digest('service', external_userid)}"


def _unionid_customer(state: CorpState, unionid: str) -> str | None:
    return next((c.external_userid for c in state.customers.values() if c.unionid == unionid), None)


def unionid_to_external_userid(ctx: RequestContext) -> JSON:
    """POST idconvert/unionid_to_external_userid: the customer, else a pending id."""
    unionid = req_str(ctx.body, "unionid")
    req_str(ctx.body, "openid")
    if opt_int(ctx.body, "subject_type") not in (None, 0, 1):
        raise WeComFault(INVALID, "invalid subject_type")
    found = _unionid_customer(ctx.state, unionid)
    if found is None:
        return {"pending_id": f"p{digest('pending', unionid)}"}
    return {"external_userid": found}


def unionid_to_external_userid_3rd(ctx: RequestContext) -> JSON:
    """POST service/externalcontact/unionid_to_external_userid_3rd: per-corp ids."""
    provider = ctx.state.ext(ProviderState)
    suite = provider.suite_of_token(ctx.query.get("suite_access_token"), ctx.clock.now())
    unionid = req_str(ctx.body, "unionid")
    req_str(ctx.body, "openid")
    corpid = opt_str(ctx.body, "corpid")
    found = [
        {"corpid": corp.corp_id, "external_userid": customer}
        for corp in provider.authorized_corps(suite)
        if not corpid or corp.corp_id == corpid
        if (customer := _unionid_customer(corp, unionid)) is not None
    ]
    return {"external_userid_info": found}


def _translated(state: CorpState, ids: list[str], members: set[str] | None = None) -> JSON:
    known = [i for i in ids if i in state.customers and (members is None or i in members)]
    return {"items": [{"external_userid": i, "new_external_userid": upgraded_id(i)} for i in known]}


def get_new_external_userid(ctx: RequestContext) -> JSON:
    """POST externalcontact/get_new_external_userid: upgraded ids of known customers."""
    ids = req_str_list(ctx.body, "external_userid_list", max_items=MAX_OLD_IDS)
    return _translated(ctx.state, ids)


def groupchat_get_new_external_userid(ctx: RequestContext) -> JSON:
    """POST externalcontact/groupchat/get_new_external_userid: of one group's members."""
    chat_id = req_str(ctx.body, "chat_id")
    ids = req_str_list(ctx.body, "external_userid_list", max_items=MAX_OLD_IDS)
    group = ctx.state.ext(GroupChatState).get(chat_id)
    if group is None:
        raise WeComFault(NO_GROUP, f"invalid chat_id: {chat_id}")
    return _translated(ctx.state, ids, {m.userid for m in group.members})


def to_service_external_userid(ctx: RequestContext) -> JSON:
    """POST externalcontact/to_service_external_userid: the provider's id."""
    external_userid = _customer(ctx.state, req_str(ctx.body, "external_userid"))
    return {"external_userid": service_id(external_userid)}


def from_service_external_userid(ctx: RequestContext) -> JSON:
    """POST externalcontact/from_service_external_userid: the corp's id of a provider id."""
    given = req_str(ctx.body, "external_userid")
    agentid = opt_int(ctx.body, "source_agentid")
    if agentid is None:
        raise WeComFault(40063, "source_agentid missing")
    found = next((c for c in ctx.state.customers if service_id(c) == given), None)
    if found is None:
        raise WeComFault(INVALID_EXTERNAL_USERID, f"invalid external userid: {given}")
    return {"external_userid": found}


def finish_external_userid_migration(ctx: RequestContext) -> JSON:
    """POST service/externalcontact/finish_external_userid_migration: set the flag."""
    provider = ctx.state.ext(ProviderState)
    provider.check_provider_token(ctx.query.get("provider_access_token"), ctx.clock.now())
    corpid = req_str(ctx.body, "corpid")
    corp = next((c for c in provider.authorized_corps() if c.corp_id == corpid), None)
    if corp is None:
        raise WeComFault(INVALID_CORPID, f"invalid corpid: {corpid}")
    corp.ext(IdConvertState).migration_finished = True
    return {}


def convert_to_openid(ctx: RequestContext) -> JSON:
    """POST externalcontact/convert_to_openid: a WeChat customer's openid."""
    external_userid = _customer(ctx.state, req_str(ctx.body, "external_userid"))
    if ctx.state.customers[external_userid].type != 1:
        raise WeComFault(INVALID_EXTERNAL_USERID, "only WeChat customers have an openid")
    return {"openid": f"o{digest('openid', ctx.state.corp_id, external_userid)}"}


ROUTES = [
    Route("POST", "idconvert/unionid_to_external_userid", unionid_to_external_userid),
    Route(
        "POST",
        "service/externalcontact/unionid_to_external_userid_3rd",
        unionid_to_external_userid_3rd,
        auth=False,
        payer=body_payer("corpid"),
    ),
    Route("POST", "externalcontact/get_new_external_userid", get_new_external_userid),
    Route(
        "POST",
        "externalcontact/groupchat/get_new_external_userid",
        groupchat_get_new_external_userid,
    ),
    Route("POST", "externalcontact/to_service_external_userid", to_service_external_userid),
    Route("POST", "externalcontact/from_service_external_userid", from_service_external_userid),
    Route(
        "POST",
        "service/externalcontact/finish_external_userid_migration",
        finish_external_userid_migration,
        auth=False,
        payer=body_payer("corpid"),
    ),
    Route("POST", "externalcontact/convert_to_openid", convert_to_openid),
]
