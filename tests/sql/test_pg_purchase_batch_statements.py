"""Round trips of a ticket-purchase batch on PostgreSQL, counted with SQLAlchemy's
``before_cursor_execute`` plus the batch read, which is sent unprepared through the driver
(the COMMIT, which carries the deferred ledger write and the tickets' insert, is not counted).

A batch of keyed random purchases on a raffle the process has seen is: the batch read (raffle
``FOR KEY SHARE``, replays and their tickets, wallet ids, number probes, reserved ticket ids:
one statement) and the ledger's lock-and-read; a raffle with a per-user limit adds the buyers'
advisory locks. The token path (`POST /raffles/{id}/tickets`) reads its users in the batch read
too (it was a statement of its own). It was seven statements before (measured: 7.00 per commit
in a keyed hot-raffle run).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from statements import StatementCounter, analyse_and_freeze_statistics, whole_table_scans

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


async def test_the_batch_read_probes_the_tickets_of_its_keys_by_index(pg: SqlStore) -> None:
    """The keyed purchases' tickets were a LATERAL join that PostgreSQL flattened into a hash
    join over a whole scan of the tickets (it guesses 100 keys for a JSON array), so the read
    grew with the raffle (1.7 to 7 ms a batch over the benchmark's runs). It probes the
    purchase index once per key now, however many tickets are sold."""
    kit = WagerKit(pg)
    buyer = await kit.users.add(SYSTEM, "Buyer")
    c = await kit.raffles.create_category(
        OPERATOR, RaffleCategoryDraft("Big", 1, 10_000_000, 1, 0, (), PrizeMode.PROPORTIONAL)
    )
    now = kit.deps.clock.now()
    r = await kit.raffles.create(OPERATOR, RaffleDraft("big", c.id, now, now + timedelta(1)))
    # the planner's figures lag the table: analysed while empty, not since
    await analyse_and_freeze_statistics(pg, "raffle_tickets")
    [ticket] = (await kit.raffles.buy(Actor(buyer.id, Role.PLAYER), r.id, numbers=[7])).tickets
    async with pg() as uow:  # 60,000 tickets sold since
        await uow.raffles._c.execute(
            text(
                "INSERT INTO raffle_tickets (raffle_id, number, user_id, price, wallet_account_id,"
                " purchase, bought_at, prize, refunded) SELECT raffle_id, 100 + g, user_id,"
                " price, wallet_account_id, 'p' || g, bought_at, 0, false"
                " FROM raffle_tickets, generate_series(1, 60000) AS g WHERE number = 7"
            )
        )
        await uow.commit()
    keys = [ticket.purchase, "p5", *(f"new {i}" for i in range(30))]
    async with pg() as uow:
        before = await whole_table_scans(uow, "raffle_tickets")
        view = await uow.raffles.read_purchase_batch([r.id], [], keys, [], {r.id: [7, 8]}, 30)
        after = await whole_table_scans(uow, "raffle_tickets")
    assert {t.number for ts in view.earlier.values() for t in ts} == {7, 105}
    assert after - before == 0  # not one whole-table scan
