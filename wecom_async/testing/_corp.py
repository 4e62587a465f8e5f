"""A fake corp's records as its methods: demo data, members, customers, follow relations.

:class:`CorpData` is shared by :class:`~wecom_async.testing.FakeWeCom` (its first corp)
and :class:`FakeCorp` (every other corp of a fake that plays a service provider's
authorized corps). Every method takes the fake's lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

from ._actions import ClientActions
from ._clock import FakeClock
from ._route import Seeder
from ._seed import SeedReport, seed_corp
from ._setup import Follower, new_customer, new_follow, new_staff
from ._state import CorpState, Customer, Follow, Staff
from ._tokens import TokenRegistry

__all__ = ["CorpData", "FakeCorp"]


class CorpData:
    """The methods that build and read one corp's records; every method is thread-safe."""

    lock: AbstractContextManager[object]
    state: CorpState
    clock: FakeClock
    _seeders: tuple[tuple[str, Seeder], ...]

    def seed(
        self,
        *,
        staff: int = 20,
        customers_per_staff: int = 50,
        seed: int = 0,
        shared_ratio: float = 0.1,
        wecom_ratio: float = 0.2,
        big_customer_followers: int = 0,
        non_customers_per_staff: int = 2,
        unlicensed_staff: int = 0,
    ) -> SeedReport:
        """Build a deterministic demo corp on this fresh fake and report what it holds.

        ``staff`` members each own ``customers_per_staff`` customers (a ``wecom_ratio``
        share of WeCom users, the rest WeChat users); a ``shared_ratio`` share of customers
        is followed by up to three more members.  ``big_customer_followers`` > 0 adds one
        customer followed by that many members (the staff is enlarged to that size when
        needed), so that ``get`` pages its followers.  The last ``unlicensed_staff``
        members have no interop license.  Tags, non-customer contacts and the data of
        every route module's ``SEEDERS`` are added too.
        """
        with self.lock:
            return seed_corp(
                self.state,
                now=self.clock.now(),
                staff=staff,
                customers_per_staff=customers_per_staff,
                seed=seed,
                shared_ratio=shared_ratio,
                wecom_ratio=wecom_ratio,
                big_customer_followers=big_customer_followers,
                non_customers_per_staff=non_customers_per_staff,
                unlicensed_staff=unlicensed_staff,
                seeders=self._seeders,
            )

    def add_staff(
        self,
        userid: str,
        *,
        name: str | None = None,
        department: Sequence[int] = (1,),
        customer_contact: bool = True,
        licensed: bool = True,
        resigned: bool = False,
    ) -> Staff:
        """Add a member; ``customer_contact`` (the 客户联系 feature) and ``licensed``
        (an interop license) default to True."""
        with self.lock:
            return new_staff(
                self.state,
                userid,
                name=name,
                department=department,
                customer_contact=customer_contact,
                licensed=licensed,
                resigned=resigned,
            )

    def add_customer(
        self,
        *,
        type: int = 1,
        followers: Sequence[str | Follower] = (),
        external_userid: str | None = None,
        name: str | None = None,
        avatar: str | None = None,
        gender: int = 0,
        unionid: str | None = None,
        position: str | None = None,
        corp_name: str | None = None,
        corp_full_name: str | None = None,
        external_profile: Mapping[str, object] | None = None,
    ) -> str:
        """Add a customer followed by ``followers`` (userids or :class:`Follower` specs).

        ``type`` 1 is a WeChat user (``wm…`` id; may have ``unionid``), 2 a WeCom user
        (``wo…`` id; position, corp names and ``external_profile``).  Returns the
        external_userid.  Impossible combinations raise ValueError.
        """
        with self.lock:
            customer = new_customer(
                self.state,
                type=type,
                external_userid=external_userid,
                name=name,
                avatar=avatar,
                gender=gender,
                unionid=unionid,
                position=position,
                corp_name=corp_name,
                corp_full_name=corp_full_name,
                external_profile=external_profile,
            )
            for follower in followers:
                self.add_follow(customer.external_userid, follower)
            return customer.external_userid

    def add_follow(self, external_userid: str, follower: str | Follower) -> Follow:
        """Make a member follow an existing customer and return the relation."""
        spec = Follower(userid=follower) if isinstance(follower, str) else follower
        with self.lock:
            customer = self.state.customers[external_userid]
            return new_follow(self.state, customer, spec, now=int(self.clock.now()))

    def remove_follow(self, external_userid: str, userid: str) -> Follow:
        """End a relation (as if the member deleted the customer) and return it."""
        with self.lock:
            return self.state.detach(external_userid, userid)

    def customers_of(self, userid: str) -> list[str]:
        """Return the external_userids a member follows, in the order ``list`` returns."""
        with self.lock:
            return [f.external_userid for f in self.state.follows_of(userid)]

    def customer(self, external_userid: str) -> Customer:
        """Return a customer record (KeyError when unknown)."""
        with self.lock:
            return self.state.customers[external_userid]

    def follow(self, external_userid: str, userid: str) -> Follow | None:
        """Return the relation between a customer and a member, if any."""
        with self.lock:
            return self.state.follow(external_userid, userid)


class FakeCorp(CorpData, ClientActions):
    """Another corp of a :class:`~wecom_async.testing.FakeWeCom`, with its own records and
    tokens (``fake.add_corp(corp_id)``), served by the same fake.

    A business call is answered from the records of the corp whose token it carries.
    """

    def __init__(
        self,
        state: CorpState,
        *,
        lock: AbstractContextManager[object],
        clock: FakeClock,
        seeders: tuple[tuple[str, Seeder], ...],
    ) -> None:
        """Wrap ``state``; the fake creates it (see ``FakeWeCom.add_corp``)."""
        self.corp_id = state.corp_id
        self.state = state
        self.lock = lock
        self.clock = clock
        self._seeders = seeders

    @property
    def tokens(self) -> TokenRegistry:
        """The corp's app secrets and issued tokens."""
        return self.state.tokens

    def __repr__(self) -> str:
        return (
            f"FakeCorp(corp_id={self.corp_id!r}, staff={len(self.state.staff)}, "
            f"customers={len(self.state.customers)})"
        )
