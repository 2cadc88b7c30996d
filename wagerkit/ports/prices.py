"""Prices: feeds and stored ticks (docs/prices.md)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ..domain.prices import Tick

# -- Prices: feeds and stored ticks (docs/prices.md) -----------------------------------------


class PriceFeed(Protocol):
    """Where prices come from (operator, CSV replay, seeded random walk, a public HTTP API).
    ``quote`` never raises for the feed's own failures: a timeout, an error status or a
    malformed answer is ``None`` (no price)."""

    async def quote(self, symbol: str, at: datetime) -> Tick | None:
        """The symbol's price as the feed knows it at ``at``, or ``None``."""
        ...


class PriceRepository(Protocol):
    """Stored ticks; every price result is computed from these."""

    async def add_ticks(self, ticks: Sequence[Tick]) -> int:
        """Store ticks; one already stored under (symbol, observed_at, source) is skipped
        (idempotent). Returns how many were new."""
        ...

    async def latest(self, symbol: str, at: datetime | None = None) -> Tick | None:
        """The newest tick observed at or before ``at`` (any time when ``None``)."""
        ...

    async def first_at_or_after(self, symbol: str, at: datetime) -> Tick | None:
        """The earliest tick observed at or after ``at``."""
        ...

    async def history(
        self, symbol: str, *, since: datetime | None = None, limit: int = 100
    ) -> list[Tick]:
        """Ticks observed at or after ``since``, newest first, at most ``limit``."""
        ...

    async def symbols(self) -> list[str]:
        """Every symbol with a stored tick, sorted."""
        ...

    async def prune_ticks(self, symbol: str, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` of the symbol's oldest ticks observed before ``before``,
        never its latest one (those at its newest instant stay). Returns how many went."""
        ...
