"""``wagerkit jobs``: the job runner (SPEC section 7), one pass for cron or a loop.

A pass locks events whose betting closed, voids events not settled by their deadline (every
stake refunded), finishes settlements and voids left half-done, and voids expired holds; it
also records prices and prunes ticks older than ``WAGERKIT_TICK_RETENTION`` (reported as
``ticks_pruned``). It is idempotent, and several runners on one PostgreSQL never act on the
same event twice.
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import describe
from ..output import when
from ..runtime import CliState, state
from . import JsonOpt

if TYPE_CHECKING:
    from wagerkit import TickReport, WagerKit

__all__ = ["app"]

app = typer.Typer(
    help="The job runner: lock due events, void overdue ones, finish interrupted "
    "settlements, expire holds.",
    no_args_is_help=True,
)


def _predictions(r: TickReport) -> dict[str, Any] | None:
    """What the predictions source did (docs/predictions.md), when it did something."""
    part: Any = r.parts.get("predictions")
    if part is None or part.idle:
        return None
    c, rounds = part.contracts, part.rounds
    return {
        "contracts_settled": c.settled,
        "contracts_voided": c.voided,
        "rounds_created": list(rounds.created),
        "rounds_locked": list(rounds.locked),
        "rounds_settled": list(rounds.settled),
        "rounds_voided": list(rounds.voided),
    }


def _orders_part(r: TickReport) -> dict[str, Any] | None:
    """What the orders source did (docs/orders.md), when it did anything."""
    part = r.parts.get("orders")
    if part is None or part.idle:
        return None
    return {
        "expired": list(getattr(part, "expired", [])),
        "closed_no_response": list(getattr(part, "closed_no_response", [])),
        "refunds": getattr(part, "refunds", 0),
    }


def _digests_part(r: TickReport) -> dict[str, Any] | None:
    """What the order digests did (docs/orders.md, present with a Telegram bot): the users
    who got one, whose delivery failed (retried in a minute) and whose digest was dropped."""
    part = r.parts.get("order_digests")
    if part is None or part.idle:
        return None
    return {k: list(getattr(part, k, [])) for k in ("sent", "failed", "dropped")}


def _ticks_pruned(r: TickReport) -> int:
    """How many old price ticks the prices source pruned (docs/prices.md)."""
    return int(getattr(r.parts.get("prices"), "pruned", 0) or 0)


def report_json(r: TickReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "locked": list(r.locked),
        "voided": list(r.voided),
        "resumed": list(r.resumed),
        "expired_holds": r.expired_holds,
        "idle": r.idle,
    }
    if (pred := _predictions(r)) is not None:
        out["predictions"] = pred
    if (orders := _orders_part(r)) is not None:
        out["orders"] = orders
    if (digests := _digests_part(r)) is not None:
        out["order_digests"] = digests
    if pruned := _ticks_pruned(r):
        out["ticks_pruned"] = pruned
    return out


def report_line(r: TickReport) -> str:
    if r.idle:
        return "nothing due"

    def ids(values: list[int]) -> str:
        return ", ".join(str(v) for v in values) if values else "none"

    line = (
        f"locked events: {ids(r.locked)}; voided events: {ids(r.voided)}; "
        f"resumed events: {ids(r.resumed)}; expired holds: {r.expired_holds}"
    )
    if (p := _predictions(r)) is not None:
        line += (
            f"; contracts settled: {p['contracts_settled']}, voided: {p['contracts_voided']}; "
            f"rounds created: {ids(p['rounds_created'])}, locked: {ids(p['rounds_locked'])}, "
            f"settled: {ids(p['rounds_settled'])}, voided: {ids(p['rounds_voided'])}"
        )
    if (orders := _orders_part(r)) is not None:
        line += (
            f"; expired orders: {len(orders['expired'])}; orders closed unanswered: "
            f"{len(orders['closed_no_response'])} ({orders['refunds']} fees refunded)"
        )
    if (d := _digests_part(r)) is not None:
        line += (
            f"; order digests sent: {len(d['sent'])}, to retry: {len(d['failed'])}, "
            f"dropped: {len(d['dropped'])}"
        )
    if pruned := _ticks_pruned(r):
        line += f"; old price ticks pruned: {pruned}"
    return line


@app.command()
def tick(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Run one pass over everything due now (for cron) and print what it did."""
    st = state(ctx)

    async def work(kit: WagerKit) -> TickReport:
        return await kit.jobs.tick()

    report = st.run(work)
    if as_json:
        st.terminal.json(report_json(report))
    else:
        st.terminal.line(report_line(report))


def _print_pass(st: CliState, report: TickReport, as_json: bool) -> None:
    now = datetime.now(UTC)
    if as_json:  # JSON lines: one compact document per pass that did something
        sys.stdout.write(json.dumps({"at": now.isoformat(), **report_json(report)}) + "\n")
        sys.stdout.flush()
    else:
        st.terminal.line(f"{when(now)} {report_line(report)}")


@app.command()
def run(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option(min=0.05, max=3600, help="Seconds between passes.")
    ] = 1.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON document per line for each busy pass.")
    ] = False,
) -> None:
    """Run a pass every --interval seconds until Ctrl-C or SIGTERM (then exit 0 after the
    pass under way). Passes that did something are printed; a failing pass is reported on
    stderr and retried at the next one."""
    st = state(ctx)

    async def work(kit: WagerKit) -> None:
        import asyncio
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()

        def on_signal() -> None:
            if stop.is_set() and main is not None:  # asked twice: stop without waiting
                main.cancel()
            stop.set()

        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal)
                installed.append(sig)
        st.terminal.note(
            f"jobs: a pass every {interval:g}s on {st.safe_url}; Ctrl-C or SIGTERM to stop"
        )
        try:
            while not stop.is_set():
                try:
                    report = await kit.jobs.tick()
                except Exception as exc:  # idempotent: the next pass tries again
                    line, _ = describe(exc)
                    st.terminal.note(f"jobs: pass failed: {line}; retrying in {interval:g}s")
                else:
                    if not report.idle:
                        _print_pass(st, report, as_json)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
        st.terminal.note("jobs: stopped")

    st.run(work)
