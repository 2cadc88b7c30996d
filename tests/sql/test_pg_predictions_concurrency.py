"""Predictions under real concurrency on PostgreSQL: separate client processes
(predictions_worker.py). Several job runners settle one due set and each contract is settled
(and paid) exactly once; players in several processes race the house's exposure limit, which
is never exceeded."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from builders import assert_conserved

from wagerkit import Actor, ContractStatus, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.prices import Tick
from wagerkit.testing import FixedClock

sys.path.insert(0, str(Path(__file__).parent))
from predictions_worker import policy, run_place, run_settle

pytestmark = pytest.mark.postgres

PROCESSES = 4
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SYSTEM = Actor.system("test")


@pytest.fixture
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as executor:
        yield executor


@pytest.fixture
async def pg_store(pg_url: str) -> Any:
    upgrade(pg_url)
    s = SqlStore.from_url(pg_url, pool_size=20)
    try:
        yield s
    finally:
        await s.dispose()


async def _users(kit: WagerKit, n: int) -> list[int]:
    out: list[int] = []
    for start in range(0, n, 25):
        users = await asyncio.gather(
            *(kit.users.add(SYSTEM, f"P{i}") for i in range(start, min(n, start + 25)))
        )
        out += [u.id for u in users]
    return out


async def _tick(store: SqlStore, at: datetime, price: str) -> None:
    async with store() as uow:
        await uow.prices.add_ticks([Tick("BTC-USD", at, Decimal(price), "operator")])
        await uow.commit()


async def test_several_runners_settle_each_contract_once(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    kit = WagerKit(pg_store, clock=FixedClock(T0), predictions=policy())
    users = await _users(kit, 100)
    await _tick(pg_store, T0, "100")
    placed = await asyncio.gather(
        *(
            kit.predictions.place(
                Actor(u, Role.PLAYER),
                "BTC-USD",
                ("up", "down")[i % 2],
                10 + i % 7,
                duration=60,
                leverage=5 if i % 3 == 0 else None,
            )
            for _ in range(6)
            for i, u in enumerate(users)
        )
    )
    await _tick(pg_store, T0 + timedelta(seconds=61), "101")
    later = (T0 + timedelta(seconds=90)).isoformat()
    start_at = time.time() + 1.0
    loop = asyncio.get_running_loop()
    reports = await asyncio.gather(
        *(
            loop.run_in_executor(
                pool, partial(run_settle, pg_url, later, start_at=start_at, chunk=25)
            )
            for _ in range(PROCESSES)
        )
    )
    assert sum(r["settled"] + r["voided"] for r in reports) == len(placed)  # once each
    assert sum(1 for r in reports if r["settled"]) >= 2  # the runners shared the work
    async with pg_store() as uow:
        payouts = Counter(
            t.reference for t in await uow.ledger.journal(limit=100_000) if t.code == "pred_payout"
        )
        done = await uow.predictions.list_contracts(limit=10_000)
    assert all(n == 1 for n in payouts.values())
    assert {c.status for c in done} <= {
        ContractStatus.WON,
        ContractStatus.LOST,
        ContractStatus.PUSH,
    }
    assert sum(c.payout or 0 for c in done) == sum(r["paid"] for r in reports)
    assert len(payouts) == sum(1 for c in done if c.payout)
    await assert_conserved(kit)


async def test_players_racing_the_exposure_limit_never_pass_it(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    kit = WagerKit(pg_store, clock=FixedClock(T0), predictions=policy())
    users = await _users(kit, 120)
    await _tick(pg_store, T0, "100")
    limit = 18 * 37 + 5  # room for exactly 37 contracts of max payout 18
    start_at = time.time() + 1.0
    loop = asyncio.get_running_loop()
    per = len(users) // PROCESSES
    answers = await asyncio.gather(
        *(
            loop.run_in_executor(
                pool,
                partial(
                    run_place,
                    pg_url,
                    T0.isoformat(),
                    users[i * per : (i + 1) * per],
                    limit=limit,
                    start_at=start_at,
                ),
            )
            for i in range(PROCESSES)
        )
    )
    codes = Counter(a for part in answers for a in part)
    assert codes == {"ok": 37, "exposure_limit": len(users) - 37}
    async with pg_store() as uow:
        rows = {s: a for _, s, a in await uow.predictions.exposure()}
        open_ = await uow.predictions.list_contracts(status=ContractStatus.OPEN, limit=1000)
    assert rows["BTC-USD"] == rows["*"] == sum(c.max_payout for c in open_) == 18 * 37
    await assert_conserved(kit)


async def test_placements_race_settlement_of_expired_contracts(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    """New placements (locking exposure, then the house and wallets) run while two job runners
    settle expired contracts of the same players (contracts, exposure, then accounts): nothing
    deadlocks for good, each due contract is settled once, and the exposure rows end equal to
    the open contracts' maximum payouts."""
    kit = WagerKit(pg_store, clock=FixedClock(T0), predictions=policy())
    users = await _users(kit, 60)
    await _tick(pg_store, T0, "100")
    due = await asyncio.gather(
        *(
            kit.predictions.place(Actor(u, Role.PLAYER), "BTC-USD", "up", 10, duration=60)
            for _ in range(3)
            for u in users
        )
    )
    await _tick(pg_store, T0 + timedelta(seconds=61), "101")
    later = (T0 + timedelta(seconds=90)).isoformat()
    start_at = time.time() + 1.0
    loop = asyncio.get_running_loop()
    half = len(users) // 2
    jobs = [
        loop.run_in_executor(pool, partial(run_settle, pg_url, later, start_at=start_at, chunk=20)),
        loop.run_in_executor(pool, partial(run_settle, pg_url, later, start_at=start_at, chunk=20)),
        loop.run_in_executor(
            pool, partial(run_place, pg_url, later, users[:half], limit=0, start_at=start_at)
        ),
        loop.run_in_executor(
            pool, partial(run_place, pg_url, later, users[half:], limit=0, start_at=start_at)
        ),
    ]
    settled_a, settled_b, placed_a, placed_b = await asyncio.gather(*jobs)
    assert settled_a["settled"] + settled_b["settled"] == len(due)
    assert Counter(placed_a + placed_b) == {"ok": len(users)}
    async with pg_store() as uow:
        rows = {s: a for _, s, a in await uow.predictions.exposure()}
        open_ = await uow.predictions.list_contracts(status=ContractStatus.OPEN, limit=1000)
    assert len(open_) == len(users)
    assert rows["BTC-USD"] == rows["*"] == sum(c.max_payout for c in open_)
    await assert_conserved(kit)
