"""``wagerkit events create``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ...runtime import AsOpt, state
from .. import CurrencyOpt, JsonOpt
from .common import StreamChoice, app, event_json, parse_time, utc

if TYPE_CHECKING:
    from wagerkit import Event, WagerKit

__all__ = ["create"]


@app.command()
def create(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Title (1-200 characters).", show_default=False)],
    outcome: Annotated[
        list[str],
        typer.Option(
            "--outcome",
            "-o",
            help="An outcome to bet on; repeat it 2-10 times, in display order.",
            show_default=False,
        ),
    ],
    start: Annotated[
        str,
        typer.Option(
            help="Start time, ISO 8601 with a zone (2030-05-01T18:00:00+00:00).",
            show_default=False,
        ),
    ],
    lock_at: Annotated[
        str | None,
        typer.Option(help="Betting closes at (default and at the latest: the start time)."),
    ] = None,
    deadline: Annotated[
        str | None,
        typer.Option(
            help="Settle by this time or the event is voided (default: 24 h after betting closes)."
        ),
    ] = None,
    description: Annotated[str, typer.Option(help="Longer text for players.")] = "",
    stream_type: Annotated[
        StreamChoice, typer.Option(help="Kind of stream.")
    ] = StreamChoice.custom,
    stream_url: Annotated[str, typer.Option(help="The stream's http(s) URL.")] = "",
    currency: CurrencyOpt = None,
    min_stake: Annotated[
        str | None, typer.Option(help="Smallest stake per placement (default: 1 minor unit).")
    ] = None,
    max_stake: Annotated[
        str | None, typer.Option(help="Largest stake of a user on the event (default: no limit).")
    ] = None,
    rake_bps: Annotated[
        int, typer.Option(help="House cut of the losing side in basis points (0-1000).")
    ] = 0,
    allow_topup: Annotated[
        bool, typer.Option("--allow-topup", help="Let a user add to their bet (same outcome).")
    ] = False,
    open_now: Annotated[
        bool, typer.Option("--open", help="Open for bets at once (default: scheduled).")
    ] = False,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Create an event (scheduled, or open with --open); audited."""
    from wagerkit import EventDraft, EventStatus, StreamType

    st = state(ctx)
    st.act_as(as_user)
    cur = st.currency(currency)
    draft_fields: dict[str, Any] = {}
    if min_stake is not None:
        draft_fields["min_stake"] = cur.parse(min_stake)
    if max_stake is not None:
        draft_fields["max_stake"] = cur.parse(max_stake)
    draft = EventDraft(
        title=title,
        outcomes=tuple(outcome),
        start_time=parse_time(start, "--start"),
        betting_locked_at=parse_time(lock_at, "--lock-at") if lock_at else None,
        settle_deadline=parse_time(deadline, "--deadline") if deadline else None,
        description=description,
        stream_type=StreamType(stream_type.value),
        stream_url=stream_url,
        currency=cur.code,
        rake_bps=rake_bps,
        allow_topup=allow_topup,
        status=EventStatus.OPEN if open_now else EventStatus.SCHEDULED,
        **draft_fields,
    )

    async def work(kit: WagerKit) -> Event:
        return await kit.events.create(st.actor, draft)

    event = st.run(work)
    if as_json:
        st.terminal.json(event_json(event, cur))
        return
    names = ", ".join(f"{o.id} {o.name}" for o in event.outcomes)
    st.terminal.line(
        f"created event {event.id}: {event.title} ({event.status.value}); outcomes {names}; "
        f"betting closes {utc(event.closes_at)} UTC"
    )
