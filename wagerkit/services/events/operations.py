"""Events: reading, and the operator use cases before the result (create, edit, open, lock)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ...domain.errors import (
    EventAlreadyResolved,
    EventHasBets,
    EventStateConflict,
    InvalidInput,
)
from ...domain.events import (
    DEFAULT_SETTLE_AFTER,
    Bet,
    Event,
    EventDraft,
    EventStatus,
    PoolView,
    StreamType,
    pool_view,
    validate_draft,
)
from ...domain.identity import Actor
from ...domain.ledger import AccountFlags, AccountKind
from ...domain.refs import (
    escrow_owner,
)
from ...ports import UnitOfWork
from ..base import check_page_limit
from .common import EventsBase

__all__ = ["EventChanges", "EventOperations"]


@dataclass(frozen=True, slots=True)
class EventChanges:
    """An edit: only the fields given (not ``None``) change; allowed before any bet."""

    title: str | None = None
    description: str | None = None
    stream_type: StreamType | None = None
    stream_url: str | None = None
    outcomes: tuple[str, ...] | None = None
    min_stake: int | None = None
    max_stake: int | None = None
    rake_bps: int | None = None
    start_time: datetime | None = None
    betting_locked_at: datetime | None = None
    settle_deadline: datetime | None = None
    allow_topup: bool | None = None


class EventOperations(EventsBase):
    # -- reading -------------------------------------------------------------------------
    async def get(self, event_id: int) -> Event:
        async def work(uow: UnitOfWork) -> Event:
            return await self._get(uow, event_id)

        return await self._d.transaction(work)

    async def pool(self, event_id: int) -> PoolView:
        return pool_view(await self.get(event_id))

    async def list_events(
        self,
        *,
        statuses: Sequence[EventStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Event]:
        check_page_limit(limit, most=200)

        async def work(uow: UnitOfWork) -> list[Event]:
            return await uow.events.list_events(statuses=statuses, limit=limit, before_id=before_id)

        return await self._d.transaction(work)

    async def my_bet(self, actor: Actor, event_id: int) -> Bet | None:
        if actor.user_id is None:
            return None
        uid = actor.user_id

        async def work(uow: UnitOfWork) -> Bet | None:
            return (await uow.events.bets_for([(event_id, uid)])).get((event_id, uid))

        return await self._d.transaction(work)

    async def bets(
        self,
        actor: Actor,
        *,
        user_id: int | None = None,
        event_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Bet]:
        """A player sees its own bets; staff see anyone's (``user_id=None``: everyone's)."""
        user_id = actor.visible_user(user_id)
        check_page_limit(limit)

        async def work(uow: UnitOfWork) -> list[Bet]:
            return await uow.events.list_bets(
                event_id=event_id, user_id=user_id, limit=limit, before_id=before_id
            )

        return await self._d.transaction(work)

    # -- operator use cases ----------------------------------------------------------------
    async def create(self, actor: Actor, draft: EventDraft) -> Event:
        actor.require_staff()
        draft = validate_draft(
            dataclasses.replace(draft, currency=self._d.currencies[draft.currency].code)
        )
        if draft.status is EventStatus.OPEN and self._d.clock.now() >= min(
            draft.start_time, draft.betting_locked_at or draft.start_time
        ):
            raise InvalidInput("an open event must close for bets in the future")
        owner = escrow_owner(self._d.ids.new_id("escrow"))

        async def work(uow: UnitOfWork) -> Event:
            escrow = await uow.ledger.open_account(
                AccountKind.ESCROW,
                owner,
                draft.currency,
                AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
            )
            event = await uow.events.add(
                draft,
                escrow_account_id=escrow.id,
                created_by=actor.user_id,
                now=self._d.clock.now(),
            )
            await uow.audit.add(
                self._audit(actor, "event.create", event, "", status=event.status.value)
            )
            return event

        event = await self._d.transaction(work)
        await self._publish_event(event)
        return event

    async def edit(self, actor: Actor, event_id: int, changes: EventChanges) -> Event:
        """Change an event's fields; allowed while it is scheduled or open and has no bets."""
        actor.require_staff()

        async def work(uow: UnitOfWork) -> Event:
            event = await self._get(uow, event_id, "update")
            event.require_status("edit", EventStatus.SCHEDULED, EventStatus.OPEN)
            if event.bet_count:
                raise EventHasBets(f"event {event.id} has bets; it can no longer be edited")
            c = changes
            # a lock time or deadline the operator left at its default follows a new start
            # time; one set explicitly stays (validation then checks it still fits)
            lock_default = event.betting_locked_at == event.start_time
            deadline_default = event.settle_deadline == event.closes_at + DEFAULT_SETTLE_AFTER
            keep_lock = c.start_time is None or not lock_default
            deadline: datetime | None = c.settle_deadline
            if deadline is None and not (
                deadline_default and (c.start_time is not None or c.betting_locked_at is not None)
            ):
                deadline = event.settle_deadline
            draft = validate_draft(
                EventDraft(
                    title=c.title if c.title is not None else event.title,
                    outcomes=c.outcomes
                    if c.outcomes is not None
                    else tuple(o.name for o in event.outcomes),
                    start_time=c.start_time or event.start_time,
                    betting_locked_at=c.betting_locked_at
                    or (event.betting_locked_at if keep_lock else None),
                    description=c.description if c.description is not None else event.description,
                    stream_type=c.stream_type or event.stream_type,
                    stream_url=c.stream_url if c.stream_url is not None else event.stream_url,
                    currency=event.currency,
                    min_stake=c.min_stake if c.min_stake is not None else event.min_stake,
                    max_stake=c.max_stake if c.max_stake is not None else event.max_stake,
                    rake_bps=c.rake_bps if c.rake_bps is not None else event.rake_bps,
                    settle_deadline=deadline,
                    allow_topup=c.allow_topup if c.allow_topup is not None else event.allow_topup,
                    status=event.status,
                )
            )
            assert draft.betting_locked_at is not None
            assert draft.settle_deadline is not None
            closes = min(draft.betting_locked_at, draft.start_time)
            moved = c.start_time is not None or c.betting_locked_at is not None
            if moved and event.status is EventStatus.OPEN and closes <= self._d.clock.now():
                raise InvalidInput("an open event must close for bets in the future")
            outcomes = event.outcomes
            if c.outcomes is not None and draft.outcomes != tuple(o.name for o in outcomes):
                outcomes = await uow.events.replace_outcomes(event.id, draft.outcomes)
            new = dataclasses.replace(
                event,
                title=draft.title,
                description=draft.description,
                stream_type=draft.stream_type,
                stream_url=draft.stream_url,
                outcomes=outcomes,
                min_stake=draft.min_stake,
                max_stake=draft.max_stake,
                rake_bps=draft.rake_bps,
                start_time=draft.start_time,
                betting_locked_at=draft.betting_locked_at,
                settle_deadline=draft.settle_deadline,
                allow_topup=draft.allow_topup,
                updated_at=self._d.clock.now(),
            )
            await uow.events.update(new)
            changed = sorted(k for k, v in dataclasses.asdict(c).items() if v is not None)
            await uow.audit.add(self._audit(actor, "event.edit", new, "", fields=",".join(changed)))
            return new

        event = await self._d.transaction(work)
        await self._publish_event(event)
        return event

    async def _transition(
        self, actor: Actor, event_id: int, action: str, to: EventStatus, *allowed: EventStatus
    ) -> Event:
        actor.require_staff()

        async def work(uow: UnitOfWork) -> Event:
            event = await self._get(uow, event_id, "update")
            if event.status.final or event.status.resolving:
                raise EventAlreadyResolved(f"event {event.id} is {event.status.value}")
            event.require_status(action, *allowed)
            now = self._d.clock.now()
            if to is EventStatus.OPEN and now >= event.closes_at:
                raise EventStateConflict(
                    f"cannot open event {event.id}: betting closed at {event.closes_at.isoformat()}"
                )
            extra = {"locked_at": now} if to is EventStatus.LOCKED else {}
            new = event.with_status(to, now, **extra)
            await uow.events.update(new)
            await uow.audit.add(self._audit(actor, f"event.{action}", new, ""))
            return new

        event = await self._d.transaction(work)
        await self._publish_event(event)
        return event

    async def open(self, actor: Actor, event_id: int) -> Event:
        return await self._transition(
            actor, event_id, "open", EventStatus.OPEN, EventStatus.SCHEDULED
        )

    async def lock(self, actor: Actor, event_id: int) -> Event:
        return await self._transition(
            actor, event_id, "lock", EventStatus.LOCKED, EventStatus.SCHEDULED, EventStatus.OPEN
        )
