"""A service provider's side of the fake: suites, tickets, auth codes, permanent codes.

Rules (D:90628, D:90642, D:100776, D:90605, D:97175; errcodes: endpoints.md §5.11, with
the threads where WeCom was seen answering them). Errcodes: their meanings are those
of WeCom's global errcode table (D:90313, https://developer.work.weixin.qq.com/document/path/90313);
which endpoint answers which is **verified** where WeCom was seen answering it (developer
community threads quoting WeCom's errmsg), else chosen by meaning (**unverified**):

* ``get_suite_token`` takes the suite id, secret and a ticket pushed in the last 30
  minutes: 40083 unknown suite (seen: "invalid SuiteId"), 40085 unknown, expired or
  another suite's ticket (seen: "invalid suite ticket"), 40080 wrong suite secret
  (不合法的suite_secret; by meaning); missing fields 41021 suite_id / 41024 secret /
  41023 suite_ticket (缺少…参数; by meaning).
* Suite tokens live 7200 s. A call with a bad one answers 40082 (seen: "invalid
  suite_acccess_token or provider_access_token"), an expired one 42009
  (suite_access_token已过期; by meaning), none 41022 (缺少suite_access_token参数; by
  meaning).
* Authorizing a corp (``authorize``) makes its permanent code and a one-time auth code
  (10 minutes) that ``v2/get_permanent_code`` exchanges: else 40078 (seen: "invalid
  auth_code", also for a code spent twice), none 41008 (缺少auth code参数; by meaning).
* ``get_corp_token`` / ``get_auth_info`` with the corp's current permanent code: else
  40084 (the table's help names a wrong code, a cancelled authorization and another
  provider's code; for a corp that never installed the suite WeCom was once seen
  answering 40082 instead, which the fake does not model), none 41025
  (缺少permanent_code参数; by meaning), no ``auth_corpid`` 41002 (by meaning). For a
  代开发 suite the code is also an app secret of the corp, so ``gettoken`` accepts it.
  Cancelling or resetting revokes the code and its tokens.
* ``get_provider_token`` takes the provider corp id and provider secret: 40001 a wrong
  secret (seen: "invalid credential"), 40013 an unknown corp id, 41002 / 41004 a missing
  one (by meaning). A call with a provider token the fake never issued answers 40082 (the
  errmsg WeCom was seen writing for 40082 names both provider-level tokens), an expired
  one 42001 and none 41001 (both **unverified**: the table has no code of its own for
  them).

Pushes are returned as the plaintext XML WeCom would send to the command callback URL;
``wecom_async.testing.push.push_event`` encrypts and delivers them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from .._errors import WeComFault
from .._json import JSON
from .._route import Payer
from .._state import CorpState
from .._tokens import TokenRegistry

__all__ = [
    "Authorization",
    "ProviderState",
    "Suite",
    "auth_code_payer",
    "authorize",
    "body_payer",
    "corp_secret",
    "exchange",
    "push_xml",
    "revoke",
]

#: Seconds a suite ticket is accepted after its push.
TICKET_LIFETIME: Final = 1800
#: Seconds an auth code may be exchanged.
AUTH_CODE_LIFETIME: Final = 600
_TOKEN_ERRCODES: Final = {40014: 40082, 42001: 42009}


@dataclass(slots=True)
class Authorization:
    """One corp's authorization of one suite."""

    corp_id: str
    permanent_code: str
    state: str = ""


@dataclass(slots=True)
class Suite:
    """A provider's suite (third-party app or 代开发 template)."""

    suite_id: str
    secret: str
    custom: bool
    tokens: TokenRegistry
    #: ticket -> accepted until (fake clock).
    tickets: dict[str, float] = field(default_factory=dict)
    #: auth code -> (corp id, valid until).
    auth_codes: dict[str, tuple[str, float]] = field(default_factory=dict)
    #: corp id -> its current authorization.
    authorized: dict[str, Authorization] = field(default_factory=dict)


class ProviderState:
    """Every suite of the fake, and the corps they may be authorized by."""

    def __init__(self) -> None:
        """Empty; the fake hands over its corps (``corps``) when it creates this."""
        self.suites: dict[str, Suite] = {}
        #: Every corp of the fake by corp id (the fake's own dict).
        self.corps: dict[str, CorpState] = {}
        #: The provider's own corp id -> its provider-token registry.
        self.providers: dict[str, TokenRegistry] = {}
        self._serial = 0

    def credential(self, kind: str) -> str:
        """A fresh, unguessable-looking credential: ``fake-<kind>-<24 hex>``."""
        self._serial += 1
        digest = hashlib.sha256(f"{kind}\x1f{self._serial}".encode()).hexdigest()[:24]
        return f"fake-{kind}-{digest}"

    def suite(self, suite_id: str) -> Suite:
        """The suite ``suite_id`` (KeyError when the fake has none)."""
        return self.suites[suite_id]

    def suite_of_token(self, token: str | None, now: float) -> Suite:
        """The suite whose ``suite_access_token`` this is; 41022 / 40082 / 42009."""
        if not token:
            raise WeComFault(41022)
        for suite in self.suites.values():
            if suite.tokens.knows(token):
                try:
                    suite.tokens.check(token, now)
                except WeComFault as fault:
                    raise WeComFault(_TOKEN_ERRCODES.get(fault.errcode, fault.errcode)) from None
                return suite
        raise WeComFault(40082)

    def check_provider_token(self, token: str | None, now: float) -> None:
        """Raise unless ``token`` is a valid ``provider_access_token``: 41001 none, 40082
        one no provider was issued (or revoked), 42001 an expired one (module doc)."""
        if not token:
            raise WeComFault(41001)
        registry = next((r for r in self.providers.values() if r.knows(token)), None)
        if registry is None:
            raise WeComFault(40082)
        try:
            registry.check(token, now)
        except WeComFault as fault:
            # An invalidated token reads as one never issued: 40082, not the corp's 40014.
            raise WeComFault(40082 if fault.errcode == 40014 else fault.errcode) from None

    def authorized_corps(self, suite: Suite | None = None) -> list[CorpState]:
        """The corps that authorized ``suite`` (any suite of the fake when None)."""
        suites = [suite] if suite is not None else list(self.suites.values())
        ids = dict.fromkeys(corp_id for s in suites for corp_id in s.authorized)
        return [self.corps[corp_id] for corp_id in ids if corp_id in self.corps]

    def corp_tokens(self, corp_id: str) -> TokenRegistry:
        """The token registry of corp ``corp_id``; 40013 when the fake has no such corp."""
        corp = self.corps.get(corp_id)
        if corp is None:
            raise WeComFault(40013)
        return corp.tokens


def authorize(provider: ProviderState, suite: Suite, corp_id: str, now: float, state: str) -> str:
    """Authorize ``suite`` in ``corp_id`` (replacing an earlier authorization) and return
    the auth code to exchange."""
    revoke(provider, suite, corp_id)
    code = provider.credential("pc")
    suite.authorized[corp_id] = Authorization(corp_id, code, state)
    provider.corp_tokens(corp_id).add_secret(corp_secret(suite, code))
    auth_code = provider.credential("authcode")
    suite.auth_codes[auth_code] = (corp_id, now + AUTH_CODE_LIFETIME)
    return auth_code


def revoke(provider: ProviderState, suite: Suite, corp_id: str) -> None:
    """End ``corp_id``'s authorization of ``suite``: its code and tokens stop working."""
    old = suite.authorized.pop(corp_id, None)
    if old is not None:
        provider.corp_tokens(corp_id).remove_secret(corp_secret(suite, old.permanent_code))


def corp_secret(suite: Suite, permanent_code: str) -> str:
    """The corp app secret a permanent code stands for in the corp's token registry: the
    code itself for a 代开发 app (``gettoken`` accepts it), else a name no caller sends."""
    return permanent_code if suite.custom else f"{suite.suite_id}\x1f{permanent_code}"


def exchange(suite: Suite, auth_code: str | None, now: float) -> Authorization:
    """Spend an auth code; 41008 when none is given, 40078 when unknown, used or expired."""
    if not auth_code:
        raise WeComFault(41008)
    corp_id, until = suite.auth_codes.pop(auth_code, ("", 0.0))
    authorization = suite.authorized.get(corp_id)
    if authorization is None or now >= until:
        raise WeComFault(40078)
    return authorization


def body_payer(key: str) -> Payer:
    """A route's payer: the corp its JSON body names under ``key`` (e.g. ``auth_corpid``)."""

    def payer(_state: CorpState, _query: Mapping[str, str], body: JSON) -> str | None:
        value = body.get(key)
        return value if isinstance(value, str) else None

    return payer


def auth_code_payer(state: CorpState, _query: Mapping[str, str], body: JSON) -> str | None:
    """``get_permanent_code``'s payer: the corp its auth code was issued to (the code is
    not spent here)."""
    auth_code = body.get("auth_code")
    if not isinstance(auth_code, str):
        return None
    for suite in state.ext(ProviderState).suites.values():
        if auth_code in suite.auth_codes:
            return suite.auth_codes[auth_code][0]
    return None


def push_xml(*pairs: tuple[str, str | int]) -> str:
    """The plaintext XML of a command callback push (strings as CDATA)."""
    body = "".join(
        f"<{tag}>{value}</{tag}>"
        if isinstance(value, int)
        else f"<{tag}><![CDATA[{value}]]></{tag}>"
        for tag, value in pairs
    )
    return f"<xml>{body}</xml>"
