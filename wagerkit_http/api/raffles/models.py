"""Request and response models of the raffles endpoints (docs/raffles.md, docs/http.md).

Requests check shapes and bounds only; every rule about the values is the use case's (422).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from wagerkit import (
    MAX_AMOUNT,
    DrawMode,
    PrizeMode,
    RaffleCategoryDraft,
    RaffleChanges,
    RaffleDraft,
)

from ...models import ApiModel
from .._common import MAX_ID

__all__ = [
    "BuyIn",
    "CorrectIn",
    "DrawIn",
    "PurchaseOut",
    "RaffleCategoryIn",
    "RaffleCategoryList",
    "RaffleCategoryOut",
    "RaffleDetailOut",
    "RaffleIn",
    "RaffleList",
    "RaffleOut",
    "RafflePatch",
    "RaffleReasonIn",
    "RafflesQuery",
    "RecordOut",
    "TicketList",
    "TicketOut",
    "TicketsQuery",
    "VerdictOut",
]

_MAX_NUMBER = 10_000_000


def _text_time(v: object) -> object:
    if not isinstance(v, str):
        raise ValueError("a time is ISO 8601 text with a time zone, e.g. 2026-03-01T18:00:00Z")
    return v


def _utc(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    try:
        u = v.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("a time must be within the years 1970-9000") from None
    if not 1970 <= u.year <= 9000:
        raise ValueError("a time must be within the years 1970-9000")
    return u


Time = Annotated[AwareDatetime, BeforeValidator(_text_time), Field(description="ISO 8601 + zone")]
Number = Annotated[StrictInt, Field(ge=0, le=_MAX_NUMBER)]


# -- requests -------------------------------------------------------------------------------
class RaffleCategoryIn(ApiModel):
    """A raffle category (template)."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(max_length=1000, description="1-100 characters")
    ticket_price: StrictInt = Field(ge=1, le=MAX_AMOUNT, description="minor units")
    capacity: StrictInt = Field(ge=1, le=_MAX_NUMBER, description="numbers 0 … capacity−1")
    winners: StrictInt = Field(1, ge=1, le=10_000)
    rake_bps: StrictInt = Field(0, ge=0, le=10_000)
    split: list[StrictInt] = Field(
        default_factory=list, max_length=10_000, description="percentages; empty: equal shares"
    )
    prize_mode: Literal["proportional", "guaranteed"] = "proportional"
    colour: StrictStr = Field("", max_length=100)
    currency: StrictStr | None = Field(None, min_length=1, max_length=16)

    def draft(self, default_currency: str) -> RaffleCategoryDraft:
        return RaffleCategoryDraft(
            self.name, self.ticket_price, self.capacity, self.winners, self.rake_bps,
            tuple(self.split), PrizeMode(self.prize_mode), self.colour,
            self.currency or default_currency,
        )  # fmt: skip


class _RaffleFields(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr | None = Field(None, max_length=1000, description="1-200 characters")
    start: Time | None = None
    end: Time | None = None
    min_tickets: StrictInt | None = Field(None, ge=1, le=_MAX_NUMBER)
    max_per_user: StrictInt | None = Field(None, ge=1, le=_MAX_NUMBER)
    draw_mode: Literal["lottery", "beacon"] | None = None
    lottery_name: StrictStr | None = Field(None, max_length=1000)
    lottery_schedule: StrictStr | None = Field(None, max_length=1000)
    lottery_url: StrictStr | None = Field(None, max_length=2000)

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, v: datetime | None) -> datetime | None:
        return _utc(v)


class RaffleIn(_RaffleFields):
    """A new raffle from a category (staff)."""

    name: StrictStr = Field(max_length=1000, description="1-200 characters")
    category_id: StrictInt = Field(ge=1, le=MAX_ID)
    start: Time
    end: Time

    def draft(self) -> RaffleDraft:
        return RaffleDraft(
            self.name, self.category_id, self.start, self.end, self.min_tickets,
            self.max_per_user, DrawMode(self.draw_mode or "beacon"), self.lottery_name or "",
            self.lottery_schedule or "", self.lottery_url or "",
        )  # fmt: skip


class RafflePatch(_RaffleFields):
    """Any of a raffle's fields, before its first sale (staff)."""

    @model_validator(mode="after")
    def _something(self) -> RafflePatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self

    def changes(self) -> RaffleChanges:
        return RaffleChanges(
            name=self.name, start=self.start, end=self.end, min_tickets=self.min_tickets,
            max_per_user=self.max_per_user,
            draw_mode=DrawMode(self.draw_mode) if self.draw_mode else None,
            lottery_name=self.lottery_name, lottery_schedule=self.lottery_schedule,
            lottery_url=self.lottery_url,
        )  # fmt: skip


class BuyIn(ApiModel):
    """Chosen ``numbers`` or ``count`` random free numbers (one of the two)."""

    model_config = ConfigDict(extra="forbid")

    numbers: list[Number] | None = Field(None, min_length=1, max_length=1000)
    count: StrictInt | None = Field(None, ge=1, le=1000)


class DrawIn(ApiModel):
    """A lottery draw's ``numbers``; or a beacon draw's ``public_value`` or ``drand_round``
    (with its ``drand_signature`` when the relay is unreachable)."""

    model_config = ConfigDict(extra="forbid")

    numbers: list[Annotated[StrictInt, Field(ge=0, le=10**18)]] | None = Field(
        None, min_length=1, max_length=10_000
    )
    public_value: StrictStr | None = Field(None, max_length=2000)
    drand_round: StrictInt | None = Field(None, ge=1, le=2**53)
    drand_signature: StrictStr | None = Field(None, max_length=1000)
    pay: StrictBool | None = Field(None, description="pay now (default: beacon draws only)")
    reason: StrictStr = Field("", max_length=500)


class CorrectIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    numbers: list[Annotated[StrictInt, Field(ge=0, le=10**18)]] = Field(
        min_length=1, max_length=10_000
    )
    reason: StrictStr = Field(max_length=500, description="required, 1-500 characters")


class RaffleReasonIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field("", max_length=500)


class RafflesQuery(ApiModel):
    status: Literal["open", "closed", "drawn", "voided"] | None = None
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=1, le=MAX_ID)


class TicketsQuery(ApiModel):
    raffle_id: int | None = Field(None, ge=1, le=MAX_ID)
    user_id: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(50, ge=1, le=500)
    before: int | None = Field(None, ge=1, le=MAX_ID)


# -- responses ------------------------------------------------------------------------------
class RaffleCategoryOut(ApiModel):
    id: int
    name: str
    colour: str
    currency: str
    ticket_price: int
    capacity: int
    winners: int
    rake_bps: int
    split: list[int] = Field(description="percentages; empty: equal shares")
    prize_mode: Literal["proportional", "guaranteed"]
    collection: int = Field(description="price × capacity")
    prize_fund: int = Field(description="the collection less its rake")
    prizes: list[int] = Field(description="the advertised prizes, first prize first")
    prize_per_winner: int
    created_at: str


class RaffleCategoryList(ApiModel):
    categories: list[RaffleCategoryOut]


class WinnerOut(ApiModel):
    place: int
    number: int
    label: str
    user_id: int
    prize: int


class RaffleOut(ApiModel):
    id: int
    name: str
    status: Literal["open", "closed", "drawn", "voided"]
    category: RaffleCategoryOut
    currency: str
    ticket_price: int
    capacity: int
    sold: int
    free: int
    min_tickets: int
    max_per_user: int
    draw_mode: Literal["lottery", "beacon"]
    lottery_name: str
    lottery_schedule: str
    lottery_url: str
    start: str
    end: str
    sales: int
    prize_fund: int
    rake: int
    prizes: list[int]
    commitment: str | None = None
    closed_at: str | None = None
    public_value: str | None = None
    drawn_numbers: list[int]
    provenance: dict[str, Any]
    winners: list[WinnerOut]
    drawn_at: str | None = None
    paid_at: str | None = None
    void_reason: str
    created_at: str


class RaffleDetailOut(RaffleOut):
    numbers_sold: list[int]
    my_numbers: list[int] | None = Field(None, description="the caller's numbers, if signed in")


class RaffleList(ApiModel):
    raffles: list[RaffleOut]
    next_before: int | None = None


class TicketOut(ApiModel):
    id: int
    raffle_id: int
    number: int
    user_id: int
    price: int
    prize: int
    refunded: bool
    bought_at: str


class TicketList(ApiModel):
    tickets: list[TicketOut]
    next_before: int | None = None


class PurchaseOut(ApiModel):
    raffle_id: int
    user_id: int
    numbers: list[int]
    tickets: list[TicketOut]
    currency: str
    amount: int
    replayed: bool


class VerdictOut(ApiModel):
    raffle_id: int
    match: bool
    reason: str
    winners: list[int]


class RecordOut(ApiModel):
    """The public record of a drawn raffle (docs/draw.md gives every field); anyone can
    recompute its winners (``examples/verify_raffle.py``)."""

    model_config = ConfigDict(extra="allow")

    algorithm: str
    raffle_id: int
    capacity: int
    listing: str
    commitment: str
    mode: Literal["lottery", "beacon"]
    public_value: str | None = None
    drawn_numbers: list[int] | None = None
    provenance: dict[str, Any]
    winners: list[dict[str, Any]]
    rake: int
