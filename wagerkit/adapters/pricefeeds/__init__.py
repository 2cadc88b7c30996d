"""Price feed adapters (the ``PriceFeed`` port), and ``build_feed`` for the configured one:

* ``manual`` — ``ManualFeed``: no automatic prices; operators set them (``kit.prices.set_price``);
* ``random`` — ``RandomWalkFeed``: a deterministic seeded walk for demos and tests;
* ``csv:PATH`` — ``CsvReplayFeed``: replay ``observed_at,symbol,price`` rows;
* ``http`` — ``HttpTickerFeed``: Coinbase Exchange's public ticker (or any URL answering
  the same shape), with httpx (the ``net`` extra).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...domain.errors import InvalidInput
from ...domain.prices import Tick
from .csvreplay import CsvReplayFeed
from .randomwalk import RandomWalkFeed

if TYPE_CHECKING:
    from ...ports import PriceFeed

__all__ = ["CsvReplayFeed", "ManualFeed", "RandomWalkFeed", "build_feed"]


class ManualFeed:
    """No automatic prices: every quote is ``None``; ticks come from operators only."""

    async def quote(self, symbol: str, at: datetime) -> Tick | None:
        return None


def build_feed(
    spec: str,
    *,
    url: str | None = None,
    timeout: float = 2.0,
    seed: str = "wagerkit",
    stale_after: timedelta = timedelta(seconds=60),
) -> PriceFeed:
    """The feed named by ``spec``: ``manual``, ``random``, ``csv:PATH`` or ``http``."""
    kind, _, arg = spec.strip().partition(":")
    if kind == "manual" and not arg:
        return ManualFeed()
    if kind == "random" and not arg:
        return RandomWalkFeed(seed)
    if kind == "csv" and arg:
        return CsvReplayFeed.from_path(arg)
    if kind == "http" and not arg:
        from .http import COINBASE_TICKER_URL, HttpTickerFeed

        return HttpTickerFeed(url or COINBASE_TICKER_URL, timeout=timeout, stale_after=stale_after)
    raise InvalidInput(f"unknown price feed {spec[:60]!r}: manual, random, csv:PATH or http")
