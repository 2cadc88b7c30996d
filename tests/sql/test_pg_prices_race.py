"""Several price recorders on one PostgreSQL at once (real parallel clients, each on its own
connection) sample the same deterministic feed at the same instants: every tick is stored
once, announced by exactly one recorder, and no recorder sees an error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from wagerkit import PricePolicy, PriceTicked, WagerKit
from wagerkit.adapters.pricefeeds import RandomWalkFeed
from wagerkit.adapters.sql import SqlStore
from wagerkit.testing import FixedClock, RecordingPublisher

pytestmark = pytest.mark.postgres

RECORDERS, PASSES = 8, 20
SYMBOLS = ("DEMO-USD", "BTC-USD", "ETH-USD")
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def test_parallel_recorders_store_each_tick_once(pg_url: str) -> None:
    from wagerkit.adapters.sql.migrate import upgrade

    upgrade(pg_url)
    stores = [SqlStore.from_url(pg_url, pool_size=1) for _ in range(RECORDERS)]
    publishers = [RecordingPublisher() for _ in range(RECORDERS)]
    kits = [
        WagerKit(
            store,
            clock=FixedClock(T0),
            publisher=publisher,
            price_feed=RandomWalkFeed("race"),
            price_policy=PricePolicy(symbols=SYMBOLS),
        )
        for store, publisher in zip(stores, publishers, strict=True)
    ]
    start = asyncio.Event()

    async def recorder(kit: WagerKit) -> list[str]:
        await start.wait()
        recorded: list[str] = []
        for i in range(PASSES):
            report = await kit.prices.record(T0 + timedelta(seconds=i))
            recorded += report.recorded
        return recorded

    try:
        tasks = [asyncio.create_task(recorder(k)) for k in kits]
        start.set()
        results = await asyncio.gather(*tasks)
        assert sum(len(r) for r in results) == PASSES * len(SYMBOLS)  # each new exactly once
        announced = [n for p in publishers for n in p.of(PriceTicked)]
        assert sorted((n.symbol, n.observed_at) for n in announced) == sorted(
            (s, T0 + timedelta(seconds=i)) for s in SYMBOLS for i in range(PASSES)
        )
        feed = RandomWalkFeed("race")
        for symbol in SYMBOLS:
            history = await kits[0].prices.history(symbol, limit=1000)
            assert history == [
                feed.tick_at(symbol, T0 + timedelta(seconds=i)) for i in reversed(range(PASSES))
            ]
    finally:
        for store in stores:
            await store.dispose()
