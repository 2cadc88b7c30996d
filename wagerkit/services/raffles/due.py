"""The raffles area's due work for the job runner (``services/jobs.py``): close the raffles
whose sale window ended (``raffle.auto_close``, audited; below the minimum they are voided and
refunded), pay lottery draws whose correction window passed, and finish refunds and payouts
left half-done. Claims use ``FOR UPDATE SKIP LOCKED``; every step is idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ...domain.identity import Actor
from ...domain.raffles import Raffle, RaffleStatus
from ...ports import UnitOfWork
from ..base import Deps
from .drawing import RaffleDrawing

__all__ = ["RafflesDue", "RafflesDueWork"]


@dataclass(slots=True)
class RafflesDue:
    closed: list[int] = field(default_factory=list)
    voided: list[int] = field(default_factory=list)
    paid: list[int] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not (self.closed or self.voided or self.paid)


class RafflesDueWork:
    name = "raffles"

    def __init__(self, deps: Deps, raffles: RaffleDrawing) -> None:
        self._d = deps
        self._raffles = raffles
        self.actor = Actor.system("jobs")

    async def run_due(self, now: datetime, limit: int) -> RafflesDue:
        part = RafflesDue()
        while True:
            closed, finish = await self._claim(now, limit)
            for r in closed:
                await self._raffles._after_close(r)
                (part.voided if r.status is RaffleStatus.VOIDED else part.closed).append(r.id)
            for rid in finish:
                await self._raffles.resume(rid)
                part.paid.append(rid)
            if not closed and not finish:
                return part

    async def _claim(self, now: datetime, limit: int) -> tuple[list[Raffle], list[int]]:
        stale = now - timedelta(seconds=self._raffles.stale_after_seconds)
        hold = now - timedelta(seconds=self._raffles.correction_seconds)

        async def work(uow: UnitOfWork) -> tuple[list[Raffle], list[int]]:
            closed: list[Raffle] = []
            finish: list[int] = []
            for r in await uow.raffles.claim_due(now, stale, hold, limit):
                if r.status is RaffleStatus.OPEN:
                    closed.append(await self._raffles._close_in(uow, r, self.actor, "sales ended"))
                    continue
                # a lottery draw past its correction window, or a payout or refund left
                # half-done: claimed (others wait another while), then finished
                await uow.raffles.update(r.with_status(r.status, now))
                finish.append(r.id)
            return closed, finish

        return await self._d.transaction(work)
