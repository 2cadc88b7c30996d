"""Rows of the events area as the domain sees them: events with their outcomes and bets, from
SQL rows or from PostgreSQL's JSON (shared by ``events.py`` and ``bets.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ...domain.events import Bet, BetStatus, Event, EventStatus, Outcome, StreamType
from ...ports import NewBet
from .session import utc as _utc
from .tables import bets

_LOCKS = ("none", "share", "update")
_CHUNK = 500  # SQLite: rows per IN (...) list, well under its bound-parameter limit
_STATUS = {s.value: s for s in EventStatus}
_STREAM = {s.value: s for s in StreamType}
_BET_STATUS = {s.value: s for s in BetStatus}


def _iso(value: datetime) -> str:
    """A timestamp for PostgreSQL's JSON parameters (UTC, explicit offset)."""
    return _utc(value).isoformat()


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _outcome(o: Sequence[Any]) -> Outcome:
    return Outcome(id=o[0], name=o[1], position=o[2], total=o[3], bettors=o[4])


def _event(m: Mapping[Any, Any], outcomes: tuple[Outcome, ...]) -> Event:
    return Event(
        id=m["id"],
        title=m["title"],
        description=m["description"],
        stream_type=_STREAM[m["stream_type"]],
        stream_url=m["stream_url"],
        currency=m["currency"],
        outcomes=outcomes,
        min_stake=m["min_stake"],
        max_stake=m["max_stake"],
        rake_bps=m["rake_bps"],
        start_time=m["start_time"],
        betting_locked_at=m["betting_locked_at"],
        settle_deadline=m["settle_deadline"],
        allow_topup=m["allow_topup"],
        status=_STATUS[m["status"]],
        escrow_account_id=m["escrow_account_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        created_by=m["created_by"],
        winning_outcome_id=m["winning_outcome_id"],
        locked_at=m["locked_at"],
        resolved_at=m["resolved_at"],
        bet_count=m["bet_count"],
    )


def _bet(r: Sequence[Any]) -> Bet:
    return Bet(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _BET_STATUS[r[8]], r[9], r[10])


def _new_bet(bet_id: int, b: NewBet) -> Bet:
    placed = _utc(b.placed_at)
    return Bet(
        bet_id, b.event_id, b.outcome_id, b.user_id, b.amount, b.wallet_account_id, placed, placed
    )


_BET_COLUMNS = (
    bets.c.id,
    bets.c.event_id,
    bets.c.outcome_id,
    bets.c.user_id,
    bets.c.amount,
    bets.c.wallet_account_id,
    bets.c.placed_at,
    bets.c.updated_at,
    bets.c.status,
    bets.c.payout,
    bets.c.placements,
)

_EVENT_TIMES = (
    "start_time",
    "betting_locked_at",
    "settle_deadline",
    "created_at",
    "updated_at",
    "locked_at",
    "resolved_at",
)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _json_event(pair: Sequence[Any]) -> Event:
    """An event from ``_PG_READ_BATCH``'s JSON: [row, outcomes]."""
    row, outcomes = pair
    m = {k: (_ts(v) if k in _EVENT_TIMES and v is not None else v) for k, v in row.items()}
    return _event(m, tuple(_outcome(o) for o in outcomes or ()))


def _json_bet(r: Sequence[Any]) -> Bet:
    return _bet([*r[:6], _ts(r[6]), _ts(r[7]), *r[8:]])


def _bet_rows(new: Sequence[NewBet]) -> list[dict[str, Any]]:
    """New bets as the JSON rows PostgreSQL's bet inserts read (``i``: the input order)."""
    return [
        {
            "i": i,
            "e": b.event_id,
            "o": b.outcome_id,
            "u": b.user_id,
            "a": b.amount,
            "w": b.wallet_account_id,
            "t": _iso(b.placed_at),
        }
        for i, b in enumerate(new)
    ]
