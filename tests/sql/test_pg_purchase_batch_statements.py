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

import pytest
from statements import StatementCounter

from wagerkit import Actor, PrizeMode, RaffleCategoryDraft, RaffleDraft, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade

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
    counter = StatementCounter(kit, pg, monkeypatch)

    async def batch(key: str) -> int:
        start = len(counter.marks)
        got = await asyncio.gather(
            *(
                kit.raffles.buy(Actor(u.id, Role.PLAYER), r.id, count=1, idempotency_key=key)
                for u in users
            )
        )
        assert len(counter.marks) == start + 1  # one batch, no retry
        assert all(len(p.tickets) == 1 for p in got)
        return counter.between(start)

    try:
        await batch("first")  # wallets opened, the raffle's shape learnt
        fresh = await batch("second")
        replays = await batch("second")
    finally:
        counter.close()
    locks = 0 if limit is None else 1
    assert fresh == 2 + locks  # read + the ledger's lock-and-read
    assert replays == 1 + locks  # read only: nothing to write
    raffle = await kit.raffles.get(r.id)
    assert raffle.sold == 40
