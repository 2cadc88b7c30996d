"""The pure price rules: parsing symbols, prices and durations; the entry and settle rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagerkit.domain.errors import InvalidInput
from wagerkit.domain.prices import (
    Tick,
    entry_tick,
    parse_duration,
    parse_durations,
    parse_price,
    parse_symbol,
    price_text,
    settle_tick,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def tick(seconds: float, price: str = "100", source: str = "test") -> Tick:
    return Tick("BTCUSDT", T0 + timedelta(seconds=seconds), Decimal(price), source)


@pytest.mark.parametrize("text", ["BTCUSDT", "BTC-USD", "DEMO-USD", "ETH.P", "A_1", " BTCUSDT "])
def test_symbols(text: str) -> None:
    assert parse_symbol(text) == text.strip()


@pytest.mark.parametrize("text", ["", "btcusdt", "BTC USD", "A" * 21, "BTC/USD", "БТЦ", 5, None])
def test_bad_symbols(text: object) -> None:
    with pytest.raises(InvalidInput):
        parse_symbol(text)


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ("97000.12", "97000.12"),
        ("97000.12000000", "97000.12"),
        ("100", "100"),
        ("100.000", "100"),
        (Decimal("1E+2"), "100"),
        (7, "7"),
        ("0.000000012345678901", "0.000000012345678901"),
        ("123456789012.123456789", "123456789012.123456789"),
        ("99999999999999999999.999999999999999999", "99999999999999999999.999999999999999999"),
    ],
)
def test_prices(given_: object, expected: str) -> None:
    price = parse_price(given_)
    assert isinstance(price, Decimal)
    assert price_text(price) == expected


@pytest.mark.parametrize(
    "bad",
    [
        1.5,
        True,
        "0",
        "0.000",
        "-1",
        "+1",
        "1e5",
        "NaN",
        "Infinity",
        Decimal("NaN"),
        Decimal("-Infinity"),
        Decimal("-2"),
        "1.0000000000000000001",  # 19 decimals
        "100000000000000000000",  # 21 integer digits
        "1,5",
        "",
        " ",
        "1_000",
        None,
        [1],
    ],
)
def test_bad_prices(bad: object) -> None:
    with pytest.raises(InvalidInput):
        parse_price(bad)


@given(
    st.decimals(
        min_value=Decimal("0.000000000000000001"),
        max_value=Decimal("99999999999999999999"),
        places=18,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_a_price_survives_its_text(value: Decimal) -> None:
    price = parse_price(value)
    assert price == value
    assert parse_price(price_text(price)) == price
    assert "E" not in price_text(price)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("1m", 60),
        ("5m", 300),
        ("15m", 900),
        ("1h", 3600),
        ("90", 90),
        (45, 45),
        (" 2M ", 120),
    ],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "0", "0s", "1d", "1.5m", "-1m", "m", "169h", True, 1.0, None])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(InvalidInput):
        parse_duration(bad)


def test_duration_sets() -> None:
    assert parse_durations("1m,5m,15m,1h") == (60, 300, 900, 3600)
    assert parse_durations("1h, 30s") == (30, 3600)
    for bad in ("", "1m,,5m", "1m,60s", "1m,x"):
        with pytest.raises(InvalidInput):
            parse_durations(bad)


def test_a_tick_is_utc_canonical_and_checked() -> None:
    plus2 = timezone(timedelta(hours=2))
    t = Tick("BTCUSDT", datetime(2026, 1, 1, 14, 0, tzinfo=plus2), Decimal("1.500"), "csv")
    assert t.observed_at == T0
    assert t.observed_at.tzinfo == UTC
    assert str(t.price) == "1.5"
    assert t == Tick("BTCUSDT", T0, Decimal("1.5"), "csv")
    assert Tick(" BTCUSDT ", T0, Decimal(1), "csv").symbol == "BTCUSDT"
    for bad in (
        lambda: Tick("btc", T0, Decimal(1), "csv"),
        lambda: Tick("BTC", datetime(2026, 1, 1), Decimal(1), "csv"),
        lambda: Tick("BTC", T0, 1.0, "csv"),  # type: ignore[arg-type]
        lambda: Tick("BTC", T0, Decimal(0), "csv"),
        lambda: Tick("BTC", T0, Decimal(1), "Bad Source"),
    ):
        with pytest.raises(InvalidInput):
            bad()


MAX_AGE = timedelta(seconds=10)
BUFFER = timedelta(seconds=15)


def test_entry_price_is_the_latest_fresh_tick() -> None:
    assert entry_tick(tick(0), T0, MAX_AGE) == tick(0)
    assert entry_tick(tick(-10), T0, MAX_AGE) == tick(-10)  # exactly max_age old: fresh
    assert entry_tick(tick(-10.001), T0, MAX_AGE) is None  # older: stale
    assert entry_tick(tick(1), T0, MAX_AGE) is None  # from the future
    assert entry_tick(None, T0, MAX_AGE) is None


def test_settle_price_is_the_first_tick_within_the_buffer() -> None:
    assert settle_tick(tick(0), T0, BUFFER) == tick(0)
    assert settle_tick(tick(15), T0, BUFFER) == tick(15)
    assert settle_tick(tick(15.001), T0, BUFFER) is None  # too late: void
    assert settle_tick(tick(-1), T0, BUFFER) is None  # before the due time
    assert settle_tick(None, T0, BUFFER) is None


@given(st.integers(-100_000, 100_000), st.integers(0, 60_000))
def test_entry_rule_property(offset_ms: int, max_age_ms: int) -> None:
    t = Tick("BTCUSDT", T0 + timedelta(milliseconds=offset_ms), Decimal(1), "test")
    got = entry_tick(t, T0, timedelta(milliseconds=max_age_ms))
    assert (got is not None) == (-max_age_ms <= offset_ms <= 0)


@given(st.integers(-100_000, 100_000), st.integers(0, 60_000))
def test_settle_rule_property(offset_ms: int, buffer_ms: int) -> None:
    t = Tick("BTCUSDT", T0 + timedelta(milliseconds=offset_ms), Decimal(1), "test")
    got = settle_tick(t, T0, timedelta(milliseconds=buffer_ms))
    assert (got is not None) == (0 <= offset_ms <= buffer_ms)
