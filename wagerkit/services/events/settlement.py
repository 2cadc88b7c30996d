"""Events: settlement and voids, paid out by the shared payout runner (services/payouts.py).

Large settlements and voids run in chunks of ``chunk_size`` bets, one transaction each,
under the status ``settling`` / ``voiding``; the job runner finishes one left half-done.
Payouts are ``payout:<event>:<bet>``, refunds ``refund:<event>:<bet>`` and the rake
``rake:<event>`` (``domain/refs.py``): ids derived from the bet make a resumed settlement pay
no one twice. ``settle_report`` / ``void_report`` answer what was paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ...domain.errors import (
    EventAlreadyResolved,
    EventStateConflict,
)
from ...domain.events import (
    PAYOUT_CODE,
    REFUND_CODE,
    Bet,
    BetStatus,
    Event,
    EventStatus,
    settle,
    stakes_of,
)
from ...domain.identity import Actor
from ...domain.notifications import EventResolved, WalletChanged
from ...domain.refs import (
    bet_ref,
    event_ref,
    payout_id,
    rake_id,
    refund_id,
)
from ...domain.text import clean_reason
from ...ports import BetResult, UnitOfWork
from ..payouts import Payout, PayoutItem, PayoutRunner, Progress
from .common import EventsBase, get_event

__all__ = ["EventSettlement", "SettlementReport"]


@dataclass(frozen=True, slots=True)
class SettlementReport:
    """What a settlement or void paid by the pool rule (SPEC section 3): ``paid`` to
    ``paid_bets`` of the event's ``bets`` (stakes included), ``rake`` to the house; ``refund``
    when every stake went back (a void, or nobody bet on the winner)."""

    event: Event
    refund: bool
    rake: int
    paid: int
    bets: int
    paid_bets: int

    @property
    def winning_bets(self) -> int:
        """The bets that won (none in a refund)."""
        return 0 if self.refund else self.paid_bets


class _EventPayout:
    """The events side of the payout runner: the event row is the lock, bet results are
    recorded chunk by chunk, losers and the final status at the close."""

    def __init__(
        self,
        event: Event,
        bets: list[Bet],
        payouts: dict[int, int],
        status: BetStatus,
        voiding: bool,
    ) -> None:
        self._event = event
        self._bets = bets
        self._payouts = payouts
        self._status = status
        self._voiding = voiding
        self._current = event

    async def lock(self, uow: UnitOfWork) -> bool:
        self._current = await get_event(uow, self._event.id, "update")
        return self._current.status is self._event.status

    async def record(self, uow: UnitOfWork, items: Sequence[PayoutItem], now: datetime) -> None:
        await uow.events.record_results(
            [BetResult(i.item_id, self._status, i.amount) for i in items], now
        )
        await uow.events.update(self._current.with_status(self._current.status, now))

    async def close(self, uow: UnitOfWork, now: datetime, paying: bool) -> Event:
        if not paying:
            return self._current
        losers = [BetResult(b.id, BetStatus.LOST, 0) for b in self._bets if not self._payouts[b.id]]
        if losers:
            await uow.events.record_results(losers, now)
        final = EventStatus.VOIDED if self._voiding else EventStatus.SETTLED
        new = self._current.with_status(final, now, resolved_at=now)
        await uow.events.update(new)
        return new


class EventSettlement(EventsBase):
    async def settle(
        self,
        actor: Actor,
        event_id: int,
        outcome_id: int,
        *,
        reason: str = "",
        progress: Progress | None = None,
    ) -> Event:
        """Declare ``outcome_id`` the winner and pay out (SPEC section 3). Exactly once: a
        settled or voided event is ``EventAlreadyResolved`` (409) and nothing moves. An
        event left ``settling`` by an interruption is finished by calling this again with the
        same outcome (or by the job runner)."""
        report = await self.settle_report(
            actor, event_id, outcome_id, reason=reason, progress=progress
        )
        return report.event

    async def settle_report(
        self,
        actor: Actor,
        event_id: int,
        outcome_id: int,
        *,
        reason: str = "",
        progress: Progress | None = None,
    ) -> SettlementReport:
        """``settle``, answering what was paid (rake, paid, refund, counts)."""
        actor.require_staff()
        reason = clean_reason(reason, required=False)

        async def start(uow: UnitOfWork) -> Event:
            event = await self._get(uow, event_id, "update")
            if event.status is EventStatus.SETTLING and event.winning_outcome_id == outcome_id:
                return event  # resume
            if event.status.final or event.status.resolving:
                raise EventAlreadyResolved(f"event {event.id} is already {event.status.value}")
            event.outcome(outcome_id)  # UnknownOutcome for a foreign outcome
            now = self._d.clock.now()
            if now >= event.settle_deadline:  # due for void, whether or not a job ran yet
                raise EventStateConflict(
                    f"event {event.id} was not settled by its deadline "
                    f"({event.settle_deadline.isoformat()}); it is voided instead"
                )
            new = event.with_status(
                EventStatus.SETTLING,
                now,
                winning_outcome_id=outcome_id,
                locked_at=event.locked_at or now,
            )
            await uow.events.update(new)
            name = event.outcome(outcome_id).name
            await uow.audit.add(
                self._audit(
                    actor, "event.settle", new, reason, outcome=str(outcome_id), winner=name[:100]
                )
            )
            return new

        event = await self._d.transaction(start)
        await self._publish_event(event)
        return await self._finish(event.id, progress)

    async def void(
        self, actor: Actor, event_id: int, *, reason: str = "", progress: Progress | None = None
    ) -> Event:
        """Cancel the event: every stake is refunded in full."""
        return (await self.void_report(actor, event_id, reason=reason, progress=progress)).event

    async def void_report(
        self, actor: Actor, event_id: int, *, reason: str = "", progress: Progress | None = None
    ) -> SettlementReport:
        """``void``, answering what was refunded."""
        actor.require_staff()
        reason = clean_reason(reason, required=False)
        return await self._void(actor, event_id, reason, progress)

    async def _void(
        self, actor: Actor, event_id: int, reason: str, progress: Progress | None
    ) -> SettlementReport:
        async def start(uow: UnitOfWork) -> Event:
            event = await self._get(uow, event_id, "update")
            if event.status is EventStatus.VOIDING:
                return event
            if event.status.final or event.status.resolving:
                raise EventAlreadyResolved(f"event {event.id} is already {event.status.value}")
            now = self._d.clock.now()
            new = event.with_status(EventStatus.VOIDING, now, locked_at=event.locked_at or now)
            await uow.events.update(new)
            await uow.audit.add(self._audit(actor, "event.void", new, reason))
            return new

        event = await self._d.transaction(start)
        await self._publish_event(event)
        return await self._finish(event.id, progress)

    async def resume(self, event_id: int, progress: Progress | None = None) -> Event:
        """Finish a settlement or void left half-done (idempotent)."""
        return (await self._finish(event_id, progress)).event

    async def _finish(self, event_id: int, progress: Progress | None) -> SettlementReport:
        """Pay out a ``settling``/``voiding`` event through the payout runner (chunk by
        chunk, resumable), then mark it final; report what the pool rule paid."""

        async def read(uow: UnitOfWork) -> tuple[Event, list[Bet]]:
            event = await self._get(uow, event_id)
            return event, await uow.events.bets_of_event(event_id)

        event, bets = await self._d.transaction(read)
        voiding = event.status in (EventStatus.VOIDING, EventStatus.VOIDED)
        if voiding:
            payouts = {b.id: b.amount for b in bets}
            rake, refund = 0, True
        elif event.winning_outcome_id is not None:
            plan = settle(stakes_of(bets), event.winning_outcome_id, event.rake_bps)
            payouts, rake, refund = plan.payouts, plan.rake, plan.refund
        else:  # neither settling nor settled: nothing to pay
            payouts, rake, refund = {b.id: 0 for b in bets}, 0, False
        paid = [b for b in bets if payouts[b.id] > 0]
        if not event.status.resolving:  # finished already (or not begun): report the rule
            return SettlementReport(
                event, refund, rake, sum(payouts.values()), len(bets), len(paid)
            )
        item_id = refund_id if refund else payout_id
        runner = PayoutRunner(self._d, chunk_size=self.chunk_size)
        final, _ = await runner.pay(
            Payout(
                event.escrow_account_id,
                event.currency,
                REFUND_CODE if refund else PAYOUT_CODE,
                [
                    PayoutItem(
                        b.id,
                        b.wallet_account_id,
                        payouts[b.id],
                        item_id(event_id, b.id),
                        bet_ref(event_id, b.id),
                    )
                    for b in paid
                ],
                rake=rake,
                rake_id=rake_id(event_id),
                rake_reference=event_ref(event_id),
                total=len(bets),
            ),
            _EventPayout(
                event, bets, payouts, BetStatus.REFUNDED if refund else BetStatus.WON, voiding
            ),
            progress,
        )
        winners = {b.user_id for b in paid}
        if winners:
            await self._d.publisher.publish(WalletChanged(tuple(sorted(winners))))
        await self._d.publisher.publish(
            EventResolved(
                final.id,
                final.status,
                final.winning_outcome_id,
                refund,
                rake,
                len(bets),
                sum(payouts.values()),
            )
        )
        return SettlementReport(final, refund, rake, sum(payouts.values()), len(bets), len(paid))
