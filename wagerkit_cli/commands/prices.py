"""``wagerkit prices``: set a price by hand (staff, audited), show the current prices and a
symbol's ticks, and record one sampling pass from the configured feed (docs/prices.md).

Prices print as exact decimal text; ``--json`` gives ``{symbol, price, observed_at, source}``
per tick, the shape of the HTTP API.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import abort
from ..output import when
from ..runtime import AsOpt, state
from ..terminal import Column
from . import JsonOpt

if TYPE_CHECKING:
    from wagerkit import CurrentPrice, PricesDue, Tick, WagerKit

__all__ = ["DEMO_SYMBOL", "app", "seed_prices_demo", "tick_json"]

DEMO_SYMBOL = "DEMO-USD"
DEMO_HISTORY_SECONDS = 300

app = typer.Typer(
    help="Prices: set one by hand, show current prices and ticks, record a sampling pass.",
    no_args_is_help=True,
)

TICK_COLUMNS = [
    Column("Symbol", no_wrap=True),
    Column("Price", "right", no_wrap=True),
    Column("Observed (UTC)", no_wrap=True),
    Column("Source", no_wrap=True),
]

SymbolArg = Annotated[str, typer.Argument(help="Market symbol, e.g. BTC-USD or DEMO-USD.")]


def tick_json(t: Tick) -> dict[str, Any]:
    from wagerkit import price_text

    return {
        "symbol": t.symbol,
        "price": price_text(t.price),
        "observed_at": t.observed_at.isoformat(),
        "source": t.source,
    }


def current_json(c: CurrentPrice) -> dict[str, Any]:
    if c.tick is None:
        return {
            "symbol": c.symbol,
            "price": None,
            "observed_at": None,
            "source": None,
            "fresh": False,
        }
    return {**tick_json(c.tick), "fresh": c.fresh}


def _row(t: Tick) -> list[object]:
    from wagerkit import price_text

    return [t.symbol, price_text(t.price), when(t.observed_at), t.source]


@app.command("set")
def set_price(
    ctx: typer.Context,
    symbol: SymbolArg,
    price: Annotated[str, typer.Argument(help="Exact decimal price, e.g. 97000.12.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail).")] = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Store a price for SYMBOL observed now (operators and admins; audited)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Tick:
        return await kit.prices.set_price(st.actor, symbol, price, reason)

    tick = st.run(work)
    if as_json:
        st.terminal.json(tick_json(tick))
    else:
        st.terminal.line(f"{tick.symbol} {_row(tick)[1]} at {when(tick.observed_at)} (operator)")


@app.command()
def show(
    ctx: typer.Context,
    symbol: Annotated[
        str | None, typer.Argument(help="One symbol (default: every configured symbol).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the latest price of SYMBOL, or of every configured symbol."""
    st = state(ctx)
    if symbol is not None:

        async def one(kit: WagerKit) -> Tick:
            from wagerkit import PriceNotFound, parse_symbol

            tick = await kit.prices.latest(symbol)
            if tick is None:
                raise PriceNotFound(f"no price recorded for {parse_symbol(symbol)}")
            return tick

        tick = st.run(one)
        if as_json:
            st.terminal.json(tick_json(tick))
        else:
            st.terminal.table(TICK_COLUMNS, [_row(tick)])
        return

    async def every(kit: WagerKit) -> list[CurrentPrice]:
        return await kit.prices.current()

    current = st.run(every)
    if as_json:
        st.terminal.json({"prices": [current_json(c) for c in current]})
        return
    columns = [*TICK_COLUMNS, Column("Fresh", no_wrap=True)]
    rows = [
        [*_row(c.tick), "yes" if c.fresh else "no"] if c.tick else [c.symbol, "-", "-", "-", "no"]
        for c in current
    ]
    st.terminal.table(columns, rows, caption=f"{len(rows)} configured symbol(s)")


@app.command()
def history(
    ctx: typer.Context,
    symbol: SymbolArg,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many ticks.")] = 20,
    since: Annotated[
        str | None, typer.Option(help="Only ticks observed at or after this ISO 8601 time.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List SYMBOL's recorded ticks, newest first."""
    st = state(ctx)
    start: datetime | None = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise abort(f"--since is not an ISO 8601 time: {since[:40]!r}") from None
        if start.tzinfo is None:
            raise abort("--since needs a zone (Z or +hh:mm)")

    async def work(kit: WagerKit) -> list[Tick]:
        return await kit.prices.history(symbol, since=start, limit=limit)

    ticks = st.run(work)
    if as_json:
        st.terminal.json({"symbol": symbol.strip(), "ticks": [tick_json(t) for t in ticks]})
        return
    st.terminal.table(TICK_COLUMNS, [_row(t) for t in ticks], caption=f"{len(ticks)} tick(s)")


@app.command()
def record(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Run one sampling pass: quote every configured symbol from the configured feed
    (WAGERKIT_PRICE_FEED) and store the ticks."""
    st = state(ctx)

    async def work(kit: WagerKit) -> PricesDue:
        return await kit.prices.record()

    report = st.run(work)
    if as_json:
        st.terminal.json({"recorded": report.recorded, "missing": report.missing})
        return
    recorded = ", ".join(report.recorded) or "none"
    missing = f"; no price: {', '.join(report.missing)}" if report.missing else ""
    st.terminal.line(f"recorded: {recorded}{missing}")


async def seed_prices_demo(kit: WagerKit, seed: str = "wagerkit") -> list[Tick]:
    """The demo's prices: the last five minutes of ``DEMO-USD`` from the seeded random walk,
    a tick a second (the same walk the ``random`` feed records, so ``wagerkit jobs run``
    carries the series on). Idempotent; returns the ticks (stored now or before)."""
    from datetime import timedelta

    from wagerkit.adapters.pricefeeds import RandomWalkFeed

    feed = kit.prices.feed if isinstance(kit.prices.feed, RandomWalkFeed) else RandomWalkFeed(seed)
    now = kit.deps.clock.now()
    ticks = [
        feed.tick_at(DEMO_SYMBOL, now - timedelta(seconds=s))
        for s in range(DEMO_HISTORY_SECONDS, -1, -feed.step_seconds)
    ]
    await kit.prices.load(ticks)
    return ticks
