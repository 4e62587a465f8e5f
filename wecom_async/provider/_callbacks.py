"""The command-callback half of ``ProviderApp``: what it does with each provider push.

A push is acted on before it is acknowledged: one that failed in a way a later delivery
may fix is not acknowledged (WeCom delivers it again), one that failed for good is logged
and acknowledged (:func:`~._pushes.retryable` tells them apart).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._logging import logger
from ._authorize import Authorizations
from ._pushes import retryable

if TYPE_CHECKING:
    from ..callback import CallbackCrypto, CallbackReceiver, Event, InfoEvent

__all__ = ["PushHandling"]


class PushHandling(Authorizations):
    """Receive the suite's command callback: tickets, authorizations, cancellations."""

    def callback_crypto(self, token: str, encoding_aes_key: str) -> CallbackCrypto:
        """The crypto of the app's command callback URL: its Token, EncodingAESKey, and
        the suite id as receive id. Needs the ``callback`` extra."""
        from ..callback import CallbackCrypto

        return CallbackCrypto(token, encoding_aes_key, self.suite_id)

    def attach(self, receiver: CallbackReceiver) -> None:
        """Run :meth:`handle` for every provider push ``receiver`` gets, before it is
        acknowledged: a push that :meth:`handle` could not act on yet is answered 503 and
        not remembered, so WeCom delivers it again; your own handlers run after it and
        see the ticket or code already stored."""
        from ..callback import InfoEvent

        receiver.on(InfoEvent, before_ack=True)(self.handle)

    async def handle(self, event: Event) -> None:
        """Act on one provider push of this suite: store a ticket (``suite_ticket``),
        exchange and store a permanent code (``create_auth``, ``reset_permanent_code``),
        drop a corp (``cancel_auth``). Other pushes, and another suite's, are ignored.

        A push that failed for good (WeCom refused the auth code: used, expired) is
        logged at ERROR and returns: answer it 200, another delivery cannot help. A push
        that failed in a way a later delivery may fix raises: do not acknowledge it, so
        that WeCom delivers it again (:meth:`attach` makes the receiver answer 503). A
        ``cancel_auth`` that failed always raises: its check could not be made, and the
        corp's code is kept (:meth:`cancel`).

        Raises:
            WeComError: the network, a 5xx, WeCom busy, no suite ticket yet, the suite
                token refused (a stale ticket, a rotated secret), a closed app; for a
                ``cancel_auth``, any failure of its check.
            Exception: whatever the ticket or permanent-code store raised.
        """
        from ..callback import CancelAuth, InfoEvent

        if not isinstance(event, InfoEvent) or event.suite_id != self.suite_id:
            return
        try:
            await self._act(event)
        except Exception as exc:
            if retryable(exc) or isinstance(event, CancelAuth):
                raise
            logger.error(
                "suite %s: the %s push of %s failed for good and is acknowledged: %s "
                "(for an auth code refused as used, the corp admin must authorize the app "
                "again, or the provider reset its permanent code)",
                self.suite_id,
                event.info_type,
                event.auth_corp_id or "an unnamed corp",
                exc,
            )

    async def _act(self, event: InfoEvent) -> None:
        from ..callback import CancelAuth, CreateAuth, ResetPermanentCode, SuiteTicket

        if isinstance(event, SuiteTicket):
            await self.put_ticket(event.suite_ticket)
        elif isinstance(event, CreateAuth | ResetPermanentCode):
            await self.authorize(event.auth_code)
        elif isinstance(event, CancelAuth):
            await self.cancel(event.auth_corp_id)
