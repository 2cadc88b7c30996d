"""The price service on every store (memory, SQLite, PostgreSQL) with a FixedClock:
operator prices (staff only, audited), reads, the recorder in the job runner (a failing
feed for one symbol never stops the others), and the price rule over stored ticks."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from builders import assert_conserved

from wagerkit import (
    Actor,
    AlreadyExists,
    InvalidInput,
    PermissionDenied,
    PricePolicy,
    PriceTicked,
    Role,
    Tick,
    WagerKit,
)
from wagerkit.adapters.pricefeeds import CsvReplayFeed, RandomWalkFeed
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, RecordingPublisher, SequentialIds

STAFF = Actor(7, Role.OPERATOR, "Olga")
PLAYER = Actor(8, Role.PLAYER, "Pat")


class FlakyFeed:
    """Prices for some symbols; raises for ``BOOM``, has none for ``NONE``."""

    def __init__(self, inner: RandomWalkFeed) -> None:
        self.inner = inner
        self.asked: list[str] = []

    async def quote(self, symbol: str, at: datetime) -> Tick | None:
        self.asked.append(symbol)
        if symbol == "BOOM":
            raise RuntimeError("feed exploded")
        if symbol == "NONE":
            return None
        if symbol == "LIAR":
            return Tick("OTHER", at, Decimal(1), "random")
        return await self.inner.quote(symbol, at)


def make_kit(
    store: UnitOfWorkFactory,
    clock: FixedClock,
    feed: object = None,
    symbols: tuple[str, ...] = ("DEMO-USD",),
) -> tuple[WagerKit, RecordingPublisher]:
    publisher = RecordingPublisher()
    kit = WagerKit(
        store,
        clock=clock,
        ids=SequentialIds(),
        publisher=publisher,
        price_feed=feed,  # type: ignore[arg-type]
        price_policy=PricePolicy(symbols=symbols),
    )
    return kit, publisher


async def test_staff_set_a_price_audited(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    kit, publisher = make_kit(store, clock)
    tick = await kit.prices.set_price(STAFF, "BTC-USD", "97000.120", reason="feed down")
    assert tick == Tick("BTC-USD", clock.now(), Decimal("97000.12"), "operator")
    assert await kit.prices.latest("BTC-USD") == tick
    [entry] = await kit.audit.list(Actor.system(), action="price.set")
    assert (entry.actor_id, entry.target, entry.reason) == (7, "price:BTC-USD", "feed down")
    assert entry.details == {"price": "97000.12"}
    assert publisher.of(PriceTicked) == [PriceTicked.of(tick)]
    with pytest.raises(AlreadyExists):  # the same instant twice
        await kit.prices.set_price(STAFF, "BTC-USD", "1")
    clock.advance(1)
    await kit.prices.set_price(STAFF, "BTC-USD", "1")
    await assert_conserved(kit)


async def test_players_cannot_set_prices_and_bad_input_writes_nothing(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    kit, _ = make_kit(store, clock)
    with pytest.raises(PermissionDenied):
        await kit.prices.set_price(PLAYER, "BTC-USD", "1")
    for symbol, price in (("btc", "1"), ("BTC", "0"), ("BTC", "1e3"), ("BTC", 1.5)):
        with pytest.raises(InvalidInput):
            await kit.prices.set_price(STAFF, symbol, price)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await kit.prices.set_price(STAFF, "BTC", "1", reason="\u202e evil")
    assert await kit.prices.symbols() == []
    assert await kit.audit.list(Actor.system()) == []


async def test_history_and_current(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    kit, _ = make_kit(store, clock, symbols=("DEMO-USD", "BTC-USD"))
    start = clock.now()
    for i in range(5):
        await kit.prices.set_price(STAFF, "DEMO-USD", str(100 + i))
        clock.advance(5)
    ticks = await kit.prices.history("DEMO-USD", limit=3)
    assert [t.price for t in ticks] == [104, 103, 102]
    since = await kit.prices.history("DEMO-USD", since=start + timedelta(seconds=15))
    assert [t.price for t in since] == [104, 103]
    for bad in (0, 1001, True):
        with pytest.raises(InvalidInput):
            await kit.prices.history("DEMO-USD", limit=bad)
    current = await kit.prices.current()
    assert [(c.symbol, c.tick is not None, c.fresh) for c in current] == [
        ("DEMO-USD", True, True),  # 5 s old
        ("BTC-USD", False, False),
    ]
    clock.advance(6)  # now 11 s old: too old to price a contract
    assert not (await kit.prices.current())[0].fresh


async def test_the_job_runner_records_every_symbol(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    feed = FlakyFeed(RandomWalkFeed("jobs"))
    kit, publisher = make_kit(
        store, clock, feed, symbols=("DEMO-USD", "BOOM", "NONE", "LIAR", "BTC-USD")
    )
    report = await kit.jobs.tick()
    part = report.parts["prices"]
    assert part.recorded == ["DEMO-USD", "BTC-USD"]  # type: ignore[attr-defined]
    assert part.missing == ["BOOM", "NONE", "LIAR"]  # type: ignore[attr-defined]
    assert report.idle  # sampling is routine, never "busy"
    assert sorted(feed.asked) == sorted(["DEMO-USD", "BOOM", "NONE", "LIAR", "BTC-USD"])
    demo = await kit.prices.latest("DEMO-USD")
    assert demo == feed.inner.tick_at("DEMO-USD", clock.now())
    assert [n.symbol for n in publisher.of(PriceTicked)] == ["DEMO-USD", "BTC-USD"]
    # the same instant again: the same ticks, stored once, announced once
    again = await kit.prices.record()
    assert again.recorded == []
    assert len(publisher.of(PriceTicked)) == 2
    clock.advance(1)
    assert (await kit.prices.record()).recorded == ["DEMO-USD", "BTC-USD"]
    assert len(await kit.prices.history("DEMO-USD")) == 2


async def test_without_a_feed_nothing_is_recorded(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    kit, _ = make_kit(store, clock)
    report = await kit.jobs.tick()
    assert report.parts["prices"].recorded == []  # type: ignore[attr-defined]
    assert await kit.prices.symbols() == []


async def test_a_csv_replay_through_the_clock(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    t0 = clock.now()
    rows = "".join(f"{(t0 + timedelta(seconds=s)).isoformat()},BTC-USD,{100 + s}\n" for s in (0, 3))
    feed = CsvReplayFeed.from_text("observed_at,symbol,price\n" + rows)
    kit, _ = make_kit(store, clock, feed, symbols=("BTC-USD",))
    for _ in range(5):
        await kit.jobs.tick()
        clock.advance(1)
    assert [t.price for t in await kit.prices.history("BTC-USD")] == [103, 100]


async def test_the_price_rule_over_stored_ticks(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """Entry: the latest tick no older than 10 s; exit: the first tick at or after the due
    time, if within 15 s; otherwise none (void)."""
    kit, _ = make_kit(store, clock)
    t0 = clock.now()
    await kit.prices.set_price(STAFF, "BTC-USD", "100")
    clock.advance(20)
    await kit.prices.set_price(STAFF, "BTC-USD", "101")
    policy = kit.prices.policy
    async with store() as uow:
        assert (await policy.entry(uow, "BTC-USD", t0 + timedelta(seconds=10))).price == 100  # type: ignore[union-attr]
        assert await policy.entry(uow, "BTC-USD", t0 + timedelta(seconds=11)) is None  # stale
        assert (await policy.settle(uow, "BTC-USD", t0 + timedelta(seconds=5))).price == 101  # type: ignore[union-attr]
        assert await policy.settle(uow, "BTC-USD", t0 + timedelta(seconds=4)) is None  # 16 s late
        assert await policy.settle(uow, "BTC-USD", t0 + timedelta(seconds=21)) is None  # none yet


def test_a_policy_is_checked() -> None:
    with pytest.raises(InvalidInput):
        PricePolicy(symbols=("A", "A"))
    with pytest.raises(InvalidInput):
        PricePolicy(symbols=("a",))
    with pytest.raises(InvalidInput):
        PricePolicy(max_age=timedelta(0))


async def test_load_stores_many_and_announces_the_newest(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    kit, publisher = make_kit(store, clock)
    walk = RandomWalkFeed("load")
    ticks = [walk.tick_at(s, clock.now() + timedelta(seconds=i)) for i in range(50) for s in "AB"]
    assert await kit.prices.load(ticks) == 100
    assert await kit.prices.load(ticks) == 0
    assert [n.observed_at for n in publisher.of(PriceTicked)] == [ticks[-1].observed_at] * 2
    assert len(await kit.prices.history("A", limit=1000)) == 50


class GappyFeed:
    """The random walk, but with seeded gaps: a quote is missing when SHA-256 says so."""

    def __init__(self, walk: RandomWalkFeed, miss_percent: int) -> None:
        self.walk, self.miss = walk, miss_percent

    async def quote(self, symbol: str, at: datetime) -> Tick | None:
        import hashlib

        h = hashlib.sha256(f"{symbol}|{at.isoformat()}".encode()).digest()
        return None if h[0] * 100 < self.miss * 256 else self.walk.tick_at(symbol, at)


@pytest.mark.parametrize("hours", [2])
async def test_hours_of_simulated_recording_with_gaps_and_downtime(
    store: UnitOfWorkFactory, clock: FixedClock, hours: int, request: pytest.FixtureRequest
) -> None:
    """A pass every 4 s for hours (minutes on the database stores) through the Clock port,
    a feed missing a fifth of its quotes, and the runner down for 5 minutes: the price rule
    over the stored ticks agrees at every second with the rule over what was recorded."""
    memory = "memory" in request.node.callspec.id
    seconds = hours * 3600 if memory else 900
    walk = RandomWalkFeed("sim")
    kit, _ = make_kit(store, clock, GappyFeed(walk, 20), symbols=("DEMO-USD", "BTC-USD"))
    t0 = clock.now()
    down = (t0 + timedelta(seconds=seconds // 3), t0 + timedelta(seconds=seconds // 3 + 300))
    recorded: dict[str, list[Tick]] = {"DEMO-USD": [], "BTC-USD": []}
    while clock.now() < t0 + timedelta(seconds=seconds):
        if not down[0] <= clock.now() < down[1]:
            report = await kit.prices.record()
            for symbol in report.recorded:
                recorded[symbol].append(walk.tick_at(symbol, clock.now()))
        clock.advance(4)
    policy = kit.prices.policy
    async with store() as uow:
        for symbol, ticks in recorded.items():
            assert len(ticks) > 0
            for offset in range(0, seconds, 7 if memory else 13):
                at = t0 + timedelta(seconds=offset)
                before = [t for t in ticks if t.observed_at <= at]
                after = [t for t in ticks if t.observed_at >= at]
                want_entry = (
                    before[-1] if before and at - before[-1].observed_at <= policy.max_age else None
                )
                want_exit = (
                    after[0] if after and after[0].observed_at - at <= policy.buffer else None
                )
                assert await policy.entry(uow, symbol, at) == want_entry
                assert await policy.settle(uow, symbol, at) == want_exit
        # the downtime left a hole: nothing to price a contract with, nothing to settle on
        mid = down[0] + timedelta(seconds=150)
        assert await policy.entry(uow, "DEMO-USD", mid) is None
        assert await policy.settle(uow, "DEMO-USD", mid) is None
