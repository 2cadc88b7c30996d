"""Views of the events and bets endpoints: domain values as the response models of
``wagerkit_http.models_events`` (times ISO 8601 in UTC, multipliers as text)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wagerkit import Bet, BetReceipt, Event, WagerKit, pool_view

from ...models_events import BetList, BetOut, BetReceiptOut, EventOut, OutcomeOut
from .._common import iso

__all__ = ["bet_list", "bet_out", "event_out", "receipt_out"]


def _iso_or_none(t: datetime | None) -> str | None:
    return iso(t) if t is not None else None


def event_out(e: Event) -> dict[str, Any]:
    view = pool_view(e)
    mult = {o.outcome_id: o.multiplier for o in view.outcomes}
    return EventOut(
        id=e.id,
        title=e.title,
        description=e.description,
        stream_type=e.stream_type.value,
        stream_url=e.stream_url,
        status=e.status.value,
        currency=e.currency,
        min_stake=e.min_stake,
        max_stake=e.max_stake,
        rake_bps=e.rake_bps,
        allow_topup=e.allow_topup,
        start_time=iso(e.start_time),
        betting_locked_at=iso(e.betting_locked_at),
        closes_at=iso(e.closes_at),
        settle_deadline=iso(e.settle_deadline),
        total=view.total,
        bettors=view.bettors,
        outcomes=[
            OutcomeOut(
                id=o.id,
                name=o.name,
                position=o.position,
                bettors=o.bettors,
                total=o.total,
                multiplier=mult.get(o.id),
            )
            for o in e.outcomes
        ],
        winning_outcome_id=e.winning_outcome_id,
        bet_count=e.bet_count,
        created_at=iso(e.created_at),
        updated_at=iso(e.updated_at),
        locked_at=_iso_or_none(e.locked_at),
        resolved_at=_iso_or_none(e.resolved_at),
    ).model_dump()


def bet_out(b: Bet, currency: str) -> BetOut:
    return BetOut(
        id=b.id,
        event_id=b.event_id,
        outcome_id=b.outcome_id,
        user_id=b.user_id,
        amount=b.amount,
        currency=currency,
        status=b.status.value,
        payout=b.payout,
        placements=b.placements,
        placed_at=iso(b.placed_at),
        updated_at=iso(b.updated_at),
    )


def receipt_out(r: BetReceipt, currency: str) -> BetReceiptOut:
    return BetReceiptOut(
        **bet_out(r.bet, currency).model_dump(), placed=r.placed, replayed=r.replayed
    )


async def bet_list(kit: WagerKit, bets: list[Bet], limit: int) -> dict[str, Any]:
    """A page of bets, each in its event's currency (each event of the page read once)."""
    currencies = {
        eid: (await kit.events.get(eid)).currency for eid in sorted({b.event_id for b in bets})
    }
    return BetList(
        bets=[bet_out(b, currencies[b.event_id]) for b in bets],
        next_before=bets[-1].id if len(bets) == limit else None,
    ).model_dump()
