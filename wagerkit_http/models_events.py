"""Response models of the events, bets and chat endpoints (docs/http.md, docs/events.md).

Money is an integer of minor units next to its ``currency``; times are ISO 8601 in UTC; a
payout multiplier is text (``"1.5000"``), never a float.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .models import ApiModel

__all__ = [
    "BetList",
    "BetOut",
    "BetReceiptOut",
    "ChatHistory",
    "ChatMessageOut",
    "EventDetailOut",
    "EventList",
    "EventOut",
    "MuteOut",
    "OutcomeOut",
]

EventStatusName = Literal["scheduled", "open", "locked", "settling", "settled", "voiding", "voided"]
BetStatusName = Literal["open", "won", "lost", "refunded"]


class OutcomeOut(ApiModel):
    """One outcome (the seed's *team*) with its live pool."""

    id: int
    name: str
    position: int = Field(description="0-based order of the outcomes")
    bettors: int = Field(description="bets on this outcome")
    total: int = Field(description="stakes on this outcome, minor units")
    multiplier: str | None = Field(
        None,
        description='what one unit staked here would return if it won now, e.g. "1.5000" '
        "(rounded down to four places, after the rake); null while nothing is staked on it",
    )


class EventOut(ApiModel):
    """A pari-mutuel event with its live pool (the same numbers as the Socket.IO
    ``event_update``)."""

    id: int
    title: str
    description: str
    stream_type: Literal["youtube", "twitch", "custom"]
    stream_url: str
    status: EventStatusName
    currency: str
    min_stake: int = Field(description="minor units, per placement")
    max_stake: int = Field(description="minor units, a user's whole stake on the event")
    rake_bps: int = Field(description="basis points of the losing side kept by the house")
    allow_topup: bool = Field(description="a user may add to its bet on the same outcome")
    start_time: str = Field(description="ISO 8601, UTC")
    betting_locked_at: str
    closes_at: str = Field(description="when betting closes: min(betting_locked_at, start_time)")
    settle_deadline: str = Field(description="voided automatically if not settled by then")
    total: int = Field(description="the whole pool, minor units")
    bettors: int
    outcomes: list[OutcomeOut]
    winning_outcome_id: int | None = None
    bet_count: int
    created_at: str
    updated_at: str
    locked_at: str | None = None
    resolved_at: str | None = Field(None, description="when it was settled or voided")


class BetOut(ApiModel):
    """A user's bet on an event: ``amount`` is the whole stake (top-ups included)."""

    id: int
    event_id: int
    outcome_id: int
    user_id: int
    amount: int = Field(description="minor units")
    currency: str
    status: BetStatusName
    payout: int | None = Field(
        None, description="minor units paid back once settled or voided (0 for a lost bet)"
    )
    placements: int = Field(description="1, plus one per top-up")
    placed_at: str
    updated_at: str


class BetReceiptOut(BetOut):
    """The answer to ``POST /bets``: the bet after this placement."""

    placed: int = Field(description="what this placement added, minor units")
    replayed: bool = Field(
        description="true: a replay of an earlier request with the same Idempotency-Key; "
        "nothing was charged this time"
    )


class EventDetailOut(EventOut):
    """An event, plus the caller's own bet when the request was signed in."""

    my_bet: BetOut | None = Field(
        None, description="the caller's bet (with its result once settled); null if none"
    )


class EventList(ApiModel):
    events: list[EventOut]
    next_before: int | None = Field(None, description="cursor of the next (older) page")


class BetList(ApiModel):
    bets: list[BetOut]
    next_before: int | None = Field(None, description="cursor of the next (older) page")


class ChatMessageOut(ApiModel):
    id: int
    event_id: int
    user_id: int
    author: str = Field(description="the author's display name when it posted")
    text: str
    created_at: str
    deleted: bool = False


class ChatHistory(ApiModel):
    event_id: int
    messages: list[ChatMessageOut] = Field(description="newest first, deleted ones left out")
    next_before: int | None = Field(None, description="cursor of the next (older) page")


class MuteOut(ApiModel):
    """A user's chat mute after a mute or unmute."""

    user_id: int
    muted: bool
    until: str | None = Field(default=None, description="null: until unmuted (or not muted)")
    reason: str = ""
    created_at: str | None = None
