"""A service provider's authorization answers: permanent codes and authorization info.

Docs: https://developer.work.weixin.qq.com/document/path/100776 (service/v2/get_permanent_code),
https://developer.work.weixin.qq.com/document/path/90604 (service/get_auth_info).
"""

from __future__ import annotations

import attrs

from ._base import WireModel

__all__ = [
    "AgentPrivilege",
    "AuthAgent",
    "AuthCorpInfo",
    "AuthInfo",
    "AuthInfoResponse",
    "AuthUserInfo",
    "DealerCorpInfo",
    "PermanentCodeInfo",
    "RegisterCodeInfo",
]


@attrs.frozen(kw_only=True)
class AuthCorpInfo(WireModel):
    """``auth_corp_info``: the authorizing corp (v2 get_permanent_code sends only the first
    two fields; get_auth_info sends the rest)."""

    corpid: str
    corp_name: str | None = None
    corp_type: str | None = None
    corp_square_logo_url: str | None = None
    corp_user_max: int | None = None
    corp_full_name: str | None = None
    verified_end_time: int | None = None
    subject_type: int | None = None
    corp_wxqrcode: str | None = None
    corp_scale: str | None = None
    corp_industry: str | None = None
    corp_sub_industry: str | None = None


@attrs.frozen(kw_only=True)
class AuthUserInfo(WireModel):
    """``auth_user_info``: the admin who authorized (may be absent, fields may be empty)."""

    userid: str | None = None
    open_userid: str | None = None
    name: str | None = None
    avatar: str | None = None


@attrs.frozen(kw_only=True)
class RegisterCodeInfo(WireModel):
    """``register_code_info``: sent when the app was installed through a promotion QR code."""

    register_code: str | None = None
    template_id: str | None = None
    state: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class PermanentCodeInfo(WireModel):
    """The answer of ``service/v2/get_permanent_code``.

    ``permanent_code`` is a credential (for a 代开发 app it is the app's secret): it is
    never shown in the repr; the provider app registers it for masking in every log line
    and error message as soon as it arrives.
    """

    permanent_code: str
    auth_corp_info: AuthCorpInfo
    auth_user_info: AuthUserInfo | None = None
    register_code_info: RegisterCodeInfo | None = None
    state: str | None = None

    def __repr__(self) -> str:
        return f"PermanentCodeInfo(permanent_code=***, auth_corp_info={self.auth_corp_info!r})"


@attrs.frozen(kw_only=True)
class AgentPrivilege(WireModel):
    """``auth_info.agent[].privilege``: the app's visible range in the corp."""

    level: int | None = None
    allow_party: list[int] = attrs.field(factory=list)
    allow_user: list[str] = attrs.field(factory=list)
    allow_tag: list[int] = attrs.field(factory=list)
    extra_party: list[int] = attrs.field(factory=list)
    extra_user: list[str] = attrs.field(factory=list)
    extra_tag: list[int] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class AuthAgent(WireModel):
    """``auth_info.agent[]``: one authorized app (one item for a single-app suite)."""

    agentid: int
    name: str | None = None
    round_logo_url: str | None = None
    square_logo_url: str | None = None
    auth_mode: int | None = None
    #: True for a 代开发 app authorized from its template.
    is_customized_app: bool | None = None
    privilege: AgentPrivilege | None = None


@attrs.frozen(kw_only=True)
class AuthInfo(WireModel):
    """``auth_info``: the authorized apps."""

    agent: list[AuthAgent] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class DealerCorpInfo(WireModel):
    """``dealer_corp_info``: the reseller, when a dealer sold the app."""

    corpid: str | None = None
    corp_name: str | None = None


@attrs.frozen(kw_only=True)
class AuthInfoResponse(WireModel):
    """The answer of ``service/get_auth_info``."""

    auth_corp_info: AuthCorpInfo
    auth_info: AuthInfo | None = None
    dealer_corp_info: DealerCorpInfo | None = None
