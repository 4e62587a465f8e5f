"""The authorization half of ``ProviderApp``: permanent codes in, cancelled corps out.

``authorize`` exchanges an auth code and stores the permanent code, ``cancel`` deletes
it once WeCom confirms the authorization is gone, and both drop the corp's cached token;
the pushes of one corp run one at a time (:class:`~._pushes.CorpLocks`), and a code
exchanged but not stored waits for WeCom's next delivery (:class:`~._pushes.Exchanged`).
"""

from __future__ import annotations

import anyio
from typing_extensions import Unpack

from .._exceptions import NotAuthorizedError, WeComError
from .._logging import logger, register_secret
from .._options import RequestOptions
from .._token import IssuedToken
from .._validation import check_id, check_secret
from ..models.provider import AuthInfoResponse, PermanentCodeInfo
from ._clients import CorpClients
from ._pushes import CorpLocks, Exchanged, refused_for_good
from ._service import AuthorizationService
from ._stores import SuiteTicketStore

__all__ = ["Authorizations"]


class Authorizations(CorpClients):
    """Exchange, store and cancel the corps' permanent codes; store the suite tickets."""

    # Set by ProviderApp.__init__.
    tickets: SuiteTicketStore
    _authorization: AuthorizationService
    _exchanged: Exchanged
    _corp_locks: CorpLocks

    async def get_permanent_code(
        self, auth_code: str, **options: Unpack[RequestOptions]
    ) -> PermanentCodeInfo:
        """Exchange an auth code for a permanent code, without storing it.

        ``POST /cgi-bin/service/v2/get_permanent_code``; see :meth:`authorize`, which
        also stores it. Docs: https://developer.work.weixin.qq.com/document/path/100776

        Raises:
            SuiteTicketError: no suite ticket yet.
            APIError: WeCom refused the code.
        """
        return await self._authorization.get_permanent_code(auth_code, **options)

    async def get_auth_info(
        self, corp_id: str, **options: Unpack[RequestOptions]
    ) -> AuthInfoResponse:
        """Read a corp's authorization (its apps and visible range), e.g. on ``change_auth``.

        ``POST /cgi-bin/service/get_auth_info`` with the stored permanent code.
        Docs: https://developer.work.weixin.qq.com/document/path/90604

        Raises:
            NotAuthorizedError: no permanent code is stored for ``corp_id``.
            APIError: WeCom refused the corp or code.
        """
        code = await self.permanent_codes.get(check_id(corp_id, "corp_id"))
        if not code:
            raise NotAuthorizedError(
                f"corp {corp_id!r} has not authorized this app (no permanent code)", corp_id=corp_id
            )
        return await self._authorization.get_auth_info(corp_id, code, **options)

    async def authorize(self, auth_code: str) -> PermanentCodeInfo:
        """Handle ``create_auth`` / ``reset_permanent_code``: exchange the auth code and
        store the permanent code under the corp id (replacing a reset one).

        The exchange runs to its end even when the caller is cancelled (an auth code works
        once: an exchange cut off after sending may have used it). A code exchanged but
        not stored (the store failed) is kept in this process for the auth code's ten
        minutes, so that calling this again with the same auth code (WeCom's next delivery
        of the push) only stores it.

        Returns:
            What get_permanent_code answered (the corp in ``auth_corp_info``).

        Raises:
            SuiteTicketError, TransportError, APIError: as :meth:`get_permanent_code`;
                nothing is stored.
            Exception: whatever ``permanent_codes.put`` raised (logged with the corp id).
        """
        info = self._exchanged.get(auth_code) or await self._exchange(auth_code)
        corp_id = info.auth_corp_info.corpid
        async with self._corp_locks(corp_id):
            try:
                await self.permanent_codes.put(corp_id, info.permanent_code)
            except Exception:
                logger.error(
                    "corp %s authorized suite %s but its permanent code could not be stored; "
                    "it is kept in this process for the auth code's ten minutes, to be stored "
                    "when WeCom delivers the push again",
                    corp_id,
                    self.suite_id,
                    exc_info=True,
                )
                raise
            self._exchanged.drop(auth_code)
            # A token fetched with a code that was just reset may already be refused.
            await self._forget(self.corp_token_key(corp_id))
        logger.info("corp %s authorized suite %s", corp_id, self.suite_id)
        return info

    async def _exchange(self, auth_code: str) -> PermanentCodeInfo:
        with anyio.CancelScope(shield=True):
            info = await self.get_permanent_code(auth_code)
        self._exchanged.keep(auth_code, info)
        return info

    async def cancel(self, corp_id: str) -> bool:
        """Handle ``cancel_auth``: delete the corp's permanent code and cached token.

        A ``cancel_auth`` may arrive after a newer ``create_auth`` of the same corp (a
        late delivery, another receiver process): the stored code is then the new one.
        So the stored code is first checked with ``service/get_auth_info``, and deleted
        only when WeCom answers that it is void (40084, see
        :data:`~._pushes.CODE_VOID_ERRCODES`). Every client of a cancelled corp then
        raises :class:`~wecom_async.NotAuthorizedError` on its next token fetch.

        Returns:
            True when the corp's code and token were deleted, False when WeCom still
            accepts the stored code (the cancel is older than the authorization).

        Raises:
            WeComError: the check could not be made (the suite token could not be had,
                whatever the errcode: a stale ticket, a rotated suite secret; the network,
                a 5xx, WeCom busy, any errcode but 40084); nothing is deleted, and
                :meth:`handle` raises it so that WeCom delivers the push again.
            Exception: whatever the permanent-code store raised.
        """
        check_id(corp_id, "corp_id")
        async with self._corp_locks(corp_id):
            code = await self.permanent_codes.get(corp_id)
            if code and await self._still_accepted(corp_id, code):
                logger.warning(
                    "ignored a cancel_auth of corp %s for suite %s: WeCom still accepts the "
                    "stored permanent code (an authorization newer than the cancel)",
                    corp_id,
                    self.suite_id,
                )
                return False
            await self.permanent_codes.delete(corp_id)
            await self._forget(self.corp_token_key(corp_id))
        logger.info("corp %s cancelled its authorization of suite %s", corp_id, self.suite_id)
        return True

    async def _still_accepted(self, corp_id: str, code: str) -> bool:
        register_secret(code)
        try:
            await self._authorization.get_auth_info(corp_id, code)
        except WeComError as exc:
            if refused_for_good(exc):
                return False
            raise
        return True

    async def put_ticket(self, ticket: str) -> None:
        """Store a pushed ``suite_ticket`` (what :meth:`handle` does with one)."""
        register_secret(check_secret(ticket, "suite_ticket"))
        await self.tickets.put(self.suite_id, ticket)

    async def _forget(self, key: str) -> None:
        """Drop the token of ``key`` from the store, whatever it is (compare-and-delete)."""
        got = await self._store.get_or_lease(key)
        if isinstance(got, IssuedToken):
            await self._store.invalidate(key, got)
            return
        # A lease not given back would hold every fetch of the corp until it expires.
        with anyio.CancelScope(shield=True):
            await self._store.release(got)
