"""The price repository on every store (memory, SQLite, PostgreSQL): idempotent storing,
the latest / first-at-or-after look-ups, history, symbols, rollback, and exact prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagerkit.domain.prices import Tick
from wagerkit.ports import UnitOfWorkFactory

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def tick(seconds: int, price: str = "100", symbol: str = "BTCUSDT", source: str = "test") -> Tick:
    return Tick(symbol, T0 + timedelta(seconds=seconds), Decimal(price), source)


async def add(store: UnitOfWorkFactory, *ticks: Tick) -> int:
    async with store() as uow:
        n = await uow.prices.add_ticks(ticks)
        await uow.commit()
    return n


async def test_storing_is_idempotent(store: UnitOfWorkFactory) -> None:
    assert await add(store, tick(0), tick(1, "101"), tick(1, "102", source="other")) == 3
    assert await add(store, tick(0, "999"), tick(2, "103")) == 1  # (symbol, time, source) taken
    async with store() as uow:
        assert await uow.prices.history("BTCUSDT") == [
            tick(2, "103"),
            tick(1, "101"),
            tick(1, "102", source="other"),
            tick(0),
        ]
        assert await uow.prices.add_ticks([]) == 0


async def test_latest_and_first_at_or_after(store: UnitOfWorkFactory) -> None:
    await add(store, tick(0, "1"), tick(10, "2"), tick(20, "3"), tick(5, "9", symbol="ETHUSDT"))
    async with store() as uow:
        p = uow.prices
        assert await p.latest("BTCUSDT") == tick(20, "3")
        assert await p.latest("BTCUSDT", T0 + timedelta(seconds=10)) == tick(10, "2")
        assert await p.latest("BTCUSDT", T0 + timedelta(seconds=19)) == tick(10, "2")
        assert await p.latest("BTCUSDT", T0 - timedelta(seconds=1)) is None
        assert await p.latest("NOPE") is None
        assert await p.first_at_or_after("BTCUSDT", T0 + timedelta(seconds=10)) == tick(10, "2")
        assert await p.first_at_or_after("BTCUSDT", T0 + timedelta(seconds=11)) == tick(20, "3")
        assert await p.first_at_or_after("BTCUSDT", T0 + timedelta(seconds=21)) is None
        assert await p.symbols() == ["BTCUSDT", "ETHUSDT"]


async def test_history_since_and_limit(store: UnitOfWorkFactory) -> None:
    await add(store, *(tick(s, str(100 + s)) for s in range(10)))
    async with store() as uow:
        p = uow.prices
        assert [t.price for t in await p.history("BTCUSDT", limit=3)] == [109, 108, 107]
        since = T0 + timedelta(seconds=7)
        assert [t.price for t in await p.history("BTCUSDT", since=since)] == [109, 108, 107]
        assert [t.price for t in await p.history("BTCUSDT", since=since, limit=1)] == [109]
        assert await p.history("BTCUSDT", limit=0) == []
        assert await p.history("ETHUSDT") == []


async def test_a_rollback_stores_nothing(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        await uow.prices.add_ticks([tick(0), tick(1, symbol="ETHUSDT")])
    async with store() as uow:
        assert await uow.prices.symbols() == []
        assert await uow.prices.latest("BTCUSDT") is None


@pytest.mark.parametrize(
    "price",
    [
        "0.000000012345678901",
        "123456789012.123456789",
        "99999999999999999999.999999999999999999",
        "0.000000000000000001",
        "97000.12",
    ],
)
async def test_prices_are_exact(store: UnitOfWorkFactory, price: str) -> None:
    await add(store, tick(0, price))
    async with store() as uow:
        got = await uow.prices.latest("BTCUSDT")
    assert got is not None
    assert got.price == Decimal(price)
    assert format(got.price, "f") == price
    assert type(got.price) is Decimal


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 30),
            st.sampled_from(["a", "b"]),
            st.decimals(
                min_value=Decimal("0.000000000000000001"),
                max_value=Decimal("99999999999999999999"),
                places=18,
                allow_nan=False,
                allow_infinity=False,
            ),
        ),
        max_size=12,
    ),
    at=st.integers(-1, 31),
)
async def test_lookups_match_a_model(store: UnitOfWorkFactory, data: list, at: int) -> None:  # type: ignore[type-arg]
    symbol = f"S{abs(hash((tuple(data), at))) % 10**9}"
    ticks = [tick(s, str(p), symbol=symbol, source=src) for s, src, p in data]
    await add(store, *ticks)
    model: dict[tuple[datetime, str], Tick] = {}
    for t in ticks:
        model.setdefault((t.observed_at, t.source), t)
    ordered = [model[k] for k in sorted(model)]
    when = T0 + timedelta(seconds=at)
    async with store() as uow:
        p = uow.prices
        assert await p.history(symbol, limit=100) == ordered[::-1]
        assert await p.latest(symbol, when) == next(
            (t for t in reversed(ordered) if t.observed_at <= when), None
        )
        assert await p.first_at_or_after(symbol, when) == next(
            (t for t in ordered if t.observed_at >= when), None
        )
