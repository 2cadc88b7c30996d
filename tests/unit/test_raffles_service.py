"""Raffles through the ``WagerKit`` facade on every store (memory, SQLite, PostgreSQL):
categories, sales (chosen and random numbers, all or nothing, per-user limit, idempotent
keys), close with a commitment, void and refunds below the minimum, lottery and beacon draws,
corrections before payouts, prizes and rake paid exactly once, the public record and its
verification, the job runner's close and payout, authorisation. Every scenario ends with the
books checked: money conserved, no wallet below zero, every raffle escrow at its expected
balance."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from builders import assert_conserved

from wagerkit import (
    Actor,
    DrawMode,
    PrizeMode,
    Raffle,
    RaffleCategoryDraft,
    RaffleChanges,
    RaffleClosed,
    RaffleDraft,
    RaffleDrawn,
    RaffleSold,
    RaffleStatus,
    WagerKit,
    raffle_draw,
)
from wagerkit.domain.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    PermissionDenied,
    RaffleNotFound,
    RaffleStateConflict,
    SoldOut,
    TicketLimitExceeded,
    TicketUnavailable,
)
from wagerkit.domain.identity import Role
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, RecordingPublisher, SequentialIds

GRANT = 1000


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def kit(store: UnitOfWorkFactory, clock: FixedClock, publisher: RecordingPublisher) -> WagerKit:
    return WagerKit(store, clock=clock, ids=SequentialIds(), publisher=publisher)


async def staff(kit: WagerKit) -> Actor:
    op = await kit.users.add(Actor.system(), "Op", role=Role.OPERATOR)
    return Actor.of(op)


async def player(kit: WagerKit, name: str) -> Actor:
    u = await kit.users.add(Actor.system(), name)
    return Actor.of(u)


async def make_raffle(
    kit: WagerKit,
    op: Actor,
    clock: FixedClock,
    *,
    price: int = 10,
    capacity: int = 100,
    winners: int = 3,
    split: tuple[int, ...] = (50, 30, 20),
    rake: int = 1000,
    mode: PrizeMode = PrizeMode.PROPORTIONAL,
    draw: DrawMode = DrawMode.BEACON,
    min_tickets: int | None = None,
    max_per_user: int | None = None,
) -> Raffle:
    c = await kit.raffles.create_category(
        op, RaffleCategoryDraft("Gold", price, capacity, winners, rake, split, mode, "#ffd700")
    )
    now = clock.now()
    return await kit.raffles.create(
        op,
        RaffleDraft(
            "Friday raffle",
            c.id,
            now,
            now + timedelta(hours=1),
            min_tickets=min_tickets,
            max_per_user=max_per_user,
            draw_mode=draw,
            lottery_name="Lotería de Bogotá" if draw is DrawMode.LOTTERY else "",
        ),
    )


async def balance(kit: WagerKit, a: Actor) -> int:
    assert a.user_id is not None
    return (await kit.wallets.balance(a, a.user_id)).balance


async def escrow(kit: WagerKit, r: Raffle) -> int:
    async with kit.deps.uow() as uow:
        acc = await uow.ledger.get_account(r.escrow_account_id)
        assert acc is not None
        return acc.balance


async def test_spec_example_sold_closed_drawn_and_paid_once(
    kit: WagerKit, clock: FixedClock, publisher: RecordingPublisher
) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock, min_tickets=3)
    players = [await player(kit, f"p{i}") for i in range(5)]
    bought = [await kit.raffles.buy(p, r.id, count=2) for p in players]
    assert sum(len(b.tickets) for b in bought) == 10
    assert (await kit.raffles.get(r.id)).sold == 10
    assert await balance(kit, players[0]) == GRANT - 20
    assert await escrow(kit, r) == 100
    assert any(isinstance(n, RaffleSold) for n in publisher.notes)

    closed = await kit.raffles.close(op, r.id)
    assert closed.status is RaffleStatus.CLOSED
    tickets = await kit.raffles.tickets(op, raffle_id=r.id, limit=500)
    listing = raffle_draw.listing([(t.number, t.user_id) for t in tickets], 100)
    assert closed.commitment == raffle_draw.commitment(listing)
    with pytest.raises(RaffleStateConflict):
        await kit.raffles.buy(players[0], r.id, count=1)

    drawn = await kit.raffles.draw(op, r.id, public_value="Bogotá 2026-01-02: 4821")
    assert drawn.status is RaffleStatus.DRAWN
    assert drawn.paid_at is not None
    assert [w[2] for w in drawn.winners] == [45, 27, 18]
    assert len({w[0] for w in drawn.winners}) == 3
    assert await escrow(kit, drawn) == 0
    house = sum([await balance(kit, p) for p in players])
    assert house == 5 * GRANT - 10  # the players lost only the rake
    record = await kit.raffles.record(r.id)
    assert record["rake"] == 10
    assert record["sales"] == 100
    verdict = await kit.raffles.verify(r.id)
    assert verdict.match, verdict.reason
    assert verdict.winners == [w[0] for w in drawn.winners]
    # exactly once
    again = await kit.raffles.pay(op, r.id)
    assert again.paid_at == drawn.paid_at
    with pytest.raises(RaffleStateConflict):
        await kit.raffles.draw(op, r.id, public_value="again")
    assert await escrow(kit, drawn) == 0
    assert any(isinstance(n, RaffleClosed) for n in publisher.notes)
    assert any(isinstance(n, RaffleDrawn) and n.paid for n in publisher.notes)
    await assert_conserved(kit)


async def test_chosen_numbers_all_or_nothing_and_limits(kit: WagerKit, clock: FixedClock) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock, capacity=10, max_per_user=3)
    a, b = await player(kit, "a"), await player(kit, "b")
    p = await kit.raffles.buy(a, r.id, numbers=[3, 7])
    assert p.numbers == [3, 7]
    assert p.amount == 20
    with pytest.raises(TicketUnavailable):
        await kit.raffles.buy(b, r.id, numbers=[1, 7])
    assert await kit.raffles.sold_numbers(r.id) == [3, 7]  # nothing of the refused one
    with pytest.raises(TicketLimitExceeded):
        await kit.raffles.buy(a, r.id, count=2)
    with pytest.raises(InvalidInput):
        await kit.raffles.buy(b, r.id, numbers=[10])
    with pytest.raises(InvalidInput):
        await kit.raffles.buy(b, r.id, numbers=[1, 1])
    with pytest.raises(InvalidInput):
        await kit.raffles.buy(b, r.id, numbers=[1], count=1)
    c = await player(kit, "c")
    d = await player(kit, "d")
    await kit.raffles.buy(b, r.id, count=3)
    await kit.raffles.buy(c, r.id, count=3)
    with pytest.raises(SoldOut):
        await kit.raffles.buy(d, r.id, count=3)
    await kit.raffles.buy(d, r.id, count=2)
    assert (await kit.raffles.get(r.id)).sold == 10
    with pytest.raises(RaffleNotFound):
        await kit.raffles.buy(d, 999, count=1)
    await assert_conserved(kit)


async def test_insufficient_funds_buys_nothing(kit: WagerKit, clock: FixedClock) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock, price=400)
    a = await player(kit, "a")
    with pytest.raises(InsufficientFunds):
        await kit.raffles.buy(a, r.id, count=3)
    assert (await kit.raffles.get(r.id)).sold == 0
    assert await balance(kit, a) == GRANT
    await assert_conserved(kit)


async def test_idempotent_purchase(kit: WagerKit, clock: FixedClock) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock)
    a = await player(kit, "a")
    first = await kit.raffles.buy(a, r.id, count=2, idempotency_key="k1")
    again = await kit.raffles.buy(a, r.id, count=2, idempotency_key="k1")
    assert again.replayed
    assert again.numbers == first.numbers
    assert (await kit.raffles.get(r.id)).sold == 2
    with pytest.raises(IdempotencyConflict):
        await kit.raffles.buy(a, r.id, count=3, idempotency_key="k1")
    with pytest.raises(InvalidInput):
        await kit.raffles.buy(a, r.id, count=1, idempotency_key="bad key!")
    await assert_conserved(kit)


async def test_concurrent_random_buyers_share_group_commits(
    kit: WagerKit, clock: FixedClock
) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock, capacity=50)
    buyers = [await player(kit, f"b{i}") for i in range(50)]
    got = await asyncio.gather(*(kit.raffles.buy(b, r.id, count=1) for b in buyers))
    numbers = sorted(n for p in got for n in p.numbers)
    assert numbers == list(range(50))
    with pytest.raises(SoldOut):
        await kit.raffles.buy(buyers[0], r.id, count=1)
    assert await escrow(kit, r) == 500
    await assert_conserved(kit)


async def test_below_minimum_is_voided_and_refunded_by_the_job_runner(
    kit: WagerKit, clock: FixedClock
) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock, min_tickets=5)
    a = await player(kit, "a")
    await kit.raffles.buy(a, r.id, count=2)
    clock.advance(hours=2)
    with pytest.raises(RaffleStateConflict):
        await kit.raffles.buy(a, r.id, count=1)  # the deadline holds whatever a job did
    report = await kit.jobs.tick()
    part = report.parts["raffles"]
    assert part.voided == [r.id]  # type: ignore[attr-defined]
    after = await kit.raffles.get(r.id)
    assert after.status is RaffleStatus.VOIDED
    assert after.paid_at is not None
    assert await balance(kit, a) == GRANT
    assert await escrow(kit, r) == 0
    assert (await kit.jobs.tick()).idle
    tickets = await kit.raffles.tickets(a)
    assert all(t.refunded for t in tickets)
    await assert_conserved(kit)


async def test_operator_void_refunds_everyone(kit: WagerKit, clock: FixedClock) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock)
    ps = [await player(kit, f"p{i}") for i in range(4)]
    for p in ps:
        await kit.raffles.buy(p, r.id, count=3)
    with pytest.raises(InvalidInput):
        await kit.raffles.void(op, r.id, reason="")
    v = await kit.raffles.void(op, r.id, reason="venue cancelled")
    assert v.status is RaffleStatus.VOIDED
    assert [await balance(kit, p) for p in ps] == [GRANT] * 4
    with pytest.raises(RaffleStateConflict):
        await kit.raffles.close(op, r.id)
    await assert_conserved(kit)


async def test_lottery_draw_correct_before_payout_then_paid_by_jobs(
    kit: WagerKit, clock: FixedClock
) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock, draw=DrawMode.LOTTERY, winners=2, split=(70, 30))
    a, b = await player(kit, "a"), await player(kit, "b")
    await kit.raffles.buy(a, r.id, numbers=[10, 20])
    await kit.raffles.buy(b, r.id, numbers=[30, 40])
    clock.advance(hours=1)
    assert (await kit.jobs.tick()).parts["raffles"].closed == [r.id]  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput):
        await kit.raffles.draw(op, r.id, public_value="x")
    drawn = await kit.raffles.draw(op, r.id, numbers=[4521, 4599])  # 21 → 30, 99 → wraps → 10
    assert [(w[0], w[2]) for w in drawn.winners] == [(30, 26), (10, 10)]
    assert drawn.paid_at is None
    fixed = await kit.raffles.correct(op, r.id, [4515, 4599], reason="typo in the first number")
    assert [w[0] for w in fixed.winners] == [20, 10]
    entries = await kit.audit.list(op, action="raffle.correct")
    assert entries[0].details["old"] == "4521,4599"
    assert (await kit.raffles.verify(r.id)).match
    clock.advance(seconds=kit.raffles.correction_seconds + 1)
    part = (await kit.jobs.tick()).parts["raffles"]
    assert part.paid == [r.id]  # type: ignore[attr-defined]
    paid = await kit.raffles.get(r.id)
    assert paid.paid_at is not None
    with pytest.raises(RaffleStateConflict):
        await kit.raffles.correct(op, r.id, [1, 2], reason="too late")
    assert await balance(kit, a) == GRANT - 20 + 26 + 10
    assert await escrow(kit, paid) == 0
    await assert_conserved(kit)


async def test_guaranteed_mode_house_pays_the_fund(kit: WagerKit, clock: FixedClock) -> None:
    op = await staff(kit)
    r = await make_raffle(
        kit, op, clock, capacity=100, winners=1, split=(), rake=500, mode=PrizeMode.GUARANTEED
    )
    a = await player(kit, "a")
    await kit.raffles.buy(a, r.id, count=5)
    await kit.raffles.close(op, r.id)
    drawn = await kit.raffles.draw(op, r.id, public_value="v")
    assert drawn.winners[0][2] == 950  # collection 1000 less 5 %
    assert await balance(kit, a) == GRANT - 50 + 950
    assert await escrow(kit, drawn) == 0
    record = await kit.raffles.record(r.id)
    assert record["prize_fund"] == 950
    assert (await kit.raffles.verify(r.id)).match
    await assert_conserved(kit)


async def test_authorisation_and_update_before_sales(kit: WagerKit, clock: FixedClock) -> None:
    op = await staff(kit)
    a = await player(kit, "a")
    with pytest.raises(PermissionDenied):
        await kit.raffles.create_category(a, RaffleCategoryDraft("x", 1, 10))
    r = await make_raffle(kit, op, clock)
    with pytest.raises(PermissionDenied):
        await kit.raffles.close(a, r.id)
    with pytest.raises(PermissionDenied):
        await kit.raffles.update(a, r.id, RaffleChanges(name="mine"))
    r2 = await kit.raffles.update(op, r.id, RaffleChanges(name="Saturday raffle", min_tickets=4))
    assert (r2.name, r2.min_tickets) == ("Saturday raffle", 4)
    with pytest.raises(InvalidInput):
        await kit.raffles.update(op, r.id, RaffleChanges(min_tickets=1))  # < winners
    await kit.raffles.buy(a, r.id, count=1)
    with pytest.raises(RaffleStateConflict):
        await kit.raffles.update(op, r.id, RaffleChanges(name="late"))
    b = await player(kit, "b")
    with pytest.raises(PermissionDenied):
        await kit.raffles.tickets(b, user_id=a.user_id)
    assert len(await kit.raffles.tickets(a)) == 1
    with pytest.raises(RaffleNotFound):
        await kit.raffles.record(r.id)
    cats = await kit.raffles.list_categories()
    assert cats[0].prize_per_winner == 450
    assert [x.id for x in await kit.raffles.list_raffles()] == [r.id]
    await assert_conserved(kit)


# real quicknet rounds (tests/unit/test_drand.py): 657413 was produced in 2023, before any
# raffle here closes; 32285086 in September 2026, after the fixed clock's 2026-01-01
EARLY_ROUND = (
    657413,
    "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b",
)
LATE_ROUND = (
    32285086,
    "a64d99fd7fa3e48912be7209c7b69c72c88fc5224be2516949b6f29f3a4b7e3fa069dd58b2bbb4bf2c34ae61ef631a44",
)


async def test_drand_round_draw_with_an_entered_signature(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    from wagerkit.adapters.drand import DrandBeacon
    from wagerkit.domain.errors import BeaconInvalid

    kit = WagerKit(
        store, clock=clock, ids=SequentialIds(), beacon=DrandBeacon(relays=["http://127.0.0.1:9"])
    )
    op = await staff(kit)
    r = await make_raffle(kit, op, clock)
    ps = [await player(kit, f"p{i}") for i in range(3)]
    for p in ps:
        await kit.raffles.buy(p, r.id, count=2)
    await kit.raffles.close(op, r.id)
    with pytest.raises(BeaconInvalid):  # produced before the close
        await kit.raffles.draw(op, r.id, drand_round=EARLY_ROUND[0], drand_signature=EARLY_ROUND[1])
    tampered = LATE_ROUND[1][:-2] + ("00" if LATE_ROUND[1][-2:] != "00" else "11")
    with pytest.raises(BeaconInvalid):
        await kit.raffles.draw(op, r.id, drand_round=LATE_ROUND[0], drand_signature=tampered)
    with pytest.raises(BeaconInvalid):  # the signature of another round
        await kit.raffles.draw(
            op, r.id, drand_round=LATE_ROUND[0] - 1, drand_signature=LATE_ROUND[1]
        )
    assert (await kit.raffles.get(r.id)).status is RaffleStatus.CLOSED  # nothing drawn
    drawn = await kit.raffles.draw(
        op, r.id, drand_round=LATE_ROUND[0], drand_signature=LATE_ROUND[1]
    )
    assert drawn.provenance["source"] == "drand"
    assert drawn.provenance["round"] == LATE_ROUND[0]
    assert drawn.paid_at is not None
    assert (await kit.raffles.verify(r.id)).match
    await assert_conserved(kit)


async def test_drand_round_without_a_beacon_is_refused(kit: WagerKit, clock: FixedClock) -> None:
    op = await staff(kit)
    r = await make_raffle(kit, op, clock, min_tickets=3)
    await kit.raffles.buy(await player(kit, "a"), r.id, count=3)
    await kit.raffles.close(op, r.id)
    with pytest.raises(InvalidInput):
        await kit.raffles.draw(op, r.id, drand_round=LATE_ROUND[0])
