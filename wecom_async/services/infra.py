"""``client.infra``: calls about WeCom itself rather than customers, endpoints.md #87."""

from __future__ import annotations

from typing_extensions import Unpack

from .._core import Endpoint
from .._options import RequestOptions
from ..models._base import WireList
from ..models.infra import CallbackIpResponse
from ._base import Service

__all__ = ["InfraService"]

_GETCALLBACKIP = Endpoint(
    "GET", "getcallbackip", retry_safe=True, response=CallbackIpResponse, key="ip_list"
)


class InfraService(Service):
    """WeCom's own infrastructure: the addresses its callbacks come from."""

    async def get_callback_ip(self, **options: Unpack[RequestOptions]) -> WireList[str]:
        """List the IP addresses and ranges WeCom sends callbacks from.

        ``GET /cgi-bin/getcallbackip``

        Legacy: every peer SDK has it and WeCom's page still documents it, but an
        allow-list of source addresses is not how to trust a callback. The ranges change
        (old and new overlap for a while; WeCom advises fetching them daily), so verify
        each callback by its signature instead
        (:class:`~wecom_async.callback.CallbackCrypto`, which the receivers apply) and use
        this only to open a firewall. Works with any app's token.

        Args:
            **options: per-call :class:`~wecom_async.RequestOptions`
                (``extra_body``, ``extra_query``, ``deadline``).

        Returns:
            The addresses or CIDR ranges, as WeCom sends them.

        Raises:
            APIError: a refused call (e.g. 48002 API not allowed).

        Docs: https://developer.work.weixin.qq.com/document/path/92521
        """
        return await self._list_part(_GETCALLBACKIP, str, options=options)
