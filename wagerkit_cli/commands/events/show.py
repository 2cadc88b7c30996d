"""``wagerkit events list`` and ``wagerkit events show``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ...runtime import CliState, state
from .. import JsonOpt
from .common import (
    EVENT_COLUMNS,
    OUTCOME_COLUMNS,
    EventId,
    StatusChoice,
    _money,
    app,
    event_json,
    event_row,
    utc,
)

if TYPE_CHECKING:
    from wagerkit import Event, WagerKit

__all__ = ["list_", "show"]


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        list[StatusChoice] | None,
        typer.Option(help="Only events with this status (repeatable).", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many events.")] = 50,
    before: Annotated[int | None, typer.Option(help="Only events older than this id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List events, newest first."""
    from wagerkit import EventStatus

    st = state(ctx)
    statuses = [EventStatus(s.value) for s in status] if status else None

    async def work(kit: WagerKit) -> list[Event]:
        return await kit.events.list_events(statuses=statuses, limit=limit, before_id=before)

    events = st.run(work)
    next_before = events[-1].id if len(events) == limit else None
    if as_json:
        st.terminal.json(
            {
                "events": [event_json(e, st.display_currency(e.currency)) for e in events],
                "next_before": next_before,
            }
        )
        return
    more = f"; older: --before {next_before}" if next_before is not None else ""
    st.terminal.table(
        EVENT_COLUMNS, [event_row(st, e) for e in events], caption=f"{len(events)} event(s){more}"
    )


def _print_event(st: CliState, e: Event) -> None:
    from wagerkit import MAX_AMOUNT, pool_view

    cur = st.display_currency(e.currency)
    view = pool_view(e)
    lines = [f"Event {e.id}: {e.title} ({e.status.value})"]
    if e.description:
        lines.append(f"  {e.description}")
    if e.stream_url:
        lines.append(f"  stream: {e.stream_type.value} {e.stream_url}")
    topup = "allowed" if e.allow_topup else "not allowed"
    stakes = (
        f"from {_money(cur, e.min_stake)}"
        if e.max_stake >= MAX_AMOUNT
        else f"{cur.format(e.min_stake)}-{_money(cur, e.max_stake)}"
    )
    lines += [
        f"  start {utc(e.start_time)} UTC; betting closes {utc(e.closes_at)} UTC; "
        f"settle by {utc(e.settle_deadline)} UTC",
        f"  stakes {stakes}; rake {e.rake_bps} bps; top-ups {topup}",
    ]
    for line in lines:
        st.terminal.line(line)
    rows = [
        [
            o.outcome_id,
            o.name,
            o.bettors,
            cur.format(o.total),
            o.multiplier or "",
            "winner" if o.outcome_id == e.winning_outcome_id else "",
        ]
        for o in view.outcomes
    ]
    st.terminal.table(
        OUTCOME_COLUMNS,
        rows,
        caption=f"pool {_money(cur, e.pool)}, {e.bet_count} bet(s)",
    )


@app.command()
def show(ctx: typer.Context, event_id: EventId, as_json: JsonOpt = False) -> None:
    """Show an event: its times and settings, and per outcome the bettors, the total staked
    and the payout multiplier if it won now."""
    st = state(ctx)

    async def work(kit: WagerKit) -> Event:
        return await kit.events.get(event_id)

    event = st.run(work)
    if as_json:
        st.terminal.json(event_json(event, st.display_currency(event.currency)))
    else:
        _print_event(st, event)
