"""A provider's token endpoints and the fetches the token managers run.

Three token kinds besides a self-built app's corp token, each cached in the same
:class:`~wecom_async.TokenStore` under its own key kind (see ``token_key``):

* the suite access token, from ``service/get_suite_token`` with the suite id, secret
  and the latest pushed ``suite_ticket`` (refused as 40082 / 42009);
* a corp's access token: ``service/get_corp_token`` with the corp's permanent code and
  the suite token (third-party app), or ``gettoken`` with the permanent code as the
  secret (代开发 custom app);
* the provider access token, from ``service/get_provider_token``.

A missing ticket or permanent code is raised before anything is sent.
"""

from __future__ import annotations

from typing import Final

from .._auth import fetch_credential, fetch_token
from .._core import Core, Endpoint
from .._exceptions import PROVIDER_CONFIG_ERRCODES, NotAuthorizedError, SuiteTicketError
from .._logging import Secret, register_secret
from ._stores import PermanentCodeStore, SuiteTicketStore

__all__ = [
    "GET_CORP_TOKEN",
    "GET_PROVIDER_TOKEN",
    "GET_SUITE_TOKEN",
    "fetch_corp_token",
    "fetch_custom_corp_token",
    "fetch_provider_token",
    "fetch_suite_token",
]

#: D:90600. No token in the query: the body carries the suite credentials.
GET_SUITE_TOKEN: Final = Endpoint(
    "POST", "service/get_suite_token", retry_safe=True, authenticated=False
)
#: D:90605. Authenticated by the suite token (``suite_access_token`` in the query). For
#: historical reasons it may answer success without an errcode, which reads as 0 here.
GET_CORP_TOKEN: Final = Endpoint("POST", "service/get_corp_token", retry_safe=True)
#: D:91200.
GET_PROVIDER_TOKEN: Final = Endpoint(
    "POST", "service/get_provider_token", retry_safe=True, authenticated=False
)


async def fetch_suite_token(
    core: Core, suite_id: str, suite_secret: str, tickets: SuiteTicketStore
) -> tuple[str, int]:
    """Fetch the suite access token with the latest suite ticket.

    Raises:
        SuiteTicketError: no ticket has arrived (nothing is sent).
        ConfigurationError: WeCom refused the suite id, secret or ticket (40083, 40085, ...).
    """
    ticket = await tickets.get(suite_id)
    if not ticket:
        raise SuiteTicketError(
            f"no suite_ticket for suite {suite_id!r} yet: WeCom pushes one every ten minutes "
            "to the command callback URL (or refresh it in the provider console)"
        )
    register_secret(ticket)  # a ticket read from a shared store, pushed to another process
    body = {"suite_id": suite_id, "suite_secret": suite_secret, "suite_ticket": Secret(ticket)}
    return await fetch_credential(
        core,
        GET_SUITE_TOKEN,
        key="suite_access_token",
        json_body=body,
        config_errcodes=PROVIDER_CONFIG_ERRCODES,
    )


async def _permanent_code(codes: PermanentCodeStore, corp_id: str) -> str:
    code = await codes.get(corp_id)
    if not code:
        raise NotAuthorizedError(
            f"corp {corp_id!r} has not authorized this app (no permanent code)", corp_id=corp_id
        )
    register_secret(code)
    return Secret(code)


async def fetch_corp_token(
    suite_core: Core, corp_id: str, codes: PermanentCodeStore
) -> tuple[str, int]:
    """A third-party app's corp token: ``service/get_corp_token`` with the permanent code.

    Runs on the suite's core (its token and budget; the caller's deadline still bounds it).

    Raises:
        NotAuthorizedError: the store has no permanent code for ``corp_id``.
        ConfigurationError: WeCom refused the permanent code (40084: e.g. cancelled).
    """
    body = {"auth_corpid": corp_id, "permanent_code": await _permanent_code(codes, corp_id)}
    return await fetch_credential(
        suite_core,
        GET_CORP_TOKEN,
        key="access_token",
        json_body=body,
        config_errcodes=PROVIDER_CONFIG_ERRCODES,
    )


async def fetch_custom_corp_token(
    core: Core, corp_id: str, codes: PermanentCodeStore
) -> tuple[str, int]:
    """A 代开发 app's corp token: ``gettoken`` with the permanent code as the secret.

    Raises:
        NotAuthorizedError: the store has no permanent code for ``corp_id``.
        ConfigurationError: gettoken refused it (40001: reset or cancelled).
    """
    return await fetch_token(core, corp_id, await _permanent_code(codes, corp_id))


async def fetch_provider_token(
    core: Core, provider_corp_id: str, provider_secret: str
) -> tuple[str, int]:
    """The provider access token, from ``service/get_provider_token``.

    Raises:
        ConfigurationError: WeCom refused the provider's corp id or secret.
    """
    body = {"corpid": provider_corp_id, "provider_secret": provider_secret}
    return await fetch_credential(
        core,
        GET_PROVIDER_TOKEN,
        key="provider_access_token",
        json_body=body,
        config_errcodes=PROVIDER_CONFIG_ERRCODES,
    )
