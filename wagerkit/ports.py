"""The ports: what the use cases need from the outside world, as Protocols.

A ``UnitOfWork`` is one transaction over the repositories: entered with ``async with``, it
rolls back unless ``commit()`` was called. Stores raise ``TransientStoreError`` when they lose a
race (deadlock, serialization failure, a concurrent insert of the same id); the service layer
retries the whole unit of work, so callers never see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from .domain.audit import AuditEntry, AuditRecord
from .domain.chat import ChatMessage, Mute
from .domain.draw import BeaconRound
from .domain.events import Bet, BetStatus, Event, EventDraft, EventStatus, Outcome
from .domain.identity import Role, User, UserStatus
from .domain.ledger import (
    Account,
    AccountFlags,
    AccountKind,
    CurrencyTotals,
    LinkedBatch,
    Transfer,
    TransferRequest,
    TransferResult,
)
from .domain.notifications import Notification, OutboundMessage
from .domain.orders import (
    Complaint,
    ContactReport,
    Order,
    OrderCategory,
    OrderStatus,
    Preferences,
    ReportStatus,
    Review,
    Take,
)
from .domain.payments import Payment, ProviderResult, WebhookEvent
from .domain.predictions import Contract, ContractStatus, Round, RoundBet
from .domain.prices import Tick
from .domain.raffles import (
    Raffle,
    RaffleCategory,
    RaffleCategoryDraft,
    RaffleDraft,
    RaffleStatus,
    Ticket,
)

__all__ = [
    "AuditRepository",
    "BetBatchView",
    "BetResult",
    "ChatRepository",
    "Clock",
    "EventPublisher",
    "EventRepository",
    "IdFactory",
    "LedgerRepository",
    "NewBet",
    "NewTicket",
    "NewUser",
    "NullPublisher",
    "OrderRepository",
    "PasswordHasher",
    "PaymentProvider",
    "PaymentRepository",
    "PoolDelta",
    "PredictionRepository",
    "PriceFeed",
    "PriceRepository",
    "RaffleRepository",
    "RandomnessBeacon",
    "RateLimiter",
    "RealtimeSink",
    "SystemClock",
    "TokenService",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
    "UuidIds",
]


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class IdFactory(Protocol):
    def new_id(self, prefix: str) -> str: ...


class UuidIds:
    """Random ids for production use: ``prefix-<32 hex digits>``."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class NewUser:
    display_name: str
    role: Role
    created_at: datetime
    status: UserStatus = UserStatus.ACTIVE
    telegram_id: int | None = None
    username: str | None = None
    email: str | None = None
    password_hash: str | None = None
    whitelisted: bool = False


class UserRepository(Protocol):
    async def add(self, user: NewUser) -> User:
        """Insert; raises ``AlreadyExists`` on a taken username, email or telegram id."""
        ...

    async def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        """``for_update``: lock the row until the unit of work ends (read-modify-write)."""
        ...

    async def get_many(self, user_ids: Sequence[int]) -> dict[int, User]:
        """Users by id, in one round trip (missing ids are absent)."""
        ...

    async def get_by_username(self, username: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def get_by_telegram_id(self, telegram_id: int) -> User | None: ...

    async def count_active_admins(self) -> int:
        """Admins that are not banned (the last one may not be demoted or banned); their rows
        stay locked until the unit of work ends, so two admins cannot demote each other at once."""
        ...

    async def list(self, *, limit: int = 100, offset: int = 0) -> list[User]: ...

    async def update(self, user: User) -> None: ...


class LedgerRepository(Protocol):
    async def open_account(
        self, kind: AccountKind, owner: str, currency: str, flags: AccountFlags
    ) -> Account:
        """Get the account (kind, owner, currency), creating it if missing."""
        ...

    async def find_account(
        self, kind: AccountKind, owner: str, currency: str
    ) -> Account | None: ...

    async def get_account(self, account_id: int) -> Account | None: ...

    async def accounts_of(self, owner: str) -> list[Account]: ...

    async def accounts_of_many(self, owners: Sequence[str]) -> dict[str, list[Account]]:
        """``accounts_of`` for many owners in one round trip (owners without accounts absent)."""
        ...

    async def set_flags(self, account_id: int, flags: AccountFlags) -> None: ...

    async def apply(
        self, items: Sequence[TransferRequest | LinkedBatch], now: datetime
    ) -> list[TransferResult]:
        """Lock, decide (``plan_batch``) and write a batch; one result per request."""
        ...

    async def get_transfer(self, transfer_id: str) -> Transfer | None: ...

    async def statement(
        self, account_id: int, *, limit: int, before_seq: int | None = None
    ) -> list[Transfer]:
        """Transfers touching the account, newest first."""
        ...

    async def expired_pending(self, now: datetime, limit: int) -> list[Transfer]:
        """Unresolved pending transfers whose timeout has passed."""
        ...

    async def totals(self) -> list[CurrencyTotals]: ...

    async def journal(self, *, after_seq: int = 0, limit: int = 1000) -> list[Transfer]:
        """Every transfer in commit order (for audits and replays)."""
        ...

    async def get_transfers(self, transfer_ids: Sequence[str]) -> dict[str, Transfer]:
        """The stored transfers among ``transfer_ids`` (one round trip, for batches)."""
        ...

    async def open_accounts(
        self, specs: Sequence[tuple[AccountKind, str, str, AccountFlags]]
    ) -> list[Account]:
        """``open_account`` for many (kind, owner, currency, flags) at once, in order."""
        ...


class AuditRepository(Protocol):
    async def add(self, record: AuditRecord) -> AuditEntry: ...

    async def list(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def events(self) -> EventRepository: ...

    @property
    def chat(self) -> ChatRepository: ...

    @property
    def prices(self) -> PriceRepository: ...

    @property
    def predictions(self) -> PredictionRepository: ...

    @property
    def raffles(self) -> RaffleRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class EventPublisher(Protocol):
    """Where use cases announce committed changes, as typed ``Notification`` values
    (``domain/notifications.py``): the realtime handler, a queue, a test list. Called after
    the commit; a publisher logs its own failures and never raises into the use case."""

    async def publish(self, note: Notification) -> None: ...


class NullPublisher:
    async def publish(self, note: Notification) -> None:
        return None


class RealtimeSink(Protocol):
    """Where live updates leave the process: rooms of connected clients (Socket.IO in
    ``wagerkit.adapters.realtime``). Rooms are ``user:<id>`` and ``event:<id>``."""

    def listening(self, room: str) -> bool:
        """Might a client be in ``room``? ``False`` only when that is known for certain
        (then the caller skips the read behind the send)."""
        ...

    async def send(self, name: str, data: Mapping[str, Any], room: str) -> None:
        """Send the message ``name`` with ``data`` to every client in ``room``."""
        ...

    async def disconnect(self, room: str) -> None:
        """Cut off every client in ``room``, in every process (a banned user's sockets)."""
        ...


# -- Identity and access: passwords, access tokens, rate limits, user look-ups --------------
# (appended for accounts and sessions; adapters in wagerkit/adapters/{passwords,tokens,ratelimit})


class PasswordHasher(Protocol):
    """One-way password hashes (argon2id in production). Never logs or returns the password."""

    def hash(self, password: str) -> str: ...

    def verify(self, hash: str, password: str) -> bool:
        """True when ``password`` matches ``hash``; False on a mismatch or a malformed hash."""
        ...

    def needs_rehash(self, hash: str) -> bool:
        """True when ``hash`` was made with weaker parameters than the current ones."""
        ...


class TokenService(Protocol):
    """Signed access tokens carrying a user id."""

    @property
    def lifetime(self) -> timedelta:
        """How long an issued token stays valid."""
        ...

    def issue(self, user_id: int, *, now: datetime, version: str = "") -> str:
        """A token for ``user_id`` carrying ``version`` (an opaque text the caller checks on
        use, e.g. a fingerprint of the password so a password change retires old tokens)."""
        ...

    def verify(self, token: str, *, now: datetime) -> tuple[int, str]:
        """``(user id, version)`` from ``token`` (version ``""`` when it carries none);
        raises ``TokenInvalid`` or ``TokenExpired``."""
        ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, per_seconds: int) -> None:
        """Count one hit on ``key``; raise ``RateLimited(retry_after=seconds)`` when ``key`` had
        ``limit`` hits within the last ``per_seconds`` seconds already."""
        ...


# -- Payments: deposits and withdrawals (docs/payments.md) -----------------------------------


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> Payment:
        """Insert a new payment; returns it with its ``seq``. A taken id, idempotency key or
        (provider, provider_reference) makes the store raise ``TransientStoreError`` (a lost
        race: the retried unit of work finds the row)."""
        ...

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        """``for_update`` locks the row until the unit of work ends (PostgreSQL)."""
        ...

    async def get_by_key(self, idempotency_key: str) -> Payment | None: ...

    async def get_by_reference(self, provider: str, reference: str) -> Payment | None: ...

    async def update(self, payment: Payment) -> None:
        """Write status, reference, transfer ids, reason and ``updated_at``."""
        ...

    async def list(
        self, *, user_id: int | None = None, limit: int = 50, before_seq: int | None = None
    ) -> list[Payment]:
        """Newest first."""
        ...


class PaymentProvider(Protocol):
    """A payment provider. ``start_*`` must be idempotent by ``payment.id`` (a replayed
    command calls it again for a payment still pending)."""

    @property
    def name(self) -> str: ...

    async def start_deposit(self, payment: Payment) -> ProviderResult: ...

    async def start_withdrawal(self, payment: Payment) -> ProviderResult: ...

    def parse_webhook(self, raw_body: bytes, signature: str) -> WebhookEvent:
        """Verify the signature over the raw body and read it; raise
        ``WebhookSignatureInvalid``, ``WebhookMalformed``, or ``PaymentProviderUnavailable``
        for a provider that sends no webhooks."""
        ...


# -- Pari-mutuel events, bets and chat (docs/events.md) --------------------------------------


@dataclass(frozen=True, slots=True)
class NewBet:
    event_id: int
    outcome_id: int
    user_id: int
    amount: int
    wallet_account_id: int
    placed_at: datetime


@dataclass(frozen=True, slots=True)
class PoolDelta:
    """Add ``amount`` to an outcome's total and ``bettors`` to its bettor count."""

    outcome_id: int
    amount: int
    bettors: int


@dataclass(frozen=True, slots=True)
class BetBatchView:
    """What a bet batch decides on, read at one point in time (``read_bet_batch``): the
    events (locked ``"share"``), the users' existing bets by (event id, user id), and the
    stake transfers already recorded under the batch's keyed transfer ids (its replays), and
    the bettors' wallet (``AccountKind.USER``) account ids by (owner, currency) where they
    exist (an account's id never changes once opened)."""

    events: dict[int, Event]
    bets: dict[tuple[int, int], Bet]
    transfers: dict[str, Transfer]
    wallets: dict[tuple[str, str], int]


@dataclass(frozen=True, slots=True)
class BetResult:
    bet_id: int
    status: BetStatus
    payout: int


class EventRepository(Protocol):
    """Events with their outcomes (and pool totals), and their bets.

    Locks (PostgreSQL; SQLite and the in-memory store run one writer at a time): ``lock=
    "update"`` for status changes (lock, settle, void, edit), ``"share"`` for bet batches, so
    many bet batches run together while a status change waits for them and they for it. Rows
    are always locked in event-id order, before any ledger account."""

    async def add(
        self, draft: EventDraft, *, escrow_account_id: int, created_by: int | None, now: datetime
    ) -> Event:
        """Insert an event (validated draft) and its outcomes; ids are assigned here."""
        ...

    async def get(self, event_id: int, *, lock: str = "none") -> Event | None:
        """``lock``: ``"none"``, ``"share"`` or ``"update"``."""
        ...

    async def get_many(self, event_ids: Sequence[int], *, lock: str = "none") -> dict[int, Event]:
        """Events by id (missing ids absent), locked in id order when asked."""
        ...

    async def update(self, event: Event) -> None:
        """Write every field of the event but its outcomes, pool totals and ``bet_count``."""
        ...

    async def replace_outcomes(self, event_id: int, names: Sequence[str]) -> tuple[Outcome, ...]:
        """New outcomes for an event without bets (edit); returns them with their ids."""
        ...

    async def list_events(
        self,
        *,
        statuses: Sequence[EventStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Event]:
        """Newest first."""
        ...

    async def claim_due(self, now: datetime, stale_before: datetime, limit: int) -> list[Event]:
        """Events a job must act on, locked ``FOR UPDATE SKIP LOCKED`` (rows another runner
        holds are skipped): scheduled/open past ``closes_at``, not final past
        ``settle_deadline``, and settling/voiding not touched since ``stale_before``."""
        ...

    async def bets_for(self, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Bet]:
        """The bets of (event id, user id) pairs that exist."""
        ...

    async def add_bets(self, bets: Sequence[NewBet]) -> list[Bet]:
        """Insert bets (in order; ids ascending in that order)."""
        ...

    async def top_up(self, bets: Sequence[tuple[int, int]], now: datetime) -> None:
        """Add ``amount`` to each (bet id, amount) and count the placement."""
        ...

    async def add_to_pool(self, deltas: Sequence[PoolDelta]) -> None: ...

    async def read_bet_batch(
        self,
        event_ids: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        transfer_ids: Sequence[str],
        wallets: Sequence[tuple[int, str]] = (),
    ) -> BetBatchView:
        """``get_many(event_ids, lock="share")``, ``bets_for(pairs)`` and the ledger's
        ``get_transfers(transfer_ids)`` as ONE consistent read: a bet batch that committed
        meanwhile is seen whole (its bets with their stakes) or not at all. PostgreSQL: one
        statement (one snapshot); SQLite and the in-memory store: one writer at a time.
        ``wallets``: (event id, owner) pairs whose user account in the event's currency is
        looked up too (saving ``open_accounts`` for bettors who have one)."""
        ...

    async def write_bet_batch(
        self,
        new: Sequence[NewBet],
        topups: Sequence[tuple[int, int]],
        deltas: Sequence[PoolDelta],
        now: datetime,
    ) -> list[Bet]:
        """``add_bets(new)``, ``top_up(topups, now)`` and ``add_to_pool(deltas)`` together
        (PostgreSQL: one statement); returns the new bets as ``add_bets`` does."""
        ...

    async def bets_of_event(self, event_id: int) -> list[Bet]:
        """All bets of an event, by id (first placement first)."""
        ...

    async def record_results(self, results: Sequence[BetResult], now: datetime) -> None:
        """Set status and payout of many bets (one statement)."""
        ...

    async def list_bets(
        self,
        *,
        event_id: int | None = None,
        user_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Bet]:
        """Newest first."""
        ...


class ChatRepository(Protocol):
    async def add(
        self, event_id: int, user_id: int, author: str, text: str, now: datetime
    ) -> ChatMessage: ...

    async def get(self, message_id: int) -> ChatMessage | None: ...

    async def delete(self, message_id: int) -> None:
        """Mark deleted (the text stays for the audit)."""
        ...

    async def recent(
        self, event_id: int, *, limit: int = 50, before_id: int | None = None
    ) -> list[ChatMessage]:
        """Messages not deleted, newest first."""
        ...

    async def get_mute(self, user_id: int) -> Mute | None: ...

    async def set_mute(self, mute: Mute) -> None:
        """Create or replace the user's mute."""
        ...

    async def remove_mute(self, user_id: int) -> None: ...


# -- the service-order marketplace (docs/orders.md) --------------------------------------------


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

    async def add_takes(self, takes: Sequence[Take], orders: Sequence[Order]) -> None:
        """Insert ``takes`` (one statement) and write ``orders``' ``takers``, ``respond_by``
        and ``updated_at`` (one batched statement): a take batch's whole write."""
        ...

    async def mark_refunded(self, pairs: Sequence[tuple[str, int]]) -> None:
        """Set ``refunded`` on the (order id, executor id) takes."""
        ...

    async def claim_due(self, now: datetime, limit: int) -> list[Order]:
        """Active orders past ``expires_at`` or past an unanswered ``respond_by``, locked
        ``FOR UPDATE SKIP LOCKED`` (rows another runner holds are skipped)."""
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

    async def get_preferences(self, user_id: int) -> Preferences | None: ...

    async def put_preferences(self, prefs: Preferences) -> None:
        """Create or replace."""
        ...

    async def claim_digests(self, now: datetime, limit: int) -> list[Preferences]:
        """Preferences in digest mode whose ``digest_due`` passed (or is unset), locked
        ``FOR UPDATE SKIP LOCKED``; the caller moves ``digest_due`` on."""
        ...

    async def subscribers(self, category: str, city: str) -> list[Preferences]:
        """Preferences subscribed to ``category`` and ``city`` (an empty list matching all),
        notification setting not ``off``."""
        ...


# -- notifying people outside the app (docs/notifications.md) ------------------------------
__all__ += ["Notifier", "OutboundMessage"]


class Notifier(Protocol):
    """Delivers an ``OutboundMessage`` (a Telegram bot, a test recorder).

    ``send`` returns True when the message was delivered and False when it was not (the chat
    blocked the bot, the service refused it or stayed unreachable): a delivery failure never
    raises. A caller sends after its unit of work has committed, never inside one, so a slow
    chat service never holds a database transaction open.
    """

    async def send(self, message: OutboundMessage) -> bool: ...


# -- raffles (docs/raffles.md) ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NewTicket:
    raffle_id: int
    number: int
    user_id: int
    price: int
    wallet_account_id: int
    purchase: str
    bought_at: datetime


class RaffleRepository(Protocol):
    """Raffle categories, raffles (the category's terms copied in) and their tickets.

    Locks (PostgreSQL): purchases read the raffle ``lock="share"`` (FOR KEY SHARE: they run
    together and each adds to ``sold``), status changes ``"update"``, so a close waits for the
    purchases in flight and they for it. A number is sold once: ``add_tickets`` of a taken
    number raises ``TransientStoreError`` (the unique constraint), and the retried purchase
    sees it sold."""

    async def add_category(self, draft: RaffleCategoryDraft, now: datetime) -> RaffleCategory: ...

    async def get_category(self, category_id: int) -> RaffleCategory | None: ...

    async def list_categories(self) -> list[RaffleCategory]: ...

    async def update_category(self, category: RaffleCategory) -> None: ...

    async def delete_category(self, category_id: int) -> None: ...

    async def add(
        self, draft: RaffleDraft, category: RaffleCategory, *, escrow_account_id: int, now: datetime
    ) -> Raffle:
        """Insert a raffle (validated draft) with its category's terms copied in."""
        ...

    async def get(self, raffle_id: int, *, lock: str = "none") -> Raffle | None: ...

    async def update(self, raffle: Raffle) -> None:
        """Write every field of the raffle but ``sold`` (which ``add_tickets`` keeps)."""
        ...

    async def list_raffles(
        self,
        *,
        statuses: Sequence[RaffleStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Raffle]:
        """Newest first."""
        ...

    async def claim_due(
        self, now: datetime, stale_before: datetime, hold_before: datetime, limit: int
    ) -> list[Raffle]:
        """Raffles a job must act on, locked ``FOR UPDATE SKIP LOCKED``: open past ``end``;
        voided or drawn and not paid, untouched since ``stale_before`` (a lottery draw not
        yet paying: since ``hold_before``, its correction window)."""
        ...

    async def sold_numbers(self, raffle_id: int) -> list[int]:
        """The sold numbers, ascending (read lean: a draw reads a million of them)."""
        ...

    async def taken_among(self, raffle_id: int, numbers: Sequence[int]) -> list[int]:
        """Which of ``numbers`` are sold (one indexed look-up)."""
        ...

    async def user_counts(self, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """Tickets held per (raffle id, user id) (pairs without tickets absent)."""
        ...

    async def purchases(self, purchase_ids: Sequence[str]) -> dict[str, list[Ticket]]:
        """The tickets of earlier purchases (by the purchase's transfer id), by number."""
        ...

    async def add_tickets(self, tickets: Sequence[NewTicket]) -> list[Ticket]:
        """Insert tickets (one statement) and add them to their raffles' ``sold``."""
        ...

    async def tickets_of(self, raffle_id: int) -> list[Ticket]:
        """Every ticket of the raffle, by number."""
        ...

    async def listing_of(self, raffle_id: int) -> list[tuple[int, int]]:
        """(number, user id) of every ticket, by number: the draw's listing, read lean (a
        million-ticket raffle is closed, drawn and published from this)."""
        ...

    async def holders_of(
        self, raffle_id: int, numbers: Sequence[int]
    ) -> dict[int, tuple[int, int]]:
        """(user id, wallet account id) of each of these ticket numbers."""
        ...

    async def list_tickets(
        self,
        *,
        raffle_id: int | None = None,
        user_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Ticket]:
        """Newest first."""
        ...

    async def record_prizes(self, raffle_id: int, prizes: Sequence[tuple[int, int]]) -> None:
        """Set the prize of each (number, prize) of the raffle (one statement)."""
        ...

    async def record_refunds(self, ticket_ids: Sequence[int]) -> None:
        """Mark tickets refunded (one statement)."""
        ...


# -- Randomness beacons for raffle draws (docs/draw.md) ----------------------------------------


class RandomnessBeacon(Protocol):
    """A public randomness beacon (drand quicknet by default): rounds are fetched or entered,
    and every round is verified before a draw may use it.

    ``fetch`` raises ``BeaconUnavailable`` when the relay cannot be reached or answers garbage
    (nothing is drawn then: retry, or enter the round and signature by hand) and
    ``BeaconInvalid`` for a round that does not verify or is not the one asked for.
    """

    @property
    def chain_hash(self) -> str: ...

    def round_after(self, moment: datetime) -> int:
        """The first round produced strictly after ``moment`` (the round to draw with)."""
        ...

    async def fetch(self, round: int | None = None) -> BeaconRound:
        """That round (``None``: the latest), checked: randomness, BLS signature, number."""
        ...

    def entered(self, round: int, signature: str) -> BeaconRound:
        """A round typed in by an operator (round and hex signature), checked like a fetched
        one; ``BeaconInvalid`` if it does not verify."""
        ...

    def check(self, beacon: BeaconRound, not_before: datetime) -> None:
        """Refuse (``BeaconInvalid``) a round of another chain, one whose randomness or BLS
        signature does not verify, or one produced at or before ``not_before`` (the close)."""
        ...

    async def round(
        self, round: int, *, signature: str | None = None, not_before: datetime
    ) -> BeaconRound:
        """The round a draw uses: ``entered`` when the operator gives the signature, else
        ``fetch``ed; then ``check``ed against ``not_before`` (the close)."""


# -- Prices: feeds and stored ticks (docs/prices.md) -----------------------------------------


class PriceFeed(Protocol):
    """Where prices come from (operator, CSV replay, seeded random walk, a public HTTP API).
    ``quote`` never raises for the feed's own failures: a timeout, an error status or a
    malformed answer is ``None`` (no price)."""

    async def quote(self, symbol: str, at: datetime) -> Tick | None:
        """The symbol's price as the feed knows it at ``at``, or ``None``."""
        ...


class PriceRepository(Protocol):
    """Stored ticks; every price result is computed from these."""

    async def add_ticks(self, ticks: Sequence[Tick]) -> int:
        """Store ticks; one already stored under (symbol, observed_at, source) is skipped
        (idempotent). Returns how many were new."""
        ...

    async def latest(self, symbol: str, at: datetime | None = None) -> Tick | None:
        """The newest tick observed at or before ``at`` (any time when ``None``)."""
        ...

    async def first_at_or_after(self, symbol: str, at: datetime) -> Tick | None:
        """The earliest tick observed at or after ``at``."""
        ...

    async def history(
        self, symbol: str, *, since: datetime | None = None, limit: int = 100
    ) -> list[Tick]:
        """Ticks observed at or after ``since``, newest first, at most ``limit``."""
        ...

    async def symbols(self) -> list[str]:
        """Every symbol with a stored tick, sorted."""
        ...


# -- Price predictions: contracts, exposure, rounds (docs/predictions.md) -----------------------


class PredictionRepository(Protocol):
    """House-banked contracts, the house's exposure rows and pari-mutuel rounds."""

    async def add_contracts(self, contracts: Sequence[Contract]) -> list[Contract]:
        """Insert (ids ignored and assigned, in order); one statement."""
        ...

    async def get(self, contract_id: int, *, for_update: bool = False) -> Contract | None: ...

    async def by_stake_ids(self, transfer_ids: Sequence[str]) -> dict[str, Contract]:
        """Contracts by the id of their stake transfer (idempotent replays)."""
        ...

    async def list_contracts(
        self,
        *,
        user_id: int | None = None,
        status: ContractStatus | None = None,
        symbol: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Contract]:
        """Newest first."""
        ...

    async def claim_due(
        self, now: datetime, buffer: timedelta, limit: int
    ) -> list[tuple[Contract, Tick | None]]:
        """Open contracts whose result is decided at ``now``, with their exit tick, locked
        (``FOR UPDATE SKIP LOCKED``), by id: expired ones with a first tick at or after
        expiry within ``buffer`` (the tick), or with none and ``expires_at + buffer`` passed
        (``None``: void). One statement."""
        ...

    async def resolve(self, contracts: Sequence[Contract]) -> None:
        """Write resolved contracts (status, exit, payout, times), set-based."""
        ...

    async def lock_exposure(self, currency: str, symbols: Sequence[str]) -> dict[str, int]:
        """The exposure of ``symbols`` and the total (``"*"``), rows created if missing and
        locked until the unit of work ends (the total first, then by symbol)."""
        ...

    async def add_exposure(self, currency: str, deltas: Mapping[str, int]) -> None:
        """Add to exposure rows (keys: symbols and ``"*"``)."""
        ...

    async def exposure(self) -> list[tuple[str, str, int]]:
        """Every (currency, symbol or ``"*"``, amount)."""
        ...

    # -- rounds --------------------------------------------------------------------------
    async def add_round(self, round_: Round) -> Round | None:
        """Insert (id assigned); ``None`` when (symbol, starts_at) exists already."""
        ...

    async def get_round(self, round_id: int, *, for_update: bool = False) -> Round | None: ...

    async def list_rounds(
        self, *, symbol: str | None = None, limit: int = 20, before_id: int | None = None
    ) -> list[Round]:
        """Newest first."""
        ...

    async def claim_due_rounds(self, now: datetime, stale: datetime, limit: int) -> list[Round]:
        """Rounds to move on (``FOR UPDATE SKIP LOCKED``): open past ``lock_at``, locked past
        ``close_at``, or settling/voiding untouched since ``stale``."""
        ...

    async def update_round(self, round_: Round) -> None:
        """Write status, prices, winner, rake (not the pools)."""
        ...

    async def add_round_bet(self, bet: RoundBet) -> RoundBet:
        """Insert and add the stake to the round's pool; ``AlreadyExists`` for a second bet
        of the user on the round."""
        ...

    async def round_bets(self, round_id: int, *, user_id: int | None = None) -> list[RoundBet]: ...

    async def user_round_bets(self, user_id: int, round_ids: Sequence[int]) -> list[RoundBet]: ...

    async def record_round_payouts(self, items: Sequence[tuple[int, int]]) -> None:
        """Set ``payout`` of (bet id, amount) pairs."""
        ...
