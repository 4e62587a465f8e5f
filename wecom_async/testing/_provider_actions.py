"""``FakeWeCom``'s methods that play a service provider's world outside the API.

A provider registering a suite, WeCom pushing a suite ticket, an admin installing the app
in a corp, cancelling it, or the provider resetting a 代开发 secret: none has an endpoint,
so a test plays them here. Each push is returned as the plaintext XML WeCom would send to
the suite's command callback URL; deliver it with
``wecom_async.testing.push.push_event(http, path, crypto, xml)``, the crypto built with the
suite id as receive id.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from ._clock import FakeClock
from ._corp import FakeCorp
from ._state import CorpState
from ._tokens import TokenRegistry
from .routes._provider_state import (
    TICKET_LIFETIME,
    ProviderState,
    Suite,
    authorize,
    push_xml,
    revoke,
)

__all__ = ["ProviderActions"]


class ProviderActions:
    """The provider side of :class:`~wecom_async.testing.FakeWeCom`; thread-safe."""

    lock: AbstractContextManager[object]
    state: CorpState
    clock: FakeClock
    corp: Callable[[str], FakeCorp]
    add_corp: Callable[[str], FakeCorp]

    def _provider(self) -> ProviderState:
        return self.state.ext(ProviderState)

    def _stamp(self) -> int:
        return int(self.clock.now())

    def add_suite(self, suite_id: str, secret: str, *, custom: bool = False) -> None:
        """Register a provider's suite (``custom=True``: a 代开发 template)."""
        with self.lock:
            provider = self._provider()
            if suite_id in provider.suites:
                raise ValueError(f"suite {suite_id!r} exists")
            tokens = TokenRegistry(suite_id, secret)
            provider.suites[suite_id] = Suite(suite_id, secret, custom, tokens)

    def add_provider(self, corp_id: str, provider_secret: str) -> None:
        """Let ``get_provider_token`` accept this provider corp id and secret."""
        with self.lock:
            self._provider().providers[corp_id] = TokenRegistry(corp_id, provider_secret)

    def push_suite_ticket(self, suite_id: str) -> str:
        """WeCom's ten-minute ``suite_ticket`` push: a fresh ticket, accepted 30 minutes.

        Returns:
            The push's plaintext XML.
        """
        with self.lock:
            suite, provider = self._provider().suite(suite_id), self._provider()
            now = self.clock.now()
            suite.tickets = {t: until for t, until in suite.tickets.items() if until > now}
            ticket = provider.credential("ticket")
            suite.tickets[ticket] = now + TICKET_LIFETIME
            return push_xml(
                ("SuiteId", suite_id),
                ("InfoType", "suite_ticket"),
                ("TimeStamp", self._stamp()),
                ("SuiteTicket", ticket),
            )

    def authorize_corp(self, suite_id: str, corp_id: str, *, state: str = "") -> str:
        """An admin of ``corp_id`` installs the suite's app (the corp is created when the
        fake has none of that id): returns the ``create_auth`` push with its auth code."""
        with self.lock:
            suite = self._provider().suite(suite_id)
            if corp_id not in self._provider().corps:
                self.add_corp(corp_id)
            auth_code = authorize(self._provider(), suite, corp_id, self.clock.now(), state)
            pairs: list[tuple[str, str | int]] = [
                ("SuiteId", suite_id),
                ("AuthCode", auth_code),
                ("InfoType", "create_auth"),
                ("TimeStamp", self._stamp()),
            ]
            return push_xml(*pairs, *([("State", state)] if state else []))

    def reset_permanent_code(self, suite_id: str, corp_id: str) -> str:
        """The provider resets a 代开发 app's secret: the old permanent code and its tokens
        stop working; returns the ``reset_permanent_code`` push with a new auth code."""
        with self.lock:
            suite = self._provider().suite(suite_id)
            if corp_id not in suite.authorized:
                raise KeyError(f"{corp_id!r} has not authorized {suite_id!r}")
            auth_code = authorize(self._provider(), suite, corp_id, self.clock.now(), "")
            return push_xml(
                ("SuiteId", suite_id),
                ("AuthCode", auth_code),
                ("InfoType", "reset_permanent_code"),
                ("TimeStamp", self._stamp()),
            )

    def change_auth(self, suite_id: str, corp_id: str) -> str:
        """An admin changes the app's authorization: returns the ``change_auth`` push."""
        with self.lock:
            self._provider().suite(suite_id)
            return self._auth_push(suite_id, corp_id, "change_auth")

    def cancel_corp(self, suite_id: str, corp_id: str) -> str:
        """An admin of ``corp_id`` uninstalls the app: its permanent code and every token
        fetched with it stop working; returns the ``cancel_auth`` push."""
        with self.lock:
            revoke(self._provider(), self._provider().suite(suite_id), corp_id)
            return self._auth_push(suite_id, corp_id, "cancel_auth")

    def _auth_push(self, suite_id: str, corp_id: str, info_type: str) -> str:
        return push_xml(
            ("SuiteId", suite_id),
            ("InfoType", info_type),
            ("TimeStamp", self._stamp()),
            ("AuthCorpId", corp_id),
        )
