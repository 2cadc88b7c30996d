"""``wagerkit events open``, ``lock``, ``settle`` and ``void``: an event's way from scheduled
to resolved. Settling and voiding a large event runs in chunks; on a terminal (and without
``--json``) a progress bar on stderr follows them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ...output import amounts
from ...runtime import AsOpt, state
from .. import JsonOpt
from .common import EventId, ReasonOpt, _money, app, event_json, outcome_arg, winner_name

if TYPE_CHECKING:
    from wagerkit import Currency, Event, Progress, SettlementReport, WagerKit

__all__ = ["lock", "open_", "progress_bar", "settle", "settlement_json", "void"]


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
