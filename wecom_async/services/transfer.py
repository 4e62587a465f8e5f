"""``client.transfer``: on-job and resigned inheritance (在职继承 / 离职继承), endpoints.md #23-#31.

One service, built from a part per kind of hand-over: on-job customers
(``_transfer_onjob``), resigned members' customers (``_transfer_resigned``), customer
groups (``_transfer_groups``) and the deprecated one-customer calls
(``_transfer_legacy``); what they share is in ``_transfer_base``.

The four calls that move customers or groups are not retry-safe: after an ambiguous
failure (read timeout, reset after sending, errcode -1) they are never resent, since the
hand-over may already have started and a second one would count against the customer's
"two transfers in 90 days" budget or fail with 40129. Read the result endpoints instead.
"""

from __future__ import annotations

from ._transfer_base import MAX_CUSTOMERS, MAX_SUCCESS_MSG_CHARS
from ._transfer_groups import MAX_CHATS, GroupChatTransfers
from ._transfer_legacy import LegacyTransfers
from ._transfer_onjob import OnJobTransfers
from ._transfer_resigned import LEGACY_PAGE_CAP, MAX_PAGE_SIZE, ResignedTransfers

__all__ = [
    "LEGACY_PAGE_CAP",
    "MAX_CHATS",
    "MAX_CUSTOMERS",
    "MAX_PAGE_SIZE",
    "MAX_SUCCESS_MSG_CHARS",
    "TransferService",
]


# The bases are listed last part first: the reference page shows inherited methods in
# reverse method-resolution order, so it reads on-job, resigned, groups, legacy.
class TransferService(LegacyTransfers, GroupChatTransfers, ResignedTransfers, OnJobTransfers):
    """Hand customers and groups of on-job or resigned members over to other members."""
