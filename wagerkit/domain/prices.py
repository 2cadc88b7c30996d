"""Prices and ticks: the pure rules of the price feed (SPEC section 4).

A *tick* is one observed price of one symbol: ``(symbol, observed_at, price, source)``. Prices
are exact ``Decimal`` values, never floats; a price is what the store keeps exactly
(``NUMERIC(38, 18)``): finite, greater than zero, at most 18 decimal places and at most 20
digits before the point. Prices are kept in canonical form (no trailing zeros), so a tick read
back from any store equals the tick written.

Results are computed from stored ticks only, by two rules:

* **entry price** (``entry_tick``): the latest tick observed at or before the moment of
  placement and no older than ``max_age`` (default 10 s); none fresh → no price;
* **exit, lock and close price** (``settle_tick``): the first tick observed at or after the
  due time, if it was observed within ``buffer`` (default 15 s) of it; otherwise there is no
  price and the contract or round is voided. (The *latest* price at settlement, which
  PancakeSwap uses, lets a late tick flip a result after the fact; the first one cannot.)

Symbols are upper-case ``[A-Z0-9._-]{1,20}`` (``BTCUSDT``, ``BTC-USD``, ``DEMO-USD``).
Durations are text such as ``30s``, ``5m``, ``1h`` or a bare number of seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import ClassVar

from .errors import InvalidInput
from .notifications import Notification

__all__ = [
    "DEFAULT_BUFFER",
    "DEFAULT_DURATIONS",
    "DEFAULT_MAX_AGE",
    "DEFAULT_TICK_RETENTION",
    "MAX_DURATION_SECONDS",
    "MAX_PRICE_DECIMALS",
    "MAX_PRICE_INTEGER_DIGITS",
    "OPERATOR_SOURCE",
    "PriceTicked",
    "Tick",
    "entry_tick",
    "parse_duration",
    "parse_durations",
    "parse_price",
    "parse_retention",
    "parse_source",
    "parse_symbol",
    "price_text",
    "settle_tick",
]

DEFAULT_MAX_AGE = timedelta(seconds=10)
DEFAULT_BUFFER = timedelta(seconds=15)
DEFAULT_DURATIONS = (60, 300, 900, 3600)
DEFAULT_TICK_RETENTION = timedelta(days=7)
MIN_TICK_RETENTION = timedelta(hours=1)
MAX_PRICE_DECIMALS = 18
MAX_PRICE_INTEGER_DIGITS = 20
MAX_DURATION_SECONDS = 7 * 24 * 3600
OPERATOR_SOURCE = "operator"

_SYMBOL = re.compile(r"[A-Z0-9._-]{1,20}")
_SOURCE = re.compile(r"[a-z0-9][a-z0-9._:-]{0,39}")
_PRICE = re.compile(r"[0-9]{1,40}(?:\.[0-9]{1,40})?")
_DURATION = re.compile(r"([0-9]{1,7})\s*([smh]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600}
_RETENTION = re.compile(r"([0-9]{1,7})\s*([smhd]?)")
# wide enough that no price operation here ever rounds (the default context keeps 28 digits)
_EXACT = Context(prec=80)


def parse_symbol(text: object) -> str:
    """A market symbol: upper-case letters, digits, ``.``, ``_``, ``-``; 1-20 characters.
    Surrounding spaces are trimmed; lower case is refused, not folded (``btc`` may not mean
    what the caller thinks)."""
    if not isinstance(text, str):
        raise InvalidInput("a symbol must be text")
    symbol = text.strip()
    if not _SYMBOL.fullmatch(symbol):
        raise InvalidInput(
            "a symbol is 1-20 upper-case letters, digits, '.', '_' or '-' (e.g. BTCUSDT)"
        )
    return symbol


def parse_source(text: object) -> str:
    """A tick's source: lower-case ``[a-z0-9._:-]``, 1-40 characters (``operator``,
    ``random``, ``csv``, ``http:binance``)."""
    if not isinstance(text, str) or not _SOURCE.fullmatch(text):
        raise InvalidInput("a tick source is 1-40 lower-case letters, digits, '.', '_', ':', '-'")
    return text


def _canonical(value: Decimal) -> Decimal:
    """The value without trailing zeros and never in exponent form for whole numbers."""
    value = value.normalize(_EXACT)
    if value.as_tuple().exponent > 0:  # type: ignore[operator]  # finite here
        value = value.quantize(Decimal(1), context=_EXACT)
    return value


def parse_price(value: object) -> Decimal:
    """An exact price from text (``"97000.12"``), a ``Decimal`` or an ``int``. It must be
    finite, > 0, have at most 18 decimal places and at most 20 integer digits (what
    ``NUMERIC(38, 18)`` holds). Floats are refused: they are not exact."""
    if isinstance(value, (bool, float)):
        raise InvalidInput("a price must be given as text or Decimal, never a float")
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _PRICE.fullmatch(text):
            raise InvalidInput(f"a price is a plain decimal number such as 97000.12: {text[:40]!r}")
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise InvalidInput("a price is a plain decimal number") from None
    elif not isinstance(value, Decimal):
        raise InvalidInput("a price must be text or a Decimal")
    if not value.is_finite() or value <= 0:
        raise InvalidInput("a price must be a finite number greater than zero")
    if value.adjusted() >= MAX_PRICE_INTEGER_DIGITS:
        raise InvalidInput(f"a price has at most {MAX_PRICE_INTEGER_DIGITS} integer digits")
    value = _canonical(value)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > MAX_PRICE_DECIMALS:
        raise InvalidInput(f"a price has at most {MAX_PRICE_DECIMALS} decimal places")
    return value


def price_text(price: Decimal) -> str:
    """A price as plain text, never in exponent form (``0.000000012345678901``)."""
    return format(price, "f")


def parse_duration(text: object) -> int:
    """Seconds from ``"30s"``, ``"5m"``, ``"1h"`` or a bare number of seconds (``"90"``, or an
    ``int``); between 1 second and 7 days."""
    if isinstance(text, bool):
        raise InvalidInput("a duration is text such as 30s, 5m or 1h")
    if isinstance(text, int):
        seconds = text
    elif isinstance(text, str):
        m = _DURATION.fullmatch(text.strip().lower())
        if not m:
            raise InvalidInput(
                f"a duration is a number with s, m or h (30s, 5m, 1h): {text[:20]!r}"
            )
        seconds = int(m.group(1)) * _UNIT[m.group(2)]
    else:
        raise InvalidInput("a duration is text such as 30s, 5m or 1h")
    if not 1 <= seconds <= MAX_DURATION_SECONDS:
        raise InvalidInput("a duration is between 1 second and 7 days")
    return seconds


def parse_retention(text: object) -> timedelta | None:
    """How long recorded ticks are kept: ``"7d"``, ``"36h"``, ``"90m"``, a number of seconds,
    at least an hour; ``"0"`` (or ``"off"``) keeps them forever (``None``)."""
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise InvalidInput("a retention is text such as 7d, 36h or 0 (keep forever)")
    raw = str(text).strip().lower()
    if raw in ("0", "off", "never"):
        return None
    m = _RETENTION.fullmatch(raw)
    if not m:
        raise InvalidInput(f"a retention is a number with s, m, h or d (7d, 36h): {raw[:20]!r}")
    seconds = int(m.group(1)) * {**_UNIT, "d": 86400}[m.group(2)]
    if seconds < MIN_TICK_RETENTION.total_seconds():
        raise InvalidInput("a retention is at least 1h (or 0 to keep ticks forever)")
    return timedelta(seconds=seconds)


def parse_durations(text: object) -> tuple[int, ...]:
    """A comma-separated set of durations (``"1m,5m,15m,1h"``), ascending, no repeats."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("durations are a comma-separated list such as 1m,5m,15m,1h")
    seconds = [parse_duration(part) for part in text.split(",")]
    if len(set(seconds)) != len(seconds):
        raise InvalidInput("durations must be distinct")
    return tuple(sorted(seconds))


@dataclass(frozen=True, slots=True)
class Tick:
    """One observed price. Built with a checked symbol and source, a timezone-aware time
    (stored in UTC) and an exact price (kept canonical: ``parse_price``)."""

    symbol: str
    observed_at: datetime
    price: Decimal
    source: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", parse_symbol(self.symbol))
        parse_source(self.source)
        if not isinstance(self.observed_at, datetime) or self.observed_at.tzinfo is None:
            raise InvalidInput("a tick's time must be a timezone-aware datetime")
        if not isinstance(self.price, Decimal):
            raise InvalidInput("a tick's price must be a Decimal")
        object.__setattr__(self, "observed_at", self.observed_at.astimezone(UTC))
        object.__setattr__(self, "price", parse_price(self.price))


def entry_tick(latest: Tick | None, at: datetime, max_age: timedelta) -> Tick | None:
    """The entry price's tick: ``latest`` (the newest tick observed at or before ``at``) if
    it is no older than ``max_age`` at ``at``; ``None`` when stale, missing or from the
    future."""
    if latest is None or latest.observed_at > at:
        return None
    return latest if at - latest.observed_at <= max_age else None


def settle_tick(first_at_or_after: Tick | None, due: datetime, buffer: timedelta) -> Tick | None:
    """The exit (lock, close) price's tick: the first tick observed at or after ``due``, if it
    was observed within ``buffer`` of ``due``; ``None`` otherwise (void and refund)."""
    tick = first_at_or_after
    if tick is None or tick.observed_at < due:
        return None
    return tick if tick.observed_at - due <= buffer else None


@dataclass(frozen=True, slots=True)
class PriceTicked(Notification):
    """A new tick was stored (by the recorder or an operator)."""

    topic: ClassVar[str] = "price.ticked"
    symbol: str
    observed_at: datetime
    price: Decimal
    source: str

    @classmethod
    def of(cls, tick: Tick) -> PriceTicked:
        return cls(tick.symbol, tick.observed_at, tick.price, tick.source)
