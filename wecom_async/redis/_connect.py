"""The Redis client a shared piece makes for itself from a URL (``from_url``).

One construction for :class:`~wecom_async.redis.RedisTokenStore` and
:class:`~wecom_async.redis.RedisRateBudget`:

* socket timeouts (redis-py has none by default: a hung server would hang callers);
* a *blocking* connection pool: a process with many keys in flight waits a moment for a
  free connection instead of failing (redis-py's default pool raises at once when its
  connections are all in use, which would pass for an outage);
* one immediate retry on a new connection: after a Redis restart the pooled connections
  are dead, and that alone is no outage;
* the password masked wherever the SDK writes a message.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .._exceptions import ValidationError
from .._logging import register_secret
from .._validation import check_seconds

__all__ = ["client_from_url", "register_password"]

#: Connections of one ``from_url`` client; callers beyond wait for one to free up.
MAX_CONNECTIONS = 50


def client_from_url(url: str, *, timeout: float) -> Redis:
    """A client of its own for ``url`` (``redis://[[user]:password@]host:port/db``, ...).

    Args:
        url: a URL as redis-py reads it (``redis://``, ``rediss://``, ``unix://``).
        timeout: seconds to connect, to read an answer, and to wait for a free connection.

    Returns:
        A client whose ``aclose()`` closes its pool too.

    Raises:
        ValidationError: ``url`` is no Redis URL, or ``timeout`` is not above 0 (the
            message never repeats the URL: it may hold the password).
    """
    check_seconds(timeout, "timeout")
    try:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
    except (ValueError, TypeError):
        raise ValidationError(
            "not a Redis URL (redis://[[user]:password@]host:port/db, rediss://, unix://)"
        ) from None
    redis = Redis.from_pool(pool)
    register_password(redis)
    return redis


def register_password(redis: Redis) -> None:
    """Keep the client's Redis password out of every message the SDK writes.

    A password long enough to be told from plain text is masked wherever it shows; any
    password is masked in a URL's userinfo and after a ``password`` key (see
    ``wecom_async/_logging.py``).
    """
    password = redis.connection_pool.connection_kwargs.get("password")
    if isinstance(password, str) and password:
        register_secret(password)
