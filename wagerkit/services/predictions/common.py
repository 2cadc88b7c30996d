"""What the predictions area's use cases share: the ports, the policy, transfer ids.

``PredictionService`` (this package's ``__init__``) is one class built from two parts, one
module each: ``contracts`` (house-banked contracts: place on the shared group commit, close
early, void, settle due ones in set-based batches, exposure) and ``rounds`` (pari-mutuel
rounds: created, locked, closed and settled by the job runner through the shared payout
runner). Each part inherits this base, which the service's constructor fills.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...domain.audit import AuditRecord
from ...domain.errors import ContractNotFound, RoundNotFound
from ...domain.identity import Actor, User
from ...domain.predictions import Contract, PredictionPolicy, Round
from ...domain.prices import price_text
from ...domain.refs import Area, transfer_id
from ...ports import UnitOfWork
from ..base import Deps

__all__ = [
    "ContractReceipt",
    "ExposureRow",
    "PredictionsBase",
    "SettleReport",
    "contract_ref",
    "contract_view",
    "round_ref",
    "round_view",
    "tid",
]


def tid(kind: str, *parts: int | str) -> str:
    """A transfer id of the predictions area (``predictions:<kind>:<parts>``)."""
    return transfer_id(Area.PREDICTIONS, kind, *parts)


def contract_ref(contract_id: int) -> str:
    return f"contract:{contract_id}"


def round_ref(round_id: int) -> str:
    return f"round:{round_id}"


def _t(v: Any) -> str | None:
    return None if v is None else v.isoformat()


def contract_view(c: Contract) -> dict[str, Any]:
    """A contract as JSON-ready data: status, entry/exit prices with their tick times,
    profit, payout, and seed 004's ``result`` (``W``/``L``)."""
    return {
        "id": c.id,
        "user_id": c.user_id,
        "symbol": c.symbol,
        "direction": c.direction.value,
        "kind": c.kind.value,
        "currency": c.currency,
        "stake": c.stake,
        "leverage": c.leverage,
        "payout_bps": c.payout_bps if c.kind.value == "fixed" else None,
        "cap": c.cap if c.leverage is not None else None,
        "commission": c.commission,
        "duration_seconds": c.duration,
        "placed_at": _t(c.placed_at),
        "expires_at": _t(c.expires_at),
        "entry_price": price_text(c.entry_price),
        "entry_at": _t(c.entry_at),
        "exit_price": None if c.exit_price is None else price_text(c.exit_price),
        "exit_at": _t(c.exit_at),
        "status": c.status.value,
        "result": c.result,
        "profit": c.profit,
        "payout": c.payout,
        "max_payout": c.max_payout,
        "closed_early": c.closed_early,
        "resolved_at": _t(c.resolved_at),
        "void_reason": c.void_reason or None,
    }


def round_view(r: Round) -> dict[str, Any]:
    return {
        "id": r.id,
        "symbol": r.symbol,
        "currency": r.currency,
        "status": r.status.value,
        "starts_at": _t(r.starts_at),
        "bets_close_at": _t(r.bets_close_at),
        "lock_at": _t(r.lock_at),
        "close_at": _t(r.close_at),
        "lock_price": None if r.lock_price is None else price_text(r.lock_price),
        "lock_tick_at": _t(r.lock_tick_at),
        "close_price": None if r.close_price is None else price_text(r.close_price),
        "close_tick_at": _t(r.close_tick_at),
        "pool": {
            "up": {"total": r.up_total, "bettors": r.up_count},
            "down": {"total": r.down_total, "bettors": r.down_count},
            "total": r.pool,
        },
        "rake_bps": r.rake_bps,
        "winner": None if r.winner is None else r.winner.value,
        "rake": r.rake,
        "void_reason": r.void_reason or None,
    }


class PredictionsBase:
    """The state every part of ``PredictionService`` reads (set by its constructor)."""

    _d: Deps
    policy: PredictionPolicy
    chunk_size: int
    stale_after_seconds: int
    _claims: Callable[[str], tuple[int, str]] | None
    _admit: Callable[[User | None, str], Actor] | None

    def _audit(
        self, actor: Actor, action: str, target: str, reason: str, **details: str
    ) -> AuditRecord:
        return AuditRecord(
            self._d.clock.now(), actor.user_id, actor.name, action, target, reason[:500], details
        )

    @staticmethod
    async def _contract(uow: UnitOfWork, contract_id: int, *, for_update: bool = False) -> Contract:
        if isinstance(contract_id, bool) or not isinstance(contract_id, int):
            raise ContractNotFound(f"no contract {str(contract_id)[:40]!r}")
        c = await uow.predictions.get(contract_id, for_update=for_update)
        if c is None:
            raise ContractNotFound(f"no contract {contract_id}")
        return c

    @staticmethod
    async def _round(uow: UnitOfWork, round_id: int, *, for_update: bool = False) -> Round:
        if isinstance(round_id, bool) or not isinstance(round_id, int):
            raise RoundNotFound(f"no round {str(round_id)[:40]!r}")
        r = await uow.predictions.get_round(round_id, for_update=for_update)
        if r is None:
            raise RoundNotFound(f"no round {round_id}")
        return r


# -- the contracts part's results (services.predictions.contracts) -----------------------
@dataclass(frozen=True, slots=True)
class ContractReceipt:
    contract: Contract
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class ExposureRow:
    currency: str
    symbol: str  # "*": the total
    exposure: int
    limit: int  # 0: none


@dataclass(slots=True)
class SettleReport:
    """What one ``settle_due`` pass did."""

    settled: int = 0
    voided: int = 0
    paid: int = 0
    chunks: int = 0

    @property
    def idle(self) -> bool:
        return not (self.settled or self.voided)
