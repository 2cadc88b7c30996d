"""A seeded random-walk scenario over hours of simulated time (the Clock port), on every
store: players place every kind of contract and bet in rounds while the price walks, the feed
goes stale, ticks go missing and the job runner is down for a while. At the end every
contract's result is recomputed from the ticks the scenario recorded (the SPEC section 4
price rule, independently of the store's claim), every round is final, the exposure is zero
and the books balance."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.domain.errors import (
    AlreadyBet,
    ContractStateConflict,
    ExposureLimit,
    InsufficientFunds,
    PriceUnavailable,
    RoundClosed,
)
from wagerkit.domain.identity import Role
from wagerkit.domain.predictions import ContractStatus, PredictionPolicy, RoundStatus, TieRule
from wagerkit.domain.prices import Tick
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, SequentialIds

SYMS = ("BTC-USD", "ETH-USD")
STEP = 10  # seconds between two ticks


@pytest.mark.parametrize("seed", [7])
async def test_random_walk_scenario(store: UnitOfWorkFactory, clock: FixedClock, seed: int) -> None:
    rng = random.Random(seed)
    pg = type(store).__name__ != "InMemoryStore"
    minutes = 30 if pg else 120
    pol = PredictionPolicy(
        durations=(30, 60, 300),
        leverages=(2, 5, 10),
        commission_bps=20,
        tie_rule=rng.choice(list(TieRule)),
        exposure_limit_symbol=40_000,
        exposure_limit_total=60_000,
        round_interval=60,
        round_symbols=SYMS[:1],
        round_rake_bps=300,
    )
    kit = WagerKit(store, clock=clock, ids=SequentialIds(), predictions=pol)
    actors = [Actor.of(await kit.users.add(Actor.system(), f"P{i}")) for i in range(8)]
    staff = Actor.of(await kit.users.add(Actor.system(), "Op", role=Role.OPERATOR))
    price = {s: Decimal("100.00") for s in SYMS}
    ticks: dict[str, list[Tick]] = {s: [] for s in SYMS}
    end = clock.now() + timedelta(minutes=minutes)
    down_from = clock.now() + timedelta(minutes=20)  # the runner is down 10 minutes
    down_to = down_from + timedelta(minutes=10)
    stale_from, stale_to = down_to + timedelta(minutes=5), down_to + timedelta(minutes=7)
    placed: list[int] = []
    refused: dict[type, int] = {}
    while clock.now() < end:
        now = clock.now()
        for s in SYMS:
            # prices with ticks repeated (ties), gaps (missing ticks) and a stale stretch
            if rng.random() < 0.1 or stale_from <= now < stale_to:
                continue
            if rng.random() < 0.7:
                price[s] = max(Decimal("0.01"), price[s] + Decimal(rng.randint(-30, 30)) / 100)
            t = Tick(s, now, price[s], "random")
            ticks[s].append(t)
            async with kit.deps.uow() as uow:
                await uow.prices.add_ticks([t])
                await uow.commit()
        for _ in range(rng.randint(0, 2)):
            who = rng.choice(actors)
            try:
                if rng.random() < 0.3:
                    rounds = await kit.predictions.current_rounds()
                    if rounds:
                        await kit.predictions.bet_round(
                            who, rounds[0].id, rng.choice(("up", "down")), rng.randint(1, 50)
                        )
                    continue
                lev = rng.choice((None, None, 2, 5, 10))
                r = await kit.predictions.place(
                    who,
                    rng.choice(SYMS),
                    rng.choice(("up", "down")),
                    rng.randint(1, 60),
                    duration=rng.choice(pol.durations),
                    leverage=lev,
                )
                placed.append(r.contract.id)
                if lev and rng.random() < 0.2:
                    try:
                        clock.advance(1)
                        await kit.predictions.close(who, r.contract.id)
                    except (PriceUnavailable, ContractStateConflict) as exc:
                        refused[type(exc)] = refused.get(type(exc), 0) + 1
                elif rng.random() < 0.02:
                    await kit.predictions.void(staff, r.contract.id, "random void")
            except (
                PriceUnavailable,
                ExposureLimit,
                InsufficientFunds,
                RoundClosed,
                AlreadyBet,
            ) as exc:
                refused[type(exc)] = refused.get(type(exc), 0) + 1
        if not down_from <= now < down_to:
            await kit.jobs.tick()
        clock.set(now + timedelta(seconds=STEP))
    clock.advance(600)  # everything due and past its buffer
    await kit.jobs.tick()
    await kit.jobs.tick()

    assert PriceUnavailable in refused  # the stale stretch refused entries
    contracts = []
    for cid in placed:
        c = await kit.predictions.get(staff, cid)
        contracts.append(c)
        assert c.status is not ContractStatus.OPEN
        if c.closed_early or c.void_reason == "random void":
            continue
        exit_ = next((t for t in ticks[c.symbol] if t.observed_at >= c.expires_at), None)
        if exit_ is None or exit_.observed_at - c.expires_at > pol.buffer:
            assert (c.status, c.payout) == (ContractStatus.VOID, c.stake + c.commission)
        else:
            assert (c.exit_price, c.exit_at) == (exit_.price, exit_.observed_at)
            assert (c.status, c.payout) == c.decide(exit_.price)
    kinds = {(c.kind, c.status) for c in contracts}
    assert len(kinds) >= 6, kinds  # wins, losses, voids of both kinds
    assert all(r.exposure == 0 for r in await kit.predictions.exposure(staff))
    rounds = await kit.predictions.list_rounds(limit=200)
    assert {r.status for r in rounds[2:]} <= {RoundStatus.SETTLED, RoundStatus.VOIDED}
    assert RoundStatus.VOIDED in {r.status for r in rounds}  # the downtime's rounds
    starts = sorted(r.starts_at for r in rounds)
    assert any(b - a > timedelta(minutes=5) for a, b in itertools.pairwise(starts))
    await assert_conserved(kit)
