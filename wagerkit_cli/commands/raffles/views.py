"""JSON and table views of raffle categories, raffles and tickets (also used by ``demo``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...errors import abort
from ...output import amounts, when
from ...terminal import Column

if TYPE_CHECKING:
    from wagerkit import Currency, Raffle, RaffleCategory, Ticket

__all__ = [
    "CATEGORY_COLUMNS",
    "RAFFLE_COLUMNS",
    "TICKET_COLUMNS",
    "category_json",
    "int_list",
    "parse_time",
    "raffle_json",
    "raffle_row",
    "ticket_json",
]

CATEGORY_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Name"),
    Column("Price", "right", no_wrap=True),
    Column("Tickets", "right", no_wrap=True),
    Column("Winners", "right", no_wrap=True),
    Column("Split"),
    Column("Rake", "right", no_wrap=True),
    Column("Mode"),
    Column("Collection", "right", no_wrap=True),
    Column("Prize fund", "right", no_wrap=True),
    Column("1st prize", "right", no_wrap=True),
]
RAFFLE_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Name"),
    Column("Status", no_wrap=True),
    Column("Sold", "right", no_wrap=True),
    Column("Price", "right", no_wrap=True),
    Column("Draw", no_wrap=True),
    Column("Ends (UTC)", no_wrap=True),
    Column("Winners"),
]
TICKET_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Raffle", "right", no_wrap=True),
    Column("Number", "right", no_wrap=True),
    Column("User", "right", no_wrap=True),
    Column("Price", "right", no_wrap=True),
    Column("Prize", "right", no_wrap=True),
    Column("Refunded", no_wrap=True),
    Column("Bought (UTC)", no_wrap=True),
]


def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 time with a zone; anything else is one readable error."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise abort(f"{option}: not an ISO 8601 time: {text[:40]!r}") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise abort(f"{option}: give a time zone, e.g. {value.isoformat()}+00:00 or ...Z")
    return value


def int_list(text: str, option: str) -> list[int]:
    """``"3,17,42"`` → ``[3, 17, 42]``; anything else is one readable error."""
    try:
        out = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise abort(f"{option}: give integers separated by commas, e.g. 3,17") from None
    if not out:
        raise abort(f"{option}: give at least one number")
    return out


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat()


def category_json(c: RaffleCategory, cur: Currency) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "colour": c.colour,
        "currency": c.currency,
        **amounts(cur, ticket_price=c.ticket_price),
        "capacity": c.capacity,
        "winners": c.winners,
        "split": list(c.split) or "equal",
        "rake_bps": c.rake_bps,
        "prize_mode": c.prize_mode.value,
        **amounts(cur, collection=c.collection, prize_fund=c.prize_fund),
        "prizes": c.prizes,
        "prize_per_winner": c.prize_per_winner,
        "created_at": _iso(c.created_at),
    }


def raffle_json(
    r: Raffle, cur: Currency, *, numbers: list[int] | None = None, mine: list[int] | None = None
) -> dict[str, Any]:
    plan = r.plan()
    out: dict[str, Any] = {
        "id": r.id,
        "name": r.name,
        "status": r.status.value,
        "category": category_json(r.category, cur),
        "currency": r.currency,
        **amounts(cur, ticket_price=r.price),
        "capacity": r.capacity,
        "sold": r.sold,
        "free": r.free,
        "min_tickets": r.min_tickets,
        "max_per_user": r.max_per_user,
        "draw_mode": r.draw_mode.value,
        "lottery": {"name": r.lottery_name, "schedule": r.lottery_schedule, "url": r.lottery_url},
        "start": _iso(r.start),
        "end": _iso(r.end),
        **amounts(cur, sales=plan.sales, prize_fund=plan.fund, rake=plan.rake),
        "prizes": list(plan.prizes),
        "commitment": r.commitment,
        "closed_at": _iso(r.closed_at),
        "public_value": r.public_value,
        "drawn_numbers": list(r.drawn_numbers),
        "provenance": r.provenance,
        "winners": [
            {"place": i, "number": n, "label": r.label(n), "user_id": u, "prize": p}
            for i, (n, u, p) in enumerate(r.winners, start=1)
        ],
        "drawn_at": _iso(r.drawn_at),
        "paid_at": _iso(r.paid_at),
        "void_reason": r.void_reason,
        "escrow_account_id": r.escrow_account_id,
        "created_at": _iso(r.created_at),
    }
    if numbers is not None:
        out["numbers_sold"] = numbers
    if mine is not None:
        out["my_numbers"] = mine
    return out


def raffle_row(r: Raffle, cur: Currency) -> list[object]:
    winners = ", ".join(f"{r.label(n)}→{u}" for n, u, _ in r.winners)
    return [
        r.id,
        r.name,
        r.status.value,
        f"{r.sold}/{r.capacity}",
        f"{cur.format(r.price)} {cur.code}",
        r.draw_mode.value,
        when(r.end.astimezone(UTC)),
        winners,
    ]


def ticket_json(t: Ticket, cur: Currency, label: str | None = None) -> dict[str, Any]:
    return {
        "id": t.id,
        "raffle_id": t.raffle_id,
        "number": t.number,
        "label": label,
        "user_id": t.user_id,
        "currency": cur.code,
        **amounts(cur, price=t.price, prize=t.prize),
        "refunded": t.refunded,
        "bought_at": _iso(t.bought_at),
    }
