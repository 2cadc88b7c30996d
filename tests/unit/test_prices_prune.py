"""Tick pruning (docs/prices.md), on every store (memory, SQLite, PostgreSQL): the job
runner deletes ticks older than the retention in bounded chunks, but never a symbol's latest
tick nor one an open contract or an unsettled round may still read, so a runner that was down
longer than the retention still settles them on the right prices."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.config import Settings
from wagerkit.domain.errors import InvalidInput
from wagerkit.domain.predictions import ContractStatus, PredictionPolicy, RoundStatus
from wagerkit.domain.prices import Tick, parse_retention
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.services.prices import PricePolicy
from wagerkit.testing import FixedClock, SequentialIds
from wagerkit_cli.commands.jobs import report_json, report_line

SYM = "BTC-USD"
OTHER = "ETH-USD"
DAY = timedelta(days=1)


def make_kit(store: UnitOfWorkFactory, clock: FixedClock, **policy: object) -> WagerKit:
    return WagerKit(
        store,
        clock=clock,
        ids=SequentialIds(),
        price_policy=PricePolicy(symbols=(SYM,), **policy),  # type: ignore[arg-type]
        predictions=PredictionPolicy(durations=(60,), round_interval=60, round_symbols=()),
    )


async def add(kit: WagerKit, symbol: str, *times: datetime, price: str = "100") -> None:
    async with kit.deps.uow() as uow:
        await uow.prices.add_ticks([Tick(symbol, t, Decimal(price), "operator") for t in times])
        await uow.commit()


async def stored(kit: WagerKit, symbol: str) -> list[datetime]:
    ticks = await kit.prices.history(symbol, limit=1000)
    return sorted(t.observed_at for t in ticks)


async def test_old_ticks_go_in_chunks_and_the_latest_stays(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    kit = make_kit(store, clock)
    t0 = clock.now()
    old = [t0 + timedelta(minutes=i) for i in range(10)]
    await add(kit, SYM, *old)
    await add(kit, OTHER, t0)  # a symbol's only tick is its price: it stays however old
    clock.set(t0 + 8 * DAY)
    recent = clock.now() - timedelta(minutes=1)
    await add(kit, SYM, recent)
    assert await kit.prices.prune(chunk=3, most=7) == 7  # bounded: the rest next time
    assert await stored(kit, SYM) == [*old[7:], recent]
    assert await kit.prices.prune(chunk=3) == 3
    assert await stored(kit, SYM) == [recent]
    assert await stored(kit, OTHER) == [t0]
    assert await kit.prices.prune() == 0
    # the retention is a setting: a tick younger than it stays
    await add(kit, SYM, clock.now() - 6 * DAY, clock.now())
    assert await kit.prices.prune() == 0


async def test_the_job_runner_prunes_and_reports_it(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    kit = make_kit(store, clock, retention=timedelta(hours=2))
    t0 = clock.now()
    await add(kit, SYM, t0, t0 + timedelta(minutes=1), t0 + timedelta(hours=3))
    clock.set(t0 + timedelta(hours=3))
    report = await kit.jobs.tick()
    assert report.parts["prices"].pruned == 2  # type: ignore[attr-defined]
    assert not report.idle
    assert report_json(report)["ticks_pruned"] == 2
    assert "old price ticks pruned: 2" in report_line(report)
    again = await kit.jobs.tick()
    assert again.idle
    assert "ticks_pruned" not in report_json(again)
    assert await stored(kit, SYM) == [t0 + timedelta(hours=3)]


async def test_no_retention_keeps_every_tick(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    kit = make_kit(store, clock, retention=None)
    t0 = clock.now()
    await add(kit, SYM, t0, t0 + timedelta(seconds=1))
    clock.set(t0 + 400 * DAY)
    await add(kit, SYM, clock.now())
    assert (await kit.jobs.tick()).parts["prices"].pruned == 0  # type: ignore[attr-defined]
    assert len(await stored(kit, SYM)) == 3


async def test_ticks_an_open_contract_or_round_needs_stay(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """The runner was down for eight days: the exit tick of an open contract and the lock
    and close ticks of an open round are older than the retention but still needed."""
    kit = WagerKit(
        store,
        clock=clock,
        ids=SequentialIds(),
        price_policy=PricePolicy(symbols=(SYM,)),
        predictions=PredictionPolicy(durations=(60,), round_interval=60, round_symbols=(SYM,)),
    )
    a = await kit.users.add(Actor.system(), "Ann")
    ann = Actor.of(a)
    clock.set(clock.now().replace(second=0, microsecond=0))
    t0 = clock.now()
    await add(kit, SYM, t0 - timedelta(minutes=5), t0 - timedelta(minutes=1))  # not needed
    await add(kit, SYM, t0)
    await kit.jobs.tick()  # opens the round of t0's slot: locks at +60 s, closes at +120 s
    (r,) = await kit.predictions.current_rounds(SYM)
    await kit.predictions.bet_round(ann, r.id, "up", 10)
    c = (await kit.predictions.place(ann, SYM, "up", 100, duration=60)).contract
    # the first tick after the contract's expiry (t0 + 60 s) is also the round's lock tick
    lock_tick, close_tick = r.lock_at + timedelta(seconds=1), r.close_at + timedelta(seconds=1)
    assert c.expires_at == r.lock_at
    await add(kit, SYM, lock_tick, price="101")
    await add(kit, SYM, close_tick, price="102")
    await add(kit, SYM, close_tick + timedelta(seconds=30), price="99")  # after all of them
    # eight days later, before the runner settles anything: pruning keeps what is needed
    clock.set(t0 + 8 * DAY)
    assert await kit.prices.prune() == 3  # the ticks before the round's lock time
    assert await stored(kit, SYM) == [lock_tick, close_tick, close_tick + timedelta(seconds=30)]
    await kit.jobs.tick()  # locks the round, settles the contract
    await kit.jobs.tick()  # closes and pays the round
    done = await kit.predictions.get(ann, c.id)
    assert (done.status, done.exit_price, done.exit_at) == (
        ContractStatus.WON,
        Decimal(101),
        lock_tick,
    )
    settled = await kit.predictions.get_round(r.id)
    assert settled.status is RoundStatus.VOIDED  # one-sided: refunded, on the kept prices
    assert (settled.lock_price, settled.close_price) == (Decimal(101), Decimal(102))
    # settled: their prices are copied, so the old ticks may go now (the latest stays)
    assert await kit.prices.prune() == 2
    assert await stored(kit, SYM) == [close_tick + timedelta(seconds=30)]
    await assert_conserved(kit)


def test_retention_setting() -> None:
    assert parse_retention("7d") == timedelta(days=7)
    assert parse_retention(" 36h ") == timedelta(hours=36)
    assert parse_retention("0") is None
    assert parse_retention("off") is None
    for bad in ("5m", "1x", "", "-1d", True, 1.5):
        with pytest.raises(InvalidInput):
            parse_retention(bad)
    assert Settings().price_policy().retention == timedelta(days=7)
    assert Settings(tick_retention="30d").price_policy().retention == timedelta(days=30)
    assert Settings(tick_retention="0").price_policy().retention is None
    with pytest.raises(ValueError, match="at least 1h"):
        Settings(tick_retention="10m")
