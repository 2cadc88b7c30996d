"""``wagerkit predictions`` and ``wagerkit rounds``: price predictions (docs/predictions.md).

Stakes are human amounts in the predictions currency (``WAGERKIT_PREDICTION_CURRENCY``).
``predictions place`` opens a fixed-odds contract, or a multiplier one with ``--leverage``;
the entry price is the latest stored tick no older than the price max age (``wagerkit prices
set`` or the recorder put them there). Player commands take ``--as USER``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..runtime import AsOpt, state
from ..terminal import Column
from . import JsonOpt, KeyOpt

if TYPE_CHECKING:
    from wagerkit import Contract, Round, WagerKit

__all__ = ["app", "rounds_app", "seed_predictions_demo"]

app = typer.Typer(
    help="Price predictions: place, list, show, close early, void; the house's exposure.",
    no_args_is_help=True,
)
rounds_app = typer.Typer(
    help="Pari-mutuel price rounds: list, show, bet, void.", no_args_is_help=True
)

ContractId = Annotated[int, typer.Argument(help="Contract id.", show_default=False)]
RoundId = Annotated[int, typer.Argument(help="Round id.", show_default=False)]
Direction = Annotated[str, typer.Argument(help="up or down (long/short also accepted).")]
Stake = Annotated[str, typer.Argument(help="Stake, a human amount (e.g. 10 or 2.50).")]
ReasonOpt = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]

CONTRACT_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("User", "right", no_wrap=True),
    Column("Symbol", no_wrap=True),
    Column("Dir", no_wrap=True),
    Column("Kind", no_wrap=True),
    Column("Stake", "right", no_wrap=True),
    Column("Entry", "right", no_wrap=True),
    Column("Exit", "right", no_wrap=True),
    Column("Status", no_wrap=True),
    Column("Payout", "right", no_wrap=True),
    Column("Expires (UTC)", no_wrap=True),
]
ROUND_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Symbol", no_wrap=True),
    Column("Status", no_wrap=True),
    Column("Up", "right", no_wrap=True),
    Column("Down", "right", no_wrap=True),
    Column("Lock", "right", no_wrap=True),
    Column("Close", "right", no_wrap=True),
    Column("Winner", no_wrap=True),
    Column("Bets close (UTC)", no_wrap=True),
]


def _t(v: Any) -> str:
    return "" if v is None else str(v)[:19].replace("T", " ")


def _contract_row(c: Contract) -> list[Any]:
    from wagerkit import contract_view

    v = contract_view(c)
    kind = v["kind"] if c.leverage is None else f"x{c.leverage}"
    return [
        c.id,
        c.user_id,
        c.symbol,
        v["direction"],
        kind,
        c.stake,
        v["entry_price"],
        v["exit_price"] or "",
        v["status"],
        "" if c.payout is None else c.payout,
        _t(v["expires_at"]),
    ]


def _round_row(r: Round) -> list[Any]:
    from wagerkit import round_view

    v = round_view(r)
    return [
        r.id,
        r.symbol,
        v["status"],
        r.up_total,
        r.down_total,
        v["lock_price"] or "",
        v["close_price"] or "",
        v["winner"] or "",
        _t(v["bets_close_at"]),
    ]


def _show_contract(ctx: typer.Context, c: Contract, as_json: bool, note: str = "") -> None:
    from wagerkit import contract_view

    st = state(ctx)
    if as_json:
        st.terminal.json({"contract": contract_view(c)})
        return
    st.terminal.table(CONTRACT_COLUMNS, [_contract_row(c)], caption=note or None)


def _stake(ctx: typer.Context, kit: WagerKit, text: str) -> int:
    st = state(ctx)
    return st.display_currency(kit.predictions.policy.currency).parse(text)


@app.command("place")
def place(
    ctx: typer.Context,
    symbol: Annotated[str, typer.Argument(help="Market symbol, e.g. BTC-USD.")],
    direction: Direction,
    stake: Stake,
    duration: Annotated[str, typer.Option(help="Duration from the configured set (1m, 30s…).")],
    leverage: Annotated[
        int | None, typer.Option(help="A multiplier contract at this leverage.")
    ] = None,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Open a contract at the latest fresh price (fixed odds unless --leverage)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Any:
        units = _stake(ctx, kit, stake)
        return await kit.predictions.place(
            st.actor,
            symbol,
            direction,
            units,
            duration=duration,
            leverage=leverage,
            idempotency_key=key,
        )

    r = st.run(work)
    if as_json:
        from wagerkit import contract_view

        st.terminal.json({"contract": contract_view(r.contract), "replayed": r.replayed})
        return
    _show_contract(ctx, r.contract, False, "replayed: nothing moved" if r.replayed else "")


@app.command("list")
def list_contracts(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="open, won, lost, push or void.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    user: Annotated[int | None, typer.Option(help="Only this user's (staff).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 50,
    before: Annotated[int | None, typer.Option(help="Only contracts older than this id.")] = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """List contracts, newest first (a player acting with --as sees only their own)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> list[Contract]:
        return await kit.predictions.list_contracts(
            st.actor, user_id=user, status=status, symbol=symbol, limit=limit, before_id=before
        )

    rows = st.run(work)
    nxt = rows[-1].id if len(rows) == limit else None
    if as_json:
        from wagerkit import contract_view

        st.terminal.json({"contracts": [contract_view(c) for c in rows], "next_before": nxt})
        return
    more = f"; older: --before {nxt}" if nxt is not None else ""
    st.terminal.table(
        CONTRACT_COLUMNS, [_contract_row(c) for c in rows], caption=f"{len(rows)} contract(s){more}"
    )


@app.command("show")
def show(
    ctx: typer.Context, contract_id: ContractId, as_json: JsonOpt = False, as_user: AsOpt = None
) -> None:
    """One contract: status, entry and exit prices with their tick times, profit, payout."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Contract:
        return await kit.predictions.get(st.actor, contract_id)

    _show_contract(ctx, st.run(work), as_json)


@app.command("close")
def close(
    ctx: typer.Context, contract_id: ContractId, as_json: JsonOpt = False, as_user: AsOpt = None
) -> None:
    """Close an open multiplier contract early at the latest fresh price."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Contract:
        return await kit.predictions.close(st.actor, contract_id)

    _show_contract(ctx, st.run(work), as_json)


@app.command("void")
def void(
    ctx: typer.Context, contract_id: ContractId, reason: ReasonOpt, as_json: JsonOpt = False
) -> None:
    """Void an open contract: stake and commission refunded (staff, audited)."""
    st = state(ctx)

    async def work(kit: WagerKit) -> Contract:
        return await kit.predictions.void(st.actor, contract_id, reason)

    _show_contract(ctx, st.run(work), as_json)


@app.command("exposure")
def exposure(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The house's exposure (maximum payouts of open contracts) per symbol and in total."""
    st = state(ctx)

    async def work(kit: WagerKit) -> Any:
        return await kit.predictions.exposure(st.actor)

    rows = st.run(work)
    if as_json:
        st.terminal.json(
            {
                "exposure": [
                    {
                        "currency": r.currency,
                        "symbol": r.symbol,
                        "exposure": r.exposure,
                        "limit": r.limit or None,
                    }
                    for r in rows
                ]
            }
        )
        return
    cols = [
        Column("Currency"),
        Column("Symbol"),
        Column("Exposure", "right"),
        Column("Limit", "right"),
    ]
    st.terminal.table(cols, [[r.currency, r.symbol, r.exposure, r.limit or "none"] for r in rows])


# -- rounds ------------------------------------------------------------------------------------
@rounds_app.command("list")
def rounds_list(
    ctx: typer.Context,
    symbol: Annotated[str | None, typer.Argument(help="Only this symbol.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Rounds, newest first."""
    st = state(ctx)

    async def work(kit: WagerKit) -> list[Round]:
        return await kit.predictions.list_rounds(symbol=symbol, limit=limit)

    rows = st.run(work)
    if as_json:
        from wagerkit import round_view

        st.terminal.json({"rounds": [round_view(r) for r in rows]})
        return
    st.terminal.table(ROUND_COLUMNS, [_round_row(r) for r in rows], caption=f"{len(rows)} round(s)")


def _show_round(
    ctx: typer.Context, r: Round, as_json: bool, extra: dict[str, Any] | None = None
) -> None:
    from wagerkit import round_view

    st = state(ctx)
    if as_json:
        st.terminal.json({"round": round_view(r), **(extra or {})})
        return
    st.terminal.table(ROUND_COLUMNS, [_round_row(r)])


@rounds_app.command("show")
def rounds_show(ctx: typer.Context, round_id: RoundId, as_json: JsonOpt = False) -> None:
    """One round with its pool, lock and close prices."""
    st = state(ctx)

    async def work(kit: WagerKit) -> Round:
        return await kit.predictions.get_round(round_id)

    _show_round(ctx, st.run(work), as_json)


@rounds_app.command("bet")
def rounds_bet(
    ctx: typer.Context,
    round_id: RoundId,
    direction: Direction,
    stake: Stake,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Bet on up or down in an open round (one bet per user per round)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Any:
        units = _stake(ctx, kit, stake)
        return await kit.predictions.bet_round(
            st.actor, round_id, direction, units, idempotency_key=key
        )

    r = st.run(work)
    bet = {"id": r.bet.id, "direction": r.bet.direction.value, "amount": r.bet.amount}
    _show_round(ctx, r.round, as_json, {"bet": bet, "replayed": r.replayed})


@rounds_app.command("void")
def rounds_void(
    ctx: typer.Context, round_id: RoundId, reason: ReasonOpt, as_json: JsonOpt = False
) -> None:
    """Void an open or locked round: every stake refunded (staff, audited)."""
    st = state(ctx)

    async def work(kit: WagerKit) -> Round:
        return await kit.predictions.void_round(st.actor, round_id, reason)

    _show_round(ctx, st.run(work), as_json)


async def seed_predictions_demo(kit: WagerKit, players: list[Any], symbol: str) -> dict[str, Any]:
    """Demo data: a price for ``symbol``, open contracts of both kinds and a live round with
    bets (``wagerkit demo`` calls this with its players)."""
    from dataclasses import replace
    from decimal import Decimal

    from wagerkit import Actor, Tick, entry_tick

    now = kit.deps.clock.now()
    p = kit.predictions.policy
    async with kit.deps.uow() as uow:  # a fresh price to enter at, unless the walk has one
        if entry_tick(await uow.prices.latest(symbol, now), now, p.max_age) is None:
            await uow.prices.add_ticks([Tick(symbol, now, Decimal("100"), "operator")])
            await uow.commit()
    contracts = []
    for i, u in enumerate(players[:4]):
        actor = Actor.of(u)
        lev = p.leverages[0] if i % 2 and p.leverages else None
        r = await kit.predictions.place(
            actor,
            symbol,
            ("up", "down")[i % 2],
            10 + i,
            duration=p.durations[-1],
            leverage=lev,
            idempotency_key=f"demo-contract-{i}",
        )
        contracts.append(r.contract.id)
    first = not await kit.predictions.list_rounds(symbol=symbol, limit=1)
    if symbol not in p.round_symbols:  # the demo symbol gets its round even if unconfigured
        kit.predictions.policy = replace(p, round_symbols=(*p.round_symbols, symbol))
    await kit.predictions.run_rounds()
    kit.predictions.policy = p
    rounds = await kit.predictions.current_rounds(symbol)
    bets = 0
    if rounds and first:  # bets only in the demo's first round: a second run moves nothing
        for i, u in enumerate(players[:4]):
            rid = rounds[0].id
            await kit.predictions.bet_round(
                Actor.of(u), rid, ("up", "down")[i % 2], 5, idempotency_key=f"demo-round-{i}"
            )
            bets += 1
    return {"contracts": contracts, "round": rounds[0].id if rounds else None, "round_bets": bets}
