"""What the ``events`` and ``bets`` commands share: the two Typer apps, the columns of their
tables, the choices of their options, and the JSON and table views of events and bets (also
used by ``demo`` and ``chat``)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ...errors import abort
from ...output import amounts, when
from ...runtime import CliState
from ...terminal import Column

if TYPE_CHECKING:
    from wagerkit import Bet, Currency, Event

__all__ = [
    "BET_COLUMNS",
    "EVENT_COLUMNS",
    "OUTCOME_COLUMNS",
    "EventId",
    "ReasonOpt",
    "StatusChoice",
    "StreamChoice",
    "app",
    "bet_json",
    "bets_app",
    "event_json",
    "event_row",
    "iso",
    "outcome_arg",
    "parse_time",
    "utc",
    "winner_name",
]

app = typer.Typer(
    help="Pari-mutuel events: create, list, show, open, lock, settle and void.",
    no_args_is_help=True,
)
bets_app = typer.Typer(help="Bets on events: list them.", no_args_is_help=True)

EventId = Annotated[int, typer.Argument(help="Event id.", show_default=False)]
ReasonOpt = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]

EVENT_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Title"),
    Column("Status", no_wrap=True),
    Column("Pool", "right", no_wrap=True),
    Column("Bets", "right", no_wrap=True),
    Column("Closes (UTC)", "left", no_wrap=True),
    Column("Winner"),
]
OUTCOME_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Outcome"),
    Column("Bettors", "right", no_wrap=True),
    Column("Total", "right", no_wrap=True),
    Column("Multiplier", "right", no_wrap=True),
    Column(""),
]
BET_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Event", "right", no_wrap=True),
    Column("Outcome"),
    Column("User", "right", no_wrap=True),
    Column("Stake", "right", no_wrap=True),
    Column("Status", no_wrap=True),
    Column("Payout", "right", no_wrap=True),
    Column("Placed (UTC)", "left", no_wrap=True),
]


class StatusChoice(StrEnum):
    """Mirrors ``wagerkit.EventStatus`` without importing wagerkit when the tree is built."""

    scheduled = "scheduled"
    open = "open"
    locked = "locked"
    settling = "settling"
    settled = "settled"
    voiding = "voiding"
    voided = "voided"


class StreamChoice(StrEnum):
    youtube = "youtube"
    twitch = "twitch"
    custom = "custom"


# -- shared helpers (also used by ``demo``) --------------------------------------------------
def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 time with a zone; anything else is one readable error."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise abort(
            f"{option}: not an ISO 8601 time: {text[:40]!r} (e.g. 2030-05-01T18:00:00+00:00)"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise abort(f"{option}: give a time zone, e.g. {value.isoformat()}+00:00 or ...Z")
    return value


def utc(dt: datetime | None) -> str:
    """A time for tables, in UTC."""
    return "" if dt is None else when(dt.astimezone(UTC))


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat()


def outcome_arg(event: Event, text: str) -> int:
    """The id of the outcome named by ``text``: its id, or its name (case-insensitive)."""
    from wagerkit import UnknownOutcome

    value = text.strip()
    if value.isdigit() and any(o.id == int(value) for o in event.outcomes):
        return int(value)
    for o in event.outcomes:
        if o.name.casefold() == value.casefold():
            return o.id
    names = ", ".join(f"{o.id} {o.name}" for o in event.outcomes)
    raise UnknownOutcome(f"event {event.id} has no outcome {value[:100]!r} (outcomes: {names})")


def winner_name(event: Event) -> str | None:
    if event.winning_outcome_id is None:
        return None
    return next((o.name for o in event.outcomes if o.id == event.winning_outcome_id), None)


def event_json(e: Event, cur: Currency) -> dict[str, Any]:
    from wagerkit import pool_view

    view = pool_view(e)
    multipliers = {o.outcome_id: o.multiplier for o in view.outcomes}
    return {
        "id": e.id,
        "title": e.title,
        "description": e.description,
        "status": e.status.value,
        "stream_type": e.stream_type.value,
        "stream_url": e.stream_url,
        "currency": e.currency,
        **amounts(cur, min_stake=e.min_stake, max_stake=e.max_stake),
        "rake_bps": e.rake_bps,
        "allow_topup": e.allow_topup,
        "start_time": iso(e.start_time),
        "betting_locked_at": iso(e.betting_locked_at),
        "closes_at": iso(e.closes_at),
        "settle_deadline": iso(e.settle_deadline),
        "outcomes": [
            {
                "id": o.id,
                "name": o.name,
                "position": o.position,
                "bettors": o.bettors,
                **amounts(cur, total=o.total),
                "multiplier": multipliers.get(o.id),
            }
            for o in e.outcomes
        ],
        **amounts(cur, pool=e.pool),
        "bettors": view.bettors,
        "bet_count": e.bet_count,
        "winning_outcome_id": e.winning_outcome_id,
        "winner": winner_name(e),
        "escrow_account_id": e.escrow_account_id,
        "created_by": e.created_by,
        "created_at": e.created_at.isoformat(),
        "updated_at": iso(e.updated_at),
        "locked_at": iso(e.locked_at),
        "resolved_at": iso(e.resolved_at),
    }


def bet_json(b: Bet, cur: Currency, outcome: str | None = None) -> dict[str, Any]:
    return {
        "id": b.id,
        "event_id": b.event_id,
        "outcome_id": b.outcome_id,
        "outcome": outcome,
        "user_id": b.user_id,
        "currency": cur.code,
        **amounts(cur, amount=b.amount),
        "status": b.status.value,
        "payout": b.payout,
        "payout_formatted": None if b.payout is None else cur.format(b.payout),
        "placements": b.placements,
        "wallet_account_id": b.wallet_account_id,
        "placed_at": iso(b.placed_at),
        "updated_at": iso(b.updated_at),
    }


def _money(cur: Currency, units: int) -> str:
    return f"{cur.format(units)} {cur.code}"


def event_row(st: CliState, e: Event) -> list[object]:
    cur = st.display_currency(e.currency)
    return [
        e.id,
        e.title,
        e.status.value,
        _money(cur, e.pool),
        e.bet_count,
        utc(e.closes_at),
        winner_name(e) or "",
    ]
