"""Raffles, categories and tickets as the API sends them."""

from __future__ import annotations

from typing import Any

from wagerkit import Purchase, Raffle, RaffleCategory, Ticket

from .._common import iso

__all__ = ["category_out", "purchase_out", "raffle_out", "ticket_out"]


def _opt(t: Any) -> str | None:
    return None if t is None else iso(t)


def category_out(c: RaffleCategory) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "colour": c.colour,
        "currency": c.currency,
        "ticket_price": c.ticket_price,
        "capacity": c.capacity,
        "winners": c.winners,
        "rake_bps": c.rake_bps,
        "split": list(c.split),
        "prize_mode": c.prize_mode.value,
        "collection": c.collection,
        "prize_fund": c.prize_fund,
        "prizes": c.prizes,
        "prize_per_winner": c.prize_per_winner,
        "created_at": iso(c.created_at),
    }


def raffle_out(r: Raffle) -> dict[str, Any]:
    plan = r.plan()
    return {
        "id": r.id,
        "name": r.name,
        "status": r.status.value,
        "category": category_out(r.category),
        "currency": r.currency,
        "ticket_price": r.price,
        "capacity": r.capacity,
        "sold": r.sold,
        "free": r.free,
        "min_tickets": r.min_tickets,
        "max_per_user": r.max_per_user,
        "draw_mode": r.draw_mode.value,
        "lottery_name": r.lottery_name,
        "lottery_schedule": r.lottery_schedule,
        "lottery_url": r.lottery_url,
        "start": iso(r.start),
        "end": iso(r.end),
        "sales": plan.sales,
        "prize_fund": plan.fund,
        "rake": plan.rake,
        "prizes": list(plan.prizes),
        "commitment": r.commitment,
        "closed_at": _opt(r.closed_at),
        "public_value": r.public_value,
        "drawn_numbers": list(r.drawn_numbers),
        "provenance": dict(r.provenance),
        "winners": [
            {"place": i, "number": n, "label": r.label(n), "user_id": u, "prize": p}
            for i, (n, u, p) in enumerate(r.winners, start=1)
        ],
        "drawn_at": _opt(r.drawn_at),
        "paid_at": _opt(r.paid_at),
        "void_reason": r.void_reason,
        "created_at": iso(r.created_at),
    }


def ticket_out(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.id,
        "raffle_id": t.raffle_id,
        "number": t.number,
        "user_id": t.user_id,
        "price": t.price,
        "prize": t.prize,
        "refunded": t.refunded,
        "bought_at": iso(t.bought_at),
    }


def purchase_out(p: Purchase) -> dict[str, Any]:
    return {
        "raffle_id": p.raffle_id,
        "user_id": p.user_id,
        "numbers": p.numbers,
        "tickets": [ticket_out(t) for t in p.tickets],
        "currency": p.currency,
        "amount": p.amount,
        "replayed": p.replayed,
    }
