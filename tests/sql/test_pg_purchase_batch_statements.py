"""Round trips of a ticket-purchase batch on PostgreSQL, counted with SQLAlchemy's
``before_cursor_execute`` plus the batch read, which is sent unprepared through the driver
(the COMMIT, which carries the deferred ledger write and the tickets' insert, is not counted).

A batch of keyed random purchases on a raffle the process has seen is: the batch read (raffle
``FOR KEY SHARE``, replays and their tickets, wallet ids, number probes, reserved ticket ids:
one statement) and the ledger's lock-and-read; a raffle with a per-user limit adds the buyers'
advisory locks; the token path (`POST /raffles/{id}/tickets`) adds its users read. It was seven
statements before (measured: 7.00 per commit in a keyed hot-raffle run).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from wagerkit import Actor, PrizeMode, RaffleCategoryDraft, RaffleDraft, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.adapters.sql.session import Session
from wagerkit.ports import UnitOfWork

pytestmark = pytest.mark.postgres

SYSTEM = Actor.system("test")
OPERATOR = Actor(None, Role.OPERATOR, "op")


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[SqlStore]:
    upgrade(pg_url)
    store = SqlStore.from_url(pg_url)
    try:
        yield store
    finally:
        await store.dispose()


@pytest.mark.parametrize("limit", [None, 5])
async def test_a_purchase_batch_is_two_or_three_statements(
    pg: SqlStore, monkeypatch: pytest.MonkeyPatch, limit: int | None
) -> None:
    kit = WagerKit(pg)
    users = [await kit.users.add(SYSTEM, f"Buyer {i}") for i in range(20)]
    c = await kit.raffles.create_category(
        OPERATOR, RaffleCategoryDraft("Counted", 10, 10_000, 1, 0, (), PrizeMode.PROPORTIONAL)
    )
    now = kit.deps.clock.now()
    r = await kit.raffles.create(
        OPERATOR, RaffleDraft("counted", c.id, now, now + timedelta(days=1), max_per_user=limit)
    )
    statements: list[str] = []
    per_transaction: list[int] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    read = Session.driver_rows

    async def counted_read(self: Session, sql: str, params: Any, **kw: Any) -> Any:
        statements.append(sql)
        return await read(self, sql, params, **kw)

    real = kit.deps.uow

    def counting() -> UnitOfWork:
        per_transaction.append(len(statements))
        return real()

    monkeypatch.setattr(Session, "driver_rows", counted_read)
    sa_event.listen(pg.engine.sync_engine, "before_cursor_execute", count)
    kit.deps.uow = counting  # type: ignore[assignment]

    async def batch(key: str) -> int:
        start = len(per_transaction)
        got = await asyncio.gather(
            *(
                kit.raffles.buy(Actor(u.id, Role.PLAYER), r.id, count=1, idempotency_key=key)
                for u in users
            )
        )
        assert len(per_transaction) == start + 1  # one batch, no retry
        assert all(len(p.tickets) == 1 for p in got)
        return len(statements) - per_transaction[start]

    try:
        await batch("first")  # wallets opened, the raffle's shape learnt
        fresh = await batch("second")
        replays = await batch("second")
    finally:
        sa_event.remove(pg.engine.sync_engine, "before_cursor_execute", count)
    locks = 0 if limit is None else 1
    assert fresh == 2 + locks  # read + the ledger's lock-and-read
    assert replays == 1 + locks  # read only: nothing to write
    raffle = await kit.raffles.get(r.id)
    assert raffle.sold == 40
