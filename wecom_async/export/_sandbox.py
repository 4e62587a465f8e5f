"""The built-in sandbox: a deterministic fake corp, in-process or served on loopback.

``wecom-async export customers --sandbox`` runs the real export against
:class:`wecom_async.testing.FakeWeCom` through its in-process transport, so the first
command of the README works without an account. ``wecom-async fake-server`` serves the same
corp over HTTP with uvicorn (the ``server`` extra) for ``--base-url`` and for benchmarks.
The fake's clock follows the wall clock, so its per-minute budgets and token lifetimes
behave as WeCom's do.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from .._validation import check_whole

if TYPE_CHECKING:
    from ..testing import FakeWeCom

__all__ = [
    "DEFAULT_SANDBOX_CUSTOMERS",
    "SANDBOX_CORP_ID",
    "SANDBOX_SEED",
    "sandbox_fake",
    "serve_fake",
]

#: Customers of the sandbox corp unless ``--sandbox-customers`` says otherwise.
DEFAULT_SANDBOX_CUSTOMERS: Final = 10_000
#: The sandbox corp's seed: the same corp, ids included, on every run.
SANDBOX_SEED: Final = 20_240_101
#: The sandbox corp's id (a manifest of a sandbox export names it).
SANDBOX_CORP_ID: Final = "wwfake"
#: Customers each sandbox member owns (some are shared with other members).
CUSTOMERS_PER_MEMBER: Final = 100


def sandbox_fake(
    customers: int = DEFAULT_SANDBOX_CUSTOMERS,
    *,
    corp_id: str = SANDBOX_CORP_ID,
    secret: str = "fake-secret",
    latency: float = 0.0,
    rate_limit: int | None = 10_000,
    seed: int = SANDBOX_SEED,
) -> FakeWeCom:
    """Build the sandbox corp: about ``customers`` customers, 100 per member.

    Args:
        customers: customers to seed (rounded up to fill every member equally).
        corp_id: the fake corp's id.
        secret: the fake app's secret.
        latency: seconds added to every response.
        rate_limit: the fake's per-API budget per minute (None: unlimited).
        seed: the seed of the corp's data.

    Returns:
        The seeded fake, its clock following the wall clock.
    """
    from ..testing import FakeClock, FakeWeCom

    check_whole(customers, "customers")
    fake = FakeWeCom(
        corp_id,
        secret,
        clock=FakeClock(real_time=True),
        latency=latency,
        rate_limit_per_minute=rate_limit,
    )
    members = math.ceil(customers / CUSTOMERS_PER_MEMBER)
    fake.seed(staff=members, customers_per_staff=math.ceil(customers / members), seed=seed)
    return fake


def serve_fake(
    fake: FakeWeCom,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ready: Callable[[str], None] = print,
) -> None:
    """Serve ``fake`` over HTTP with uvicorn until SIGINT / SIGTERM.

    The socket is bound and listening before ``ready`` is called with the base URL (port
    0 picks a free port), so a caller may connect as soon as it reads that line.

    Raises:
        ImportError: uvicorn is not installed (``pip install 'wecom-async[server]'``).
        OSError: the address is taken.
    """
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it every keep-alive response waits ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(1024)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        config = uvicorn.Config(fake.app, log_level="warning", access_log=False, lifespan="on")
        ready(f"http://{shown}:{bound}")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
