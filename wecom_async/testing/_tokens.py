"""Access tokens: ``gettoken`` issuance and the check every business call goes through.

Rules (endpoints.md §5.1, §5.10): one token per (corpid, corpsecret), returned again on every
``gettoken`` until it expires, with ``expires_in`` the remaining lifetime; 7200 s lifetime
on the fake clock.  ``gettoken`` answers 41002 / 41004 for a missing corpid / corpsecret,
40013 for an unknown corpid and 40001 for a wrong secret.  A business call answers 41001
without a token (a token in the JSON body does not count), 40014 for a token the fake never
issued or invalidated, 42001 for an expired one.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Final

from ._errors import WeComFault

__all__ = ["TOKEN_LIFETIME", "TokenRegistry"]

#: Lifetime of an access token in seconds.
TOKEN_LIFETIME: Final = 7200


@dataclass(slots=True)
class _Token:
    value: str
    secret: str
    expires_at: float
    expired: bool = False
    revoked: bool = False


class TokenRegistry:
    """The corp's app secrets and every token issued for them."""

    def __init__(self, corp_id: str, *secrets: str) -> None:
        """Create the registry for one corp accepting the app ``secrets``."""
        self.corp_id = corp_id
        self._secrets: set[str] = set(secrets)
        self._tokens: dict[str, _Token] = {}
        self._current: dict[str, _Token] = {}
        self._issued = 0

    @property
    def issued(self) -> int:
        """How many distinct tokens have been issued."""
        return self._issued

    def add_secret(self, secret: str) -> None:
        """Accept another app secret of the corp (it gets its own tokens)."""
        self._secrets.add(secret)

    def remove_secret(self, secret: str) -> None:
        """Refuse ``secret`` from now on (40001) and revoke its tokens (40014), as when a
        provider's permanent code is reset or its authorization cancelled."""
        self._secrets.discard(secret)
        self._current.pop(secret, None)
        for token in self._tokens.values():
            if token.secret == secret:
                token.revoked = True

    def knows(self, access_token: str) -> bool:
        """Whether ``access_token`` was issued by this registry (valid or not)."""
        return access_token in self._tokens

    def issue(self, corpid: str | None, corpsecret: str | None, now: float) -> tuple[str, int]:
        """Answer ``gettoken``: return (access_token, expires_in) or raise its errcode."""
        if not corpid:
            raise WeComFault(41002)
        if not corpsecret:
            raise WeComFault(41004)
        if corpid != self.corp_id:
            raise WeComFault(40013)
        if corpsecret not in self._secrets:
            raise WeComFault(40001)
        token = self._current.get(corpsecret)
        if token is None or token.expired or token.revoked or now >= token.expires_at:
            token = self._new(corpsecret, now)
        return token.value, max(1, int(token.expires_at - now))

    def check(self, access_token: str | None, now: float) -> None:
        """Raise 41001 / 40014 / 42001 unless ``access_token`` is valid now."""
        if not access_token:
            raise WeComFault(41001)
        token = self._tokens.get(access_token)
        if token is None or token.revoked:
            raise WeComFault(40014)
        if token.expired or now >= token.expires_at:
            raise WeComFault(42001)

    def expire_all(self) -> None:
        """Make every issued token answer 42001; the next gettoken issues a fresh one."""
        for token in self._tokens.values():
            token.expired = True

    def invalidate_all(self) -> None:
        """Make every issued token answer 40014 (revoked early, as WeCom may do)."""
        for token in self._tokens.values():
            token.revoked = True

    def _new(self, secret: str, now: float) -> _Token:
        self._issued += 1
        seed = f"{self.corp_id}\x1f{secret}\x1f{self._issued}".encode()
        raw = hashlib.sha512(seed).digest() + hashlib.sha256(seed).digest()
        value = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        token = _Token(value=value, secret=secret, expires_at=now + TOKEN_LIFETIME)
        self._tokens[value] = token
        self._current[secret] = token
        return token
