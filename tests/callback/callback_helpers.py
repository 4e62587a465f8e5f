"""Helpers of the callback tests: a callback configuration, the XML samples and the
handler side of the apps under test."""

from __future__ import annotations

from pathlib import Path

import attrs

from wecom_async.callback import AddExternalContact

SAMPLES = Path(__file__).parent / "samples"

#: A callback configuration of our own (the official test vector is in test_callback_crypto).
TOKEN = "T0kenForTests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CORP_ID = "wwTestCorp0001"
PATH = "/wecom/callback"


def sample(name: str) -> str:
    """The text of ``samples/<name>.xml``."""
    return (SAMPLES / f"{name}.xml").read_text(encoding="utf-8")


def new_customer(n: int = 1, *, welcome_code: str | None = "WC-0001") -> AddExternalContact:
    """An add_external_contact event for customer number ``n``."""
    return AddExternalContact(
        to_user_name=CORP_ID,
        create_time=1_700_000_000 + n,
        userid="li.lei",
        external_userid=f"wmCustomer{n:022d}",
        state="spring-fair-qr",
        welcome_code=welcome_code,
    )


@attrs.define
class Greeter:
    """What the apps under test do with a new customer: greet them with the WelcomeCode.

    Today it records the events it was given.  When ``client.messages`` exists, give it a
    ``WeComClient`` on the fake WeCom and make :meth:`greet` also call
    ``await client.messages.send_welcome_msg({"welcome_code": event.welcome_code,
    "text": {"content": "..."}})``; the framework tests then assert on the fake's calls.
    """

    greeted: list[AddExternalContact] = attrs.field(factory=list)

    async def greet(self, event: AddExternalContact) -> None:
        self.greeted.append(event)
