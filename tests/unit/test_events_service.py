"""Pari-mutuel events through the ``WagerKit`` facade (SPEC section 3 and 7), on every store
(memory, SQLite, PostgreSQL): betting windows, the one-bet rule and top-ups, stake limits,
settlement exactly once, voids, the job runner's auto-lock and auto-void, rake, edits,
authorisation, idempotent bets, resumed settlements and the event chat. Every scenario ends
with the books checked: money conserved, no wallet below zero, each escrow holding exactly the
open stakes (zero once resolved) and each pool equal to its bets."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from builders import assert_conserved

from wagerkit import DEFAULT_LIMITS, Actor, IdentityPolicy, WagerKit
from wagerkit.domain.errors import (
    AlreadyBet,
    BettingClosed,
    ChatMuted,
    EventAlreadyResolved,
    EventHasBets,
    EventNotFound,
    EventStateConflict,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    MessageNotFound,
    PermissionDenied,
    RateLimited,
    StakeOutOfRange,
    UnknownOutcome,
)
from wagerkit.domain.events import Bet, BetStatus, Event, EventDraft, EventStatus
from wagerkit.domain.identity import Role, User
from wagerkit.domain.ledger import AccountKind, Transfer
from wagerkit.domain.notifications import EventResolved
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.services import EventChanges
from wagerkit.testing import FixedClock, RecordingPublisher, SequentialIds

GRANT = 1000  # the default welcome grant


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def kit(store: UnitOfWorkFactory, clock: FixedClock, publisher: RecordingPublisher) -> WagerKit:
    """The conftest kit, with the per-user bet limit lifted (these tests place many bets)."""
    limits = {**DEFAULT_LIMITS, "bet": (100_000, 60)}
    return WagerKit(
        store,
        clock=clock,
        ids=SequentialIds(),
        publisher=publisher,
        identity_policy=IdentityPolicy(limits=limits),
    )


@pytest.fixture
async def op(kit: WagerKit, system: Actor) -> Actor:
    return Actor.of(await kit.users.add(system, "Olga", role=Role.OPERATOR, welcome_grant=False))


async def _players(kit: WagerKit, system: Actor, n: int) -> list[User]:
    return [await kit.users.add(system, f"Player {i}") for i in range(n)]


def _draft(clock: FixedClock, **kw: Any) -> EventDraft:
    now = clock.now()
    fields: dict[str, Any] = {
        "title": "Final",
        "outcomes": ("A", "B", "C"),
        "start_time": now + timedelta(hours=1),
        "betting_locked_at": now + timedelta(minutes=50),
        "status": EventStatus.OPEN,
    }
    fields.update(kw)
    return EventDraft(**fields)


async def _event(kit: WagerKit, op: Actor, clock: FixedClock, **kw: Any) -> Event:
    return await kit.events.create(op, _draft(clock, **kw))


async def _journal(kit: WagerKit) -> list[Transfer]:
    out: list[Transfer] = []
    async with kit.deps.uow() as uow:
        while batch := await uow.ledger.journal(after_seq=out[-1].seq if out else 0, limit=1000):
            out.extend(batch)
    return out


async def _balance(kit: WagerKit, user: User) -> int:
    return (await kit.wallets.balance(Actor.system(), user.id)).balance


async def _balances(kit: WagerKit, users: list[User]) -> list[int]:
    return [await _balance(kit, u) for u in users]


async def _escrow(kit: WagerKit, event: Event) -> int:
    async with kit.deps.uow() as uow:
        acc = await uow.ledger.get_account(event.escrow_account_id)
    assert acc is not None
    assert acc.kind is AccountKind.ESCROW
    return acc.balance


async def _house(kit: WagerKit, currency: str = "COIN") -> int:
    async with kit.deps.uow() as uow:
        acc = await uow.ledger.find_account(AccountKind.HOUSE, "system", currency)
    return 0 if acc is None else acc.balance


async def _bets(kit: WagerKit, event: Event) -> list[Bet]:
    async with kit.deps.uow() as uow:
        return await uow.events.bets_of_event(event.id)


async def _audit(kit: WagerKit, action: str, event: Event) -> int:
    entries = await kit.audit.list(Actor.system(), action=action, target=f"event:{event.id}")
    return len(entries)


async def check_books(kit: WagerKit) -> None:
    """Conservation, no negative wallet, and for every event: escrow == its open stakes (0 once
    final), pool totals and bettor counts == its bets, ``bet_count`` == number of bets."""
    await assert_conserved(kit)
    events = await kit.events.list_events(limit=200)
    for e in events:
        bets = await _bets(kit, e)
        open_stakes = sum(b.amount for b in bets if b.status is BetStatus.OPEN)
        escrow = await _escrow(kit, e)
        if e.status.final:
            assert escrow == 0, e
            assert open_stakes == 0, e
        elif not e.status.resolving:
            assert escrow == open_stakes == sum(b.amount for b in bets), e
        else:  # half paid out: the escrow holds the pool less what has been paid so far
            paid = sum(b.payout or 0 for b in bets if b.status is not BetStatus.OPEN)
            assert escrow == sum(b.amount for b in bets) - paid, e
        totals = Counter[int]()
        bettors = Counter[int]()
        for b in bets:
            totals[b.outcome_id] += b.amount
            bettors[b.outcome_id] += 1
        for o in e.outcomes:
            assert (o.total, o.bettors) == (totals[o.id], bettors[o.id]), (e.id, o)
        assert e.bet_count == len(bets)


# -- betting windows ------------------------------------------------------------------------


@pytest.mark.parametrize("earlier", ["betting_locked_at", "start_time"])
async def test_betting_closes_at_the_earlier_of_lock_time_and_start(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock, earlier: str
) -> None:
    now = clock.now()
    soon, later = now + timedelta(minutes=30), now + timedelta(minutes=45)
    times = (
        {"betting_locked_at": soon, "start_time": later}
        if earlier == "betting_locked_at"
        else {"betting_locked_at": later, "start_time": soon}
    )
    event = await _event(kit, op, clock, **times)
    assert event.closes_at == soon
    a, b, c = await _players(kit, system, 3)
    clock.set(soon - timedelta(microseconds=1))
    await kit.events.place_bet(Actor.of(a), event.id, event.outcomes[0].id, 10)
    before = len(await _journal(kit))
    clock.set(soon)  # the instant betting closes: refused, though no job has locked it yet
    with pytest.raises(BettingClosed):
        await kit.events.place_bet(Actor.of(b), event.id, event.outcomes[0].id, 10)
    clock.set(later)
    with pytest.raises(BettingClosed):
        await kit.events.place_bet(Actor.of(c), event.id, event.outcomes[1].id, 10)
    assert (await kit.events.get(event.id)).status is EventStatus.OPEN
    assert len(await _journal(kit)) == before
    assert await _balances(kit, [a, b, c]) == [GRANT - 10, GRANT, GRANT]
    assert await _escrow(kit, event) == 10
    await check_books(kit)


async def test_bets_only_while_open(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, status=EventStatus.SCHEDULED)
    (a,) = await _players(kit, system, 1)
    pa = Actor.of(a)
    oid = event.outcomes[0].id
    with pytest.raises(BettingClosed):
        await kit.events.place_bet(pa, event.id, oid, 10)
    assert (await kit.events.open(op, event.id)).status is EventStatus.OPEN
    await kit.events.place_bet(pa, event.id, oid, 10)
    locked = await kit.events.lock(op, event.id)
    assert locked.status is EventStatus.LOCKED
    assert locked.locked_at == clock.now()
    (b,) = await _players(kit, system, 1)
    with pytest.raises(BettingClosed):
        await kit.events.place_bet(Actor.of(b), event.id, oid, 10)
    with pytest.raises(EventStateConflict):
        await kit.events.open(op, event.id)  # no way back to open
    with pytest.raises(EventNotFound):
        await kit.events.place_bet(pa, 999_999, oid, 10)
    assert await _balances(kit, [a, b]) == [GRANT - 10, GRANT]
    assert await _audit(kit, "event.lock", event) == 1
    await check_books(kit)


async def test_an_event_cannot_open_after_betting_closed(
    kit: WagerKit, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, status=EventStatus.SCHEDULED)
    clock.set(event.closes_at)
    with pytest.raises(EventStateConflict):
        await kit.events.open(op, event.id)
    with pytest.raises(InvalidInput):  # nor be created open with a window already shut
        await kit.events.create(op, _draft(clock, betting_locked_at=clock.now()))
    await check_books(kit)


# -- the one-bet rule, top-ups and limits ---------------------------------------------------


async def test_one_bet_per_user_per_event(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    a, b = await _players(kit, system, 2)
    o1, o2 = event.outcomes[0].id, event.outcomes[1].id
    r = await kit.events.place_bet(Actor.of(a), event.id, o1, 100)
    assert (r.bet.amount, r.bet.outcome_id, r.bet.user_id, r.placed, r.replayed) == (
        100,
        o1,
        a.id,
        100,
        False,
    )
    for outcome in (o1, o2):
        with pytest.raises(AlreadyBet):
            await kit.events.place_bet(Actor.of(a), event.id, outcome, 50)
    await kit.events.place_bet(Actor.of(b), event.id, o1, 50)  # others still can
    assert await _balances(kit, [a, b]) == [GRANT - 100, GRANT - 50]
    bets = await _bets(kit, event)
    assert [(x.user_id, x.amount, x.placements) for x in bets] == [(a.id, 100, 1), (b.id, 50, 1)]
    view = await kit.events.pool(event.id)
    assert (view.total, view.bettors) == (150, 2)
    assert [(o.total, o.bettors) for o in view.outcomes] == [(150, 2), (0, 0), (0, 0)]
    await check_books(kit)


async def test_top_up_same_outcome_only_and_max_stake_on_the_total(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, allow_topup=True, min_stake=10, max_stake=100)
    (a,) = await _players(kit, system, 1)
    pa = Actor.of(a)
    o1, o2 = event.outcomes[0].id, event.outcomes[1].id
    await kit.events.place_bet(pa, event.id, o1, 60)
    with pytest.raises(AlreadyBet):
        await kit.events.place_bet(pa, event.id, o2, 10)  # a top-up on another outcome
    with pytest.raises(StakeOutOfRange):
        await kit.events.place_bet(pa, event.id, o1, 41)  # 60 + 41 > 100 in all
    with pytest.raises(StakeOutOfRange):
        await kit.events.place_bet(pa, event.id, o1, 9)  # each placement at least min_stake
    r = await kit.events.place_bet(pa, event.id, o1, 40)  # exactly 100 in all
    assert (r.bet.amount, r.bet.placements, r.placed) == (100, 2, 40)
    with pytest.raises(StakeOutOfRange):
        await kit.events.place_bet(pa, event.id, o1, 10)
    assert await _balance(kit, a) == GRANT - 100
    bets = await _bets(kit, event)
    assert [(x.amount, x.placements) for x in bets] == [(100, 2)]
    view = await kit.events.pool(event.id)
    assert (view.outcomes[0].total, view.outcomes[0].bettors) == (100, 1)  # one bettor, twice
    await check_books(kit)


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (9, StakeOutOfRange),
        (201, StakeOutOfRange),
        (0, InvalidAmount),
        (-5, InvalidAmount),
        (True, InvalidAmount),
        (12.5, InvalidAmount),
        ("20", InvalidAmount),
    ],
)
async def test_stake_limits(
    kit: WagerKit,
    system: Actor,
    op: Actor,
    clock: FixedClock,
    amount: Any,
    error: type[Exception],
) -> None:
    event = await _event(kit, op, clock, min_stake=10, max_stake=200)
    (a,) = await _players(kit, system, 1)
    before = len(await _journal(kit))
    with pytest.raises(error):
        await kit.events.place_bet(Actor.of(a), event.id, event.outcomes[0].id, amount)
    for ok in (10, 200):  # the bounds themselves are allowed
        (p,) = await _players(kit, system, 1)
        await kit.events.place_bet(Actor.of(p), event.id, event.outcomes[0].id, ok)
    assert len(await _journal(kit)) == before + 2 + 2  # two grants, two stakes
    assert await _balance(kit, a) == GRANT
    assert await _bets(kit, event) != []
    await check_books(kit)


async def test_a_bet_beyond_the_wallet_or_on_a_foreign_outcome_moves_nothing(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    other = await _event(kit, op, clock, title="Other")
    (a,) = await _players(kit, system, 1)
    before = len(await _journal(kit))
    with pytest.raises(InsufficientFunds):
        await kit.events.place_bet(Actor.of(a), event.id, event.outcomes[0].id, GRANT + 1)
    with pytest.raises(UnknownOutcome):
        await kit.events.place_bet(Actor.of(a), event.id, other.outcomes[0].id, 10)
    assert len(await _journal(kit)) == before
    assert await _bets(kit, event) == []
    r = await kit.events.place_bet(Actor.of(a), event.id, event.outcomes[0].id, GRANT)
    assert r.bet.amount == GRANT  # a refused bet did not use up the user's one bet
    assert await _balance(kit, a) == 0
    await check_books(kit)


# -- settlement -----------------------------------------------------------------------------


async def test_settle_the_seed_example_pays_winners_in_proportion(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock, publisher: RecordingPublisher
) -> None:
    event = await _event(kit, op, clock, outcomes=("A", "B"))
    a1, a2, b1 = await _players(kit, system, 3)
    oa, ob = event.outcomes[0].id, event.outcomes[1].id
    await kit.events.place_bet(Actor.of(a1), event.id, oa, 100)
    await kit.events.place_bet(Actor.of(a2), event.id, oa, 300)
    await kit.events.place_bet(Actor.of(b1), event.id, ob, 200)
    await kit.events.lock(op, event.id)
    done = await kit.events.settle(op, event.id, oa, reason="A won")
    assert done.status is EventStatus.SETTLED
    assert done.winning_outcome_id == oa
    assert done.resolved_at == clock.now()
    assert await _balances(kit, [a1, a2, b1]) == [GRANT - 100 + 150, GRANT - 300 + 450, GRANT - 200]
    bets = {b.user_id: b for b in await _bets(kit, event)}
    assert (bets[a1.id].status, bets[a1.id].payout) == (BetStatus.WON, 150)
    assert (bets[a2.id].status, bets[a2.id].payout) == (BetStatus.WON, 450)
    assert (bets[b1.id].status, bets[b1.id].payout) == (BetStatus.LOST, 0)
    assert (await kit.events.my_bet(Actor.of(a2), event.id)) == bets[a2.id]
    payouts = [t for t in await _journal(kit) if t.code == "payout"]
    assert sorted(t.amount for t in payouts) == [150, 450]
    assert all(t.id == f"payout:{event.id}:{t.reference.split(':')[-1]}" for t in payouts)
    assert await _escrow(kit, event) == 0
    assert await _house(kit) == 0
    entries = await kit.audit.list(system, action="event.settle", target=f"event:{event.id}")
    assert [(e.actor_id, e.reason) for e in entries] == [(op.user_id, "A won")]
    settled = [n for n in publisher.of(EventResolved) if n.event_id == event.id]
    assert [(n.status, n.refund) for n in settled] == [(EventStatus.SETTLED, False)]
    await check_books(kit)


async def test_rake_goes_to_the_house_from_the_losing_side(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, rake_bps=750)
    players = await _players(kit, system, 5)
    stakes = [(0, 101), (0, 33), (1, 257), (2, 91), (1, 7)]
    for p, (o, amount) in zip(players, stakes, strict=True):
        await kit.events.place_bet(Actor.of(p), event.id, event.outcomes[o].id, amount)
    await kit.events.settle(op, event.id, event.outcomes[0].id)
    w = 101 + 33
    lose = 257 + 91 + 7
    rake = Fraction(lose * 750, 10000).__floor__()
    assert await _house(kit) == rake > 0
    rake_transfers = [t for t in await _journal(kit) if t.code == "rake"]
    assert [(t.id, t.amount) for t in rake_transfers] == [(f"rake:{event.id}", rake)]
    got = await _balances(kit, players)
    for p, (o, amount), bal in zip(players, stakes, got, strict=True):
        if o == 0:
            exact = amount + Fraction(amount * (lose - rake), w)
            assert abs((bal - GRANT + amount) - exact) < 1, p
        else:
            assert bal == GRANT - amount
    assert sum(got) + rake == GRANT * len(players)
    await check_books(kit)


async def test_no_stake_on_the_winner_refunds_everyone_without_rake(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, rake_bps=1000)
    a, b = await _players(kit, system, 2)
    await kit.events.place_bet(Actor.of(a), event.id, event.outcomes[0].id, 120)
    await kit.events.place_bet(Actor.of(b), event.id, event.outcomes[1].id, 80)
    done = await kit.events.settle(op, event.id, event.outcomes[2].id)
    assert done.status is EventStatus.SETTLED
    assert await _balances(kit, [a, b]) == [GRANT, GRANT]
    assert await _house(kit) == 0
    bets = await _bets(kit, event)
    assert [(x.status, x.payout) for x in bets] == [
        (BetStatus.REFUNDED, 120),
        (BetStatus.REFUNDED, 80),
    ]
    assert not [t for t in await _journal(kit) if t.code in ("payout", "rake")]
    await check_books(kit)


async def test_settle_twice_is_refused_and_moves_nothing(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, rake_bps=100)
    players = await _players(kit, system, 3)
    for i, p in enumerate(players):
        await kit.events.place_bet(Actor.of(p), event.id, event.outcomes[i % 2].id, 50 + i)
    await kit.events.settle(op, event.id, event.outcomes[0].id)
    journal, balances = len(await _journal(kit)), await _balances(kit, players)
    house = await _house(kit)
    for outcome in (event.outcomes[0].id, event.outcomes[1].id):
        with pytest.raises(EventAlreadyResolved) as err:
            await kit.events.settle(op, event.id, outcome)
        assert err.value.code == "event_already_resolved"
    with pytest.raises(EventAlreadyResolved):
        await kit.events.void(op, event.id)
    with pytest.raises(EventAlreadyResolved):
        await kit.events.lock(op, event.id)
    assert len(await _journal(kit)) == journal
    assert await _balances(kit, players) == balances
    assert await _house(kit) == house
    assert (await kit.events.get(event.id)).winning_outcome_id == event.outcomes[0].id
    assert await _audit(kit, "event.settle", event) == 1
    await check_books(kit)


async def test_settle_with_a_foreign_outcome_is_refused_and_moves_nothing(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    other = await _event(kit, op, clock, title="Other")
    a, b = await _players(kit, system, 2)
    await kit.events.place_bet(Actor.of(a), event.id, event.outcomes[0].id, 70)
    await kit.events.place_bet(Actor.of(b), event.id, event.outcomes[1].id, 30)
    await kit.events.lock(op, event.id)
    journal = len(await _journal(kit))
    for foreign in (other.outcomes[0].id, 10**9):
        with pytest.raises(UnknownOutcome):
            await kit.events.settle(op, event.id, foreign)
    with pytest.raises(EventNotFound):
        await kit.events.settle(op, 10**9, event.outcomes[0].id)
    assert len(await _journal(kit)) == journal
    current = await kit.events.get(event.id)
    assert (current.status, current.winning_outcome_id) == (EventStatus.LOCKED, None)
    assert await _audit(kit, "event.settle", event) == 0
    await kit.events.settle(op, event.id, event.outcomes[1].id)  # the real result still works
    assert await _balances(kit, [a, b]) == [GRANT - 70, GRANT + 70]
    await check_books(kit)


async def test_void_refunds_every_stake(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, rake_bps=500, allow_topup=True)
    players = await _players(kit, system, 4)
    for i, p in enumerate(players):
        await kit.events.place_bet(Actor.of(p), event.id, event.outcomes[i % 3].id, 10 * (i + 1))
    await kit.events.place_bet(Actor.of(players[0]), event.id, event.outcomes[0].id, 5)
    done = await kit.events.void(op, event.id, reason="stream cancelled")
    assert done.status is EventStatus.VOIDED
    assert await _balances(kit, players) == [GRANT] * 4
    assert await _house(kit) == 0
    bets = await _bets(kit, event)
    assert [(x.status, x.payout) for x in bets] == [
        (BetStatus.REFUNDED, 15),
        (BetStatus.REFUNDED, 20),
        (BetStatus.REFUNDED, 30),
        (BetStatus.REFUNDED, 40),
    ]
    refunds = [t for t in await _journal(kit) if t.code == "refund"]
    assert sorted(t.id for t in refunds) == sorted(f"refund:{event.id}:{x.id}" for x in bets)
    with pytest.raises(EventAlreadyResolved):
        await kit.events.void(op, event.id)
    with pytest.raises(EventAlreadyResolved):
        await kit.events.settle(op, event.id, event.outcomes[0].id)
    assert len([t for t in await _journal(kit) if t.code == "refund"]) == len(refunds)
    assert await _audit(kit, "event.void", event) == 1
    await check_books(kit)


# -- the job runner -------------------------------------------------------------------------


async def test_jobs_lock_events_when_betting_closes(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    opened = await _event(kit, op, clock)
    scheduled = await _event(kit, op, clock, status=EventStatus.SCHEDULED)
    later = await _event(
        kit,
        op,
        clock,
        betting_locked_at=clock.now() + timedelta(hours=2),
        start_time=clock.now() + timedelta(hours=3),
    )
    (a,) = await _players(kit, system, 1)
    await kit.events.place_bet(Actor.of(a), opened.id, opened.outcomes[0].id, 10)
    clock.set(opened.closes_at - timedelta(seconds=1))
    assert (await kit.jobs.tick()).locked == []
    clock.set(opened.closes_at)
    report = await kit.jobs.tick()
    assert sorted(report.locked) == sorted([opened.id, scheduled.id])
    assert report.voided == []
    for e in (opened, scheduled):
        current = await kit.events.get(e.id)
        assert (current.status, current.locked_at) == (EventStatus.LOCKED, clock.now())
        assert await _audit(kit, "event.auto_lock", e) == 1
    assert (await kit.events.get(later.id)).status is EventStatus.OPEN
    clock.advance(minutes=5)
    assert (await kit.jobs.tick()).locked == []  # nothing twice
    assert await _audit(kit, "event.auto_lock", opened) == 1
    assert await _balance(kit, a) == GRANT - 10  # locking moves no money
    await check_books(kit)


async def test_jobs_void_events_not_settled_by_their_deadline(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    deadline = clock.now() + timedelta(hours=3)
    event = await _event(kit, op, clock, settle_deadline=deadline)
    settled = await _event(kit, op, clock, settle_deadline=deadline)
    a, b, c = await _players(kit, system, 3)
    await kit.events.place_bet(Actor.of(a), event.id, event.outcomes[0].id, 40)
    await kit.events.place_bet(Actor.of(b), event.id, event.outcomes[1].id, 60)
    await kit.events.place_bet(Actor.of(c), settled.id, settled.outcomes[1].id, 60)
    clock.set(event.closes_at)
    assert sorted((await kit.jobs.tick()).locked) == sorted([event.id, settled.id])
    await kit.events.settle(op, settled.id, settled.outcomes[0].id)  # c's bet lost (W = 0)
    clock.set(deadline - timedelta(seconds=1))
    assert (await kit.jobs.tick()).voided == []
    clock.set(deadline)
    report = await kit.jobs.tick()
    assert report.voided == [event.id]
    assert (await kit.events.get(event.id)).status is EventStatus.VOIDED
    assert (await kit.events.get(settled.id)).status is EventStatus.SETTLED
    assert await _balances(kit, [a, b, c]) == [GRANT, GRANT, GRANT]
    assert await _audit(kit, "event.auto_void", event) == 1
    assert await _audit(kit, "event.auto_void", settled) == 0
    refunds = len([t for t in await _journal(kit) if t.code == "refund"])
    clock.advance(hours=1)
    assert (await kit.jobs.tick()).idle
    assert len([t for t in await _journal(kit) if t.code == "refund"]) == refunds
    with pytest.raises(EventAlreadyResolved):
        await kit.events.settle(op, event.id, event.outcomes[0].id)
    await check_books(kit)


async def test_an_open_event_past_its_deadline_is_voided_not_just_locked(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    (a,) = await _players(kit, system, 1)
    await kit.events.place_bet(Actor.of(a), event.id, event.outcomes[0].id, 25)
    clock.set(event.settle_deadline)  # no job ran in between
    report = await kit.jobs.tick()
    assert (report.locked, report.voided) == ([], [event.id])
    assert (await kit.events.get(event.id)).status is EventStatus.VOIDED
    assert await _balance(kit, a) == GRANT
    await check_books(kit)


async def test_one_tick_handles_every_due_event_whatever_the_claim_limit(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    """``tick`` is one pass over everything due now: ``limit`` sizes each claim, it does not
    cap the pass (a cron ``jobs tick`` must not leave due events for the next run)."""
    due = [await _event(kit, op, clock, title=f"Match {i}") for i in range(5)]
    voids = [
        await _event(
            kit,
            op,
            clock,
            title=f"Old {i}",
            betting_locked_at=clock.now() + timedelta(minutes=10),
            settle_deadline=due[0].closes_at,
        )
        for i in range(3)
    ]
    (a,) = await _players(kit, system, 1)
    for e in voids:
        await kit.events.place_bet(Actor.of(a), e.id, e.outcomes[0].id, 10)
    clock.set(due[0].closes_at - timedelta(minutes=1))
    await kit.events.lock(op, voids[0].id)
    clock.set(due[0].closes_at)
    report = await kit.jobs.tick(limit=2)
    assert sorted(report.locked) == [e.id for e in due]
    assert sorted(report.voided) == [e.id for e in voids]
    for e in due:
        assert (await kit.events.get(e.id)).status is EventStatus.LOCKED
        assert await _audit(kit, "event.auto_lock", e) == 1
    assert await _balance(kit, a) == GRANT
    assert (await kit.jobs.tick(limit=2)).idle
    await check_books(kit)


async def test_no_settlement_once_the_deadline_passed_whatever_the_job_did(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    """SPEC section 0: deadlines are enforced when a command arrives, whatever a background
    job has or has not done yet. An event not settled by its deadline is voided, so a
    set-winner arriving at or after the deadline is refused (and moves nothing) even while no
    job has voided the event yet; the job then refunds everyone."""
    event = await _event(kit, op, clock)
    on_time = await _event(kit, op, clock, title="On time")
    a, b = await _players(kit, system, 2)
    for e in (event, on_time):
        await kit.events.place_bet(Actor.of(a), e.id, e.outcomes[0].id, 40)
        await kit.events.place_bet(Actor.of(b), e.id, e.outcomes[1].id, 60)
    clock.set(on_time.settle_deadline - timedelta(microseconds=1))
    await kit.events.settle(op, on_time.id, on_time.outcomes[0].id)  # just in time
    assert await _balances(kit, [a, b]) == [GRANT - 40 + 100 - 40, GRANT - 60 - 60]
    clock.set(event.settle_deadline)  # no job has run: the event is still open
    journal = len(await _journal(kit))
    with pytest.raises(EventStateConflict):
        await kit.events.settle(op, event.id, event.outcomes[0].id)
    current = await kit.events.get(event.id)
    assert (current.status, current.winning_outcome_id) == (EventStatus.OPEN, None)
    assert len(await _journal(kit)) == journal
    assert await _audit(kit, "event.settle", event) == 0
    assert (await kit.jobs.tick()).voided == [event.id]
    assert await _balances(kit, [a, b]) == [GRANT + 60, GRANT - 60]
    await check_books(kit)


# -- edits and authorisation ----------------------------------------------------------------


async def test_edits_only_before_the_first_bet(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    edited = await kit.events.edit(
        op, event.id, EventChanges(title="  Grand final ", outcomes=("X", "Y"), rake_bps=200)
    )
    assert (edited.title, [o.name for o in edited.outcomes], edited.rake_bps) == (
        "Grand final",
        ["X", "Y"],
        200,
    )
    current = await kit.events.get(event.id)
    assert [o.name for o in current.outcomes] == ["X", "Y"]
    with pytest.raises(InvalidInput):
        await kit.events.edit(op, event.id, EventChanges(rake_bps=1001))
    with pytest.raises(InvalidInput):
        await kit.events.edit(op, event.id, EventChanges(outcomes=("only one",)))
    (a,) = await _players(kit, system, 1)
    await kit.events.place_bet(Actor.of(a), event.id, current.outcomes[0].id, 10)
    with pytest.raises(EventHasBets):
        await kit.events.edit(op, event.id, EventChanges(title="Changed"))
    assert (await kit.events.get(event.id)).title == "Grand final"
    other = await _event(kit, op, clock, title="Other")
    await kit.events.lock(op, other.id)
    with pytest.raises(EventStateConflict):
        await kit.events.edit(op, other.id, EventChanges(title="Late"))
    assert await _audit(kit, "event.edit", event) == 1
    await check_books(kit)


async def test_players_cannot_run_operator_use_cases(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, status=EventStatus.SCHEDULED)
    (a,) = await _players(kit, system, 1)
    pa = Actor.of(a)
    oid = event.outcomes[0].id
    attempts = [
        kit.events.create(pa, _draft(clock)),
        kit.events.edit(pa, event.id, EventChanges(title="mine")),
        kit.events.open(pa, event.id),
        kit.events.lock(pa, event.id),
        kit.events.settle(pa, event.id, oid),
        kit.events.void(pa, event.id),
        kit.chat.delete(pa, 1),
        kit.chat.mute(pa, a.id),
    ]
    for coro in attempts:
        with pytest.raises(PermissionDenied):
            await coro
    with pytest.raises(PermissionDenied):  # the system actor is nobody's wallet
        await kit.events.place_bet(system, event.id, oid, 10)
    assert (await kit.events.get(event.id)).status is EventStatus.SCHEDULED
    assert len(await kit.events.list_events()) == 1
    await check_books(kit)


async def test_a_player_sees_only_its_own_bets(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    e1 = await _event(kit, op, clock)
    e2 = await _event(kit, op, clock, title="Second")
    a, b = await _players(kit, system, 2)
    for e in (e1, e2):
        for p in (a, b):
            await kit.events.place_bet(Actor.of(p), e.id, e.outcomes[0].id, 10)
    mine = await kit.events.bets(Actor.of(a))
    assert {(x.user_id, x.event_id) for x in mine} == {(a.id, e1.id), (a.id, e2.id)}
    assert [x.user_id for x in await kit.events.bets(Actor.of(a), event_id=e1.id)] == [a.id]
    with pytest.raises(PermissionDenied):
        await kit.events.bets(Actor.of(a), user_id=b.id)
    assert len(await kit.events.bets(op)) == 4  # staff see everyone's
    assert {x.user_id for x in await kit.events.bets(op, user_id=b.id)} == {b.id}
    assert (await kit.events.my_bet(Actor.of(b), e2.id)).user_id == b.id  # type: ignore[union-attr]
    await check_books(kit)


# -- idempotency ----------------------------------------------------------------------------


async def test_a_replayed_bet_returns_the_first_answer_and_charges_once(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    a, b = await _players(kit, system, 2)
    pa = Actor.of(a)
    o1, o2 = event.outcomes[0].id, event.outcomes[1].id
    first = await kit.events.place_bet(pa, event.id, o1, 75, idempotency_key="bet-1")
    assert not first.replayed
    again = await kit.events.place_bet(pa, event.id, o1, 75, idempotency_key="bet-1")
    assert again.replayed
    assert (again.bet, again.placed) == (first.bet, 75)
    for outcome, amount in ((o1, 76), (o2, 75)):
        with pytest.raises(IdempotencyConflict):
            await kit.events.place_bet(pa, event.id, outcome, amount, idempotency_key="bet-1")
    # the key belongs to the user: another user's same key is its own bet
    rb = await kit.events.place_bet(Actor.of(b), event.id, o1, 75, idempotency_key="bet-1")
    assert not rb.replayed
    await kit.events.lock(op, event.id)
    late = await kit.events.place_bet(pa, event.id, o1, 75, idempotency_key="bet-1")
    assert late.replayed  # a replay after the lock still gets the first answer
    assert late.bet.id == first.bet.id
    stakes = [t for t in await _journal(kit) if t.code == "stake"]
    assert sorted(t.id for t in stakes) == [f"stake:{a.id}:bet-1", f"stake:{b.id}:bet-1"]
    assert await _balances(kit, [a, b]) == [GRANT - 75, GRANT - 75]
    assert len(await _bets(kit, event)) == 2
    with pytest.raises(InvalidInput):
        await kit.events.place_bet(pa, event.id, o1, 75, idempotency_key="bad key!")
    await check_books(kit)


async def test_concurrent_replays_of_one_key_charge_once(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    (a,) = await _players(kit, system, 1)
    oid = event.outcomes[0].id
    results = await asyncio.gather(
        *(
            kit.events.place_bet(Actor.of(a), event.id, oid, 30, idempotency_key="same")
            for _ in range(6)
        )
    )
    assert len({r.bet.id for r in results}) == 1
    assert [r.replayed for r in results].count(False) == 1
    assert await _balance(kit, a) == GRANT - 30
    await check_books(kit)


async def test_many_concurrent_bets_through_the_batcher(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock, allow_topup=True)
    players = await _players(kit, system, 12)
    calls = []
    for i, p in enumerate(players):
        calls.append(kit.events.place_bet(Actor.of(p), event.id, event.outcomes[i % 3].id, i + 1))
        calls.append(kit.events.place_bet(Actor.of(p), event.id, event.outcomes[i % 3].id, 2))
    calls.append(kit.events.place_bet(Actor.of(players[0]), event.id, event.outcomes[1].id, 5))
    results = await asyncio.gather(*calls, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1  # only the top-up on another outcome
    assert isinstance(errors[0], AlreadyBet)
    bets = {b.user_id: b for b in await _bets(kit, event)}
    for i, p in enumerate(players):
        assert (bets[p.id].amount, bets[p.id].placements) == (i + 3, 2)
        assert await _balance(kit, p) == GRANT - (i + 3)
    await check_books(kit)


# -- resumed settlement ---------------------------------------------------------------------


class Interrupted(Exception):
    pass


def _interrupt_after_first_chunk() -> Any:
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if len(calls) == 1:
            raise Interrupted

    return progress, calls


@pytest.mark.parametrize("how", ["settle-again", "resume", "job"])
async def test_an_interrupted_settlement_resumes_and_pays_no_one_twice(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock, how: str
) -> None:
    kit.events.chunk_size = 2
    event = await _event(kit, op, clock, rake_bps=300)
    players = await _players(kit, system, 9)
    win, lose = event.outcomes[0].id, event.outcomes[1].id
    stakes = [17, 23, 5, 41, 13, 29, 60, 11, 37]
    for i, (p, amount) in enumerate(zip(players, stakes, strict=True)):
        await kit.events.place_bet(Actor.of(p), event.id, win if i < 6 else lose, amount)
    progress, _ = _interrupt_after_first_chunk()
    with pytest.raises(Interrupted):
        await kit.events.settle(op, event.id, win, progress=progress)
    half = await kit.events.get(event.id)
    assert half.status is EventStatus.SETTLING
    paid_so_far = [t for t in await _journal(kit) if t.code == "payout"]
    assert len(paid_so_far) == 2  # exactly one chunk went through
    with pytest.raises(BettingClosed):  # no bets while half-settled
        await kit.events.place_bet(Actor.of(players[0]), event.id, win, 1)
    with pytest.raises(EventAlreadyResolved):  # nor another winner
        await kit.events.settle(op, event.id, lose)
    await check_books(kit)
    if how == "settle-again":
        done = await kit.events.settle(op, event.id, win)
    elif how == "resume":
        done = await kit.events.resume(event.id)
    else:
        assert (await kit.jobs.tick()).resumed == []  # not stale yet: someone may be on it
        clock.advance(seconds=kit.events.stale_after_seconds + 1)
        assert (await kit.jobs.tick()).resumed == [event.id]
        done = await kit.events.get(event.id)
    assert done.status is EventStatus.SETTLED
    journal = await _journal(kit)
    payout_ids = [t.id for t in journal if t.code == "payout"]
    assert len(payout_ids) == len(set(payout_ids)) == 6  # each winner paid once
    assert [t.id for t in journal if t.code == "rake"] == [f"rake:{event.id}"]
    w, lose_total = sum(stakes[:6]), sum(stakes[6:])
    rake = Fraction(lose_total * 300, 10000).__floor__()
    bal = await _balances(kit, players)
    assert sum(bal) + rake == GRANT * len(players)
    for i, (b, amount) in enumerate(zip(bal, stakes, strict=True)):
        if i < 6:
            assert (
                abs((b - GRANT + amount) - (amount + Fraction(amount * (lose_total - rake), w))) < 1
            )
        else:
            assert b == GRANT - amount
    assert await _audit(kit, "event.settle", event) == 1
    # resuming a finished event does nothing
    assert (await kit.events.resume(event.id)).status is EventStatus.SETTLED
    assert len(await _journal(kit)) == len(journal)
    await check_books(kit)


async def test_an_interrupted_void_resumes_and_refunds_no_one_twice(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    kit.events.chunk_size = 3
    event = await _event(kit, op, clock)
    players = await _players(kit, system, 7)
    for i, p in enumerate(players):
        await kit.events.place_bet(Actor.of(p), event.id, event.outcomes[i % 3].id, 10 + i)
    progress, _ = _interrupt_after_first_chunk()
    with pytest.raises(Interrupted):
        await kit.events.void(op, event.id, progress=progress)
    assert (await kit.events.get(event.id)).status is EventStatus.VOIDING
    assert len([t for t in await _journal(kit) if t.code == "refund"]) == 3
    with pytest.raises(EventAlreadyResolved):
        await kit.events.settle(op, event.id, event.outcomes[0].id)
    done = await kit.events.void(op, event.id)  # voiding again finishes it
    assert done.status is EventStatus.VOIDED
    refunds = [t.id for t in await _journal(kit) if t.code == "refund"]
    assert len(refunds) == len(set(refunds)) == 7
    assert await _balances(kit, players) == [GRANT] * 7
    await check_books(kit)


async def test_progress_reports_every_chunk(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    kit.events.chunk_size = 2
    event = await _event(kit, op, clock)
    players = await _players(kit, system, 5)
    for p in players:
        await kit.events.place_bet(Actor.of(p), event.id, event.outcomes[0].id, 10)
    calls: list[tuple[int, int]] = []
    await kit.events.settle(
        op, event.id, event.outcomes[0].id, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(2, 5), (4, 5), (5, 5)]
    await check_books(kit)


# -- chat -----------------------------------------------------------------------------------


async def test_chat_messages_are_trimmed_and_bounded(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    (a,) = await _players(kit, system, 1)
    pa = Actor.of(a)
    msg = await kit.chat.post(pa, event.id, "  hello  ")
    assert (msg.text, msg.user_id, msg.event_id) == ("hello", a.id, event.id)
    longest = await kit.chat.post(pa, event.id, "  " + "x" * 500 + "\n")
    assert longest.text == "x" * 500
    one = await kit.chat.post(pa, event.id, " y ")
    assert one.text == "y"
    for bad in ("", "   \n\t ", "x" * 501, "bell\x07"):
        with pytest.raises(InvalidInput):
            await kit.chat.post(pa, event.id, bad)
    with pytest.raises(EventNotFound):
        await kit.chat.post(pa, 10**9, "hi")
    with pytest.raises(PermissionDenied):
        await kit.chat.post(system, event.id, "hi")
    history = await kit.chat.history(event.id)
    assert [m.id for m in history] == [one.id, longest.id, msg.id]  # newest first
    await check_books(kit)


async def test_muted_users_cannot_post_until_unmuted_or_expired(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    a, b = await _players(kit, system, 2)
    await kit.chat.mute(op, a.id, reason="spam")
    await kit.chat.mute(op, b.id, minutes=10)
    for p in (a, b):
        with pytest.raises(ChatMuted):
            await kit.chat.post(Actor.of(p), event.id, "hello")
    clock.advance(minutes=10)  # b's mute has run out; a's lasts until lifted
    await kit.chat.post(Actor.of(b), event.id, "back")
    with pytest.raises(ChatMuted):
        await kit.chat.post(Actor.of(a), event.id, "hello")
    assert await kit.chat.muted(a.id) is not None
    await kit.chat.unmute(op, a.id)
    assert await kit.chat.muted(a.id) is None
    await kit.chat.post(Actor.of(a), event.id, "sorry")
    assert [m.text for m in await kit.chat.history(event.id)] == ["sorry", "back"]
    entries = await kit.audit.list(system, action="chat.mute")
    assert {e.target for e in entries} == {f"user:{a.id}", f"user:{b.id}"}
    await check_books(kit)


async def test_chat_rate_limit(kit: WagerKit, system: Actor, op: Actor, clock: FixedClock) -> None:
    event = await _event(kit, op, clock)
    a, b = await _players(kit, system, 2)
    allowed, _ = DEFAULT_LIMITS["chat"]
    for i in range(allowed):
        await kit.chat.post(Actor.of(a), event.id, f"message {i}")
    with pytest.raises(RateLimited):
        await kit.chat.post(Actor.of(a), event.id, "one too many")
    await kit.chat.post(Actor.of(b), event.id, "others are not limited by a")
    assert len(await kit.chat.history(event.id, limit=200)) == allowed + 1
    await check_books(kit)


async def test_chat_delete_is_soft_audited_and_staff_only(
    kit: WagerKit, system: Actor, op: Actor, clock: FixedClock
) -> None:
    event = await _event(kit, op, clock)
    (a,) = await _players(kit, system, 1)
    keep = await kit.chat.post(Actor.of(a), event.id, "keep")
    gone = await kit.chat.post(Actor.of(a), event.id, "rude")
    with pytest.raises(PermissionDenied):
        await kit.chat.delete(Actor.of(a), gone.id)
    await kit.chat.delete(op, gone.id, reason="rude")
    await kit.chat.delete(op, gone.id, reason="again")  # already deleted: no second record
    assert [m.id for m in await kit.chat.history(event.id)] == [keep.id]
    entries = await kit.audit.list(system, action="chat.delete")
    assert [(e.target, e.reason, e.actor_id) for e in entries] == [
        (f"chat:{gone.id}", "rude", op.user_id)
    ]
    with pytest.raises(MessageNotFound):
        await kit.chat.delete(op, 10**9)
    await check_books(kit)
