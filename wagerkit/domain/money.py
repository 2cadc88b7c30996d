"""Currencies and amounts.

Money is an ``int`` count of minor units of one currency; a currency has a code and an
exponent (``COIN``/0, ``RUB``/2, ``USDT``/6). Human text such as ``"12.50"`` is parsed with the
exponent and refused if it carries more precision than the currency has. No float is ever
involved, and ``Decimal`` is used only to read and print text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from .errors import InvalidAmount, UnknownCurrency

__all__ = ["DEFAULT_CURRENCIES", "Currency", "CurrencyRegistry", "Money"]

_CODE = re.compile(r"[A-Z][A-Z0-9]{1,9}")
_AMOUNT = re.compile(r"(?P<sign>[+-]?)(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?")
MAX_AMOUNT = 2**63 - 1  # fits every store's BIGINT


@dataclass(frozen=True, slots=True)
class Currency:
    """A currency: its code and how many decimal places its minor unit has."""

    code: str
    exponent: int

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise UnknownCurrency(
                f"currency code must be 2-10 capital letters/digits: {self.code!r}"
            )
        if not 0 <= self.exponent <= 18:
            raise UnknownCurrency(f"currency exponent must be 0..18, got {self.exponent}")

    def parse(self, text: str, *, allow_negative: bool = False) -> int:
        """Parse human text (``"12.50"``) into minor units, refusing extra precision."""
        cleaned = text.strip().replace("_", "")
        m = _AMOUNT.fullmatch(cleaned)
        if m is None:
            raise InvalidAmount(f"not an amount: {text!r}")
        frac = (m.group("frac") or "").rstrip("0") if m.group("frac") else ""
        if len(frac) > self.exponent:
            raise InvalidAmount(
                f"{text!r} has more than {self.exponent} decimal place(s) for {self.code}"
            )
        units: int = int(m.group("int")) * 10**self.exponent + int(
            frac.ljust(self.exponent, "0") or "0"
        )
        if m.group("sign") == "-":
            if not allow_negative:
                raise InvalidAmount(f"amount must not be negative: {text!r}")
            units = -units
        if abs(units) > MAX_AMOUNT:
            raise InvalidAmount(f"amount too large: {text!r}")
        return units

    def format(self, units: int) -> str:
        """Minor units back to text with exactly ``exponent`` decimals."""
        sign = "-" if units < 0 else ""
        whole, frac = divmod(abs(units), 10**self.exponent)
        if self.exponent == 0:
            return f"{sign}{whole}"
        return f"{sign}{whole}.{frac:0{self.exponent}d}"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of minor units in one currency; arithmetic only within a currency."""

    units: int
    currency: Currency

    def __str__(self) -> str:
        return f"{self.currency.format(self.units)} {self.currency.code}"


DEFAULT_CURRENCIES = (
    Currency("COIN", 0),
    Currency("RUB", 2),
    Currency("COP", 0),
    Currency("USDT", 6),
)


class CurrencyRegistry(Mapping[str, Currency]):
    """The configured currencies, looked up by code; the first is the default."""

    def __init__(self, currencies: Iterable[Currency] = DEFAULT_CURRENCIES) -> None:
        self._by_code: dict[str, Currency] = {}
        for c in currencies:
            if c.code in self._by_code:
                raise UnknownCurrency(f"currency {c.code} is configured twice")
            self._by_code[c.code] = c
        if not self._by_code:
            raise UnknownCurrency("at least one currency must be configured")
        self.default = next(iter(self._by_code.values()))

    @classmethod
    def parse_spec(cls, spec: str) -> CurrencyRegistry:
        """Read ``"COIN:0,RUB:2"`` (the ``WAGERKIT_CURRENCIES`` setting)."""
        items = []
        for part in spec.split(","):
            code, _, exp = part.strip().partition(":")
            try:
                items.append(Currency(code.strip().upper(), int(exp or 0)))
            except ValueError as exc:
                raise UnknownCurrency(f"bad currency spec {part!r}") from exc
        return cls(items)

    def __getitem__(self, code: str) -> Currency:
        try:
            return self._by_code[code.upper()]
        except KeyError:
            raise UnknownCurrency(
                f"unknown currency {code!r}; configured: {', '.join(self._by_code)}"
            ) from None

    def get(self, code: str, default: Currency | None = None) -> Currency | None:  # type: ignore[override]
        """Like ``Mapping.get``: ``default`` for an unknown code instead of raising."""
        return self._by_code.get(code.upper(), default) if isinstance(code, str) else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.upper() in self._by_code
