"""``wagerkit bets list``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ...runtime import AsOpt, state
from .. import JsonOpt
from .common import BET_COLUMNS, _money, bet_json, bets_app, utc

if TYPE_CHECKING:
    from wagerkit import Bet, Event, WagerKit

__all__ = ["bets_list"]


@bets_app.command("list")
def bets_list(
    ctx: typer.Context,
    event: Annotated[int | None, typer.Option(help="Only bets on this event.")] = None,
    user: Annotated[int | None, typer.Option(help="Only bets of this user.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many bets.")] = 50,
    before: Annotated[int | None, typer.Option(help="Only bets older than this id.")] = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """List bets, newest first (a player acting with --as sees only their own)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> tuple[list[Bet], dict[int, Event]]:
        events: dict[int, Event] = {}
        if event is not None:
            events[event] = await kit.events.get(event)
        bets = await kit.events.bets(
            st.actor, user_id=user, event_id=event, limit=limit, before_id=before
        )
        for b in bets:
            if b.event_id not in events:
                events[b.event_id] = await kit.events.get(b.event_id)
        return bets, events

    bets, events = st.run(work)
    next_before = bets[-1].id if len(bets) == limit else None

    def name(b: Bet) -> str | None:
        return next((o.name for o in events[b.event_id].outcomes if o.id == b.outcome_id), None)

    if as_json:
        st.terminal.json(
            {
                "bets": [
                    bet_json(b, st.display_currency(events[b.event_id].currency), name(b))
                    for b in bets
                ],
                "next_before": next_before,
            }
        )
        return
    rows = []
    for b in bets:
        cur = st.display_currency(events[b.event_id].currency)
        rows.append(
            [
                b.id,
                b.event_id,
                name(b) or b.outcome_id,
                b.user_id,
                _money(cur, b.amount),
                b.status.value,
                "" if b.payout is None else cur.format(b.payout),
                utc(b.placed_at),
            ]
        )
    more = f"; older: --before {next_before}" if next_before is not None else ""
    st.terminal.table(BET_COLUMNS, rows, caption=f"{len(rows)} bet(s){more}")
