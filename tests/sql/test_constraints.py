"""The database itself refuses what the invariants forbid, even from code that bypasses the
ledger: a user wallet below zero, a duplicate transfer id, a hold resolved twice; a second bet
of a user on an event, a bet on another event's outcome, a negative pool total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import DataError, IntegrityError

from wagerkit import AccountFlags, AccountKind, Role
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.tables import (
    accounts,
    bets,
    chat_messages,
    event_outcomes,
    events,
    transfers,
)
from wagerkit.domain.events import EventDraft, validate_draft
from wagerkit.ports import NewBet, NewUser

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


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_database_constraints_back_the_event_invariants(
    backend: str, request: pytest.FixtureRequest
) -> None:
    store = SqlStore.from_url(
        request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    )
    await store.create_all()
    async with store() as uow:
        user = await uow.users.add(NewUser("U", Role.PLAYER, NOW))
        wallet = await uow.ledger.open_account(
            AccountKind.USER, "user:1", "COIN", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
        )
        escrow = await uow.ledger.open_account(
            AccountKind.ESCROW, "event:1", "COIN", AccountFlags.NONE
        )
        draft = validate_draft(EventDraft("E", ("a", "b"), NOW + timedelta(hours=1)))
        ev = await uow.events.add(draft, escrow_account_id=escrow.id, created_by=None, now=NOW)
        other = await uow.events.add(draft, escrow_account_id=escrow.id, created_by=None, now=NOW)
        (bet,) = await uow.events.add_bets(
            [NewBet(ev.id, ev.outcomes[0].id, user.id, 10, wallet.id, NOW)]
        )
        await uow.commit()

    def new_bet(**kw: object) -> dict[str, object]:
        row: dict[str, object] = dict(
            event_id=other.id,
            outcome_id=other.outcomes[0].id,
            user_id=user.id,
            amount=5,
            wallet_account_id=wallet.id,
            placed_at=NOW,
            updated_at=NOW,
            status="open",
            payout=None,
            placements=1,
        )
        row.update(kw)
        return row

    good = insert(bets).values(new_bet())
    async with store.engine.begin() as conn:  # the baseline is accepted: each case breaks one rule
        await conn.execute(good)
        await conn.rollback()

    o = event_outcomes.c
    bad_statements = [
        update(events).where(events.c.id == ev.id).values(rake_bps=1001),
        update(events).where(events.c.id == ev.id).values(rake_bps=-1),
        update(events).where(events.c.id == ev.id).values(status="finished"),
        update(events).where(events.c.id == ev.id).values(stream_type="vimeo"),
        update(events).where(events.c.id == ev.id).values(min_stake=0),
        update(events).where(events.c.id == ev.id).values(min_stake=10, max_stake=9),
        update(events).where(events.c.id == ev.id).values(bet_count=-1),
        update(events).where(events.c.id == ev.id).values(status="settled"),  # no winner
        update(event_outcomes).where(o.id == ev.outcomes[0].id).values(total=-1),
        update(event_outcomes).where(o.id == ev.outcomes[0].id).values(bettors=-1),
        insert(event_outcomes).values(event_id=ev.id, name="dup", position=0, total=0, bettors=0),
        insert(bets).values(new_bet(event_id=ev.id, outcome_id=ev.outcomes[1].id)),  # 2nd bet
        insert(bets).values(new_bet(outcome_id=ev.outcomes[0].id)),  # another event's outcome
        insert(bets).values(new_bet(amount=0)),
        insert(bets).values(new_bet(status="pending")),
        insert(bets).values(new_bet(payout=5)),  # an open bet has no payout yet
        insert(bets).values(new_bet(status="won")),  # a decided one has
        insert(bets).values(new_bet(status="won", payout=-1)),
        insert(bets).values(new_bet(placements=0)),
        update(bets).where(bets.c.id == bet.id).values(amount=-10),
        insert(chat_messages).values(
            event_id=ev.id, user_id=user.id, author="U", text="", created_at=NOW, deleted=False
        ),
    ]
    for stmt in bad_statements:
        with pytest.raises(IntegrityError):
            async with store.engine.begin() as conn:
                await conn.execute(stmt)
    with pytest.raises((IntegrityError, DataError)):  # CHECK on SQLite, VARCHAR(500) on PostgreSQL
        async with store.engine.begin() as conn:
            await conn.execute(
                insert(chat_messages).values(
                    event_id=ev.id,
                    user_id=user.id,
                    author="U",
                    text="x" * 501,
                    created_at=NOW,
                    deleted=False,
                )
            )
    await store.dispose()
