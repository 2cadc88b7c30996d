"""Currencies: parsing human text into minor units, formatting back, and the registry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagerkit.domain.errors import InvalidAmount, InvalidInput, UnknownCurrency
from wagerkit.domain.money import (
    DEFAULT_CURRENCIES,
    MAX_AMOUNT,
    Currency,
    CurrencyRegistry,
    Money,
)

COIN = Currency("COIN", 0)
RUB = Currency("RUB", 2)
USDT = Currency("USDT", 6)


# -- parse -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "text", "units"),
    [
        (COIN, "0", 0),
        (COIN, "1", 1),
        (COIN, "1000", 1000),
        (COIN, "12.0", 12),  # a zero fraction carries no extra precision
        (COIN, "007", 7),
        (COIN, "+5", 5),
        (COIN, "1_000", 1000),
        (RUB, "12.50", 1250),
        (RUB, "12.5", 1250),
        (RUB, "12", 1200),
        (RUB, "0.01", 1),
        (RUB, "0.10", 10),
        (RUB, "1.500", 150),  # trailing zeros beyond the exponent are not precision
        (USDT, "1", 1_000_000),
        (USDT, "0.000001", 1),
        (USDT, "123.456789", 123_456_789),
        (USDT, "2.5", 2_500_000),
    ],
)
def test_parse_valid(currency: Currency, text: str, units: int) -> None:
    assert currency.parse(text) == units


@pytest.mark.parametrize("text", ["  12.50", "12.50  ", "\t12.50\n", " 12.5 "])
def test_parse_strips_surrounding_whitespace(text: str) -> None:
    assert RUB.parse(text) == 1250


@pytest.mark.parametrize(
    ("currency", "text"),
    [
        (RUB, "1.005"),
        (RUB, "0.001"),
        (COIN, "1.5"),
        (COIN, "0.1"),
        (USDT, "0.0000001"),
        (USDT, "1.1234567"),
    ],
)
def test_parse_refuses_extra_precision(currency: Currency, text: str) -> None:
    with pytest.raises(InvalidAmount):
        currency.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "abc",
        "12a",
        "1.2.3",
        "1,50",
        ".5",
        "5.",
        "--5",
        "+-5",
        "1 000",
        "1e3",
        "0x10",
        "nan",
        "inf",
        "12.50 RUB",
        "RUB 12.50",
        "½",
    ],
)
def test_parse_refuses_garbage(text: str) -> None:
    with pytest.raises(InvalidAmount):
        RUB.parse(text)


def test_invalid_amount_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        RUB.parse("garbage")


def test_parse_negative_refused_unless_allowed() -> None:
    with pytest.raises(InvalidAmount):
        RUB.parse("-1.50")
    with pytest.raises(InvalidAmount):
        COIN.parse("-1")
    assert RUB.parse("-1.50", allow_negative=True) == -150
    assert COIN.parse("-7", allow_negative=True) == -7
    assert USDT.parse("-0.000001", allow_negative=True) == -1


def test_parse_huge_values() -> None:
    assert COIN.parse(str(MAX_AMOUNT)) == MAX_AMOUNT == 2**63 - 1
    assert COIN.parse(f"-{MAX_AMOUNT}", allow_negative=True) == -MAX_AMOUNT
    with pytest.raises(InvalidAmount):
        COIN.parse(str(MAX_AMOUNT + 1))
    with pytest.raises(InvalidAmount):
        COIN.parse(f"-{MAX_AMOUNT + 1}", allow_negative=True)
    with pytest.raises(InvalidAmount):
        COIN.parse("9" * 400)
    # the limit applies to minor units, so a larger exponent lowers the whole-unit limit
    assert RUB.parse("92233720368547758.07") == MAX_AMOUNT
    with pytest.raises(InvalidAmount):
        RUB.parse("92233720368547758.08")
    with pytest.raises(InvalidAmount):
        USDT.parse("10000000000000000")


# -- format ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "units", "text"),
    [
        (COIN, 0, "0"),
        (COIN, 1000, "1000"),
        (COIN, -3, "-3"),
        (RUB, 1250, "12.50"),
        (RUB, 1, "0.01"),
        (RUB, 0, "0.00"),
        (RUB, -5, "-0.05"),
        (RUB, -1250, "-12.50"),
        (USDT, 1, "0.000001"),
        (USDT, 123_456_789, "123.456789"),
        (USDT, -1_000_000, "-1.000000"),
        (Currency("E18", 18), 1, "0.000000000000000001"),
    ],
)
def test_format(currency: Currency, units: int, text: str) -> None:
    assert currency.format(units) == text


def test_money_str() -> None:
    assert str(Money(1250, RUB)) == "12.50 RUB"
    assert str(Money(-7, COIN)) == "-7 COIN"


@given(
    exponent=st.integers(min_value=0, max_value=18),
    units=st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
)
def test_format_then_parse_is_identity(exponent: int, units: int) -> None:
    cur = Currency("XYZ", exponent)
    text = cur.format(units)
    assert cur.parse(text, allow_negative=True) == units
    if units >= 0:
        assert cur.parse(text) == units
    # exactly ``exponent`` decimals are printed
    if exponent:
        assert len(text.split(".")[1]) == exponent
    else:
        assert "." not in text


@given(
    exponent=st.integers(min_value=0, max_value=18),
    units=st.integers(min_value=0, max_value=MAX_AMOUNT),
    extra=st.integers(min_value=1, max_value=9),
)
def test_one_digit_too_many_is_refused(exponent: int, units: int, extra: int) -> None:
    cur = Currency("XYZ", exponent)
    text = cur.format(units)
    sep = "" if exponent else "."
    with pytest.raises(InvalidAmount):
        cur.parse(f"{text}{sep}{extra}")


# -- currency and registry -------------------------------------------------------------------


@pytest.mark.parametrize("code", ["", "C", "coin", "1COIN", "TOOLONGCODE", "CO-IN", "CO IN"])
def test_currency_code_validated(code: str) -> None:
    with pytest.raises(UnknownCurrency):
        Currency(code, 0)


@pytest.mark.parametrize("exponent", [-1, 19, 100])
def test_currency_exponent_validated(exponent: int) -> None:
    with pytest.raises(UnknownCurrency):
        Currency("COIN", exponent)


def test_registry_defaults() -> None:
    reg = CurrencyRegistry()
    assert list(reg) == [c.code for c in DEFAULT_CURRENCIES] == ["COIN", "RUB", "COP", "USDT"]
    assert reg.default == Currency("COIN", 0)
    assert len(reg) == 4
    assert reg["RUB"].exponent == 2
    assert reg["COP"].exponent == 0
    assert reg["USDT"].exponent == 6


def test_registry_lookup_is_case_insensitive() -> None:
    reg = CurrencyRegistry()
    assert reg["rub"] is reg["RUB"]
    assert reg["Usdt"] == Currency("USDT", 6)
    assert "coin" in reg
    assert "COIN" in reg
    assert "EUR" not in reg
    assert 5 not in reg


def test_registry_unknown_currency() -> None:
    reg = CurrencyRegistry()
    with pytest.raises(UnknownCurrency):
        reg["EUR"]
    with pytest.raises(UnknownCurrency):
        reg[""]


def test_registry_must_not_be_empty() -> None:
    with pytest.raises(UnknownCurrency):
        CurrencyRegistry([])


def test_parse_spec() -> None:
    reg = CurrencyRegistry.parse_spec("COIN:0,RUB:2")
    assert list(reg) == ["COIN", "RUB"]
    assert reg.default.code == "COIN"
    assert reg["RUB"] == Currency("RUB", 2)
    reg = CurrencyRegistry.parse_spec(" usdt : 6 , cop:0 ")
    assert list(reg) == ["USDT", "COP"]
    assert reg.default == Currency("USDT", 6)
    assert reg["cop"].exponent == 0
    assert CurrencyRegistry.parse_spec("COIN")["COIN"].exponent == 0


@pytest.mark.parametrize(
    "spec", ["", "COIN:x", "COIN:-1", "COIN:19", "C:0", "COIN:1:2", "COIN:0,,RUB:2"]
)
def test_parse_spec_refuses_bad_specs(spec: str) -> None:
    with pytest.raises(UnknownCurrency):
        CurrencyRegistry.parse_spec(spec)
