"""Price-prediction contracts, exposure rows and rounds in memory (same rules as the SQL
store; locks are no-ops: the store lock serialises transactions)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from ...domain.errors import AlreadyExists
from ...domain.predictions import (
    Contract,
    ContractStatus,
    Direction,
    Round,
    RoundBet,
    RoundStatus,
)
from ...domain.prices import Tick
from ...ports import PlacementBatchView
from .prices import MemoryPrices
from .state import State, Undo, set_undoable

__all__ = ["MemoryPredictions"]

TOTAL = "*"


class MemoryPredictions:
    def __init__(self, s: State, undo: Undo) -> None:
        self._s, self._undo = s, undo
        self._prices = MemoryPrices(s, undo)

    # -- contracts -------------------------------------------------------------------------
    async def add_contracts(
        self, contracts: Sequence[Contract], ids: Sequence[int] = ()
    ) -> list[Contract]:
        out = []
        stake_ids = {c.stake_transfer_id for c in self._s.contracts.values()}
        if ids and len(ids) != len(contracts):
            raise ValueError("one reserved id per contract")
        for n, c in enumerate(contracts):
            if c.stake_transfer_id in stake_ids:
                raise AlreadyExists("a contract with this stake transfer exists")
            cid = ids[n] if ids else max(self._s.contracts, default=0) + 1
            if cid in self._s.contracts:
                raise AlreadyExists("a contract with this id exists")
            stored = dataclasses.replace(c, id=cid)
            set_undoable(self._s.contracts, self._undo, cid, stored)
            stake_ids.add(c.stake_transfer_id)
            out.append(stored)
        return out

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
        exposure = self._s.exposure
        ticks = {}
        for s in sorted(set(symbols)):
            t = await self._prices.latest(s, now)
            if t is not None:
                ticks[s] = t
        index = self._s.account_index
        return PlacementBatchView(
            {
                s: exposure[(currency, s)]
                for s in sorted({TOTAL, *symbols})
                if (currency, s) in exposure
            },
            await self.by_stake_ids(stake_ids),
            ticks,
            {(k, o): aid for k, o in accounts if (aid := index.get((k, o, currency))) is not None},
            {i: dataclasses.replace(u) for i in users if (u := self._s.users.get(i)) is not None},
        )

    async def get(self, contract_id: int, *, for_update: bool = False) -> Contract | None:
        return self._s.contracts.get(contract_id)

    async def by_stake_ids(self, transfer_ids: Sequence[str]) -> dict[str, Contract]:
        wanted = set(transfer_ids)
        return {
            c.stake_transfer_id: c
            for c in self._s.contracts.values()
            if c.stake_transfer_id in wanted
        }

    async def list_contracts(
        self,
        *,
        user_id: int | None = None,
        status: ContractStatus | None = None,
        symbol: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Contract]:
        out = [
            c
            for c in sorted(self._s.contracts.values(), key=lambda c: -c.id)
            if (user_id is None or c.user_id == user_id)
            and (status is None or c.status is status)
            and (symbol is None or c.symbol == symbol)
            and (before_id is None or c.id < before_id)
        ]
        return out[:limit]

    async def claim_due(
        self, now: datetime, buffer: timedelta, limit: int
    ) -> list[tuple[Contract, Tick | None]]:
        out: list[tuple[Contract, Tick | None]] = []
        for c in sorted(self._s.contracts.values(), key=lambda c: c.id):
            if len(out) >= limit:
                break
            if c.status is not ContractStatus.OPEN or c.expires_at > now:
                continue
            tick = await self._prices.first_at_or_after(c.symbol, c.expires_at)
            if tick is not None and tick.observed_at - c.expires_at <= buffer:
                out.append((c, tick))
            elif c.expires_at + buffer < now:
                out.append((c, None))
        return out

    async def resolve(self, contracts: Sequence[Contract]) -> None:
        for c in contracts:
            set_undoable(self._s.contracts, self._undo, c.id, c)

    # -- exposure --------------------------------------------------------------------------
    async def lock_exposure(self, currency: str, symbols: Sequence[str]) -> dict[str, int]:
        return {s: self._s.exposure.get((currency, s), 0) for s in (TOTAL, *symbols)}

    async def add_exposure(self, currency: str, deltas: Mapping[str, int]) -> None:
        for symbol, delta in deltas.items():
            key = (currency, symbol)
            set_undoable(self._s.exposure, self._undo, key, self._s.exposure.get(key, 0) + delta)

    async def exposure(self) -> list[tuple[str, str, int]]:
        return [(c, s, a) for (c, s), a in sorted(self._s.exposure.items())]

    # -- rounds ----------------------------------------------------------------------------
    async def add_round(self, round_: Round) -> Round | None:
        for r in self._s.rounds.values():
            if r.symbol == round_.symbol and r.starts_at == round_.starts_at:
                return None
        rid = max(self._s.rounds, default=0) + 1
        stored = dataclasses.replace(round_, id=rid)
        set_undoable(self._s.rounds, self._undo, rid, stored)
        return stored

    async def get_round(self, round_id: int, *, for_update: bool = False) -> Round | None:
        return self._s.rounds.get(round_id)

    async def get_rounds(
        self, round_ids: Sequence[int], *, for_update: bool = False
    ) -> dict[int, Round]:
        return {i: self._s.rounds[i] for i in sorted(set(round_ids)) if i in self._s.rounds}

    async def list_rounds(
        self, *, symbol: str | None = None, limit: int = 20, before_id: int | None = None
    ) -> list[Round]:
        out = [
            r
            for r in sorted(self._s.rounds.values(), key=lambda r: -r.id)
            if (symbol is None or r.symbol == symbol) and (before_id is None or r.id < before_id)
        ]
        return out[:limit]

    async def claim_due_rounds(self, now: datetime, stale: datetime, limit: int) -> list[Round]:
        out = []
        for r in sorted(self._s.rounds.values(), key=lambda r: r.id):
            due = (
                (r.status is RoundStatus.OPEN and r.lock_at <= now)
                or (r.status is RoundStatus.LOCKED and r.close_at <= now)
                or (
                    r.status in (RoundStatus.SETTLING, RoundStatus.VOIDING)
                    and (r.updated_at is None or r.updated_at < stale)
                )
            )
            if due:
                out.append(r)
        return out[:limit]

    async def update_round(self, round_: Round) -> None:
        old = self._s.rounds[round_.id]
        kept = dataclasses.replace(
            round_,
            up_total=old.up_total,
            down_total=old.down_total,
            up_count=old.up_count,
            down_count=old.down_count,
        )
        set_undoable(self._s.rounds, self._undo, round_.id, kept)

    async def add_round_bet(self, bet: RoundBet) -> RoundBet:
        for b in self._s.round_bets.values():
            if b.round_id == bet.round_id and b.user_id == bet.user_id:
                raise AlreadyExists("one bet per user per round")
        bid = max(self._s.round_bets, default=0) + 1
        stored = dataclasses.replace(bet, id=bid)
        set_undoable(self._s.round_bets, self._undo, bid, stored)
        r = self._s.rounds[bet.round_id]
        if bet.direction is Direction.UP:
            r = dataclasses.replace(r, up_total=r.up_total + bet.amount, up_count=r.up_count + 1)
        else:
            r = dataclasses.replace(
                r, down_total=r.down_total + bet.amount, down_count=r.down_count + 1
            )
        set_undoable(self._s.rounds, self._undo, r.id, r)
        return stored

    async def add_round_bets(self, new: Sequence[RoundBet]) -> list[RoundBet]:
        return [await self.add_round_bet(b) for b in new]

    async def round_bets_of(
        self, pairs: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], RoundBet]:
        wanted = set(pairs)
        return {
            (b.round_id, b.user_id): b
            for b in self._s.round_bets.values()
            if (b.round_id, b.user_id) in wanted
        }

    async def round_bets(self, round_id: int, *, user_id: int | None = None) -> list[RoundBet]:
        return [
            b
            for b in sorted(self._s.round_bets.values(), key=lambda b: b.id)
            if b.round_id == round_id and (user_id is None or b.user_id == user_id)
        ]

    async def user_round_bets(self, user_id: int, round_ids: Sequence[int]) -> list[RoundBet]:
        wanted = set(round_ids)
        return [
            b
            for b in sorted(self._s.round_bets.values(), key=lambda b: b.id)
            if b.user_id == user_id and b.round_id in wanted
        ]

    async def ticks_needed_since(self) -> dict[str, datetime]:
        out: dict[str, datetime] = {}

        def need(symbol: str, at: datetime) -> None:
            out[symbol] = min(at, out.get(symbol, at))

        for c in self._s.contracts.values():
            if c.status is ContractStatus.OPEN:
                need(c.symbol, c.expires_at)
        for r in self._s.rounds.values():
            if r.status is RoundStatus.OPEN:
                need(r.symbol, r.lock_at)
            elif r.status is RoundStatus.LOCKED:
                need(r.symbol, r.close_at)
        return out

    async def record_round_payouts(self, items: Sequence[tuple[int, int]]) -> None:
        for bet_id, amount in items:
            b = self._s.round_bets[bet_id]
            set_undoable(
                self._s.round_bets, self._undo, bet_id, dataclasses.replace(b, payout=amount)
            )
