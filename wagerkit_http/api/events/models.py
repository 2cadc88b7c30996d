"""Request models of the events and bets endpoints: bodies and query strings.

They check shapes and bounds only (strict types, lengths, aware times within the years
1970-9000); every rule about the values themselves is the use case's (422). The seed's names
are accepted as synonyms: ``teams`` for ``outcomes``, ``team_id`` for ``outcome_id`` and
``stream_id`` for ``event_id``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from wagerkit import MAX_AMOUNT, MAX_RAKE_BPS, EventChanges, EventDraft, EventStatus, StreamType

from ...models import ApiModel
from .._common import MAX_ID

__all__ = [
    "AdminBetsQuery",
    "BetIn",
    "BetsQuery",
    "EventIn",
    "EventPatch",
    "EventsQuery",
    "OutcomeIn",
    "VoidIn",
    "WinnerIn",
]

MIN_YEAR, MAX_YEAR = 1970, 9000


def _text_time(v: object) -> object:
    if not isinstance(v, str):
        raise ValueError("a time is ISO 8601 text with a time zone, e.g. 2026-03-01T18:00:00Z")
    return v


def _utc(v: datetime) -> datetime:
    try:
        u = v.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"a time must be within the years {MIN_YEAR}-{MAX_YEAR}") from None
    if not MIN_YEAR <= u.year <= MAX_YEAR:
        raise ValueError(f"a time must be within the years {MIN_YEAR}-{MAX_YEAR}")
    return u


Time = Annotated[
    AwareDatetime,
    BeforeValidator(_text_time),
    Field(description="ISO 8601 with a time zone, e.g. 2026-03-01T18:00:00Z (naive: 422)"),
]


class OutcomeIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(max_length=500)


OutcomeSpec = Annotated[StrictStr, Field(max_length=500)] | OutcomeIn
_OUTCOMES_DOC = (
    'the outcomes (2-10), as names or objects {"name": ...}; the seed\'s `teams` is '
    "accepted as a synonym"
)


def _names(items: list[str | OutcomeIn] | None) -> tuple[str, ...] | None:
    if items is None:
        return None
    return tuple(i.name if isinstance(i, OutcomeIn) else i for i in items)


class _EventFields(ApiModel):
    """What create and edit share; every check of the values is the use case's (422)."""

    model_config = ConfigDict(extra="forbid")

    title: StrictStr | None = Field(None, max_length=1000, description="1-200 characters")
    description: StrictStr | None = Field(None, max_length=20000)
    stream_type: Literal["youtube", "twitch", "custom"] | None = None
    stream_url: StrictStr | None = Field(None, max_length=4000, description="http(s) URL")
    outcomes: list[OutcomeSpec] | None = Field(
        None,
        max_length=50,
        validation_alias=AliasChoices("outcomes", "teams"),
        description=_OUTCOMES_DOC,
    )
    min_stake: StrictInt | None = Field(None, ge=1, le=MAX_AMOUNT, description="minor units")
    max_stake: StrictInt | None = Field(None, ge=1, le=MAX_AMOUNT, description="minor units")
    rake_bps: StrictInt | None = Field(
        None, ge=0, le=MAX_RAKE_BPS, description="basis points of the losing side, 0-1000"
    )
    start_time: Time | None = None
    betting_locked_at: Time | None = Field(None, description="default: start_time")
    settle_deadline: Time | None = Field(None, description="default: 24 h after betting closes")
    allow_topup: StrictBool | None = None

    @field_validator("start_time", "betting_locked_at", "settle_deadline")
    @classmethod
    def _in_range(cls, v: datetime | None) -> datetime | None:
        return _utc(v) if v is not None else None


class EventIn(_EventFields):
    """A new event (staff). Only ``title``, ``outcomes`` (or ``teams``) and ``start_time``
    are required."""

    title: StrictStr = Field(max_length=1000, description="1-200 characters")
    outcomes: list[OutcomeSpec] = Field(
        max_length=50, validation_alias=AliasChoices("outcomes", "teams"), description=_OUTCOMES_DOC
    )
    start_time: Time
    status: Literal["scheduled", "open"] = Field(
        "scheduled", description="open: taking bets at once"
    )
    currency: StrictStr | None = Field(
        None, min_length=1, max_length=16, description="default: the default currency"
    )

    def draft(self, default_currency: str) -> EventDraft:
        fields: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "description",
                "stream_url",
                "min_stake",
                "max_stake",
                "rake_bps",
                "betting_locked_at",
                "settle_deadline",
                "allow_topup",
            )
            if getattr(self, k) is not None
        }
        if self.stream_type is not None:
            fields["stream_type"] = StreamType(self.stream_type)
        return EventDraft(
            title=self.title,
            outcomes=_names(self.outcomes) or (),
            start_time=self.start_time,
            currency=self.currency or default_currency,
            status=EventStatus(self.status),
            **fields,
        )


class EventPatch(_EventFields):
    """Any subset of an event's fields but ``status`` and ``currency`` (staff; allowed while
    it is scheduled or open and has no bets)."""

    @model_validator(mode="after")
    def _something(self) -> EventPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self

    def changes(self) -> EventChanges:
        return EventChanges(
            title=self.title,
            description=self.description,
            stream_type=StreamType(self.stream_type) if self.stream_type is not None else None,
            stream_url=self.stream_url,
            outcomes=_names(self.outcomes),
            min_stake=self.min_stake,
            max_stake=self.max_stake,
            rake_bps=self.rake_bps,
            start_time=self.start_time,
            betting_locked_at=self.betting_locked_at,
            settle_deadline=self.settle_deadline,
            allow_topup=self.allow_topup,
        )


class VoidIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field("", max_length=500, description="kept in the audit trail")


class WinnerIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    outcome_id: StrictInt = Field(
        ge=1,
        le=MAX_ID,
        validation_alias=AliasChoices("outcome_id", "team_id"),
        description="the winning outcome (the seed's `team_id` is accepted as a synonym)",
    )
    reason: StrictStr = Field("", max_length=500, description="kept in the audit trail")


class BetIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    event_id: StrictInt = Field(
        ge=1,
        le=MAX_ID,
        validation_alias=AliasChoices("event_id", "stream_id"),
        description="the seed's `stream_id` is accepted as a synonym",
    )
    outcome_id: StrictInt = Field(
        ge=1,
        le=MAX_ID,
        validation_alias=AliasChoices("outcome_id", "team_id"),
        description="the seed's `team_id` is accepted as a synonym",
    )
    amount: StrictInt = Field(
        ge=1, le=MAX_AMOUNT, description="minor units of the event's currency"
    )


class EventsQuery(BaseModel):
    status: list[EventStatus] | None = None
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=1, le=MAX_ID)

    @field_validator("status", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            parts = [p.strip() for item in v if isinstance(item, str) for p in item.split(",")]
            return [p for p in parts if p] or None
        return v


class BetsQuery(BaseModel):
    event_id: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(50, ge=1, le=500)
    before: int | None = Field(None, ge=1, le=MAX_ID)


class AdminBetsQuery(BetsQuery):
    user_id: int | None = Field(None, ge=1, le=MAX_ID)
