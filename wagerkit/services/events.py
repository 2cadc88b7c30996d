"""Pari-mutuel events: operators create, open, lock, settle and void; players bet (docs/events.md).

Money: each event has its own ``escrow`` account (no negative balance allowed). A stake is a
transfer wallet → escrow (code ``stake``, id ``stake:<user>:<key>`` so a replayed
Idempotency-Key returns the first bet); settlement pays escrow → winners (``payout:<event>:
<bet>``) and escrow → house (``rake:<event>``); a void refunds escrow → bettor
(``refund:<event>:<bet>``). Ids derived from the bet make a resumed settlement pay no one twice.

The fast bet path: ``place_bet`` hands the command to a per-process batcher. While one batch
commits, new commands queue; the next batch takes them all (at most one per user and event,
at most ``max_batch``) into ONE transaction: lock the events (shared), read prior bets and
replays, apply every stake as one ledger batch (each accepted or refused on its own), insert
the bets and add to the pools, commit. Each caller is answered only after that commit.

Large settlements and voids run on the shared payout runner (services/payouts.py) in chunks
of ``chunk_size`` bets, one transaction each, under the status ``settling`` / ``voiding``; the
job runner finishes one left half-done. ``settle_report`` / ``void_report`` answer what was
paid (a ``SettlementReport``); all ids and references come from ``domain/refs.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..domain.audit import AuditRecord
from ..domain.errors import (
    EventAlreadyResolved,
    EventHasBets,
    EventNotFound,
    EventStateConflict,
    IdempotencyConflict,
    InvalidInput,
    PermissionDenied,
    StoreError,
    TransientStoreError,
    WagerkitError,
)
from ..domain.events import (
    BET_CODE,
    DEFAULT_SETTLE_AFTER,
    PAYOUT_CODE,
    REFUND_CODE,
    Bet,
    BetStatus,
    Event,
    EventDraft,
    EventStatus,
    PoolView,
    StreamType,
    check_bet,
    pool_view,
    settle,
    stakes_of,
    validate_draft,
)
from ..domain.identity import Actor, Role, User
from ..domain.ledger import AccountFlags, AccountKind, Transfer, TransferRequest
from ..domain.notifications import EventChanged, EventResolved, PoolChanged, WalletChanged
from ..domain.refs import (
    bet_ref,
    check_key,
    escrow_owner,
    event_ref,
    outcome_ref,
    payout_id,
    rake_id,
    refund_id,
    stake_id,
    stake_prefix,
    user_ref,
)
from ..domain.text import clean_reason
from ..ports import BetResult, NewBet, PoolDelta, UnitOfWork
from .base import Deps
from .payouts import Payout, PayoutItem, PayoutRunner, Progress

__all__ = ["BetReceipt", "EventChanges", "EventService", "Progress", "SettlementReport"]


@dataclass(frozen=True, slots=True)
class BetReceipt:
    """The answer to a bet: the user's bet after it, what this placement added, and whether
    it was a replay of an earlier command with the same idempotency key."""

    bet: Bet
    placed: int
    currency: str  # the event's currency (the unit of ``placed`` and the bet's amount)
    replayed: bool = False


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


@dataclass(slots=True)
class _Command:
    user_id: int
    event_id: int
    outcome_id: int
    amount: int
    transfer_id: str
    keyed: bool
    future: asyncio.Future[BetReceipt]
    version: str | None = None  # set: admit the user from its token, read in the batch


_reference = outcome_ref


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
        self._current = await EventService._get(uow, self._event.id, "update")
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


def _replay(c: _Command, t: Transfer, existing: Bet | None) -> BetReceipt | WagerkitError:
    """The answer to a keyed command whose stake ``t`` is already recorded: the first
    answer when it is the same bet, a conflict when the key was used for another one."""
    if not (
        t.code == BET_CODE
        and t.amount == c.amount
        and t.reference == _reference(c.event_id, c.outcome_id)
    ):
        return IdempotencyConflict("this idempotency key was used for another bet")
    if existing is None:
        return StoreError("the bet of a recorded stake is missing")
    return BetReceipt(existing, c.amount, t.currency, replayed=True)


class _Batcher:
    """One batch in flight per event loop; commands arriving meanwhile form the next one."""

    def __init__(self, run: Callable[[list[_Command]], Awaitable[None]], max_batch: int) -> None:
        self._run = run
        self._max = max_batch
        self._queue: list[_Command] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, cmd: _Command) -> None:
        self._queue.append(cmd)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def _take(self) -> list[_Command]:
        batch: list[_Command] = []
        rest: list[_Command] = []
        seen: set[tuple[int, int]] = set()
        for c in self._queue:
            key = (c.event_id, c.user_id)
            if c.future.done():  # the caller gave up before we started: nothing to do
                continue
            if key in seen or len(batch) >= self._max:
                rest.append(c)  # one per user and event per batch; the rest go next
            else:
                seen.add(key)
                batch.append(c)
        self._queue = rest
        return batch

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._take()
                if not batch:
                    continue
                try:
                    await self._run(batch)
                except BaseException as exc:  # the whole batch failed: each caller hears it
                    for c in batch:
                        if not c.future.done():
                            c.future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._task = None


class EventService:
    def __init__(
        self,
        deps: Deps,
        *,
        limit: Callable[[Actor, str], Awaitable[None]] | None = None,
        claims: Callable[[str], tuple[int, str]] | None = None,
        admit: Callable[[User | None, str], Actor] | None = None,
    ) -> None:
        self._d = deps
        self._limit = limit
        self._claims = claims
        self._admit = admit
        self._batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher] = (
            weakref.WeakKeyDictionary()
        )
        self.max_batch = 512
        self.chunk_size = 5000
        self.stale_after_seconds = 60

    # -- helpers -------------------------------------------------------------------------
    def _audit(
        self, actor: Actor, action: str, event: Event, reason: str, **details: str
    ) -> AuditRecord:
        return AuditRecord(
            self._d.clock.now(),
            actor.user_id,
            actor.name,
            action,
            event_ref(event.id),
            reason[:500],
            {"title": event.title[:100], **details},
        )

    @staticmethod
    async def _get(uow: UnitOfWork, event_id: int, lock: str = "none") -> Event:
        if isinstance(event_id, bool) or not isinstance(event_id, int):
            raise EventNotFound(f"no event {str(event_id)[:40]!r}")
        event = await uow.events.get(event_id, lock=lock)
        if event is None:
            raise EventNotFound(f"no event {event_id}")
        return event

    async def _publish_event(self, topic: str, event: Event) -> None:
        await self._d.publisher.publish(EventChanged(event.id, event.status))

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
        if not 1 <= limit <= 200:
            raise InvalidInput("limit must be 1-200")

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
        if not actor.is_staff:
            if user_id is None:
                user_id = actor.user_id
            actor.require_self_or_staff(user_id if user_id is not None else -1)
        if not 1 <= limit <= 500:
            raise InvalidInput("limit must be 1-500")

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
        await self._publish_event("event.updated", event)
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
        await self._publish_event("event.updated", event)
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
        await self._publish_event("event.updated", event)
        return event

    async def open(self, actor: Actor, event_id: int) -> Event:
        return await self._transition(
            actor, event_id, "open", EventStatus.OPEN, EventStatus.SCHEDULED
        )

    async def lock(self, actor: Actor, event_id: int) -> Event:
        return await self._transition(
            actor, event_id, "lock", EventStatus.LOCKED, EventStatus.SCHEDULED, EventStatus.OPEN
        )

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
        await self._publish_event("event.updated", event)
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
        await self._publish_event("event.updated", event)
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

    # -- players: the fast bet path ------------------------------------------------------
    async def place_bet(
        self,
        actor: Actor,
        event_id: int,
        outcome_id: int,
        amount: int,
        *,
        idempotency_key: str | None = None,
    ) -> BetReceipt:
        """Stake ``amount`` on ``outcome_id``. Answered after the commit that holds it;
        replaying ``idempotency_key`` returns the first answer (a 409 for other content)."""
        if actor.user_id is None:
            raise PermissionDenied("only a user can bet")
        return await self._submit(actor, None, event_id, outcome_id, amount, idempotency_key)

    async def place_bet_with_token(
        self,
        token: str,
        event_id: int,
        outcome_id: int,
        amount: int,
        *,
        idempotency_key: str | None = None,
    ) -> BetReceipt:
        """``place_bet`` for the bearer of an access token, authenticated inside the bet's
        own transaction: the token is verified here, and the user is read fresh (banned,
        whitelist, password changed) by the batch that decides the bet, instead of in a
        transaction of its own (the HTTP server's ``POST /bets``)."""
        if self._claims is None or self._admit is None:
            raise PermissionDenied("no token service configured")
        user_id, version = self._claims(token)
        actor = Actor(user_id, Role.PLAYER)  # only its id is used before the batch admits it
        return await self._submit(actor, version, event_id, outcome_id, amount, idempotency_key)

    async def _submit(
        self,
        actor: Actor,
        version: str | None,
        event_id: int,
        outcome_id: int,
        amount: int,
        idempotency_key: str | None,
    ) -> BetReceipt:
        assert actor.user_id is not None
        for v, what in ((event_id, "event_id"), (outcome_id, "outcome_id")):
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidInput(f"{what} must be an integer")
        if idempotency_key is not None:
            check_key(idempotency_key)
        if self._limit is not None:
            await self._limit(actor, "bet")
        uid = actor.user_id
        tid = (
            stake_id(uid, idempotency_key)
            if idempotency_key is not None
            else self._d.ids.new_id(stake_prefix(uid))
        )
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = self._batchers[loop] = _Batcher(self._run_batch, self.max_batch)
        fut: asyncio.Future[BetReceipt] = loop.create_future()
        batcher.submit(
            _Command(
                uid,
                event_id,
                outcome_id,
                amount,
                tid,
                idempotency_key is not None,
                fut,
                version,
            )
        )
        return await fut

    async def _run_batch(self, batch: list[_Command]) -> None:
        """Decide and commit one batch (see the module docstring). Two processes may decide
        the same keyed command at once; the one that commits second must answer the replay:
        the batch reads replays and bets at one point in time (``read_bet_batch``), a keyed
        command refused because of a bet it saw looks its key up again (a store whose read
        was not one snapshot saw the bet before its stake), and a stake the ledger finds
        already recorded (committed after the read) makes the batch start over."""
        answers: dict[int, BetReceipt | WagerkitError] = {}

        async def work(uow: UnitOfWork) -> None:
            answers.clear()
            now = self._d.clock.now()
            view = await uow.events.read_bet_batch(
                sorted({c.event_id for c in batch}),
                [(c.event_id, c.user_id) for c in batch],
                [c.transfer_id for c in batch if c.keyed],
                [(c.event_id, user_ref(c.user_id)) for c in batch],
            )
            events, prior, bets = view.events, view.transfers, view.bets
            pending = sorted({c.user_id for c in batch if c.version is not None})
            users = await uow.users.get_many(pending) if pending else {}
            todo: list[int] = []
            recheck: list[int] = []  # keyed commands refused because of a bet they saw
            for i, c in enumerate(batch):
                if c.version is not None:  # authenticate now, from the user read just now
                    assert self._admit is not None
                    try:
                        self._admit(users.get(c.user_id), c.version)
                    except WagerkitError as exc:
                        answers[i] = exc
                        continue
                t = prior.get(c.transfer_id)
                existing = bets.get((c.event_id, c.user_id))
                if t is not None:  # a replay: the first answer, or a conflict
                    answers[i] = _replay(c, t, existing)
                    continue
                event = events.get(c.event_id)
                try:
                    if event is None:
                        raise EventNotFound(f"no event {c.event_id}")
                    check_bet(event, existing, c.outcome_id, c.amount, now)
                except WagerkitError as exc:
                    answers[i] = exc
                    if c.keyed and existing is not None:
                        recheck.append(i)
                    continue
                todo.append(i)
            if recheck:  # a new statement sees every commit the bets read saw
                again = await uow.ledger.get_transfers([batch[i].transfer_id for i in recheck])
                for i in recheck:
                    c = batch[i]
                    t = again.get(c.transfer_id)
                    if t is not None:
                        answers[i] = _replay(c, t, bets.get((c.event_id, c.user_id)))
            if not todo:
                return
            wallet_ids: dict[int, int] = {}
            missing: list[int] = []
            for i in todo:
                key = (user_ref(batch[i].user_id), events[batch[i].event_id].currency)
                wid = view.wallets.get(key)
                if wid is None:
                    missing.append(i)
                else:
                    wallet_ids[i] = wid
            if missing:  # first bets in this currency: open (or find) their wallets
                opened = await uow.ledger.open_accounts(
                    [
                        (
                            AccountKind.USER,
                            user_ref(batch[i].user_id),
                            events[batch[i].event_id].currency,
                            AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                        )
                        for i in missing
                    ]
                )
                for i, account in zip(missing, opened, strict=True):
                    wallet_ids[i] = account.id
            results = await uow.ledger.apply(
                [
                    TransferRequest(
                        batch[i].transfer_id,
                        wallet_ids[i],
                        events[batch[i].event_id].escrow_account_id,
                        batch[i].amount,
                        BET_CODE,
                        reference=_reference(batch[i].event_id, batch[i].outcome_id),
                        currency=events[batch[i].event_id].currency,
                    )
                    for i in todo
                ],
                now,
            )
            if any(r.ok and r.replayed for r in results):
                # a stake committed by another process after this batch read: start over,
                # and the next read sees it as a replay (never charge or pool it twice)
                raise TransientStoreError()
            new: list[tuple[int, NewBet]] = []
            topups: list[tuple[int, Bet]] = []
            deltas: dict[int, list[int]] = {}
            for i, r in zip(todo, results, strict=True):
                c = batch[i]
                if not r.ok:
                    assert r.error is not None
                    answers[i] = r.error
                    continue
                d = deltas.setdefault(c.outcome_id, [0, 0])
                d[0] += c.amount
                existing = bets.get((c.event_id, c.user_id))
                if existing is None:
                    d[1] += 1
                    new.append(
                        (
                            i,
                            NewBet(
                                c.event_id, c.outcome_id, c.user_id, c.amount, wallet_ids[i], now
                            ),
                        )
                    )
                else:
                    topups.append((i, existing))
            added = await uow.events.write_bet_batch(
                [nb for _, nb in new],
                [(b.id, batch[i].amount) for i, b in topups],
                [PoolDelta(o, a, n) for o, (a, n) in sorted(deltas.items())],
                now,
            )
            for (i, _), bet in zip(new, added, strict=True):
                answers[i] = BetReceipt(bet, batch[i].amount, events[bet.event_id].currency)
            for i, b in topups:
                answers[i] = BetReceipt(
                    dataclasses.replace(
                        b,
                        amount=b.amount + batch[i].amount,
                        placements=b.placements + 1,
                        updated_at=now,
                    ),
                    batch[i].amount,
                    events[b.event_id].currency,
                )

        await self._d.transaction(work)
        changed_users: list[int] = []
        changed_events: set[int] = set()
        for i, c in enumerate(batch):
            answer = answers.get(i) or StoreError("the bet was not decided")
            if isinstance(answer, BetReceipt) and not answer.replayed:
                changed_users.append(c.user_id)
                changed_events.add(c.event_id)
            if c.future.done():
                continue
            if isinstance(answer, BetReceipt):
                c.future.set_result(answer)
            else:
                c.future.set_exception(answer)
        if changed_users:
            await self._d.publisher.publish(WalletChanged(tuple(sorted(set(changed_users)))))
        for eid in sorted(changed_events):
            await self._d.publisher.publish(PoolChanged(eid))
