"""Pari-mutuel events, bets and chat (docs/events.md)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..domain.chat import ChatMessage, Mute
from ..domain.events import Bet, BetStatus, Event, EventDraft, EventStatus, Outcome
from ..domain.identity import User
from ..domain.ledger import (
    Transfer,
)

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
    exist (an account's id never changes once opened), and the users asked for by id (those
    that exist: a batch authenticates its access-token bettors from them)."""

    events: dict[int, Event]
    bets: dict[tuple[int, int], Bet]
    transfers: dict[str, Transfer]
    wallets: dict[tuple[str, str], int]
    users: dict[int, User] = field(default_factory=dict)
    bet_ids: list[int] = field(default_factory=list)  # reserved for new bets (PostgreSQL)


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
        users: Sequence[int] = (),
    ) -> BetBatchView:
        """``get_many(event_ids, lock="share")``, ``bets_for(pairs)``, the ledger's
        ``get_transfers(transfer_ids)`` as ONE consistent read: a bet batch that committed
        meanwhile is seen whole (its bets with their stakes) or not at all. PostgreSQL: one
        statement (one snapshot); SQLite and the in-memory store: one writer at a time.
        ``wallets``: (event id, owner) pairs whose user account in the event's currency is
        looked up too (saving ``open_accounts`` for bettors who have one); ``users``: user ids
        read too (``users.get_many``), saving the batch a statement."""
        ...

    async def write_bet_batch(
        self,
        new: Sequence[NewBet],
        topups: Sequence[tuple[int, int]],
        deltas: Sequence[PoolDelta],
        now: datetime,
        *,
        ids: Sequence[int] = (),
    ) -> list[Bet]:
        """``add_bets(new)``, ``top_up(topups, now)`` and ``add_to_pool(deltas)`` together
        (PostgreSQL: one statement); returns the new bets as ``add_bets`` does. ``ids``: the
        batch read's ``bet_ids``; with enough of them PostgreSQL gives the new bets those ids
        and sends the statement with the COMMIT (no round trip of its own)."""
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
