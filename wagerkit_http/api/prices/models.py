"""Request and response models of the price endpoints (docs/prices.md).

A price is exact decimal text (``"97000.12"``), in both directions: never a JSON number,
which clients parse as a float. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, field_validator

from wagerkit import CurrentPrice, Tick, price_text

from ...models import ApiModel
from .._common import iso

__all__ = [
    "CurrentPriceOut",
    "PriceIn",
    "PriceList",
    "TickList",
    "TickOut",
    "TicksQuery",
    "current_out",
    "tick_out",
]


class TickOut(ApiModel):
    """One recorded price."""

    symbol: str = Field(description="market symbol, e.g. BTC-USD")
    price: str = Field(description="exact decimal text, e.g. 97000.12")
    observed_at: str = Field(description="when the price was observed (ISO 8601, UTC)")
    source: str = Field(description="operator, random, csv or http")


class CurrentPriceOut(ApiModel):
    """A configured symbol's latest price (``null`` fields before any tick)."""

    symbol: str
    price: str | None = Field(None, description="exact decimal text")
    observed_at: str | None = None
    source: str | None = None
    fresh: bool = Field(
        description="observed within the entry window (WAGERKIT_PRICE_MAX_AGE, 10 s): a "
        "contract placed now would get this price"
    )


class PriceList(ApiModel):
    prices: list[CurrentPriceOut] = Field(description="one per configured symbol")


class TickList(ApiModel):
    symbol: str
    ticks: list[TickOut] = Field(description="newest first")


class PriceIn(ApiModel):
    """An operator's price, observed now."""

    model_config = ConfigDict(extra="forbid")

    price: StrictStr = Field(
        min_length=1,
        max_length=60,
        description="exact decimal text, > 0, at most 18 decimal places and 20 integer "
        "digits (a JSON number is refused: it would be a float)",
    )
    reason: StrictStr = Field("", max_length=500, description="kept in the audit trail")


class TicksQuery(BaseModel):
    since: AwareDatetime | None = Field(None, description="only ticks observed at or after")
    limit: int = Field(100, ge=1, le=1000)

    @field_validator("since")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        try:
            return v.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError("since is out of range") from None


def tick_out(t: Tick) -> TickOut:
    return TickOut(
        symbol=t.symbol, price=price_text(t.price), observed_at=iso(t.observed_at), source=t.source
    )


def current_out(c: CurrentPrice) -> CurrentPriceOut:
    if c.tick is None:
        return CurrentPriceOut(
            symbol=c.symbol, price=None, observed_at=None, source=None, fresh=False
        )
    return CurrentPriceOut(**tick_out(c.tick).model_dump(), fresh=c.fresh)
