"""The database itself refuses what the invariants forbid, even from code that bypasses the
ledger: a user wallet below zero, a duplicate transfer id, a hold resolved twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from wagerkit import AccountFlags, AccountKind
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.tables import accounts, transfers

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _row(tid: str, dr: int, cr: int, **kw: object) -> dict[str, object]:
    row: dict[str, object] = dict(
        id=tid,
        debit_account_id=dr,
        credit_account_id=cr,
        amount=5,
        currency="COIN",
        code="t",
        kind="single",
        timeout_seconds=0,
        reference="",
        memo="",
        timestamp=NOW,
        debit_balance_after=0,
        debit_available_after=0,
        credit_balance_after=0,
        credit_available_after=0,
    )
    row.update(kw)
    return row


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_database_constraints_back_the_invariants(
    backend: str, request: pytest.FixtureRequest
) -> None:
    store = SqlStore.from_url(
        request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    )
    await store.create_all()
    async with store() as uow:
        wallet = await uow.ledger.open_account(
            AccountKind.USER, "user:1", "COIN", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
        )
        treasury = await uow.ledger.open_account(
            AccountKind.TREASURY, "system", "COIN", AccountFlags.NONE
        )
        await uow.commit()

    bad_statements = [
        update(accounts).where(accounts.c.id == wallet.id).values(debits_posted=1),  # below zero
        update(accounts).where(accounts.c.id == treasury.id).values(credits_posted=-1),
        insert(transfers).values([_row("a", 1, 2), _row("a", 1, 2)]),  # duplicate id
        insert(transfers).values(_row("b", 1, 1)),  # same account
        insert(transfers).values(_row("c", 1, 2, amount=0)),
        insert(transfers).values(_row("d", 1, 2, kind="post")),  # post without pending id
        insert(transfers).values(  # one hold resolved twice
            [
                _row("p", 1, 2, kind="pending"),
                _row("x", 1, 2, kind="post", pending_id="p"),
                _row("y", 1, 2, kind="void", pending_id="p"),
            ]
        ),
    ]
    for stmt in bad_statements:
        with pytest.raises(IntegrityError):
            async with store.engine.begin() as conn:
                await conn.execute(stmt)
    await store.dispose()
