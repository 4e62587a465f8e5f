"""A stateful fake WeCom for tests, the sandbox and benchmarks.

``FakeWeCom`` models one corp in memory and answers the real wire format: paths, GET vs
POST, envelopes and errmsg style, errcodes, opaque cursors, documented size caps, token
lifetimes, frequency limits per corp and API, plus injected faults and a seeded chaos mode
(``fake.set_chaos(rate=0.2, seed=7)``) that spoils any route at a given rate.  It
renders plain JSON from its own records and never imports the SDK's client or models, so
it checks the SDK independently.

    fake = FakeWeCom(corp_id="wwfake", secret="fake-secret")
    fake.seed(staff=20, customers_per_staff=50, seed=7)
    http = httpx.AsyncClient(transport=fake.transport())   # in-process
    app = fake.app                                          # ASGI, for a real loopback server

Endpoints live in :mod:`wecom_async.testing.routes`, one module per doc group, discovered
automatically; a group keeps its own records in ``fake.state.ext(ItsStateClass)``.

The fake's methods also play what happens in WeCom's clients, outside the API: a member
confirming a mass message (``fake.confirm_groupmsg``), a customer adding a member and
receiving a welcome code (``fake.issue_welcome_code``, ``fake.add_via_contact_way``), a
member resigning (``fake.resign_member``), a customer refusing a transfer
(``fake.set_transfer_outcome``).
"""

from __future__ import annotations

from ._chaos import (
    ALL_KINDS,
    DEFAULT_KINDS,
    FAILING_KINDS,
    LOST_KINDS,
    MANGLING_KINDS,
    REFUSED_KINDS,
    Chaos,
    ChaosEvent,
    ChaosKind,
)
from ._clock import FakeClock
from ._cursor import CursorCodec
from ._dispatch import FakeRequest, FakeResponse, RecordedRequest
from ._errors import WeComFault
from ._fake import FakeWeCom
from ._faults import Fault
from ._route import JSON, RequestContext, Route, SeedContext, Seeder
from ._seed import SeedReport
from ._setup import Follower
from ._state import CorpState, Customer, Follow, NonCustomer, Staff
from ._tagstore import CorpTag, TagGroup, TagRegistry
from .routes._group_chat_state import GroupChat, GroupMember
from .routes._messages_state import Delivery, GroupMessage
from .routes._welcome_state import WelcomeMessage

__all__ = [
    "ALL_KINDS",
    "DEFAULT_KINDS",
    "FAILING_KINDS",
    "JSON",
    "LOST_KINDS",
    "MANGLING_KINDS",
    "REFUSED_KINDS",
    "Chaos",
    "ChaosEvent",
    "ChaosKind",
    "CorpState",
    "CorpTag",
    "CursorCodec",
    "Customer",
    "Delivery",
    "FakeClock",
    "FakeRequest",
    "FakeResponse",
    "FakeWeCom",
    "Fault",
    "Follow",
    "Follower",
    "GroupChat",
    "GroupMember",
    "GroupMessage",
    "NonCustomer",
    "RecordedRequest",
    "RequestContext",
    "Route",
    "SeedContext",
    "SeedReport",
    "Seeder",
    "Staff",
    "TagGroup",
    "TagRegistry",
    "WeComFault",
    "WelcomeMessage",
]
