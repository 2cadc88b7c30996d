"""``wagerkit raffles …`` and ``wagerkit tickets list`` (docs/raffles.md): categories, raffles,
purchases, close, draw, the public record and its verification, voids and corrections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ...output import when
from ...runtime import AsOpt, state
from .. import CurrencyOpt, JsonOpt, KeyOpt
from .demo import seed_raffle_demo
from .views import (
    CATEGORY_COLUMNS,
    RAFFLE_COLUMNS,
    TICKET_COLUMNS,
    category_json,
    int_list,
    parse_time,
    raffle_json,
    raffle_row,
    ticket_json,
)

if TYPE_CHECKING:
    from wagerkit import Raffle, RaffleCategory, Ticket, WagerKit

__all__ = ["app", "categories_app", "seed_raffle_demo", "tickets_app"]

app = typer.Typer(
    help="Raffles: categories, sales, close, verifiable draws, records.", no_args_is_help=True
)
categories_app = typer.Typer(help="Raffle categories (templates).", no_args_is_help=True)
tickets_app = typer.Typer(help="Raffle tickets: list them.", no_args_is_help=True)
app.add_typer(categories_app, name="categories")

RaffleId = Annotated[int, typer.Argument(help="Raffle id.", show_default=False)]
ReasonReq = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]


def _show(st: Any, r: Raffle, as_json: bool, **extra: Any) -> None:
    cur = st.display_currency(r.currency)
    if as_json:
        st.terminal.json(raffle_json(r, cur, **extra))
        return
    st.terminal.table(RAFFLE_COLUMNS, [raffle_row(r, cur)])
    plan = r.plan()
    st.terminal.line(
        f"sales {cur.format(plan.sales)}, prize fund {cur.format(plan.fund)}, rake "
        f"{cur.format(plan.rake)}, prizes {', '.join(cur.format(p) for p in plan.prizes)}"
    )
    if r.commitment:
        st.terminal.line(f"commitment {r.commitment}")


# -- categories ------------------------------------------------------------------------------
@categories_app.command("create")
def categories_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name (1-100 characters).", show_default=False)],
    price: Annotated[str, typer.Option(help="Ticket price (e.g. 10 or 2.50).", show_default=False)],
    capacity: Annotated[int, typer.Option(help="Number of tickets (numbers 0 … N−1).")],
    winners: Annotated[int, typer.Option(help="Number of prizes.")] = 1,
    split: Annotated[str, typer.Option(help="'equal' or percentages, e.g. 50,30,20.")] = "equal",
    rake_bps: Annotated[int, typer.Option(help="Rake in basis points (0-10000).")] = 0,
    mode: Annotated[str, typer.Option(help="proportional or guaranteed.")] = "proportional",
    colour: Annotated[str, typer.Option(help="Display colour, e.g. #ffd700.")] = "",
    currency: CurrencyOpt = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Create a raffle category (staff)."""
    from wagerkit import PrizeMode, RaffleCategoryDraft, parse_split

    st = state(ctx)
    st.act_as(as_user)
    cur = st.currency(currency)
    draft = RaffleCategoryDraft(
        name, cur.parse(price), capacity, winners, rake_bps, parse_split(split),
        PrizeMode(mode) if mode in ("proportional", "guaranteed") else mode,  # type: ignore[arg-type]
        colour, cur.code,
    )  # fmt: skip

    async def work(kit: WagerKit) -> RaffleCategory:
        return await kit.raffles.create_category(st.actor, draft)

    c = st.run(work)
    if as_json:
        st.terminal.json(category_json(c, cur))
    else:
        st.terminal.line(
            f"category {c.id} ({c.name}): collection {cur.format(c.collection)}, prize fund "
            f"{cur.format(c.prize_fund)}, prizes {', '.join(cur.format(p) for p in c.prizes)}"
        )


@categories_app.command("list")
def categories_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List raffle categories with their derived figures."""
    st = state(ctx)

    async def work(kit: WagerKit) -> list[RaffleCategory]:
        return await kit.raffles.list_categories()

    cats = st.run(work)
    if as_json:
        st.terminal.json(
            {"categories": [category_json(c, st.display_currency(c.currency)) for c in cats]}
        )
        return
    rows = []
    for c in cats:
        cur = st.display_currency(c.currency)
        rows.append(
            [
                c.id, c.name, cur.format(c.ticket_price), c.capacity, c.winners,
                "/".join(map(str, c.split)) or "equal", f"{c.rake_bps} bps", c.prize_mode.value,
                cur.format(c.collection), cur.format(c.prize_fund), cur.format(c.prize_per_winner),
            ]
        )  # fmt: skip
    st.terminal.table(CATEGORY_COLUMNS, rows, caption=f"{len(rows)} categor(ies)")


# -- raffles ---------------------------------------------------------------------------------
@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name (1-200 characters).", show_default=False)],
    category: Annotated[int, typer.Option(help="Category id.", show_default=False)],
    start: Annotated[str, typer.Option(help="Sales start, ISO 8601 with a zone.")],
    end: Annotated[str, typer.Option(help="Sales end (the close), ISO 8601 with a zone.")],
    min_tickets: Annotated[
        int | None, typer.Option(help="Minimum sold (default: winners).")
    ] = None,
    max_per_user: Annotated[int | None, typer.Option(help="Per-user ticket limit.")] = None,
    draw: Annotated[str, typer.Option(help="lottery or beacon.")] = "beacon",
    lottery_name: Annotated[str, typer.Option(help="External lottery's name.")] = "",
    lottery_schedule: Annotated[str, typer.Option(help="Its draw schedule.")] = "",
    lottery_url: Annotated[str, typer.Option(help="Where its result is published.")] = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Create a raffle from a category (staff)."""
    from wagerkit import DrawMode, RaffleDraft

    st = state(ctx)
    st.act_as(as_user)
    draft = RaffleDraft(
        name, category, parse_time(start, "--start"), parse_time(end, "--end"), min_tickets,
        max_per_user, DrawMode(draw) if draw in ("lottery", "beacon") else draw,  # type: ignore[arg-type]
        lottery_name, lottery_schedule, lottery_url,
    )  # fmt: skip

    async def work(kit: WagerKit) -> Raffle:
        return await kit.raffles.create(st.actor, draft)

    _show(st, st.run(work), as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="open, closed, drawn or voided.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    before: Annotated[int | None, typer.Option(help="Only raffles older than this id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List raffles, newest first."""
    from wagerkit import InvalidInput, RaffleStatus

    st = state(ctx)

    async def work(kit: WagerKit) -> list[Raffle]:
        statuses = None
        if status is not None:
            if status not in {s.value for s in RaffleStatus}:
                raise InvalidInput("status must be open, closed, drawn or voided")
            statuses = [RaffleStatus(status)]
        return await kit.raffles.list_raffles(statuses=statuses, limit=limit, before_id=before)

    raffles = st.run(work)
    if as_json:
        st.terminal.json(
            {"raffles": [raffle_json(r, st.display_currency(r.currency)) for r in raffles]}
        )
        return
    rows = [raffle_row(r, st.display_currency(r.currency)) for r in raffles]
    st.terminal.table(RAFFLE_COLUMNS, rows, caption=f"{len(rows)} raffle(s)")


@app.command("show")
def show(
    ctx: typer.Context, raffle_id: RaffleId, as_json: JsonOpt = False, as_user: AsOpt = None
) -> None:
    """A raffle: terms, figures, numbers sold, your tickets (with --as), commitment, winners."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> tuple[Raffle, list[int], list[int] | None]:
        r = await kit.raffles.get(raffle_id)
        numbers = await kit.raffles.sold_numbers(raffle_id)
        mine = None
        if st.actor.user_id is not None:
            own = await kit.raffles.tickets(st.actor, raffle_id=raffle_id, limit=500)
            mine = sorted(t.number for t in own)
        return r, numbers, mine

    r, numbers, mine = st.run(work)
    _show(st, r, as_json, numbers=numbers, mine=mine)
    if not as_json and mine:
        st.terminal.line(f"your numbers: {', '.join(r.label(n) for n in mine)}")


@app.command("buy")
def buy(
    ctx: typer.Context,
    raffle_id: RaffleId,
    numbers: Annotated[str | None, typer.Option(help="Chosen numbers, e.g. 3,17.")] = None,
    count: Annotated[int | None, typer.Option(help="This many random free numbers.")] = None,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Buy tickets, all or nothing (as a player: --as USER)."""
    from wagerkit import Purchase

    st = state(ctx)
    st.act_as(as_user)
    chosen = int_list(numbers, "--numbers") if numbers is not None else None

    async def work(kit: WagerKit) -> tuple[Purchase, Raffle]:
        p = await kit.raffles.buy(
            st.actor, raffle_id, numbers=chosen, count=count, idempotency_key=key
        )
        return p, await kit.raffles.get(raffle_id)

    p, r = st.run(work)
    cur = st.display_currency(p.currency)
    if as_json:
        st.terminal.json(
            {
                "raffle_id": p.raffle_id,
                "user_id": p.user_id,
                "numbers": p.numbers,
                "labels": [r.label(n) for n in p.numbers],
                "tickets": [ticket_json(t, cur, r.label(t.number)) for t in p.tickets],
                "currency": cur.code,
                "amount": p.amount,
                "amount_formatted": cur.format(p.amount),
                "replayed": p.replayed,
            }
        )
        return
    again = " (replayed)" if p.replayed else ""
    st.terminal.line(
        f"bought {len(p.tickets)} ticket(s) of raffle {p.raffle_id}: "
        f"{', '.join(r.label(n) for n in p.numbers)} for {cur.format(p.amount)} {cur.code}{again}"
    )


@app.command("close")
def close(
    ctx: typer.Context,
    raffle_id: RaffleId,
    reason: Annotated[str, typer.Option(help="Why (audit trail).")] = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Stop sales now: freeze the listing and publish its commitment (staff)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Raffle:
        return await kit.raffles.close(st.actor, raffle_id, reason=reason)

    _show(st, st.run(work), as_json)


@app.command("draw")
def draw(
    ctx: typer.Context,
    raffle_id: RaffleId,
    numbers: Annotated[str | None, typer.Option(help="The lottery's numbers, in order.")] = None,
    public_value: Annotated[str | None, typer.Option(help="A beacon public value (text).")] = None,
    drand_round: Annotated[int | None, typer.Option(help="A drand round (beacon).")] = None,
    drand_signature: Annotated[
        str | None, typer.Option(help="The round's signature (hex), if drand is unreachable.")
    ] = None,
    pay: Annotated[
        bool | None, typer.Option("--pay/--no-pay", help="Pay now (default: beacon draws).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (audit trail).")] = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Draw a closed raffle (staff): lottery numbers, or a beacon value or drand round."""
    st = state(ctx)
    st.act_as(as_user)
    drawn = int_list(numbers, "--numbers") if numbers is not None else None

    async def work(kit: WagerKit) -> Raffle:
        return await kit.raffles.draw(
            st.actor, raffle_id, numbers=drawn, public_value=public_value,
            drand_round=drand_round, drand_signature=drand_signature, reason=reason, pay=pay,
        )  # fmt: skip

    _show(st, st.run(work), as_json)


@app.command("pay")
def pay(
    ctx: typer.Context, raffle_id: RaffleId, as_json: JsonOpt = False, as_user: AsOpt = None
) -> None:
    """Pay a drawn raffle's prizes and rake now (staff; exactly once)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Raffle:
        return await kit.raffles.pay(st.actor, raffle_id)

    _show(st, st.run(work), as_json)


@app.command("correct")
def correct(
    ctx: typer.Context,
    raffle_id: RaffleId,
    numbers: Annotated[str, typer.Option(help="The right lottery numbers.", show_default=False)],
    reason: ReasonReq,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Correct a lottery draw's numbers before the payouts (staff; audited)."""
    st = state(ctx)
    st.act_as(as_user)
    drawn = int_list(numbers, "--numbers")

    async def work(kit: WagerKit) -> Raffle:
        return await kit.raffles.correct(st.actor, raffle_id, drawn, reason=reason)

    _show(st, st.run(work), as_json)


@app.command("void")
def void(
    ctx: typer.Context,
    raffle_id: RaffleId,
    reason: ReasonReq,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Cancel a raffle not yet drawn: every ticket is refunded (staff)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Raffle:
        return await kit.raffles.void(st.actor, raffle_id, reason=reason)

    _show(st, st.run(work), as_json)


@app.command("record")
def record(ctx: typer.Context, raffle_id: RaffleId) -> None:
    """The public JSON record of a drawn raffle (always JSON; verify it with
    examples/verify_raffle.py)."""
    st = state(ctx)

    async def work(kit: WagerKit) -> dict[str, Any]:
        return await kit.raffles.record(raffle_id)

    st.terminal.json(st.run(work))


@app.command("verify")
def verify(ctx: typer.Context, raffle_id: RaffleId, as_json: JsonOpt = False) -> None:
    """Recompute a drawn raffle's winners from its public record: match or mismatch."""
    from ...errors import CliError

    st = state(ctx)

    async def work(kit: WagerKit) -> Any:
        return await kit.raffles.verify(raffle_id)

    v = st.run(work)
    if as_json:
        st.terminal.json({"raffle_id": raffle_id, "match": v.match, "reason": v.reason,
                          "winners": v.winners})  # fmt: skip
    elif v.match:
        st.terminal.line(f"match: raffle {raffle_id}: {v.reason}; winners {v.winners}")
    if not v.match:
        raise CliError(f"raffle {raffle_id}: {v.reason}", code="mismatch")


@tickets_app.command("list")
def tickets_list(
    ctx: typer.Context,
    raffle: Annotated[int | None, typer.Option(help="Only tickets of this raffle.")] = None,
    user: Annotated[int | None, typer.Option(help="Only tickets of this user.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    before: Annotated[int | None, typer.Option(help="Only tickets older than this id.")] = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """List tickets, newest first (a player acting with --as sees only their own)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> tuple[list[Ticket], dict[int, Raffle]]:
        tickets = await kit.raffles.tickets(
            st.actor, raffle_id=raffle, user_id=user, limit=limit, before_id=before
        )
        raffles = {rid: await kit.raffles.get(rid) for rid in {t.raffle_id for t in tickets}}
        return tickets, raffles

    tickets, raffles = st.run(work)
    if as_json:
        st.terminal.json(
            {
                "tickets": [
                    ticket_json(
                        t,
                        st.display_currency(raffles[t.raffle_id].currency),
                        raffles[t.raffle_id].label(t.number),
                    )
                    for t in tickets
                ],
                "next_before": tickets[-1].id if len(tickets) == limit else None,
            }
        )
        return
    rows = []
    for t in tickets:
        r = raffles[t.raffle_id]
        cur = st.display_currency(r.currency)
        rows.append(
            [t.id, t.raffle_id, r.label(t.number), t.user_id, cur.format(t.price),
             cur.format(t.prize) if t.prize else "", "yes" if t.refunded else "",
             when(t.bought_at)]
        )  # fmt: skip
    st.terminal.table(TICKET_COLUMNS, rows, caption=f"{len(rows)} ticket(s)")
