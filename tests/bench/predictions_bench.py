"""Settling 100,000 due prediction contracts in one job pass, against settling them one by one
(the baseline: ``settle_due(limit=1)``, a claim, a ledger batch and a write per contract;
sampled and extrapolated). Run alone: ``python tests/bench/predictions_bench.py [N]`` (starts
its own PostgreSQL, or uses ``WAGERKIT_TEST_PG_URL``)."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from pgserver import create_database, postgres_server  # noqa: E402

from wagerkit import (  # noqa: E402
    Actor,
    Contract,
    ContractKind,
    Direction,
    PredictionPolicy,
    Tick,
    WagerKit,
)
from wagerkit.adapters.sql import SqlStore  # noqa: E402
from wagerkit.adapters.sql.migrate import upgrade  # noqa: E402
from wagerkit.testing import FixedClock  # noqa: E402

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SYM = "BTC-USD"


@dataclass(frozen=True, slots=True)
class SettleFigures:
    contracts: int
    batch_seconds: float
    sampled: int
    one_by_one_seconds: float  # extrapolated to ``contracts``

    @property
    def speedup(self) -> float:
        return self.one_by_one_seconds / self.batch_seconds


async def _world(url: str, n: int, users: int = 1000) -> None:
    """``n`` open contracts due at T0 + 60 s (no stakes: the house banks them), one tick."""
    store = SqlStore.from_url(url, pool_size=4)
    kit = WagerKit(store, clock=FixedClock(T0))
    try:
        ids = []
        for start in range(0, users, 50):
            made = await asyncio.gather(
                *(kit.users.add(Actor.system(), f"B{i}") for i in range(start, start + 50))
            )
            ids += [u.id for u in made]
        async with store() as uow:
            await uow.prices.add_ticks(
                [
                    Tick(SYM, T0, Decimal(100), "bench"),
                    Tick(SYM, T0 + timedelta(seconds=61), Decimal("100.5"), "bench"),
                ]
            )
            await uow.commit()
        for start in range(0, n, 5000):
            rows = [
                Contract(
                    id=0,
                    user_id=ids[i % users],
                    currency="COIN",
                    symbol=SYM,
                    direction=(Direction.UP, Direction.DOWN)[i % 2],
                    kind=ContractKind.FIXED if i % 3 else ContractKind.MULTIPLIER,
                    stake=10,
                    duration=60,
                    placed_at=T0,
                    expires_at=T0 + timedelta(seconds=60),
                    entry_price=Decimal(100),
                    entry_at=T0,
                    max_payout=110,
                    stake_transfer_id=f"bench:{i}",
                    payout_bps=8000,
                    leverage=None if i % 3 else 10,
                    cap=10,
                )
                for i in range(start, min(n, start + 5000))
            ]
            async with store() as uow:
                await uow.predictions.add_contracts(rows)
                await uow.commit()
    finally:
        await store.dispose()


async def _settle(url: str, *, limit: int, max_contracts: int | None) -> tuple[int, float]:
    store = SqlStore.from_url(url, pool_size=2)
    kit = WagerKit(
        store,
        clock=FixedClock(T0 + timedelta(seconds=120)),
        predictions=PredictionPolicy(durations=(60,)),
    )
    try:
        done = 0
        t = time.perf_counter()
        if max_contracts is None:
            r = await kit.predictions.settle_due(limit=limit)
            done = r.settled + r.voided
        else:
            while done < max_contracts:
                r = await kit.predictions._settle_chunk(limit)
                if not r:
                    break
                done += len(r)
        return done, time.perf_counter() - t
    finally:
        await store.dispose()


def settle_figures(server_url_for: object, n: int = 100_000, sample: int = 500) -> SettleFigures:
    """Both measurements on fresh databases of one server (``server_url_for(name)``)."""
    make = server_url_for  # a callable: database name -> URL
    assert callable(make)
    batch_url = make("predsettle")
    upgrade(batch_url)
    asyncio.run(_world(batch_url, n))
    done, batch = asyncio.run(_settle(batch_url, limit=5000, max_contracts=None))
    assert done == n, (done, n)
    base_url = make("predsettle1")
    upgrade(base_url)
    asyncio.run(_world(base_url, sample))
    done1, one = asyncio.run(_settle(base_url, limit=1, max_contracts=sample))
    assert done1 == sample
    return SettleFigures(n, batch, sample, one / sample * n)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with postgres_server() as pg:
        f = settle_figures(lambda name: create_database(pg, name), n)
    print(
        f"settled {f.contracts:,} due contracts in one pass: {f.batch_seconds:.2f} s; "
        f"one by one ({f.sampled} sampled, extrapolated): {f.one_by_one_seconds:.1f} s; "
        f"x{f.speedup:.1f}"
    )


if __name__ == "__main__":
    main()
