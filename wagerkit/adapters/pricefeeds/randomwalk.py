"""A deterministic seeded random walk: demo and test prices that are the same on every
machine and every Python version.

Time is cut into steps of ``step_seconds`` from a fixed ``epoch``. Step ``i`` of a symbol has
a change ``r_i`` drawn from SHA-256 of ``(seed, symbol, i)``: an integer in
``[-volatility, +volatility]`` units of 10⁻⁸ (so ``volatility_bps`` 10 is ±0.1 % a step). The
price at step ``n`` is::

    start × (1 + (r_{n-W+1} + … + r_n) / 10⁸)      rounded half-even to ``decimals`` places

a *moving-window* walk: from one step to the next it moves by ``r_n − r_{n−W}``, like a walk,
but it never drifts away (it stays within ``start × (1 ± W × volatility)``, which must be
below 100 %, so a price is always positive) and any step is computed from ``W`` hashes, not
from all the steps since the epoch. Only integers and ``Decimal`` with an explicit context are
used; ``random`` and floats never are.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal

from ...domain.errors import InvalidInput
from ...domain.prices import Tick, parse_price, parse_symbol

__all__ = ["DEFAULT_EPOCH", "RandomWalkFeed"]

DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_UNIT = 10**8
_EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN)


class RandomWalkFeed:
    """``quote(symbol, at)`` = the walk's price at the step containing ``at``, observed at
    that step's start; the same (seed, symbol, step) always gives the same price."""

    source = "random"

    def __init__(
        self,
        seed: str = "wagerkit",
        *,
        start: Decimal | str = "100",
        step_seconds: int = 1,
        volatility_bps: int = 10,
        window: int = 600,
        decimals: int = 2,
        epoch: datetime = DEFAULT_EPOCH,
        starts: dict[str, Decimal | str] | None = None,
    ) -> None:
        if not 1 <= step_seconds <= 86400:
            raise InvalidInput("a random walk's step is 1 second to 1 day")
        if not 1 <= window <= 100_000 or not 0 <= volatility_bps <= 10_000:
            raise InvalidInput("a random walk's window is 1-100000 steps, volatility 0-10000 bps")
        if window * volatility_bps >= 10_000:
            raise InvalidInput("window × volatility must stay below 100 % (prices stay > 0)")
        if not 0 <= decimals <= 18:
            raise InvalidInput("a random walk's prices have 0-18 decimal places")
        if epoch.tzinfo is None:
            raise InvalidInput("the epoch must be timezone-aware")
        self.seed = seed
        self.start = parse_price(start)
        self.starts = {parse_symbol(k): parse_price(v) for k, v in (starts or {}).items()}
        self.step_seconds = step_seconds
        self.volatility = volatility_bps * _UNIT // 10_000
        self.window = window
        self.quantum = Decimal(1).scaleb(-decimals)
        self.epoch = epoch.astimezone(UTC)
        self._sums: dict[str, tuple[int, int]] = {}  # symbol -> (step, sum of its window)

    def change(self, symbol: str, step: int) -> int:
        """Step ``step``'s change in 10⁻⁸ units, from SHA-256 of (seed, symbol, step)."""
        digest = hashlib.sha256(f"{self.seed}\x00{symbol}\x00{step}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % (2 * self.volatility + 1) - self.volatility

    def _window_sum(self, symbol: str, step: int) -> int:
        cached = self._sums.get(symbol)
        if cached is not None and 0 <= step - cached[0] <= self.window:
            total = cached[1]
            for i in range(cached[0] + 1, step + 1):
                total += self.change(symbol, i) - self.change(symbol, i - self.window)
        else:
            total = sum(self.change(symbol, i) for i in range(step - self.window + 1, step + 1))
        self._sums[symbol] = (step, total)
        return total

    def step_of(self, at: datetime) -> int:
        return int((at - self.epoch).total_seconds() // self.step_seconds)

    def price_at_step(self, symbol: str, step: int) -> Decimal:
        start = self.starts.get(symbol, self.start)
        factor = _EXACT.divide(Decimal(_UNIT + self._window_sum(symbol, step)), Decimal(_UNIT))
        price = _EXACT.multiply(start, factor).quantize(self.quantum, context=_EXACT)
        return parse_price(max(price, self.quantum))

    def tick_at(self, symbol: str, at: datetime) -> Tick:
        step = self.step_of(at)
        observed = self.epoch + timedelta(seconds=step * self.step_seconds)
        return Tick(symbol, observed, self.price_at_step(symbol, step), self.source)

    async def quote(self, symbol: str, at: datetime) -> Tick | None:
        return self.tick_at(symbol, at)
