"""``wagerkit events`` and ``wagerkit bets``: pari-mutuel events for operators.

Times are ISO 8601 with a zone (``2030-05-01T18:00:00+02:00`` or ``...Z``) and are shown in
UTC. Stakes are human amounts in the event's currency (``--min-stake 0.50 -c RUB``). An
outcome is named on the command line by its id or by its name (a number that is the id of one
of the event's outcomes is read as that id, anything else as a name, case-insensitive).

Settling and voiding a large event runs in chunks; on a terminal (and without ``--json``) a
progress bar on stderr follows them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import abort
from ..output import amounts, when
from ..runtime import AsOpt, CliState, state
from ..terminal import Column
from . import CurrencyOpt, JsonOpt

if TYPE_CHECKING:
    from wagerkit import Currency, WagerKit
    from wagerkit.domain.events import Bet, Event
    from wagerkit.services.events import Progress, SettlementReport

__all__ = ["app", "bet_json", "bets_app", "event_json", "outcome_arg", "parse_time"]

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
    from wagerkit.domain.errors import UnknownOutcome

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
    from wagerkit.domain.events import pool_view

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


@contextlib.contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Progress | None]:
    """A Rich progress bar on stderr, or ``None`` when stderr is not a terminal (or
    ``enabled`` is false, e.g. with ``--json``)."""
    if not enabled:
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bets"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# -- events ---------------------------------------------------------------------------------
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
    from wagerkit.domain.events import EventDraft, EventStatus, StreamType

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
    from wagerkit.domain.events import EventStatus

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
    from wagerkit.domain.events import pool_view
    from wagerkit.domain.money import MAX_AMOUNT

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


def _transition(
    ctx: typer.Context, event_id: int, action: str, as_json: bool, as_user: int | None
) -> None:
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Event:
        if action == "open":
            return await kit.events.open(st.actor, event_id)
        return await kit.events.lock(st.actor, event_id)

    event = st.run(work)
    if as_json:
        st.terminal.json(event_json(event, st.display_currency(event.currency)))
    else:
        st.terminal.line(f"event {event.id} ({event.title}) is {event.status.value}")


@app.command("open")
def open_(
    ctx: typer.Context, event_id: EventId, as_json: JsonOpt = False, as_user: AsOpt = None
) -> None:
    """Open a scheduled event for bets (until betting closes); audited."""
    _transition(ctx, event_id, "open", as_json, as_user)


@app.command()
def lock(
    ctx: typer.Context, event_id: EventId, as_json: JsonOpt = False, as_user: AsOpt = None
) -> None:
    """Stop taking bets now (before the scheduled close); audited."""
    _transition(ctx, event_id, "lock", as_json, as_user)


def settlement_json(r: SettlementReport, cur: Currency) -> dict[str, Any]:
    """What a settlement paid, as the service reported it (the rule of SPEC section 3)."""
    return {
        "winning_outcome_id": r.event.winning_outcome_id,
        "winner": winner_name(r.event),
        "refund": r.refund,
        "winning_bets": r.winning_bets,
        **amounts(cur, paid=r.paid, rake=r.rake),
    }


@app.command()
def settle(
    ctx: typer.Context,
    event_id: EventId,
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome", "-o", help="The winning outcome: its id or its name.", show_default=False
        ),
    ],
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Declare the winner and pay out (exactly once; audited). Winners share the losing
    stakes (minus the rake) in proportion to their stakes; if nobody bet on the winner every
    stake is refunded. An interrupted settlement is finished by running this again."""
    st = state(ctx)
    st.act_as(as_user)

    with progress_bar(f"Settling event {event_id}", not as_json) as progress:

        async def work(kit: WagerKit) -> SettlementReport:
            event = await kit.events.get(event_id)
            winner = outcome_arg(event, outcome)
            report = await kit.events.settle_report(
                st.actor, event_id, winner, reason=reason, progress=progress
            )
            if progress is not None:
                progress(report.event.bet_count, report.event.bet_count)
            return report

        report = st.run(work)
    event = report.event
    cur = st.display_currency(event.currency)
    summary = settlement_json(report, cur)
    if as_json:
        st.terminal.json({"event": event_json(event, cur), "settlement": summary})
        return
    if summary["refund"]:
        st.terminal.line(
            f"settled event {event.id} ({event.title}): {summary['winner']} won but nobody bet "
            f"on it; {event.bet_count} stake(s) refunded, {_money(cur, summary['paid'])}"
        )
    else:
        st.terminal.line(
            f"settled event {event.id} ({event.title}): {summary['winner']} won; "
            f"{summary['winning_bets']} winning bet(s) paid {_money(cur, summary['paid'])}, "
            f"rake {_money(cur, summary['rake'])}"
        )


@app.command()
def void(
    ctx: typer.Context,
    event_id: EventId,
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Cancel an event: every stake is refunded in full (audited)."""
    st = state(ctx)
    st.act_as(as_user)

    with progress_bar(f"Voiding event {event_id}", not as_json) as progress:

        async def work(kit: WagerKit) -> Event:
            final = await kit.events.void(st.actor, event_id, reason=reason, progress=progress)
            if progress is not None:
                progress(final.bet_count, final.bet_count)
            return final

        event = st.run(work)
    cur = st.display_currency(event.currency)
    if as_json:
        st.terminal.json({"event": event_json(event, cur), **amounts(cur, refunded=event.pool)})
        return
    st.terminal.line(
        f"voided event {event.id} ({event.title}): {event.bet_count} stake(s) refunded, "
        f"{_money(cur, event.pool)}"
    )


# -- bets -----------------------------------------------------------------------------------
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
