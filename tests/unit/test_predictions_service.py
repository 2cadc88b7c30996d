"""Price predictions through the ``WagerKit`` facade (SPEC section 4 and 7), on every store
(memory, SQLite, PostgreSQL): fixed-odds and multiplier contracts placed at the latest fresh
tick and settled by the job runner at the first tick after expiry (or voided), early close,
staff voids, exposure limits, idempotent placements, and self-running pari-mutuel rounds.
Every scenario ends with the books checked: money conserved, no wallet below zero."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.domain.errors import (
    ContractStateConflict,
    ExposureLimit,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    PermissionDenied,
    PriceUnavailable,
    RoundClosed,
)
from wagerkit.domain.identity import Role, User
from wagerkit.domain.predictions import ContractStatus, PredictionPolicy, RoundStatus
from wagerkit.domain.prices import Tick
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, SequentialIds

GRANT = 1000
SYM = "BTCUSDT"


def policy(**kw: object) -> PredictionPolicy:
    base: dict[str, object] = {
        "durations": (60, 300),
        "leverages": (2, 5, 10),
        "round_interval": 60,
        "round_symbols": (SYM,),
    }
    base.update(kw)
    return PredictionPolicy(**base)  # type: ignore[arg-type]


@pytest.fixture
def kit(store: UnitOfWorkFactory, clock: FixedClock) -> WagerKit:
    return WagerKit(store, clock=clock, ids=SequentialIds(), predictions=policy())


async def tick(
    kit: WagerKit, clock: FixedClock, price: str, *, ago: float = 0, sym: str = SYM
) -> None:
    async with kit.deps.uow() as uow:
        t = clock.now() - timedelta(seconds=ago)
        await uow.prices.add_ticks([Tick(sym, t, Decimal(price), "operator")])
        await uow.commit()


async def player(kit: WagerKit, name: str = "Ann") -> tuple[User, Actor]:
    u = await kit.users.add(Actor.system(), name)
    return u, Actor.of(u)


async def balance(kit: WagerKit, u: User) -> int:
    return (await kit.wallets.balance(Actor.system(), u.id)).balance


async def test_fixed_odds_win_lose_and_tie(kit: WagerKit, clock: FixedClock) -> None:
    a, alice = await player(kit, "Ann")
    b, bob = await player(kit, "Bob")
    c, cat = await player(kit, "Cat")
    await tick(kit, clock, "50000")
    up = (await kit.predictions.place(alice, SYM, "up", 100, duration="1m")).contract
    down = (await kit.predictions.place(bob, SYM, "down", 100, duration=60)).contract
    assert up.entry_price == Decimal(50000)
    assert up.status is ContractStatus.OPEN
    assert await balance(kit, a) == GRANT - 100
    clock.advance(60)
    await tick(kit, clock, "50001", ago=-1)  # first tick 1 s after expiry
    clock.advance(2)
    report = await kit.jobs.tick()
    assert report.parts["predictions"].contracts.settled == 2  # type: ignore[attr-defined]
    won = await kit.predictions.get(alice, up.id)
    lost = await kit.predictions.get(bob, down.id)
    assert (won.status, won.payout, won.profit, won.result) == (ContractStatus.WON, 180, 80, "W")
    assert (lost.status, lost.payout, lost.profit, lost.result) == (
        ContractStatus.LOST,
        0,
        -100,
        "L",
    )
    assert won.exit_price == Decimal(50001)
    assert won.exit_at == clock.now() - timedelta(seconds=1)
    assert await balance(kit, a) == GRANT + 80
    assert await balance(kit, b) == GRANT - 100
    # a tie pushes (the default rule): the stake comes back
    tie = (await kit.predictions.place(cat, SYM, "up", 50, duration=60)).contract
    clock.advance(60)
    await tick(kit, clock, "50001")
    await kit.jobs.tick()
    pushed = await kit.predictions.get(cat, tie.id)
    assert (pushed.status, pushed.payout, pushed.profit) == (ContractStatus.PUSH, 50, 0)
    assert await balance(kit, c) == GRANT
    assert (await kit.jobs.tick()).idle  # exactly once
    await assert_conserved(kit)


async def test_multiplier_examples_commission_and_early_close(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    kit = WagerKit(store, clock=clock, ids=SequentialIds(), predictions=policy(commission_bps=10))
    a, alice = await player(kit)
    await tick(kit, clock, "50000")
    c1 = (await kit.predictions.place(alice, SYM, "up", 100, duration=60, leverage=5)).contract
    c2 = (await kit.predictions.place(alice, SYM, "up", 100, duration=60, leverage=5)).contract
    assert c1.commission == 0  # floor(100 × 5 × 10 / 10000) = 0
    c3 = (await kit.predictions.place(alice, SYM, "down", 400, duration=300, leverage=10)).contract
    assert c3.commission == 4
    assert await balance(kit, a) == GRANT - 604
    clock.advance(30)
    await tick(kit, clock, "50500")
    closed = await kit.predictions.close(alice, c3.id)  # down at ×10 on +1 %: −40
    assert (closed.status, closed.payout, closed.closed_early) == (ContractStatus.LOST, 360, True)
    assert (await kit.predictions.close(alice, c3.id)).payout == 360  # idempotent
    clock.advance(30)
    await tick(kit, clock, "50500")
    await kit.jobs.tick()
    assert (await kit.predictions.get(alice, c1.id)).payout == 105  # ×5 on +1 %
    assert (await kit.predictions.get(alice, c2.id)).payout == 105
    with pytest.raises(ContractStateConflict):
        await kit.predictions.close(alice, c1.id)
    assert await balance(kit, a) == GRANT - 604 + 360 + 210
    # −25 % at ×5 is floored at −stake
    c4 = (await kit.predictions.place(alice, SYM, "up", 100, duration=60, leverage=5)).contract
    clock.advance(60)
    await tick(kit, clock, "37500")
    await kit.jobs.tick()
    lost = await kit.predictions.get(alice, c4.id)
    assert (lost.payout, lost.profit) == (0, -100)
    await assert_conserved(kit)


async def test_entry_needs_a_fresh_tick(kit: WagerKit, clock: FixedClock) -> None:
    _, alice = await player(kit)
    with pytest.raises(PriceUnavailable):
        await kit.predictions.place(alice, SYM, "up", 10, duration=60)
    await tick(kit, clock, "100", ago=11)  # older than max_age (10 s)
    with pytest.raises(PriceUnavailable):
        await kit.predictions.place(alice, SYM, "up", 10, duration=60)
    await tick(kit, clock, "100", ago=10)
    await kit.predictions.place(alice, SYM, "long", 10, duration=60)
    with pytest.raises(InvalidInput):
        await kit.predictions.place(alice, SYM, "up", 10, duration=61)
    with pytest.raises(InvalidInput):
        await kit.predictions.place(alice, SYM, "up", 10, duration=60, leverage=3)
    with pytest.raises(InvalidInput):
        await kit.predictions.place(alice, "btc", "up", 10, duration=60)
    with pytest.raises(InsufficientFunds):
        await kit.predictions.place(alice, SYM, "up", GRANT, duration=60)
    await assert_conserved(kit)


async def test_missing_exit_tick_voids_after_the_buffer(kit: WagerKit, clock: FixedClock) -> None:
    a, alice = await player(kit)
    await tick(kit, clock, "100")
    c = (await kit.predictions.place(alice, SYM, "up", 100, duration=60)).contract
    clock.advance(70)  # expired, still within the buffer: wait
    assert (await kit.jobs.tick()).parts["predictions"].contracts.idle  # type: ignore[attr-defined]
    clock.advance(6)  # 16 s after expiry, no tick in [expiry, expiry + 15 s]
    await tick(kit, clock, "120")  # too late to count
    await kit.jobs.tick()
    v = await kit.predictions.get(alice, c.id)
    assert (v.status, v.payout, v.profit, v.exit_price) == (ContractStatus.VOID, 100, 0, None)
    assert await balance(kit, a) == GRANT
    await assert_conserved(kit)


async def test_exposure_limits_per_symbol_and_total(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    pol = policy(exposure_limit_symbol=500, exposure_limit_total=700)
    kit = WagerKit(store, clock=clock, ids=SequentialIds(), predictions=pol)
    _, alice = await player(kit)
    staff = Actor.of(await kit.users.add(Actor.system(), "Op", role=Role.OPERATOR))
    await tick(kit, clock, "10")
    await tick(kit, clock, "20", sym="ETHUSDT")
    await kit.predictions.place(alice, SYM, "up", 100, duration=60)  # max payout 180
    await kit.predictions.place(alice, SYM, "up", 100, duration=60)  # 360
    with pytest.raises(ExposureLimit):
        await kit.predictions.place(alice, SYM, "up", 100, duration=60)  # 540 > 500
    await kit.predictions.place(alice, "ETHUSDT", "up", 100, duration=60)  # total 540
    with pytest.raises(ExposureLimit):
        await kit.predictions.place(alice, "ETHUSDT", "up", 100, duration=60)  # total 720 > 700
    rows = {(r.symbol): r.exposure for r in await kit.predictions.exposure(staff)}
    assert rows == {"*": 540, SYM: 360, "ETHUSDT": 180}
    with pytest.raises(PermissionDenied):
        await kit.predictions.exposure(alice)
    clock.advance(60)
    await tick(kit, clock, "11")
    await tick(kit, clock, "21", sym="ETHUSDT")
    await kit.jobs.tick()
    rows = {(r.symbol): r.exposure for r in await kit.predictions.exposure(staff)}
    assert rows == {"*": 0, SYM: 0, "ETHUSDT": 0}
    await assert_conserved(kit)


async def test_idempotent_placement_void_and_authorisation(
    kit: WagerKit, clock: FixedClock
) -> None:
    a, alice = await player(kit, "Ann")
    _, bob = await player(kit, "Bob")
    staff = Actor.of(await kit.users.add(Actor.system(), "Op", role=Role.OPERATOR))
    await tick(kit, clock, "10")
    first = await kit.predictions.place(alice, SYM, "up", 100, duration=60, idempotency_key="k1")
    again = await kit.predictions.place(alice, SYM, "up", 100, duration=60, idempotency_key="k1")
    assert again.replayed
    assert again.contract.id == first.contract.id
    with pytest.raises(IdempotencyConflict):
        await kit.predictions.place(alice, SYM, "down", 100, duration=60, idempotency_key="k1")
    assert await balance(kit, a) == GRANT - 100
    with pytest.raises(PermissionDenied):
        await kit.predictions.get(bob, first.contract.id)
    with pytest.raises(PermissionDenied):
        await kit.predictions.void(alice, first.contract.id, "no")
    with pytest.raises(PermissionDenied):
        await kit.predictions.list_contracts(bob, user_id=a.id)
    voided = await kit.predictions.void(staff, first.contract.id, "feed glitch")
    assert (voided.status, voided.payout, voided.void_reason) == (
        ContractStatus.VOID,
        100,
        "feed glitch",
    )
    with pytest.raises(ContractStateConflict):
        await kit.predictions.void(staff, first.contract.id, "again")
    entries = await kit.audit.list(staff, action="prediction.void")
    assert [e.reason for e in entries] == ["feed glitch"]
    assert await balance(kit, a) == GRANT
    mine = await kit.predictions.list_contracts(alice, status="void")
    assert [c.id for c in mine] == [first.contract.id]
    assert await kit.predictions.list_contracts(alice, status="open") == []
    await assert_conserved(kit)


async def test_rounds_run_themselves(kit: WagerKit, clock: FixedClock) -> None:
    users = [await player(kit, n) for n in ("A", "B", "C", "D")]
    clock.set(clock.now().replace(second=0, microsecond=0))
    await kit.jobs.tick()
    (r,) = await kit.predictions.current_rounds(SYM)
    assert r.status is RoundStatus.OPEN
    assert r.lock_at - r.starts_at == timedelta(seconds=60)
    await kit.predictions.bet_round(users[0][1], r.id, "up", 100)
    await kit.predictions.bet_round(users[1][1], r.id, "up", 300)
    await kit.predictions.bet_round(users[2][1], r.id, "down", 200)
    clock.advance(58)  # lock − margin
    with pytest.raises(RoundClosed):
        await kit.predictions.bet_round(users[3][1], r.id, "down", 10)
    clock.advance(2)
    await tick(kit, clock, "100")
    await kit.jobs.tick()
    locked = await kit.predictions.get_round(r.id)
    assert (locked.status, locked.lock_price) == (RoundStatus.LOCKED, Decimal(100))
    clock.advance(60)
    await tick(kit, clock, "101")
    await kit.jobs.tick()
    done = await kit.predictions.get_round(r.id)
    assert (done.status, done.winner, done.close_price) == (RoundStatus.SETTLED, "up", Decimal(101))
    # the section 3 example: 100 and 300 on up, 200 on down → 150, 450, 0
    assert [await balance(kit, u) for u, _ in users[:3]] == [GRANT + 50, GRANT + 150, GRANT - 200]
    await assert_conserved(kit)


async def test_round_tie_one_sided_and_downtime_refund(kit: WagerKit, clock: FixedClock) -> None:
    (a, alice), (b, bob) = [await player(kit, n) for n in ("A", "B")]
    clock.set(clock.now().replace(second=0, microsecond=0))
    await kit.jobs.tick()
    (r1,) = await kit.predictions.current_rounds(SYM)
    await kit.predictions.bet_round(alice, r1.id, "up", 100)
    await kit.predictions.bet_round(bob, r1.id, "down", 100)
    clock.advance(60)
    await tick(kit, clock, "100")
    await kit.jobs.tick()  # r1 locked, r2 created
    (r2,) = await kit.predictions.current_rounds(SYM)
    await kit.predictions.bet_round(alice, r2.id, "up", 50)  # one-sided
    clock.advance(60)
    await tick(kit, clock, "100")  # r1 closes on a tie; r2 locks
    await kit.jobs.tick()
    assert (await kit.predictions.get_round(r1.id)).status is RoundStatus.VOIDED
    assert await balance(kit, b) == GRANT
    # downtime: an hour without runner or ticks; r2 and r3 are voided, rounds resume from now
    clock.advance(3600)
    await kit.jobs.tick()
    rounds = await kit.predictions.list_rounds(symbol=SYM)
    assert [r.status for r in rounds[1:]] == [RoundStatus.VOIDED] * (len(rounds) - 1)
    assert rounds[0].starts_at <= clock.now() < rounds[0].lock_at
    assert len(rounds) == 4  # the missed slots were never created
    assert await balance(kit, a) == GRANT
    await assert_conserved(kit)
