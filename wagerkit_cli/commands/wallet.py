"""``wagerkit wallet``: balances, statements and the operator's money tools.

Amounts are human text parsed with the currency's exponent (``12.50`` RUB is 1250 minor
units; ``1.005`` RUB is refused). A negative adjustment may be written directly
(``wagerkit wallet adjust 7 -5 --reason ...``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ..output import balance_json, signed, statement_entry_json, transfer_json, user_json, when
from ..runtime import AsOpt, CliState, state
from ..terminal import Column
from . import CurrencyOpt, JsonOpt, KeyOpt

if TYPE_CHECKING:
    from wagerkit import StatementPage, Transfer, User, WagerKit, WalletBalance

app = typer.Typer(
    help="Wallets: balances, statements, adjustments and transfers.", no_args_is_help=True
)

UserId = Annotated[int, typer.Argument(help="User id.", show_default=False)]
BALANCE_COLUMNS = [
    Column("Currency"),
    Column("Balance", "right", no_wrap=True),
    Column("Available", "right", no_wrap=True),
    Column("Held", "right", no_wrap=True),
    Column("Frozen"),
]
STATEMENT_COLUMNS = [
    Column("Seq", "right", no_wrap=True),
    Column("Time (UTC)", "left", no_wrap=True),
    Column("Code"),
    Column("Amount", "right", no_wrap=True),
    Column("Balance", "right", no_wrap=True),
    Column("Counterparty", "right", no_wrap=True),
    Column("Memo"),
]
# A negative amount ("-5") must reach the AMOUNT argument instead of being read as an option.
SIGNED_ARGS = {"ignore_unknown_options": True}


def _money(st: CliState, units: int, code: str) -> str:
    return f"{st.display_currency(code).format(units)} {code}"


@app.command()
def show(
    ctx: typer.Context, user_id: UserId, currency: CurrencyOpt = None, as_json: JsonOpt = False
) -> None:
    """Show a user's wallets: balance, available (minus holds) and held, per currency."""
    st = state(ctx)
    code = st.currency(currency).code if currency else None

    async def work(kit: WagerKit) -> tuple[User, list[WalletBalance]]:
        user = await kit.users.get(st.actor, user_id)
        if code is not None:
            return user, [await kit.wallets.balance(st.actor, user_id, code)]
        return user, sorted(await kit.wallets.balances(st.actor, user_id), key=lambda b: b.currency)

    user, wallets = st.run(work)
    if as_json:
        st.terminal.json(
            {
                "user": user_json(user),
                "wallets": [balance_json(b, st.display_currency(b.currency)) for b in wallets],
            }
        )
        return
    rows = []
    for b in wallets:
        cur = st.display_currency(b.currency)
        rows.append(
            [
                b.currency,
                cur.format(b.balance),
                cur.format(b.available),
                cur.format(b.held),
                "yes" if b.frozen else "",
            ]
        )
    st.terminal.table(
        BALANCE_COLUMNS, rows, title=f"Wallets of {user.display_name} (user {user.id})"
    )


@app.command(context_settings=SIGNED_ARGS)
def adjust(
    ctx: typer.Context,
    user_id: UserId,
    amount: Annotated[
        str, typer.Argument(help="Signed amount, e.g. 12.50 or -5.", show_default=False)
    ],
    reason: Annotated[
        str, typer.Option(help="Why (required, recorded in the audit trail).", show_default=False)
    ],
    currency: CurrencyOpt = None,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Credit (positive) or debit (negative) a wallet from/to the treasury, audited (with the
    acting user given by --as, else the operator console)."""
    st = state(ctx)
    st.act_as(as_user)
    cur = st.currency(currency)
    units = cur.parse(amount, allow_negative=True)

    async def work(kit: WagerKit) -> tuple[Transfer, WalletBalance]:
        t = await kit.wallets.adjust(
            st.actor, user_id, units, cur.code, reason=reason, idempotency_key=key
        )
        return t, await kit.wallets.balance(st.actor, user_id, cur.code)

    t, wallet = st.run(work)
    if as_json:
        st.terminal.json({"transfer": transfer_json(t, cur), "wallet": balance_json(wallet, cur)})
        return
    st.terminal.line(
        f"adjusted user {user_id} by {signed(cur, units)} {cur.code} (transfer {t.id}); "
        f"balance {_money(st, wallet.balance, cur.code)}, "
        f"available {_money(st, wallet.available, cur.code)}"
    )


@app.command()
def transfer(
    ctx: typer.Context,
    from_id: Annotated[int, typer.Argument(help="Paying user id.", show_default=False)],
    to_id: Annotated[int, typer.Argument(help="Receiving user id.", show_default=False)],
    amount: Annotated[str, typer.Argument(help="Amount, e.g. 12.50.", show_default=False)],
    currency: CurrencyOpt = None,
    memo: Annotated[str, typer.Option(help="Note shown on both statements.")] = "",
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move money from one user's wallet to another's."""
    st = state(ctx)
    cur = st.currency(currency)
    units = cur.parse(amount)

    async def work(kit: WagerKit) -> tuple[Transfer, WalletBalance, WalletBalance]:
        t = await kit.wallets.transfer(
            st.actor, from_id, to_id, units, cur.code, memo=memo, idempotency_key=key
        )
        return (
            t,
            await kit.wallets.balance(st.actor, from_id, cur.code),
            await kit.wallets.balance(st.actor, to_id, cur.code),
        )

    t, src, dst = st.run(work)
    if as_json:
        st.terminal.json(
            {
                "transfer": transfer_json(t, cur),
                "from_wallet": balance_json(src, cur),
                "to_wallet": balance_json(dst, cur),
            }
        )
        return
    st.terminal.line(
        f"transferred {_money(st, t.amount, cur.code)} from user {from_id} to user {to_id} "
        f"(transfer {t.id}); "
        f"balances: user {from_id} {_money(st, src.balance, cur.code)}, "
        f"user {to_id} {_money(st, dst.balance, cur.code)}"
    )


@app.command()
def statement(
    ctx: typer.Context,
    user_id: UserId,
    currency: CurrencyOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Entries per page.")] = 50,
    before: Annotated[
        int | None, typer.Option(help="Show entries older than this seq (from the previous page).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A wallet's entries, newest first, with the balance after each."""
    st = state(ctx)
    cur = st.currency(currency)

    async def work(kit: WagerKit) -> StatementPage:
        return await kit.wallets.statement(st.actor, user_id, cur.code, limit=limit, before=before)

    page = st.run(work)
    if as_json:
        st.terminal.json(
            {
                "user_id": user_id,
                "currency": cur.code,
                "entries": [statement_entry_json(e, cur) for e in page.entries],
                "next_before": page.next_before,
            }
        )
        return
    rows = [
        [
            e.seq,
            when(e.timestamp),
            e.code,
            signed(cur, e.amount),
            cur.format(e.balance_after),
            e.counterparty_account_id,
            e.memo,
        ]
        for e in page.entries
    ]
    more = f"; older: --before {page.next_before}" if page.next_before is not None else ""
    st.terminal.table(
        STATEMENT_COLUMNS,
        rows,
        title=f"Statement of user {user_id} in {cur.code}",
        caption=f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}{more}",
    )
