"""The job runner: everything time triggers, as one idempotent pass (SPEC section 7).

``tick`` claims due events with ``FOR UPDATE SKIP LOCKED`` (rows another runner holds are
skipped, and a claimed event's new status takes it out of the next claim), then:

* locks events whose betting closed (``closes_at`` passed), audited as ``event.auto_lock``;
* voids events not settled by their ``settle_deadline`` (every stake refunded), audited as
  ``event.auto_void``;
* finishes settlements and voids left half-done (``settling``/``voiding`` untouched for
  ``stale_after_seconds``), which pays no one twice;
* voids expired pending transfers (holds with a timeout).

``run`` repeats ``tick`` every ``interval`` seconds until stopped. Several runners on one
PostgreSQL never act on the same event twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from ..domain.audit import AuditRecord
from ..domain.events import EventStatus
from ..domain.identity import Actor
from ..domain.notifications import EventChanged
from ..ports import UnitOfWork
from .base import Deps
from .events import EventService
from .wallets import WalletService

__all__ = ["JobService", "TickReport"]

log = logging.getLogger("wagerkit.jobs")


@dataclass(slots=True)
class TickReport:
    locked: list[int] = field(default_factory=list)
    voided: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    expired_holds: int = 0

    @property
    def idle(self) -> bool:
        return not (self.locked or self.voided or self.resumed or self.expired_holds)


class JobService:
    def __init__(self, deps: Deps, events: EventService, wallets: WalletService) -> None:
        self._d = deps
        self._events = events
        self._wallets = wallets
        self.actor = Actor.system("jobs")

    async def tick(self, *, limit: int = 100) -> TickReport:
        """One pass over everything due now; returns what it did."""
        report = TickReport()
        while True:
            locked_before = len(report.locked)
            claimed = await self._claim(limit, report)
            for event_id in claimed:
                await self._events.resume(event_id)
            if not claimed and len(report.locked) == locked_before:
                break  # a claim that only locked events is progress too: claim again
        report.expired_holds = await self._wallets.expire_pending(self.actor)
        return report

    async def _claim(self, limit: int, report: TickReport) -> list[int]:
        """Claim due events and change their status in one transaction; return the ids whose
        payouts must now run (voids and resumptions)."""

        async def work(uow: UnitOfWork) -> tuple[list[int], list[int], list[int]]:
            now = self._d.clock.now()
            stale = now - timedelta(seconds=self._events.stale_after_seconds)
            locked, voided, resumed = [], [], []
            for e in await uow.events.claim_due(now, stale, limit):
                if e.due_for_void(now):
                    new = e.with_status(EventStatus.VOIDING, now, locked_at=e.locked_at or now)
                    action, reason = "event.auto_void", "not settled by its deadline"
                    voided.append(e.id)
                elif e.due_for_lock(now):
                    new = e.with_status(EventStatus.LOCKED, now, locked_at=now)
                    action, reason = "event.auto_lock", "betting closed"
                    locked.append(e.id)
                elif e.status.resolving and e.updated_at < stale:
                    new = e.with_status(e.status, now)  # claimed: others wait another while
                    resumed.append(e.id)
                    await uow.events.update(new)
                    continue
                else:
                    continue
                await uow.events.update(new)
                await uow.audit.add(
                    AuditRecord(now, None, self.actor.name, action, f"event:{e.id}", reason, {})
                )
            return locked, voided, resumed

        locked, voided, resumed = await self._d.transaction(work)
        report.locked += locked
        report.voided += voided
        report.resumed += resumed
        for eid in locked:
            await self._d.publisher.publish(EventChanged(eid, EventStatus.LOCKED))
        return voided + resumed

    async def run(self, *, interval: float = 1.0, stop: asyncio.Event | None = None) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set; a failing pass is logged
        and retried at the next one (it is idempotent)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                report = await self.tick()
                if not report.idle:
                    log.info(
                        "jobs: locked %s, voided %s, resumed %s, expired holds %d",
                        report.locked,
                        report.voided,
                        report.resumed,
                        report.expired_holds,
                    )
            except Exception:
                log.exception("jobs: pass failed; retrying in %.1fs", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
