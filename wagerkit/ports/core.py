"""Clocks, ids, users, the ledger, audit, publishing and identity ports."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..domain.audit import AuditEntry, AuditRecord
from ..domain.identity import Role, User, UserStatus
from ..domain.ledger import (
    Account,
    AccountFlags,
    AccountKind,
    CurrencyTotals,
    LinkedBatch,
    Transfer,
    TransferRequest,
    TransferResult,
)
from ..domain.notifications import Notification, OutboundMessage


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

    # optional: ``listening_any(prefix) -> bool``, "might a client be in any room whose name
    # starts with ``prefix``?" (``LiveUpdates.listening_any`` answers yes for sinks without it)

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


# -- notifying people outside the app (docs/notifications.md) ------------------------------


class Notifier(Protocol):
    """Delivers an ``OutboundMessage`` (a Telegram bot, a test recorder).

    ``send`` returns True when the message was delivered and False when it was not (the chat
    blocked the bot, the service refused it or stayed unreachable): a delivery failure never
    raises. A caller sends after its unit of work has committed, never inside one, so a slow
    chat service never holds a database transaction open.
    """

    async def send(self, message: OutboundMessage) -> bool: ...
