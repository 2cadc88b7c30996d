"""The service-order marketplace (docs/orders.md)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..domain.identity import User
from ..domain.orders import (
    Complaint,
    ContactReport,
    Order,
    OrderCategory,
    OrderStats,
    OrderStatus,
    Preferences,
    ReportStatus,
    Review,
    Take,
)

# -- the service-order marketplace (docs/orders.md) --------------------------------------------


@dataclass(frozen=True, slots=True)
class TakeBatchView:
    """What a take batch decides on, read in ONE statement on PostgreSQL
    (``read_take_batch``): the orders, locked ``FOR UPDATE`` in id order; their takes, first
    first, as they stand once the locks are held (the store reads them again where a lock
    waited for a take committed after the statement began); the executors' wallet
    (``AccountKind.USER``) account ids by (owner, currency) and the house accounts (owner
    ``house``) by currency, where they exist; and the users asked for by id (a batch
    authenticates its access-token executors from them)."""

    orders: dict[str, Order]
    takes: dict[str, list[Take]]
    wallets: dict[tuple[str, str], int]
    houses: dict[str, int]
    users: dict[int, User] = field(default_factory=dict)


class OrderRepository(Protocol):
    """Orders and their takes, categories, invalid-contact reports, reviews, complaints and
    executors' preferences. ``lock=True`` locks order rows (``FOR UPDATE``, in id order) until
    the unit of work ends; SQLite and the in-memory store run one writer at a time."""

    async def categories(self) -> list[OrderCategory]:
        """Every category (inactive ones included), by slug."""
        ...

    async def put_category(self, category: OrderCategory) -> None:
        """Create or replace a category."""
        ...

    async def add(self, order: Order) -> None:
        """Insert; a second active order of the same contact makes the store raise
        ``TransientStoreError`` (a lost race; the retry finds it with ``active_for_contact``)."""
        ...

    async def active_for_contact(self, contact: str) -> Order | None: ...

    async def get_many(self, order_ids: Sequence[str], *, lock: bool = False) -> dict[str, Order]:
        """Orders by id (missing ids absent)."""
        ...

    async def update(self, order: Order) -> None:
        """Write every field but ``id``, ``client_id``, ``created_at`` and ``currency``."""
        ...

    async def list_orders(
        self,
        *,
        category: str | None = None,
        city: str | None = None,
        status: OrderStatus | None = None,
        client_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
        created_after: datetime | None = None,
    ) -> list[Order]:
        """Newest first (city compared case-insensitively)."""
        ...

    async def takes_of(self, order_ids: Sequence[str]) -> dict[str, list[Take]]:
        """Each order's takes, first first (orders without takes absent)."""
        ...

    async def takes_by(self, executor_id: int, *, limit: int = 100) -> list[Take]:
        """The executor's takes, newest first."""
        ...

    async def read_take_batch(
        self,
        order_ids: Sequence[str],
        wallets: Sequence[tuple[str, str]],
        house: str,
        users: Sequence[int] = (),
    ) -> TakeBatchView:
        """See ``TakeBatchView``: ``wallets`` (order id, owner) pairs, each looked up in its
        order's currency; ``house`` the house accounts' owner; ``users`` ids to read."""
        ...

    async def add_takes(self, takes: Sequence[Take], orders: Sequence[Order]) -> None:
        """Insert ``takes`` and write ``orders``' ``takers``, ``respond_by`` and
        ``updated_at``: a take batch's whole write, one statement (on PostgreSQL sent with the
        COMMIT, or before the unit of work's next statement; a take inserted twice then fails
        the commit, transiently)."""
        ...

    async def mark_refunded(self, pairs: Sequence[tuple[str, int]]) -> None:
        """Set ``refunded`` on the (order id, executor id) takes."""
        ...

    async def claim_due(self, now: datetime, limit: int) -> list[Order]:
        """Active orders past ``expires_at`` or past an unanswered ``respond_by``, locked
        ``FOR UPDATE SKIP LOCKED`` (rows another runner holds are skipped)."""
        ...

    async def stats(self, user_id: int) -> OrderStats:
        """The user's orders counted by status and its takes counted: aggregate reads whose
        cost does not grow with the rows they count being returned."""
        ...

    async def add_report(
        self, order_id: str, executor_id: int, reason: str, now: datetime
    ) -> ContactReport:
        """Insert a pending report; one per (order, executor): a second raises
        ``AlreadyExists``."""
        ...

    async def get_report(self, report_id: int, *, lock: bool = False) -> ContactReport | None: ...

    async def decide_report(self, report: ContactReport) -> None:
        """Write the report's status, ``decided_at`` and ``decided_by``."""
        ...

    async def list_reports(
        self, *, status: ReportStatus | None = None, limit: int = 50
    ) -> list[ContactReport]:
        """Oldest first."""
        ...

    async def rejected_reports(self, executor_id: int) -> int: ...

    async def add_review(
        self,
        order_id: str,
        client_id: int,
        executor_id: int,
        stars: int,
        text: str,
        now: datetime,
    ) -> Review:
        """One per (order, executor): a second raises ``AlreadyExists``."""
        ...

    async def list_reviews(
        self,
        *,
        executor_id: int | None = None,
        min_stars: int | None = None,
        max_stars: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Review]:
        """Newest first, with the order's category and city."""
        ...

    async def add_complaint(
        self, order_id: str, executor_id: int, reason: str, text: str, now: datetime
    ) -> Complaint:
        """One per (order, executor): a second raises ``AlreadyExists``."""
        ...

    async def get_preferences(self, user_id: int, *, lock: bool = False) -> Preferences | None:
        """``lock=True`` locks the row (``FOR UPDATE``) until the unit of work ends, so that a
        read-modify-write cannot undo a digest runner's lease written meanwhile."""
        ...

    async def put_preferences(self, prefs: Preferences) -> None:
        """Create or replace."""
        ...

    async def claim_digests(self, now: datetime, limit: int) -> list[Preferences]:
        """Preferences in digest mode whose ``digest_due`` passed (or is unset), locked
        ``FOR UPDATE SKIP LOCKED``; the caller moves ``digest_due`` on (``move_digest``)."""
        ...

    async def move_digest(
        self,
        user_id: int,
        expect_due: datetime | None,
        digest_after: datetime,
        digest_due: datetime,
    ) -> bool:
        """Compare and set: write ``digest_after`` and ``digest_due`` only if the user is in
        digest mode and its ``digest_due`` is still ``expect_due`` (``None``: unset); True
        when written. A digest runner's lease (services/orders/digests.py)."""
        ...

    async def subscribers(self, category: str, city: str) -> list[Preferences]:
        """Preferences subscribed to ``category`` and ``city`` (an empty list matching all),
        notification setting not ``off``."""
        ...
