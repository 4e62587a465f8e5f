"""Service providers (服务商): third-party apps and provider-built custom apps (代开发).

One :class:`ProviderApp` per suite holds the suite credentials, the suite-ticket store,
the permanent-code store and one shared HTTP pool; ``app.client_for(corp_id)`` is a
:class:`~wecom_async.WeComClient` for one authorized corp::

    from wecom_async.provider import ProviderApp

    app = ProviderApp("wwsuite", suite_secret, permanent_codes=MyDatabaseCodes())
    receiver = CallbackReceiver(app.callback_crypto(token, encoding_aes_key))
    app.attach(receiver)                       # suite_ticket, create_auth, cancel_auth, ...
    client = app.client_for("wwcorp")          # every service, as for a self-built app
    ids = await client.external_contact.list("zhangsan")

See the guide: docs/guides/service-providers.md.
"""

from __future__ import annotations

from ._app import DEFAULT_PROVIDER_MAX_IN_FLIGHT, AppKind, ProviderApp
from ._stores import (
    SUITE_TICKET_LIFETIME,
    MemoryPermanentCodeStore,
    MemorySuiteTicketStore,
    PermanentCodeStore,
    SuiteTicketStore,
)

__all__ = [
    "DEFAULT_PROVIDER_MAX_IN_FLIGHT",
    "SUITE_TICKET_LIFETIME",
    "AppKind",
    "MemoryPermanentCodeStore",
    "MemorySuiteTicketStore",
    "PermanentCodeStore",
    "ProviderApp",
    "SuiteTicketStore",
]
