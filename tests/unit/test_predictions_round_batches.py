"""Round bets on the shared group commit, on every store (memory, SQLite, PostgreSQL):
concurrent bets are decided one by one and committed together, fewer units of work than
bets; each keeps its own answer (placed, replayed, refused) and the pool is exactly the sum
of the stakes placed. Every scenario ends with the books checked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.domain.errors import (
    AlreadyBet,
    IdempotencyConflict,
    InsufficientFunds,
    RoundClosed,
    RoundNotFound,
)
from wagerkit.domain.identity import User
from wagerkit.domain.predictions import PredictionPolicy, Round
from wagerkit.ports import UnitOfWork, UnitOfWorkFactory
from wagerkit.services.predictions import RoundBetReceipt
from wagerkit.testing import FixedClock, SequentialIds

GRANT = 1000
SYM = "BTCUSDT"


@pytest.fixture
def kit(store: UnitOfWorkFactory, clock: FixedClock) -> WagerKit:
    policy = PredictionPolicy(durations=(60,), round_interval=60, round_symbols=(SYM,))
    return WagerKit(store, clock=clock, ids=SequentialIds(), predictions=policy)


def count_units(kit: WagerKit) -> Callable[[], int]:
    """Count the units of work the kit opens from now on."""
    inner = kit.deps.uow
    opened = 0

    def factory() -> UnitOfWork:
        nonlocal opened
        opened += 1
        return inner()

    kit.deps.uow = factory
    return lambda: opened


async def players(kit: WagerKit, n: int) -> list[tuple[User, Actor]]:
    out = []
    for i in range(n):
        u = await kit.users.add(Actor.system(), f"P{i}")
        out.append((u, Actor.of(u)))
    return out


async def open_round(kit: WagerKit, clock: FixedClock) -> Round:
    clock.set(clock.now().replace(second=0, microsecond=0))
    await kit.jobs.tick()
    (r,) = await kit.predictions.current_rounds(SYM)
    return r


async def balance(kit: WagerKit, u: User) -> int:
    return (await kit.wallets.balance(Actor.system(), u.id)).balance


async def test_concurrent_round_bets_share_units_of_work(kit: WagerKit, clock: FixedClock) -> None:
    users = await players(kit, 20)
    r = await open_round(kit, clock)
    opened = count_units(kit)
    got = await asyncio.gather(
        *(
            kit.predictions.bet_round(a, r.id, ("up", "down")[i % 2], 10 + i)
            for i, (_, a) in enumerate(users)
        )
    )
    assert opened() < len(users)  # one plain transaction per bet before the group commit
    assert sorted(g.bet.user_id for g in got) == sorted(u.id for u, _ in users)
    assert len({g.bet.id for g in got}) == len(users)
    assert not any(g.replayed for g in got)
    after = await kit.predictions.get_round(r.id)
    ups = [10 + i for i in range(0, 20, 2)]
    downs = [10 + i for i in range(1, 20, 2)]
    assert (after.up_total, after.up_count) == (sum(ups), len(ups))
    assert (after.down_total, after.down_count) == (sum(downs), len(downs))
    # each answer carries the round as its batch committed it; the last one is the round now
    assert max(g.round.pool for g in got) == after.pool == sum(ups) + sum(downs)
    assert [await balance(kit, u) for u, _ in users] == [GRANT - 10 - i for i in range(20)]
    await assert_conserved(kit)


async def test_each_command_of_a_batch_gets_its_own_answer(
    kit: WagerKit, clock: FixedClock
) -> None:
    (a, ann), (b, bob), (c, cat), (d, dan) = await players(kit, 4)
    r = await open_round(kit, clock)
    await kit.predictions.bet_round(dan, r.id, "down", 5)
    results = await asyncio.gather(
        kit.predictions.bet_round(ann, r.id, "up", 100, idempotency_key="k1"),
        kit.predictions.bet_round(ann, r.id, "up", 100, idempotency_key="k1"),  # replay
        kit.predictions.bet_round(ann, r.id, "up", 99, idempotency_key="k1"),  # other content
        kit.predictions.bet_round(bob, r.id, "down", GRANT + 1),  # too poor
        kit.predictions.bet_round(cat, r.id + 99, "up", 10),  # no such round
        kit.predictions.bet_round(dan, r.id, "up", 10),  # one bet per user
        kit.predictions.bet_round(cat, r.id, "down", 30),
        return_exceptions=True,
    )
    first, again, conflict, poor, missing, twice, fine = results
    assert isinstance(first, RoundBetReceipt)
    assert not first.replayed
    assert isinstance(again, RoundBetReceipt)
    assert again.replayed
    assert again.bet == first.bet
    assert isinstance(conflict, IdempotencyConflict)
    assert isinstance(poor, InsufficientFunds)
    assert isinstance(missing, RoundNotFound)
    assert isinstance(twice, AlreadyBet)
    assert isinstance(fine, RoundBetReceipt)
    assert fine.bet.amount == 30
    after = await kit.predictions.get_round(r.id)
    assert (after.up_total, after.up_count, after.down_total, after.down_count) == (100, 1, 35, 2)
    assert [await balance(kit, u) for u in (a, b, c, d)] == [GRANT - 100, GRANT, GRANT - 30, 995]
    # a replay after the commit still answers the first bet
    later = await kit.predictions.bet_round(ann, r.id, "up", 100, idempotency_key="k1")
    assert later.replayed
    assert later.bet == first.bet
    await assert_conserved(kit)


async def test_betting_stops_at_lock_minus_margin_in_a_batch(
    kit: WagerKit, clock: FixedClock
) -> None:
    users = await players(kit, 3)
    r = await open_round(kit, clock)
    clock.set(r.bets_close_at - clock.now().resolution)
    await kit.predictions.bet_round(users[0][1], r.id, "up", 10)  # the last instant
    clock.set(r.bets_close_at)
    closed = await asyncio.gather(
        *(kit.predictions.bet_round(a, r.id, "down", 10) for _, a in users[1:]),
        return_exceptions=True,
    )
    assert all(isinstance(e, RoundClosed) for e in closed)
    assert (await kit.predictions.get_round(r.id)).pool == 10
    await assert_conserved(kit)
