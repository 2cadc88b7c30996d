"""Pari-mutuel events under random command sequences, against a simple reference model.

A Hypothesis state machine drives ``EventService`` and the job runner through ``WagerKit``:
create, open, lock and edit events; bets from random users (random amounts and outcomes,
foreign outcomes, top-ups where allowed, keyed bets and replays of earlier keys with the same
or altered content, several bets at once through the batcher); settle (sometimes with an
outcome of another event), void, settlements and voids interrupted after their first chunk and
finished later by ``settle``/``void`` again, ``resume`` or the job runner; clock advances and
job ticks. The model predicts what each command must do (for a refusal: which rules it
breaks, so the error must be one of those), every wallet's balance and the house's.

After every step: money is conserved, no wallet is below zero, each escrow holds exactly the
open stakes (zero once resolved; the pool less what was paid while half-resolved), each pool
total and bettor count equals its bets, every status change was a legal transition, each bet
was paid or refunded at most once and each event resolved (settle, void or auto-void) at most
once; the store agrees with the model.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from property_stores import StoreMaker, memory_store, postgres_store, sqlite_store

from wagerkit import DEFAULT_LIMITS, Actor, IdentityPolicy, Role, WagerKit
from wagerkit.domain.errors import (
    AlreadyBet,
    BettingClosed,
    EventAlreadyResolved,
    EventHasBets,
    EventNotFound,
    EventStateConflict,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    StakeOutOfRange,
    UnknownOutcome,
    WagerkitError,
)
from wagerkit.domain.events import BetStake, BetStatus, EventDraft, EventStatus, settle
from wagerkit.domain.ledger import AccountKind
from wagerkit.services import BetReceipt, EventChanges
from wagerkit.testing import FixedClock, SequentialIds

T = TypeVar("T")

S = EventStatus
USERS = 6
GRANT = 1000
MISSING_EVENT = 10_000
STALE = 60  # EventService.stale_after_seconds
# status -> every status a later observation may show (the transitive closure of the machine)
REACHABLE: dict[EventStatus, set[EventStatus]] = {
    S.SCHEDULED: set(S),
    S.OPEN: set(S) - {S.SCHEDULED},
    S.LOCKED: set(S) - {S.SCHEDULED, S.OPEN},
    S.SETTLING: {S.SETTLING, S.SETTLED},
    S.VOIDING: {S.VOIDING, S.VOIDED},
    S.SETTLED: {S.SETTLED},
    S.VOIDED: {S.VOIDED},
}
ACTIVE = (S.SCHEDULED, S.OPEN, S.LOCKED)


class Interrupted(Exception):
    pass


@dataclass
class MBet:
    bet_id: int
    outcome: int
    amount: int


@dataclass
class MEvent:
    id: int
    outcomes: list[int]
    status: EventStatus
    closes_at: datetime
    deadline: datetime
    min_stake: int
    max_stake: int
    rake_bps: int
    allow_topup: bool
    escrow: int
    bets: dict[int, MBet] = field(default_factory=dict)  # by user index
    winner: int | None = None
    touched: datetime | None = None  # last write while settling/voiding


class EventsMachine(RuleBasedStateMachine):
    make_store: StoreMaker = staticmethod(memory_store)  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.cleanup: Callable[[], Awaitable[None]] | None = None
        self.store, self.cleanup = self.run(type(self).make_store())
        self.clock = FixedClock()
        self.kit = WagerKit(
            self.store,
            clock=self.clock,
            ids=SequentialIds(),
            identity_policy=IdentityPolicy(limits={**DEFAULT_LIMITS, "bet": (10**6, 60)}),
        )
        self.op = Actor(None, Role.OPERATOR, "op")
        self.users = self.run(self._users())
        self.balance = [GRANT] * USERS
        self.house = 0
        self.events: dict[int, MEvent] = {}
        self.keys: dict[tuple[int, str], tuple[int, int, int]] = {}  # -> event, outcome, amount
        self.key_n = 0
        self.seen_status: dict[int, EventStatus] = {}

    # -- plumbing ------------------------------------------------------------------------
    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def teardown(self) -> None:
        try:
            if self.cleanup is not None:
                self.run(self.cleanup())
        finally:
            self.loop.close()

    async def _users(self) -> list[Actor]:
        return [
            Actor.of(await self.kit.users.add(Actor.system(), f"Player {i}")) for i in range(USERS)
        ]

    def attempt(self, coro: Awaitable[T]) -> T | WagerkitError:
        try:
            return self.run(coro)
        except WagerkitError as exc:
            return exc

    def expect_refusal(self, got: object, allowed: set[type[Exception]]) -> None:
        assert isinstance(got, tuple(allowed)), (got, allowed)

    def now(self) -> datetime:
        return self.clock.now()

    def pick_event(self, data: st.DataObject) -> MEvent | None:
        """Mostly an event not yet resolved, sometimes a resolved one, now and then one that
        does not exist (None)."""
        ids = sorted(self.events)
        if not ids or data.draw(st.integers(0, 24)) == 0:
            return None
        live = [i for i in ids if not self.events[i].status.final]
        if live and data.draw(st.integers(0, 4)):
            ids = live
        return self.events[data.draw(st.sampled_from(ids))]

    def pick_outcome(self, data: st.DataObject, ev: MEvent | None) -> int:
        """An outcome of this event, or (sometimes) of another one."""
        foreign = [o for e in self.events.values() if e is not ev for o in e.outcomes]
        if ev is None or (foreign and data.draw(st.integers(0, 7)) == 0):
            return data.draw(st.sampled_from(foreign or [999_999]))
        return data.draw(st.sampled_from(ev.outcomes))

    # -- the model's rules -----------------------------------------------------------------
    def bet_violations(
        self, ev: MEvent | None, user: int, outcome: int, amount: int
    ) -> set[type[Exception]]:
        """The rules this bet would break now (empty: it must be accepted)."""
        if ev is None:
            return {EventNotFound}
        out: set[type[Exception]] = set()
        if amount <= 0:
            return {InvalidAmount}
        if outcome not in ev.outcomes:
            out.add(UnknownOutcome)
        if ev.status is not S.OPEN or self.now() >= ev.closes_at:
            out.add(BettingClosed)
        mine = ev.bets.get(user)
        total = amount
        if mine is not None:
            if not ev.allow_topup or mine.outcome != outcome:
                out.add(AlreadyBet)
            total += mine.amount
        if amount < ev.min_stake or total > ev.max_stake:
            out.add(StakeOutOfRange)
        if amount > self.balance[user]:
            out.add(InsufficientFunds)
        return out

    def predict_bet(
        self, ev: MEvent | None, user: int, outcome: int, amount: int, key: str | None
    ) -> tuple[str, Any]:
        """("replay", bet id) | ("conflict", None) | ("refuse", errors) | ("accept", None)."""
        event_id = ev.id if ev is not None else MISSING_EVENT
        if key is not None and (user, key) in self.keys:
            if self.keys[(user, key)] == (event_id, outcome, amount):
                first = self.events[event_id].bets[user]
                return "replay", first.bet_id
            return "conflict", None
        errors = self.bet_violations(ev, user, outcome, amount)
        return ("refuse", errors) if errors else ("accept", None)

    def check_bet(
        self,
        got: BetReceipt | WagerkitError,
        ev: MEvent | None,
        user: int,
        outcome: int,
        amount: int,
        key: str | None,
        prediction: tuple[str, Any],
    ) -> None:
        kind, detail = prediction
        if kind == "replay":
            assert isinstance(got, BetReceipt), got
            assert got.replayed
            assert got.bet.id == detail
            return
        if kind == "conflict":
            assert isinstance(got, IdempotencyConflict), got
            return
        if kind == "refuse":
            self.expect_refusal(got, detail)
            return
        assert isinstance(got, BetReceipt), (got, ev, user, outcome, amount)
        assert ev is not None
        assert not got.replayed
        assert (got.bet.user_id, got.bet.event_id) == (self.users[user].user_id, ev.id)
        assert (got.bet.outcome_id, got.placed) == (outcome, amount)
        mine = ev.bets.get(user)
        if mine is None:
            ev.bets[user] = MBet(got.bet.id, outcome, amount)
        else:
            assert got.bet.id == mine.bet_id  # a top-up adds to the same bet
            mine.amount += amount
        assert got.bet.amount == ev.bets[user].amount
        self.balance[user] -= amount
        ev.escrow += amount
        if key is not None:
            self.keys[(user, key)] = (ev.id, outcome, amount)

    def plan(self, ev: MEvent, void: bool) -> dict[int, int]:
        """What each user gets back when ``ev`` resolves; the rake goes to ``self.house``."""
        if void:
            return {u: b.amount for u, b in ev.bets.items()}
        assert ev.winner is not None
        # settle() itself is pinned down by test_settlement_props; here it is the model
        s = settle(
            [BetStake(b.bet_id, b.outcome, b.amount, b.bet_id) for b in ev.bets.values()],
            ev.winner,
            ev.rake_bps,
        )
        by_bet = {b.bet_id: u for u, b in ev.bets.items()}
        return {by_bet[bid]: paid for bid, paid in s.payouts.items()} | {-1: s.rake}

    def finish(self, ev: MEvent) -> None:
        """The model's side of a completed settlement or void."""
        void = ev.status in (S.VOIDING, S.VOIDED)
        for user, paid in self.plan(ev, void).items():
            if user == -1:
                self.house += paid
            else:
                self.balance[user] += paid
        ev.escrow = 0
        ev.status = S.VOIDED if void else S.SETTLED
        ev.touched = None

    def resolvable(self, ev: MEvent | None) -> set[type[Exception]]:
        if ev is None:
            return {EventNotFound}
        if ev.status.final or ev.status.resolving:
            return {EventAlreadyResolved}
        return set()

    # -- rules: operators ------------------------------------------------------------------
    @initialize(topup=st.booleans(), rake=st.sampled_from([0, 0, 250, 1000]))
    def first_event(self, topup: bool, rake: int) -> None:
        self.create(3, True, topup, 1, 10**6, rake, 180, 240, False)

    @precondition(lambda self: len(self.events) < 5)
    @rule(
        n=st.integers(2, 4),
        opened=st.sampled_from([True, True, True, False]),
        topup=st.booleans(),
        min_stake=st.sampled_from([1, 1, 1, 5, 20]),
        spread=st.sampled_from([0, 50, 300, 10**6]),
        rake=st.sampled_from([0, 0, 250, 1000]),
        closes=st.integers(5, 240),
        after=st.integers(1, 240),
        start_first=st.booleans(),
    )
    def create(
        self,
        n: int,
        opened: bool,
        topup: bool,
        min_stake: int,
        spread: int,
        rake: int,
        closes: int,
        after: int,
        start_first: bool,
    ) -> None:
        now = self.now()
        closes_at = now + timedelta(minutes=closes)
        other = closes_at + timedelta(minutes=10)
        start, lock = (closes_at, other) if start_first else (other, closes_at)
        deadline = closes_at + timedelta(minutes=after)
        e = self.run(
            self.kit.events.create(
                self.op,
                EventDraft(
                    title=f"Event at {now.isoformat()}",
                    outcomes=tuple(f"o{i}" for i in range(n)),
                    start_time=start,
                    betting_locked_at=lock,
                    settle_deadline=deadline,
                    min_stake=min_stake,
                    max_stake=min_stake + spread,
                    rake_bps=rake,
                    allow_topup=topup,
                    status=S.OPEN if opened else S.SCHEDULED,
                ),
            )
        )
        assert e.id not in self.events
        assert e.closes_at == closes_at
        assert len(e.outcomes) == n
        self.events[e.id] = MEvent(
            e.id,
            [o.id for o in e.outcomes],
            e.status,
            closes_at,
            deadline,
            min_stake,
            min_stake + spread,
            rake,
            topup,
            0,
        )
        self.seen_status[e.id] = e.status

    @rule(data=st.data())
    def open(self, data: st.DataObject) -> None:
        ev = self.pick_event(data)
        got = self.attempt(self.kit.events.open(self.op, ev.id if ev else MISSING_EVENT))
        errors = self.resolvable(ev)
        if (
            ev is not None
            and not errors
            and (ev.status is not S.SCHEDULED or self.now() >= ev.closes_at)
        ):
            errors = {EventStateConflict}
        if errors:
            self.expect_refusal(got, errors)
            return
        assert ev is not None
        assert not isinstance(got, WagerkitError), got
        assert got.status is S.OPEN
        ev.status = S.OPEN

    @rule(data=st.data())
    def lock(self, data: st.DataObject) -> None:
        ev = self.pick_event(data)
        got = self.attempt(self.kit.events.lock(self.op, ev.id if ev else MISSING_EVENT))
        errors = self.resolvable(ev)
        if ev is not None and not errors and ev.status is S.LOCKED:
            errors = {EventStateConflict}
        if errors:
            self.expect_refusal(got, errors)
            return
        assert ev is not None
        assert not isinstance(got, WagerkitError), got
        assert got.status is S.LOCKED
        ev.status = S.LOCKED

    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        ev = self.pick_event(data)
        title = f"Renamed {data.draw(st.integers(0, 99))}"
        got = self.attempt(
            self.kit.events.edit(self.op, ev.id if ev else MISSING_EVENT, EventChanges(title=title))
        )
        if ev is None:
            self.expect_refusal(got, {EventNotFound})
        elif ev.status not in (S.SCHEDULED, S.OPEN):
            self.expect_refusal(got, {EventStateConflict})
        elif ev.bets:
            self.expect_refusal(got, {EventHasBets})
        else:
            assert not isinstance(got, WagerkitError), got
            assert got.title == title

    def _resolve(self, data: st.DataObject, void: bool, interrupt: bool) -> None:
        ev = self.pick_event(data)
        event_id = ev.id if ev else MISSING_EVENT
        outcome = self.pick_outcome(data, ev)
        calls: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            calls.append((done, total))
            if interrupt and len(calls) == 1:
                raise Interrupted

        old_chunk = self.kit.events.chunk_size
        self.kit.events.chunk_size = data.draw(st.integers(1, 3)) if interrupt else old_chunk
        try:
            if void:
                coro = self.kit.events.void(self.op, event_id, progress=progress)
            else:
                coro = self.kit.events.settle(self.op, event_id, outcome, progress=progress)
            try:
                got: Any = self.attempt(coro)
            except Interrupted:
                got = Interrupted()
        finally:
            self.kit.events.chunk_size = old_chunk

        # what must happen
        resuming = (
            ev is not None
            and ev.status is (S.VOIDING if void else S.SETTLING)
            and (void or ev.winner == outcome)
        )
        errors = set() if resuming else self.resolvable(ev)
        if not errors and not void and not resuming and ev is not None:
            if outcome not in ev.outcomes:
                errors.add(UnknownOutcome)
            if self.now() >= ev.deadline:  # due for void: no winner, whatever the job did
                errors.add(EventStateConflict)
        if errors:
            self.expect_refusal(got, errors)
            return
        assert ev is not None
        if not resuming:
            ev.status = S.VOIDING if void else S.SETTLING
            ev.winner = None if void else outcome
        pays = [u for u, paid in self.plan(ev, void).items() if u != -1 and paid > 0]
        if interrupt and pays:
            assert isinstance(got, Interrupted), got
            ev.touched = self.now()  # stays settling/voiding: finished by a later rule
            return
        assert not isinstance(got, WagerkitError), got
        if not isinstance(got, Interrupted):  # the final progress call may be the first
            assert got.status is (S.VOIDED if void else S.SETTLED)
        self.finish(ev)

    @rule(data=st.data(), interrupt=st.booleans())
    def settle(self, data: st.DataObject, interrupt: bool) -> None:
        self._resolve(data, void=False, interrupt=interrupt)

    @rule(data=st.data(), interrupt=st.booleans())
    def void(self, data: st.DataObject, interrupt: bool) -> None:
        self._resolve(data, void=True, interrupt=interrupt)

    @precondition(lambda self: any(e.status.resolving for e in self.events.values()))
    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        ev = data.draw(st.sampled_from([e for e in self.events.values() if e.status.resolving]))
        got = self.run(self.kit.events.resume(ev.id))
        self.finish(ev)
        assert got.status is ev.status

    @rule(minutes=st.sampled_from([0, 1, 2, 5, 30, 60, 180]), seconds=st.integers(0, 59))
    def advance_clock(self, minutes: int, seconds: int) -> None:
        self.clock.advance(minutes=minutes, seconds=seconds)

    @rule(
        data=st.data(),
        which=st.sampled_from(["closes", "deadline"]),
        early=st.booleans(),
        then_tick=st.booleans(),
    )
    def clock_to_a_boundary(
        self, data: st.DataObject, which: str, early: bool, then_tick: bool
    ) -> None:
        """To the very instant an event closes for bets or reaches its deadline (or one
        microsecond before): the boundaries are where off-by-one rules show."""
        ev = self.pick_event(data)
        if ev is None:
            return
        when = ev.closes_at if which == "closes" else ev.deadline
        when -= timedelta(microseconds=1 if early else 0)
        if when > self.now():  # time never runs backwards
            self.clock.set(when)
        if then_tick:
            self.tick()

    @rule()
    def tick(self) -> None:
        now = self.now()
        want_locked, want_voided, want_resumed = [], [], []
        for ev in sorted(self.events.values(), key=lambda e: e.id):
            if ev.status in ACTIVE and now >= ev.deadline:
                want_voided.append(ev.id)
            elif ev.status in (S.SCHEDULED, S.OPEN) and now >= ev.closes_at:
                want_locked.append(ev.id)
            elif ev.status.resolving:
                assert ev.touched is not None
                if ev.touched < now - timedelta(seconds=STALE):
                    want_resumed.append(ev.id)
        report = self.run(self.kit.jobs.tick())
        assert sorted(report.locked) == want_locked
        assert sorted(report.voided) == want_voided
        assert sorted(report.resumed) == want_resumed
        for eid in want_locked:
            self.events[eid].status = S.LOCKED
        for eid in want_voided:
            self.events[eid].status = S.VOIDING
            self.finish(self.events[eid])
        for eid in want_resumed:
            self.finish(self.events[eid])

    # -- rules: players --------------------------------------------------------------------
    def draw_amount(self, data: st.DataObject) -> int:
        kind = data.draw(st.sampled_from(["small"] * 18 + ["zero", "huge"]))
        if kind == "zero":
            return 0
        if kind == "huge":
            return data.draw(st.integers(GRANT + 1, 5 * GRANT))
        return data.draw(st.integers(1, 200))

    def draw_key(self, data: st.DataObject) -> str | None:
        if data.draw(st.booleans()):
            return None
        self.key_n += 1
        return f"k{self.key_n}"

    def draw_bet(self, data: st.DataObject) -> tuple[MEvent | None, int, int, int, str | None]:
        ev = self.pick_event(data)
        user = data.draw(st.integers(0, USERS - 1))
        mine = ev.bets.get(user) if ev is not None else None
        if mine is not None and data.draw(st.booleans()):
            outcome = mine.outcome  # try a top-up
        else:
            outcome = self.pick_outcome(data, ev)
        return ev, user, outcome, self.draw_amount(data), self.draw_key(data)

    def place(self, ev: MEvent | None, user: int, outcome: int, amount: int, key: str | None):  # type: ignore[no-untyped-def]
        return self.kit.events.place_bet(
            self.users[user],
            ev.id if ev is not None else MISSING_EVENT,
            outcome,
            amount,
            idempotency_key=key,
        )

    @rule(data=st.data())
    def bet(self, data: st.DataObject) -> None:
        ev, user, outcome, amount, key = self.draw_bet(data)
        prediction = self.predict_bet(ev, user, outcome, amount, key)
        got = self.attempt(self.place(ev, user, outcome, amount, key))
        self.check_bet(got, ev, user, outcome, amount, key, prediction)

    def bettable(self) -> list[MEvent]:
        return [e for e in self.events.values() if e.status is S.OPEN and self.now() < e.closes_at]

    @precondition(lambda self: bool(self.bettable()))
    @rule(data=st.data())
    def bet_on_an_open_event(self, data: st.DataObject) -> None:
        """A sensible bet (most random ones are refused): an open event, one of its outcomes
        (the user's own when it has a bet), an amount within the limits most of the time."""
        ev = data.draw(st.sampled_from(self.bettable()))
        user = data.draw(st.integers(0, USERS - 1))
        mine = ev.bets.get(user)
        outcome = mine.outcome if mine else data.draw(st.sampled_from(ev.outcomes))
        amount = data.draw(st.integers(ev.min_stake, min(ev.max_stake, ev.min_stake + 150)))
        key = self.draw_key(data)
        prediction = self.predict_bet(ev, user, outcome, amount, key)
        got = self.attempt(self.place(ev, user, outcome, amount, key))
        self.check_bet(got, ev, user, outcome, amount, key, prediction)

    @precondition(lambda self: bool(self.keys))
    @rule(data=st.data(), same=st.booleans())
    def replay(self, data: st.DataObject, same: bool) -> None:
        """A keyed bet again: the same content returns the first bet and moves nothing; other
        content under the same key is a conflict."""
        (user, key) = data.draw(st.sampled_from(sorted(self.keys)))
        event_id, outcome, amount = self.keys[(user, key)]
        ev = self.events[event_id]
        if not same:
            change = data.draw(st.sampled_from(["amount", "outcome", "event"]))
            if change == "amount":
                amount += 1
            elif change == "outcome" and len(ev.outcomes) > 1:
                outcome = next(o for o in ev.outcomes if o != outcome)
            else:
                others = [e for e in self.events.values() if e is not ev]
                if not others:
                    amount += 1
                else:
                    ev = data.draw(st.sampled_from(others))
                    outcome = ev.outcomes[0]
        prediction = self.predict_bet(ev, user, outcome, amount, key)
        assert prediction[0] == ("replay" if same else "conflict")
        got = self.attempt(self.place(ev, user, outcome, amount, key))
        self.check_bet(got, ev, user, outcome, amount, key, prediction)

    @rule(data=st.data(), n=st.integers(2, 6))
    def concurrent_bets(self, data: st.DataObject, n: int) -> None:
        """Several bets at once: the batcher decides each on its own, in arrival order."""
        bets = [self.draw_bet(data) for _ in range(n)]
        if bets[0][4] is not None and data.draw(st.booleans()):
            bets.append(bets[0])  # the same keyed command twice in flight

        async def go() -> list[Any]:
            return await asyncio.gather(*(self.place(*b) for b in bets), return_exceptions=True)

        results = self.run(go())
        for b, got in zip(bets, results, strict=True):
            if isinstance(got, BaseException) and not isinstance(got, WagerkitError):
                raise got
            self.check_bet(got, *b, self.predict_bet(*b))

    # -- invariants --------------------------------------------------------------------------
    @invariant()
    def books_agree_with_the_model(self) -> None:
        self.run(self._check())

    async def _check(self) -> None:
        async with self.store() as uow:
            totals = await uow.ledger.totals()
            for t in totals:
                assert t.conserved, t
            wallets = []
            for actor in self.users:
                accs = await uow.ledger.accounts_of(f"user:{actor.user_id}")
                (acc,) = [a for a in accs if a.kind is AccountKind.USER]
                assert acc.balance >= 0, acc
                assert acc.available >= 0, acc
                wallets.append(acc.balance)
            house_acc = await uow.ledger.find_account(AccountKind.HOUSE, "system", "COIN")
            house = 0 if house_acc is None else house_acc.balance
            journal = await uow.ledger.journal(limit=100_000)
            resolving = False
            for mev in self.events.values():
                e = await uow.events.get(mev.id)
                assert e is not None
                prev = self.seen_status[e.id]
                assert e.status in REACHABLE[prev], (prev, e.status)  # a legal transition
                self.seen_status[e.id] = e.status
                assert e.status is mev.status, (e.id, e.status, mev.status)
                assert e.winning_outcome_id == mev.winner
                bets = await uow.events.bets_of_event(e.id)
                by_user = {b.user_id: b for b in bets}
                assert len(bets) == len(by_user) == e.bet_count == len(mev.bets)
                for u, mb in mev.bets.items():
                    b = by_user[self.users[u].user_id]
                    assert (b.id, b.outcome_id, b.amount) == (mb.bet_id, mb.outcome, mb.amount)
                totals_by = Counter[int]()
                bettors_by = Counter[int]()
                for b in bets:
                    totals_by[b.outcome_id] += b.amount
                    bettors_by[b.outcome_id] += 1
                for o in e.outcomes:
                    assert (o.total, o.bettors) == (totals_by[o.id], bettors_by[o.id])
                escrow_acc = await uow.ledger.get_account(e.escrow_account_id)
                assert escrow_acc is not None
                escrow = escrow_acc.balance
                pool = sum(b.amount for b in bets)
                if e.status.final:
                    assert escrow == 0, e
                    assert all(b.status is not BetStatus.OPEN for b in bets)
                elif e.status.resolving:
                    resolving = True
                    paid = sum(b.payout or 0 for b in bets if b.status is not BetStatus.OPEN)
                    assert escrow == pool - paid, e
                else:
                    assert escrow == pool == mev.escrow, e
                    assert all(b.status is BetStatus.OPEN for b in bets)
            # each bet paid or refunded at most once, each event resolved at most once
            paid_refs = Counter(t.reference for t in journal if t.code in ("payout", "refund"))
            assert all(n == 1 for n in paid_refs.values()), paid_refs
            rakes = Counter(t.reference for t in journal if t.code == "rake")
            assert all(n == 1 for n in rakes.values()), rakes
            resolutions = Counter(
                a.target
                for a in await uow.audit.list(limit=10_000)
                if a.action in ("event.settle", "event.void", "event.auto_void")
            )
            assert all(n == 1 for n in resolutions.values()), resolutions
        if not resolving:  # half-paid events make individual balances a moving target
            assert wallets == self.balance, (wallets, self.balance)
            assert house == self.house


def _run(maker: StoreMaker, max_examples: int, steps: int) -> None:
    machine = type("Machine", (EventsMachine,), {"make_store": staticmethod(maker)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_events_state_machine_memory() -> None:
    _run(memory_store, max_examples=150, steps=40)


def test_events_state_machine_sqlite() -> None:
    _run(sqlite_store, max_examples=15, steps=25)


@pytest.mark.postgres
def test_events_state_machine_postgres(pg_url: str) -> None:
    _run(postgres_store(pg_url), max_examples=8, steps=25)
