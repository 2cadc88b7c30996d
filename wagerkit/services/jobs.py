"""The job runner: everything time triggers, as one idempotent pass (SPEC section 7).

The runner holds a list of *due-work sources*, one per area (``DueWork``), given at
construction. A ``tick`` asks each in turn to do what is due now; each claims its items in its
own repository with ``FOR UPDATE SKIP LOCKED`` (rows another runner holds are skipped, and an
item's new state takes it out of the next claim), so several runners on one PostgreSQL never
act on the same item twice. Each source answers with its part of the ``TickReport``.

The sources today:

* ``EventsDueWork`` (``events``): locks events whose betting closed (``closes_at`` passed),
  audited as ``event.auto_lock``; voids events not settled by their ``settle_deadline`` (every
  stake refunded), audited as ``event.auto_void``; finishes settlements and voids left
  half-done (``settling``/``voiding`` untouched for ``stale_after_seconds``), which pays no
  one twice;
* ``ExpiredHolds`` (``holds``): voids the ledger's expired pending transfers.

``run`` repeats ``tick`` every ``interval`` seconds until stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ..domain.audit import AuditRecord
from ..domain.events import EventStatus
from ..domain.identity import Actor
from ..domain.notifications import EventChanged
from ..domain.refs import event_ref
from ..ports import UnitOfWork
from .base import Deps
from .events import EventService
from .wallets import WalletService

__all__ = [
    "DuePart",
    "DueWork",
    "EventsDue",
    "EventsDueWork",
    "ExpiredHolds",
    "HoldsDue",
    "JobService",
    "TickReport",
]

log = logging.getLogger("wagerkit.jobs")


class DuePart(Protocol):
    """What one source did in a pass."""

    @property
    def idle(self) -> bool: ...


class DueWork(Protocol):
    """An area's due work: ``run_due`` does what is due at ``now``, claiming at most ``limit``
    items at a time with SKIP LOCKED, and reports it. It must be idempotent."""

    name: str

    async def run_due(self, now: datetime, limit: int) -> DuePart: ...


@dataclass(slots=True)
class EventsDue:
    locked: list[int] = field(default_factory=list)
    voided: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not (self.locked or self.voided or self.resumed)


@dataclass(slots=True)
class HoldsDue:
    expired: int = 0

    @property
    def idle(self) -> bool:
        return not self.expired


@dataclass(slots=True)
class TickReport:
    """Each source's part by name; ``locked``/``voided``/``resumed`` (events) and
    ``expired_holds`` read the parts of the two first sources."""

    parts: dict[str, DuePart] = field(default_factory=dict)

    def _events(self) -> EventsDue:
        part = self.parts.get(EventsDueWork.name)
        return part if isinstance(part, EventsDue) else EventsDue()

    @property
    def locked(self) -> list[int]:
        return self._events().locked

    @property
    def voided(self) -> list[int]:
        return self._events().voided

    @property
    def resumed(self) -> list[int]:
        return self._events().resumed

    @property
    def expired_holds(self) -> int:
        part = self.parts.get(ExpiredHolds.name)
        return part.expired if isinstance(part, HoldsDue) else 0

    @property
    def idle(self) -> bool:
        return all(p.idle for p in self.parts.values())


class EventsDueWork:
    """Events: auto-lock, auto-void, resume stale settlements and voids."""

    name = "events"

    def __init__(self, deps: Deps, events: EventService) -> None:
        self._d = deps
        self._events = events
        self.actor = Actor.system("jobs")

    async def run_due(self, now: datetime, limit: int) -> EventsDue:
        part = EventsDue()
        while True:
            locked_before = len(part.locked)
            claimed = await self._claim(now, limit, part)
            for event_id in claimed:
                await self._events.resume(event_id)
            if not claimed and len(part.locked) == locked_before:
                break  # a claim that only locked events is progress too: claim again
        return part

    async def _claim(self, now: datetime, limit: int, part: EventsDue) -> list[int]:
        """Claim due events and change their status in one transaction; return the ids whose
        payouts must now run (voids and resumptions)."""

        async def work(uow: UnitOfWork) -> tuple[list[int], list[int], list[int]]:
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
                    AuditRecord(now, None, self.actor.name, action, event_ref(e.id), reason, {})
                )
            return locked, voided, resumed

        locked, voided, resumed = await self._d.transaction(work)
        part.locked += locked
        part.voided += voided
        part.resumed += resumed
        for eid in locked:
            await self._d.publisher.publish(EventChanged(eid, EventStatus.LOCKED))
        return voided + resumed


class ExpiredHolds:
    """The ledger: void pending transfers whose timeout has passed, up to ``batch`` a pass
    (the tick's ``limit`` sizes event claims; holds keep their own batch, as before)."""

    name = "holds"

    def __init__(self, wallets: WalletService, *, batch: int = 1000) -> None:
        self._wallets = wallets
        self._batch = batch
        self.actor = Actor.system("jobs")

    async def run_due(self, now: datetime, limit: int) -> HoldsDue:
        return HoldsDue(await self._wallets.expire_pending(self.actor, limit=self._batch))


class JobService:
    def __init__(self, deps: Deps, sources: Sequence[DueWork]) -> None:
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise ValueError(f"due-work sources need distinct names: {names}")
        self._d = deps
        self.sources = list(sources)

    async def tick(self, *, limit: int = 100) -> TickReport:
        """One pass over everything due now, source by source; returns what it did."""
        report = TickReport()
        for source in self.sources:
            report.parts[source.name] = await source.run_due(self._d.clock.now(), limit)
        return report

    async def run(self, *, interval: float = 1.0, stop: asyncio.Event | None = None) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set; a failing pass is logged
        and retried at the next one (it is idempotent)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                report = await self.tick()
                if not report.idle:
                    log.info(
                        "jobs: %s",
                        "; ".join(f"{n} {p}" for n, p in report.parts.items() if not p.idle),
                    )
            except Exception:
                log.exception("jobs: pass failed; retrying in %.1fs", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
