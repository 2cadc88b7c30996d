"""Price predictions (SPEC section 4, docs/predictions.md): house-banked contracts and
pari-mutuel rounds, settled by the job runner.

``PredictionService`` is built from ``contracts`` (place on the shared group commit, close
early, void, exposure, settle due contracts in set-based chunks) and ``rounds`` (created,
locked, closed and settled by the job runner through the shared payout runner).
``PredictionsDueWork`` is the area's due-work source for the job runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ...domain.identity import Actor, User
from ...domain.predictions import PredictionPolicy
from ..base import Deps
from .common import contract_view, round_view
from .contracts import ContractOps, ContractReceipt, ExposureRow, SettleReport
from .rounds import RoundBetReceipt, RoundOps, RoundsReport

__all__ = [
    "ContractReceipt",
    "ExposureRow",
    "PredictionService",
    "PredictionsDue",
    "PredictionsDueWork",
    "RoundBetReceipt",
    "RoundsReport",
    "SettleReport",
    "contract_view",
    "round_view",
]


class PredictionService(ContractOps, RoundOps):
    """The predictions area's use cases, on ``deps`` and ``policy``."""

    def __init__(
        self,
        deps: Deps,
        policy: PredictionPolicy | None = None,
        *,
        chunk_size: int = 5000,
        stale_after_seconds: int = 60,
        claims: Callable[[str], tuple[int, str]] | None = None,
        admit: Callable[[User | None, str], Actor] | None = None,
    ) -> None:
        self._d = deps
        self._claims = claims  # place_with_token: the token's (user id, password version)
        self._admit = admit  # … and the user read by the placement batch, admitted
        self.policy = policy or PredictionPolicy()
        self.chunk_size = chunk_size
        self.stale_after_seconds = stale_after_seconds
        self._make_group()
        self._make_round_group()


@dataclass(slots=True)
class PredictionsDue:
    contracts: SettleReport = field(default_factory=SettleReport)
    rounds: RoundsReport = field(default_factory=RoundsReport)

    @property
    def idle(self) -> bool:
        return self.contracts.idle and self.rounds.idle


class PredictionsDueWork:
    """The job runner's predictions pass: rounds (create, lock, close, settle) and due
    contracts (settle or void), each claimed with SKIP LOCKED."""

    name = "predictions"

    def __init__(self, service: PredictionService) -> None:
        self._s = service

    async def run_due(self, now: datetime, limit: int) -> PredictionsDue:
        rounds = await self._s.run_rounds(limit=limit)
        contracts = await self._s.settle_due()
        return PredictionsDue(contracts, rounds)
