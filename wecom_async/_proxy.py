"""Which proxy each request goes through, for the HTTP client the SDK owns.

WeCom accepts calls only from the corp's trusted IPs, so many deployments leave through a
fixed egress proxy named in ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY``. httpx reads
those variables only when it builds its own transport; the SDK gives its client a
:class:`~wecom_async.ShardedTransport`, so it reads them here the way httpx does and mounts
one sharded transport per proxy:

* ``proxy=`` given: every request goes through it, the environment is not read;
* otherwise, with ``trust_env``: ``{HTTP,HTTPS,ALL}_PROXY`` by scheme, and ``NO_PROXY``
  (``*`` for no proxy at all, host names with their subdomains, IP addresses,
  ``localhost``, or full ``scheme://host`` patterns) sent direct.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Final
from urllib.request import getproxies

import httpx

from ._exceptions import ValidationError

__all__ = ["HTTPX_PROXY_SCHEMES", "ProxyMap", "environment_proxies", "proxy_mounts"]

#: httpx mount pattern -> proxy URL, or None for "send direct".
ProxyMap = Mapping[str, str | None]
#: Proxy URL schemes httpx's own transport can use (socks5 with the socksio package).
HTTPX_PROXY_SCHEMES: Final = ("http", "https", "socks5")


def environment_proxies() -> dict[str, str | None]:
    """Read the proxy variables of the environment into httpx mount patterns."""
    found = getproxies()
    mounts: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        url = found.get(scheme)
        if url:
            mounts[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for host in (h.strip() for h in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if host:
            mounts[_bypass_pattern(host)] = None
    return mounts


def _bypass_pattern(host: str) -> str:
    if "://" in host:
        return host
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"all://{host}" if host.lower() == "localhost" else f"all://*{host}"
    return f"all://[{address}]" if address.version == 6 else f"all://{address}"


def proxy_mounts(
    proxy: str | httpx.URL | None,
    *,
    trust_env: bool,
    make: Callable[[str | None], httpx.AsyncBaseTransport],
    schemes: tuple[str, ...] = HTTPX_PROXY_SCHEMES,
) -> dict[str, httpx.AsyncBaseTransport | None]:
    """Build httpx ``mounts``: a transport made by ``make(proxy_url)`` per proxied pattern.

    A pattern sent direct maps to None, which makes httpx use the client's own transport.
    ``schemes`` names the proxy schemes ``make`` takes, for the error.

    Raises:
        ValidationError: a proxy URL ``make`` cannot use (an unknown scheme, socks5://
            without ``socksio`` or on aiohttp); the message never quotes the URL, which
            may hold a password.
    """
    table: ProxyMap
    if proxy is not None:
        table = {"all://": str(proxy)}
    elif trust_env:
        table = environment_proxies()
    else:
        table = {}
    by_url: dict[str, httpx.AsyncBaseTransport] = {}
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    for pattern, url in table.items():
        if url is None:
            mounts[pattern] = None
        elif url in by_url:
            # One transport per distinct proxy, so HTTP_PROXY == HTTPS_PROXY shares a pool.
            mounts[pattern] = by_url[url]
        else:
            mounts[pattern] = by_url[url] = _make(make, url, pattern, schemes)
    return mounts


def _make(
    make: Callable[[str | None], httpx.AsyncBaseTransport],
    url: str,
    pattern: str,
    schemes: tuple[str, ...],
) -> httpx.AsyncBaseTransport:
    try:
        return make(url)
    except (ValueError, ImportError, httpx.InvalidURL) as exc:
        problem = f"{type(exc).__name__}"
    # The URL may carry the proxy's password: name only the scheme and the failure.
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    supported = ", ".join(f"{name}://" for name in schemes)
    needs = " (socks5:// with the socksio package)" if "socks5" in schemes else ""
    raise ValidationError(
        f"the {scheme}:// proxy for {pattern} cannot be used ({problem}): the transport "
        f"supports {supported} proxies{needs}"
    )
