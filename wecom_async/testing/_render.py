"""Rendering state records as WeCom's JSON objects (endpoints.md §2.1-2.3).

The fake renders from its own records and never imports the SDK's models, so it checks
the SDK independently.  Optional fields are present exactly when WeCom sends them: type-2
fields only for WeCom customers, ``unionid`` only when known, ``remark_corp_name`` only
for WeChat customers, ``wechat_channels`` only for add_way 10, ``state`` only when set.
"""

from __future__ import annotations

from ._json import JSON
from ._state import Customer, Follow
from ._tagstore import PERSONAL_TAG, TagRegistry

__all__ = ["render_external_contact", "render_follow_info", "render_follow_user"]


def render_external_contact(customer: Customer) -> JSON:
    """Return the ExternalContact object (endpoints.md §2.1) of ``customer``."""
    out: JSON = {
        "external_userid": customer.external_userid,
        "name": customer.name,
        "type": customer.type,
        "gender": customer.gender,
    }
    if customer.avatar is not None:
        out["avatar"] = customer.avatar
    if customer.type == 1:
        if customer.unionid is not None:
            out["unionid"] = customer.unionid
        return out
    for key in ("position", "corp_name", "corp_full_name", "external_profile"):
        value = getattr(customer, key)
        if value is not None:
            out[key] = value
    return out


def _follow_common(follow: Follow, customer_type: int) -> JSON:
    out: JSON = {
        "userid": follow.userid,
        "remark": follow.remark,
        "description": follow.description,
        "createtime": follow.createtime,
    }
    if customer_type == 1 and follow.remark_corp_name:
        out["remark_corp_name"] = follow.remark_corp_name
    if follow.remark_mobiles:
        out["remark_mobiles"] = list(follow.remark_mobiles)
    out["add_way"] = follow.add_way
    if follow.wechat_channels is not None:
        out["wechat_channels"] = dict(follow.wechat_channels)
    out["oper_userid"] = follow.oper_userid
    if follow.state:
        out["state"] = follow.state
    return out


def render_follow_user(follow: Follow, customer_type: int, tags: TagRegistry) -> JSON:
    """Return a ``follow_user[]`` item of externalcontact/get, with ``tags[]``."""
    out = _follow_common(follow, customer_type)
    rendered: list[JSON] = []
    for tag_id in follow.tag_ids:
        found = tags.lookup(tag_id)
        if found is not None:
            group, tag = found
            rendered.append(
                {
                    "group_name": group.group_name,
                    "tag_name": tag.name,
                    "tag_id": tag.tag_id,
                    "type": group.type,
                }
            )
    for group_name, tag_name in follow.personal_tags:
        rendered.append({"group_name": group_name, "tag_name": tag_name, "type": PERSONAL_TAG})
    out["tags"] = rendered
    return out


def render_follow_info(follow: Follow, customer_type: int, tags: TagRegistry) -> JSON:
    """Return a batch/get_by_user ``follow_info``: ``tag_id[]`` of corp and strategy tags."""
    out = _follow_common(follow, customer_type)
    out["tag_id"] = [t for t in follow.tag_ids if tags.lookup(t) is not None]
    return out
