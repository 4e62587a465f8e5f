"""Welcome codes, the welcome messages sent with them and group welcome templates.

State lives in ``ctx.state.ext(WelcomeState)``.  A welcome code is what an
add_external_contact event carries: usable once, for 20 seconds of fake time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .._route import JSON

if TYPE_CHECKING:
    from .._fake import FakeWeCom

__all__ = [
    "MAX_TEMPLATES",
    "WELCOME_CODE_TTL",
    "WelcomeCode",
    "WelcomeMessage",
    "WelcomeState",
    "issue_welcome_code",
    "welcome_messages",
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


def _state(fake: FakeWeCom) -> WelcomeState:
    return fake.state.ext(WelcomeState)


def issue_welcome_code(fake: FakeWeCom, userid: str, external_userid: str) -> str:
    """Return a fresh welcome code for a (member, customer) pair, as an event carries it.

    The code is valid for 20 seconds of the fake clock and usable once; the ids are
    recorded with the welcome message sent with it (they are not checked against the
    corp, so a callback test needs no seeded data).
    """
    with fake.lock:
        code = fake.state.new_id("")
        _state(fake).welcome_codes[code] = WelcomeCode(
            code=code, userid=userid, external_userid=external_userid, issued_at=fake.clock.now()
        )
        return code


def welcome_messages(fake: FakeWeCom) -> list[WelcomeMessage]:
    """Return every welcome message the fake accepted, oldest first."""
    with fake.lock:
        return list(_state(fake).welcome_messages)
