"""Raffles and the randomness beacons of their draws (docs/raffles.md, docs/draw.md)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..domain.draw import BeaconRound
from ..domain.identity import User
from ..domain.ledger import Transfer
from ..domain.raffles import (
    Raffle,
    RaffleCategory,
    RaffleCategoryDraft,
    RaffleDraft,
    RaffleStatus,
    Ticket,
)


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


@dataclass(frozen=True, slots=True)
class PurchaseBatchView:
    """What a purchase batch decides on, read in ONE statement on PostgreSQL
    (``read_purchase_batch``): the raffles (locked ``FOR KEY SHARE``); the tickets each buyer
    holds, by (raffle id, user id), for raffles with a per-user limit only; the transfers
    already recorded under the batch's keys (its replays) and their tickets; the buyers'
    wallet account ids by (owner, currency) where they exist; per raffle, the probed numbers
    found sold, or (``sold``) every sold number of a raffle more than half sold;
    ``ticket_ids``, ids reserved for the batch's new tickets (PostgreSQL; else empty); and the
    users asked for by id (those that exist: the batch admits its access-token buyers from
    them)."""

    raffles: dict[int, Raffle]
    counts: dict[tuple[int, int], int]
    transfers: dict[str, Transfer]
    earlier: dict[str, list[Ticket]]
    wallets: dict[tuple[str, str], int]
    taken: dict[int, set[int]]
    sold: dict[int, list[int]]
    ticket_ids: list[int]
    users: dict[int, User] = field(default_factory=dict)


class RaffleRepository(Protocol):
    """Raffle categories, raffles (the category's terms copied in) and their tickets.

    Locks (PostgreSQL): purchase batches read the raffle ``FOR KEY SHARE``
    (``read_purchase_batch``), so batches of one raffle run in parallel, across processes too;
    where a per-user limit applies, ``lock_buyers`` first takes a transaction-level advisory
    lock per (raffle, buyer), in a fixed order, so the counts the next statement reads are
    exact. Status changes read ``"update"`` (FOR UPDATE), so a close waits for the purchases
    in flight and they for it. A number is sold once: ``add_tickets`` of a taken number raises
    ``TransientStoreError`` (the unique constraint; with reserved ``ids`` at the commit), and
    the retried purchase sees it sold."""

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

    async def lock_buyers(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Hold (raffle id, user id) pairs until the transaction ends, taken in a fixed order
        (PostgreSQL advisory locks; a store with one writer at a time has nothing to do)."""
        ...

    async def read_purchase_batch(
        self,
        raffle_ids: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        keys: Sequence[str],
        wallets: Sequence[tuple[int, str]],
        probes: dict[int, list[int]],
        new_tickets: int,
        users: Sequence[int] = (),
    ) -> PurchaseBatchView:
        """See ``PurchaseBatchView``: ``pairs`` (raffle, user) to count, ``keys`` the keyed
        purchases' transfer ids, ``wallets`` (raffle, owner) pairs, ``probes`` numbers per
        raffle to look up, ``new_tickets`` how many ticket ids to reserve at most."""
        ...

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

    async def add_tickets(
        self, tickets: Sequence[NewTicket], *, ids: Sequence[int] | None = None
    ) -> list[Ticket]:
        """Insert tickets (one statement) and add them to their raffles' ``sold``. ``ids``:
        ids reserved by ``read_purchase_batch``, one per ticket; on PostgreSQL the write then
        goes with the commit (a number sold meanwhile fails the commit, transiently)."""
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
