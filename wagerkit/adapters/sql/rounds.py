"""Pari-mutuel rounds and their bets (the rounds half of ``uow.predictions``, the base of
``SqlPredictions``) on the SQL unit of work's connection.

A round bet batch (``services/predictions/rounds.py``) locks its rounds ``FOR UPDATE`` in id
order (``get_rounds``: concurrent batches on a round, in this process or another, queue on
its row, as the job runner's claim and a staff void do), reads the bets its users already
have on them in one statement (``round_bets_of``), and writes its bets with one multi-row
INSERT and each round's pool with one UPDATE (``add_round_bets``). SQLite takes the database
for the whole transaction (``BEGIN IMMEDIATE``), so it needs no row locks.

``ticks_needed_since`` tells tick pruning (services/prices.py) what the predictions area may
still read: it reads the open contracts as well as the unsettled rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, tuple_, update
from sqlalchemy.engine import Row

from ...domain.predictions import Direction, Round, RoundBet, RoundStatus
from ...domain.prices import parse_price
from .session import Repository, utc
from .tables import UtcDateTime, prediction_contracts, prediction_round_bets, prediction_rounds

__all__ = ["SqlRounds"]

_r = prediction_rounds.c
_b = prediction_round_bets.c
_CHUNK = 500  # (round, user) pairs per IN list


def _round(r: Row[Any]) -> Round:
    return Round(
        id=r.id,
        symbol=r.symbol,
        currency=r.currency,
        starts_at=utc(r.starts_at),
        lock_at=utc(r.lock_at),
        close_at=utc(r.close_at),
        bets_close_at=utc(r.bets_close_at),
        rake_bps=r.rake_bps,
        escrow_account_id=r.escrow_account_id,
        status=RoundStatus(r.status),
        up_total=r.up_total,
        down_total=r.down_total,
        up_count=r.up_count,
        down_count=r.down_count,
        lock_price=None if r.lock_price is None else parse_price(Decimal(r.lock_price)),
        lock_tick_at=utc(r.lock_tick_at),
        close_price=None if r.close_price is None else parse_price(Decimal(r.close_price)),
        close_tick_at=utc(r.close_tick_at),
        winner=None if r.winner is None else Direction(r.winner),
        rake=r.rake,
        void_reason=r.void_reason,
        updated_at=utc(r.updated_at),
    )


def _bet(r: Row[Any]) -> RoundBet:
    return RoundBet(
        id=r.id,
        round_id=r.round_id,
        user_id=r.user_id,
        direction=Direction(r.direction),
        amount=r.amount,
        wallet_account_id=r.wallet_account_id,
        placed_at=utc(r.placed_at),
        transfer_id=r.transfer_id,
        payout=r.payout,
    )


_ADD_BET = prediction_round_bets.insert().returning(_b.id, _b.round_id, _b.user_id)
_ADD_POOL = (
    update(prediction_rounds)
    .where(_r.id == bindparam("b_id"))
    .values(
        up_total=_r.up_total + bindparam("b_up"),
        up_count=_r.up_count + bindparam("b_up_n"),
        down_total=_r.down_total + bindparam("b_down"),
        down_count=_r.down_count + bindparam("b_down_n"),
    )
)


class SqlRounds(Repository):
    """Rounds: created by the job runner, bet on in batches, claimed and paid."""

    async def add_round(self, round_: Round) -> Round | None:
        row = {
            "symbol": round_.symbol,
            "currency": round_.currency,
            "starts_at": round_.starts_at,
            "lock_at": round_.lock_at,
            "close_at": round_.close_at,
            "bets_close_at": round_.bets_close_at,
            "rake_bps": round_.rake_bps,
            "escrow_account_id": round_.escrow_account_id,
            "status": round_.status.value,
            "updated_at": round_.updated_at,
        }
        stmt = (
            self._insert(prediction_rounds)
            .values(row)
            .on_conflict_do_nothing(index_elements=[_r.symbol, _r.starts_at])
            .returning(_r.id)
        )
        r = (await self._c.execute(stmt)).first()
        return None if r is None else await self.get_round(r.id)

    async def get_round(self, round_id: int, *, for_update: bool = False) -> Round | None:
        q = select(prediction_rounds).where(_r.id == round_id)
        if for_update and self._pg:
            q = q.with_for_update()
        r = (await self._c.execute(q)).first()
        return _round(r) if r else None

    async def get_rounds(
        self, round_ids: Sequence[int], *, for_update: bool = False
    ) -> dict[int, Round]:
        if not round_ids:
            return {}
        q = (
            select(prediction_rounds)
            .where(_r.id.in_(sorted(set(round_ids))))
            .order_by(_r.id)  # one lock order: concurrent batches never deadlock
        )
        if for_update and self._pg:
            q = q.with_for_update()
        return {r.id: _round(r) for r in await self._c.execute(q)}

    async def list_rounds(
        self, *, symbol: str | None = None, limit: int = 20, before_id: int | None = None
    ) -> list[Round]:
        q = select(prediction_rounds).order_by(_r.id.desc()).limit(limit)
        if symbol is not None:
            q = q.where(_r.symbol == symbol)
        if before_id is not None:
            q = q.where(_r.id < before_id)
        return [_round(r) for r in await self._c.execute(q)]

    async def claim_due_rounds(self, now: datetime, stale: datetime, limit: int) -> list[Round]:
        q = (
            select(prediction_rounds)
            .where(
                _r.status.notin_(("settled", "voided")),
                or_(
                    and_(_r.status == "open", _r.lock_at <= now),
                    and_(_r.status == "locked", _r.close_at <= now),
                    and_(
                        _r.status.in_(("settling", "voiding")),
                        or_(_r.updated_at.is_(None), _r.updated_at < stale),
                    ),
                ),
            )
            .order_by(_r.id)
            .limit(limit)
        )
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        return [_round(r) for r in await self._c.execute(q)]

    async def update_round(self, round_: Round) -> None:
        await self._c.execute(
            update(prediction_rounds)
            .where(_r.id == round_.id)
            .values(
                status=round_.status.value,
                lock_price=round_.lock_price,
                lock_tick_at=round_.lock_tick_at,
                close_price=round_.close_price,
                close_tick_at=round_.close_tick_at,
                winner=None if round_.winner is None else round_.winner.value,
                rake=round_.rake,
                void_reason=round_.void_reason,
                updated_at=round_.updated_at,
            )
        )

    async def ticks_needed_since(self) -> dict[str, datetime]:
        """Two grouped reads: open contracts (their expiry, by the due index) and unsettled
        rounds (open: lock time; locked: close time, by the unresolved index)."""
        c = prediction_contracts.c
        contracts = (
            select(c.symbol, func.min(c.expires_at, type_=UtcDateTime).label("at"))
            .where(c.status == "open")
            .group_by(c.symbol)
        )
        rounds = (
            select(
                _r.symbol,
                func.min(
                    case((_r.status == "open", _r.lock_at), else_=_r.close_at), type_=UtcDateTime
                ).label("at"),
            )
            .where(_r.status.in_(("open", "locked")))
            .group_by(_r.symbol)
        )
        out: dict[str, datetime] = {}
        for q in (contracts, rounds):
            for row in await self._c.execute(q):
                at = utc(row.at)
                out[row.symbol] = min(at, out.get(row.symbol, at))
        return out

    # -- bets ------------------------------------------------------------------------------
    async def add_round_bet(self, bet: RoundBet) -> RoundBet:
        (added,) = await self.add_round_bets([bet])
        return added

    async def add_round_bets(self, new: Sequence[RoundBet]) -> list[RoundBet]:
        """One multi-row INSERT … RETURNING (SQLAlchemy's "insertmanyvalues" of one cached
        statement) for the bets, then one UPDATE per round adding them to its pools."""
        if not new:
            return []
        rows = [
            {
                "round_id": b.round_id,
                "user_id": b.user_id,
                "direction": b.direction.value,
                "amount": b.amount,
                "wallet_account_id": b.wallet_account_id,
                "placed_at": b.placed_at,
                "transfer_id": b.transfer_id,
            }
            for b in new
        ]
        result = await self._c.execute(_ADD_BET, rows)
        ids = {(r.round_id, r.user_id): r.id for r in result}  # unique per round and user
        pools: dict[int, list[int]] = {}
        for b in new:
            p = pools.setdefault(b.round_id, [0, 0, 0, 0])
            k = 0 if b.direction is Direction.UP else 2
            p[k] += b.amount
            p[k + 1] += 1
        await self._c.execute(
            _ADD_POOL,
            [
                {"b_id": rid, "b_up": p[0], "b_up_n": p[1], "b_down": p[2], "b_down_n": p[3]}
                for rid, p in sorted(pools.items())
            ],
        )
        return [
            RoundBet(
                ids[(b.round_id, b.user_id)],
                b.round_id,
                b.user_id,
                b.direction,
                b.amount,
                b.wallet_account_id,
                b.placed_at,
                b.transfer_id,
            )
            for b in new
        ]

    async def round_bets(self, round_id: int, *, user_id: int | None = None) -> list[RoundBet]:
        q = select(prediction_round_bets).where(_b.round_id == round_id).order_by(_b.id)
        if user_id is not None:
            q = q.where(_b.user_id == user_id)
        return [_bet(r) for r in await self._c.execute(q)]

    async def round_bets_of(
        self, pairs: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], RoundBet]:
        wanted = sorted(set(pairs))
        out: dict[tuple[int, int], RoundBet] = {}
        for i in range(0, len(wanted), _CHUNK):
            q = select(prediction_round_bets).where(
                tuple_(_b.round_id, _b.user_id).in_(wanted[i : i + _CHUNK])
            )
            out.update(((r.round_id, r.user_id), _bet(r)) for r in await self._c.execute(q))
        return out

    async def user_round_bets(self, user_id: int, round_ids: Sequence[int]) -> list[RoundBet]:
        if not round_ids:
            return []
        q = (
            select(prediction_round_bets)
            .where(_b.user_id == user_id, _b.round_id.in_(list(round_ids)))
            .order_by(_b.id)
        )
        return [_bet(r) for r in await self._c.execute(q)]

    async def record_round_payouts(self, items: Sequence[tuple[int, int]]) -> None:
        if not items:
            return
        stmt = (
            update(prediction_round_bets)
            .where(_b.id == bindparam("b_id"))
            .values(payout=bindparam("b_payout"))
        )
        await self._c.execute(stmt, [{"b_id": i, "b_payout": a} for i, a in items])
