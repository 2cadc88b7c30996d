"""Price predictions: contracts, exposure, rounds (docs/predictions.md)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ..domain.identity import User
from ..domain.predictions import Contract, ContractStatus, Round, RoundBet
from ..domain.prices import Tick

# -- Price predictions: contracts, exposure, rounds (docs/predictions.md) -----------------------


@dataclass(frozen=True, slots=True)
class PlacementBatchView:
    """What a placement batch decides on (``read_placement_batch``): the exposure rows found
    (symbol or ``"*"`` → amount), locked until the unit of work ends; the contracts already
    placed under the batch's keyed stake ids (its replays); the latest tick observed at or
    before ``now`` per symbol (fresh or not); the ids of the accounts asked for, by (kind,
    owner), where they exist; the users asked for; and ``contract_ids``, ids reserved for the
    batch's new contracts (PostgreSQL; else empty)."""

    exposure: dict[str, int]
    contracts: dict[str, Contract]
    ticks: dict[str, Tick]
    accounts: dict[tuple[str, str], int]
    users: dict[int, User] = field(default_factory=dict)
    contract_ids: list[int] = field(default_factory=list)


class PredictionRepository(Protocol):
    """House-banked contracts, the house's exposure rows and pari-mutuel rounds."""

    async def add_contracts(
        self, contracts: Sequence[Contract], ids: Sequence[int] = ()
    ) -> list[Contract]:
        """Insert, in order; one statement. Ids are assigned, or taken from ``ids`` (as many
        as ``contracts``, reserved by ``read_placement_batch``): then PostgreSQL defers the
        insert to go with the COMMIT, and a stake id inserted meanwhile fails the commit
        (``TransientStoreError``)."""
        ...

    async def read_placement_batch(
        self,
        currency: str,
        symbols: Sequence[str],
        stake_ids: Sequence[str],
        accounts: Sequence[tuple[str, str]],
        users: Sequence[int],
        now: datetime,
        new_contracts: int,
    ) -> PlacementBatchView:
        """See ``PlacementBatchView``: the exposure rows of ``currency`` (``symbols`` and the
        total) locked as ``lock_exposure`` locks them (missing rows are not created), with
        ``by_stake_ids(stake_ids)``, ``prices.latest(s, now)`` of each symbol, the
        ``currency`` accounts of (kind, owner) ``accounts``, ``users.get_many(users)``, and
        ``new_contracts`` ids reserved. PostgreSQL: ONE statement; the locked rows are their
        latest versions, the rest is the statement's snapshot (a contract committed while it
        waited for the locks is not seen: its stake is, by the ledger, and the batch starts
        over). SQLite and the in-memory store: one writer at a time."""
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

    async def get_rounds(
        self, round_ids: Sequence[int], *, for_update: bool = False
    ) -> dict[int, Round]:
        """Rounds by id (missing ones left out); ``for_update`` locks them in id order until
        the unit of work ends. One statement."""
        ...

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

    async def add_round_bets(self, new: Sequence[RoundBet]) -> list[RoundBet]:
        """``add_round_bet`` for many (ids ignored and assigned, in order): one insert for
        the bets, one pool update per round."""
        ...

    async def round_bets(self, round_id: int, *, user_id: int | None = None) -> list[RoundBet]: ...

    async def round_bets_of(
        self, pairs: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], RoundBet]:
        """The bets of (round id, user id) pairs that exist, by pair. One statement."""
        ...

    async def user_round_bets(self, user_id: int, round_ids: Sequence[int]) -> list[RoundBet]: ...

    async def ticks_needed_since(self) -> dict[str, datetime]:
        """Per symbol, the earliest instant whose ticks an open contract (its expiry: the
        exit price) or an unsettled round (open: ``lock_at``; locked: ``close_at``) may still
        read; symbols with neither are left out. Tick pruning keeps everything from there."""
        ...

    async def record_round_payouts(self, items: Sequence[tuple[int, int]]) -> None:
        """Set ``payout`` of (bet id, amount) pairs."""
        ...
