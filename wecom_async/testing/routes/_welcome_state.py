"""Welcome codes, the welcome messages sent with them and group welcome templates.

State lives in ``ctx.state.ext(WelcomeState)``.  A welcome code is what an
add_external_contact event carries: usable once, for 20 seconds of fake time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .._json import JSON
from .._state import CorpState

__all__ = [
    "MAX_TEMPLATES",
    "WELCOME_CODE_TTL",
    "WelcomeCode",
    "WelcomeMessage",
    "WelcomeState",
    "issue_code",
]

#: A welcome code is valid this many seconds after the event (endpoints.md #67).
WELCOME_CODE_TTL: Final = 20.0
#: Group welcome templates per corp (41055 beyond).
MAX_TEMPLATES: Final = 100


@dataclass(slots=True, eq=False)
class WelcomeCode:
    """A welcome code handed out with an add_external_contact event."""

    code: str
    userid: str
    external_userid: str
    issued_at: float
    used: bool = False


@dataclass(frozen=True, slots=True)
class WelcomeMessage:
    """A welcome message the fake accepted: who got it and the body as sent."""

    userid: str
    external_userid: str
    welcome_code: str
    sent_at: int
    #: The request body without ``welcome_code``.
    content: JSON


class WelcomeState:
    """The corp's welcome codes, the welcome messages sent and group welcome templates."""

    def __init__(self) -> None:
        """Create empty state."""
        self.welcome_codes: dict[str, WelcomeCode] = {}
        self.welcome_messages: list[WelcomeMessage] = []
        #: Group welcome templates by template_id: their content objects as stored.
        self.templates: dict[str, JSON] = {}


def issue_code(state: CorpState, userid: str, external_userid: str, *, now: float) -> str:
    """Record and return a fresh welcome code for a (member, customer) pair issued at ``now``.

    See ``FakeWeCom.issue_welcome_code``.
    """
    code = state.new_id("")
    state.ext(WelcomeState).welcome_codes[code] = WelcomeCode(
        code=code, userid=userid, external_userid=external_userid, issued_at=now
    )
    return code
