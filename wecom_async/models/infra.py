"""Infrastructure calls outside the 客户联系 family proper: endpoints.md #87.

Docs: https://developer.work.weixin.qq.com/document/path/92521 (getcallbackip).
"""

from __future__ import annotations

import attrs

from ._base import WireModel

__all__ = ["CallbackIpResponse"]


@attrs.frozen(kw_only=True)
class CallbackIpResponse(WireModel):
    """Answer of ``getcallbackip``: the address ranges WeCom calls back from."""

    ip_list: list[str] = attrs.field(factory=list)
