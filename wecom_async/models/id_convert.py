"""ID conversion (the 2022 external_userid upgrade and unionid mapping), endpoints.md #100-#107.

Docs: https://developer.work.weixin.qq.com/document/path/95900 (the idconvert unionid lookup),
https://developer.work.weixin.qq.com/document/path/95327 (get_new_external_userid and its
group-chat counterpart, unionid_to_external_userid_3rd, finish_external_userid_migration),
https://developer.work.weixin.qq.com/document/path/95195 (to_service_external_userid),
https://developer.work.weixin.qq.com/document/path/95884 (from_service_external_userid),
https://developer.work.weixin.qq.com/document/path/92323 (convert_to_openid).
"""

from __future__ import annotations

import attrs

from ._base import WireEnum, WireModel

__all__ = [
    "CorpExternalUserid",
    "ExternalUseridResponse",
    "NewExternalUserid",
    "NewExternalUseridResponse",
    "OpenidResponse",
    "SubjectType",
    "UnionidConversion",
    "UnionidToExternalUserid3rdResponse",
]


class SubjectType(WireEnum):
    """``subject_type`` of idconvert/unionid_to_external_userid: whose mini program or
    official account the unionid/openid came from."""

    CORP = 0
    PROVIDER = 1


@attrs.frozen(kw_only=True)
class UnionidConversion(WireModel):
    """Answer of ``idconvert/unionid_to_external_userid``.

    ``external_userid`` when the WeChat user is already a customer of the corp; otherwise
    ``pending_id``, a temporary id valid 90 days that WeCom later maps to the customer's
    external_userid (idconvert/batch/external_userid_to_pending_id). Either may be absent.
    """

    external_userid: str | None = None
    pending_id: str | None = None


@attrs.frozen(kw_only=True)
class CorpExternalUserid(WireModel):
    """One ``external_userid_info[]`` item of unionid_to_external_userid_3rd."""

    corpid: str
    external_userid: str


@attrs.frozen(kw_only=True)
class UnionidToExternalUserid3rdResponse(WireModel):
    """Answer of ``service/externalcontact/unionid_to_external_userid_3rd``."""

    external_userid_info: list[CorpExternalUserid] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class NewExternalUserid(WireModel):
    """One ``items[]`` pair of get_new_external_userid: an old id and its upgraded id.

    The docs do not promise ``new_external_userid`` for every item (an id WeCom could not
    translate is not described), so an item without it reads as None rather than failing
    the whole answer.
    """

    external_userid: str
    new_external_userid: str | None = None


@attrs.frozen(kw_only=True)
class NewExternalUseridResponse(WireModel):
    """Answer of ``get_new_external_userid`` and ``groupchat/get_new_external_userid``."""

    items: list[NewExternalUserid] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class ExternalUseridResponse(WireModel):
    """Answer of ``to_service_external_userid`` and ``from_service_external_userid``."""

    external_userid: str | None = None


@attrs.frozen(kw_only=True)
class OpenidResponse(WireModel):
    """Answer of ``convert_to_openid``."""

    openid: str | None = None
