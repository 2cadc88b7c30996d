"""Request and response models of the predictions endpoints.

Seed field names are accepted as synonyms: seed 003's ``{amount, direction: long|short,
time}`` and seed 004's ``{exchange, bet_amount, leverage, direction, time, start_price}``.
``start_price`` is accepted and **ignored** (the entry price is always the latest stored
tick; the answer's ``notes`` says so). A bare number for ``time``/``duration`` is seconds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from wagerkit import MAX_AMOUNT

from ...models import ApiModel
from .._common import MAX_ID

__all__ = [
    "ContractList",
    "ContractOut",
    "ContractReceiptOut",
    "ContractsQuery",
    "ExposureList",
    "ExposureOut",
    "PlaceIn",
    "PoolOut",
    "RoundBetIn",
    "RoundBetOut",
    "RoundList",
    "RoundOut",
    "RoundsQuery",
    "SideOut",
    "VoidReasonIn",
]


class PlaceIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    symbol: StrictStr = Field(
        max_length=40,
        validation_alias=AliasChoices("symbol", "exchange"),
        description="market symbol, e.g. BTC-USD (seed 004's `exchange` is a synonym)",
    )
    direction: StrictStr = Field(max_length=10, description="up or down (long/short accepted)")
    stake: StrictInt = Field(
        ge=1,
        le=MAX_AMOUNT,
        validation_alias=AliasChoices("stake", "amount", "bet_amount"),
        description="minor units; seed 003's `amount` and 004's `bet_amount` are synonyms",
    )
    duration: StrictStr | StrictInt = Field(
        validation_alias=AliasChoices("duration", "time"),
        description="one of the configured durations: 60, '60s', '1m'… (seeds' `time`; a "
        "bare number is seconds)",
    )
    leverage: StrictInt | None = Field(
        None, ge=1, le=1000, description="a multiplier contract at this leverage"
    )
    start_price: StrictStr | float | int | None = Field(
        None, description="seed 004's client price: accepted and ignored (see `notes`)"
    )


class VoidReasonIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field(min_length=1, max_length=500, description="kept in the audit trail")


class RoundBetIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    direction: StrictStr = Field(max_length=10, description="up or down (long/short accepted)")
    amount: StrictInt = Field(
        ge=1,
        le=MAX_AMOUNT,
        validation_alias=AliasChoices("amount", "bet_amount", "stake"),
        description="minor units",
    )


class ContractsQuery(BaseModel):
    status: Literal["open", "won", "lost", "push", "void"] | None = None
    symbol: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=500)
    before: int | None = Field(None, ge=1, le=MAX_ID)


class RoundsQuery(BaseModel):
    symbol: str | None = Field(None, max_length=40)
    limit: int = Field(20, ge=1, le=200)
    before: int | None = Field(None, ge=1, le=MAX_ID)


class ContractOut(ApiModel):
    """A contract. ``status``/``result``/``profit`` are seed 004's status shape."""

    id: int
    user_id: int
    symbol: str
    direction: Literal["up", "down"]
    kind: Literal["fixed", "multiplier"]
    currency: str
    stake: int
    leverage: int | None
    payout_bps: int | None
    cap: int | None
    commission: int
    duration_seconds: int
    placed_at: str
    expires_at: str
    entry_price: str
    entry_at: str
    exit_price: str | None
    exit_at: str | None
    status: Literal["open", "won", "lost", "push", "void"]
    result: Literal["W", "L"] | None
    profit: int | None
    payout: int | None
    max_payout: int
    closed_early: bool
    resolved_at: str | None
    void_reason: str | None


class ContractReceiptOut(ApiModel):
    contract: ContractOut
    replayed: bool
    notes: list[str]


class ContractList(ApiModel):
    contracts: list[ContractOut]
    next_before: int | None


class ExposureOut(ApiModel):
    currency: str
    symbol: str = Field(description="'*' is the total")
    exposure: int
    limit: int | None


class ExposureList(ApiModel):
    exposure: list[ExposureOut]


class SideOut(ApiModel):
    total: int
    bettors: int


class PoolOut(ApiModel):
    up: SideOut
    down: SideOut
    total: int


class RoundOut(ApiModel):
    id: int
    symbol: str
    currency: str
    status: Literal["open", "locked", "settling", "settled", "voiding", "voided"]
    starts_at: str
    bets_close_at: str
    lock_at: str
    close_at: str
    lock_price: str | None
    lock_tick_at: str | None
    close_price: str | None
    close_tick_at: str | None
    pool: PoolOut
    rake_bps: int
    winner: Literal["up", "down"] | None
    rake: int
    void_reason: str | None


class RoundList(ApiModel):
    rounds: list[RoundOut]


class RoundBetOut(ApiModel):
    id: int
    round_id: int
    direction: Literal["up", "down"]
    amount: int
    replayed: bool
    round: RoundOut
