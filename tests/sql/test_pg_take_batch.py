"""A take batch on PostgreSQL: its round trips, and its one read under a lock that waited.

Round trips are counted with SQLAlchemy's ``before_cursor_execute`` plus
``Session.driver_rows`` (the batch read goes to psycopg as it is); the COMMIT, which carries
the deferred ledger write and the takes' write, is not counted. A batch of first takes is the
batch read (orders ``FOR UPDATE`` with their takes, wallet and house account ids) and the
ledger's lock-and-read; a batch of repeat takes is the read alone. It was seven statements
before (orders, takes, accounts, the ledger's read, then the ledger write, the orders' update
and the takes' insert, each in its own round trip).

The read is one statement, so one snapshot: where its ``FOR UPDATE`` waited for another take
batch, the order row it returns is the newer one but the snapshot predates that batch's takes.
The store reads those orders' takes again: a repeat take racing its first one answers the
contact, as if the reads had been separate statements.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from statements import StatementCounter, analyse_and_freeze_statistics, whole_table_scans

from wagerkit import Actor, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.identity import User
from wagerkit.domain.orders import Take
from wagerkit.domain.refs import user_ref
from wagerkit.services import DEFAULT_LIMITS, IdentityPolicy

pytestmark = pytest.mark.postgres

SYSTEM = Actor.system("test")
NO_LIMIT = IdentityPolicy(limits={**DEFAULT_LIMITS, "order": (10**6, 60), "take": (10**6, 60)})


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[SqlStore]:
    upgrade(pg_url)
    store = SqlStore.from_url(pg_url)
    try:
        yield store
    finally:
        await store.dispose()


async def _world(kit: WagerKit, executors: int, orders: int) -> tuple[list[User], list[str]]:
    client = await kit.users.add(SYSTEM, "Client")
    people = [await kit.users.add(SYSTEM, f"Executor {i}") for i in range(executors)]
    me = Actor.of(client)
    ids = [
        (await kit.orders.create(me, "plumbing", "Moscow", f"job {i}", f"+7-{i}")).order.id
        for i in range(orders)
    ]
    return people, ids


async def test_a_take_batch_is_two_statements(
    pg: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = WagerKit(pg, identity_policy=NO_LIMIT)
    people, ids = await _world(kit, 20, 11)
    await kit.orders.take(Actor.of(people[0]), ids[-1])  # the house account opened
    counter = StatementCounter(kit, pg, monkeypatch)

    async def batch(key: str) -> int:
        """20 takes at once, two per order on 10 orders: statements of the batch's unit of
        work (the feed's read after it, if any, is its own)."""
        start = len(counter.marks)
        got = await asyncio.gather(
            *(
                kit.orders.take(Actor.of(u), ids[i // 2], idempotency_key=key)
                for i, u in enumerate(people)
            )
        )
        assert all(r.fee == 2 for r in got)
        assert all(r.replayed for r in got) == (key == "again")
        return counter.between(start)

    try:
        fresh = await batch("first")
        replays = await batch("again")
    finally:
        counter.close()
    assert fresh == 2  # the batch read + the ledger's lock-and-read
    assert replays == 1  # the read only: nothing to charge
    for oid in ids[:10]:
        view = await kit.orders.get(None, oid)
        assert view.order.takers == 2
        assert view.order.respond_by == view.order.updated_at + timedelta(minutes=15)
    async with kit.deps.uow() as uow:
        takes = await uow.orders.takes_of(ids[:10])
    assert sorted(t.executor_id for ts in takes.values() for t in ts) == sorted(
        u.id for u in people
    )


async def test_a_read_that_waited_for_the_lock_sees_the_takes_committed_meanwhile(
    pg: SqlStore,
) -> None:
    kit = WagerKit(pg, identity_policy=NO_LIMIT)
    (first, second), (oid,) = await _world(kit, 2, 1)
    now = kit.deps.clock.now()
    wallets = [(oid, user_ref(first.id)), (oid, user_ref(second.id))]
    async with pg() as holder:
        view = await holder.orders.read_take_batch([oid], wallets, "system")
        assert view.takes == {}
        assert set(view.wallets) == {(user_ref(first.id), "COIN"), (user_ref(second.id), "COIN")}

        async def waiting() -> Any:
            async with pg() as uow:
                return await uow.orders.read_take_batch([oid], wallets, "system")

        task = asyncio.create_task(waiting())
        await asyncio.sleep(0.5)  # its statement began and waits for the order's lock
        assert not task.done()
        order = view.orders[oid]
        taken = Take(oid, first.id, order.fee, f"orders:fee:{oid}:{first.id}", now)
        await holder.orders.add_takes([taken], [dataclasses.replace(order, takers=1)])
        await holder.commit()
    seen = await asyncio.wait_for(task, 10)
    assert seen.orders[oid].takers == 1
    assert [t.executor_id for t in seen.takes[oid]] == [first.id]


async def test_the_batch_read_is_planned_for_the_takes_table_as_it_is_now(pg_url: str) -> None:
    """The batch read was a prepared statement: after a few batches on a young ``order_takes``
    PostgreSQL cached a generic plan that scanned the table whole, and kept it while the
    table grew (the read went from 1.6 to 13 ms a batch within 30 s of the orders benchmark).
    It is planned for the table's present size now: an index probe per order."""
    upgrade(pg_url)
    store = SqlStore.from_url(pg_url, pool_size=1)  # one connection: one prepared statement
    try:
        kit = WagerKit(store, identity_policy=NO_LIMIT)
        (person,), (oid,) = await _world(kit, 1, 1)
        wallets = [(oid, user_ref(person.id))]
        # analysed young, as autovacuum does in a new database, and not since (a later
        # ANALYZE would make PostgreSQL replan anyway)
        await analyse_and_freeze_statistics(store, "order_takes")
        for _ in range(15):  # past psycopg's threshold (5) and PostgreSQL's custom plans (5)
            async with store() as uow:
                await uow.orders.read_take_batch([oid], wallets, "system")
                await uow.commit()  # as a batch does (psycopg forgets its statements on ROLLBACK)
        async with store() as uow:  # the table grows: 20,000 takes of 20,000 other orders
            await uow.orders._c.execute(
                text(
                    "INSERT INTO orders SELECT 'g' || g, client_id, category, description,"
                    " city, city_key, 'c' || g, status, created_at, expires_at, updated_at,"
                    " fee, max_executors, response_minutes, currency, 1, responded,"
                    " respond_by, closed_at FROM orders, generate_series(1, 20000) AS g"
                    " WHERE id = :oid"
                ),
                {"oid": oid},
            )
            await uow.orders._c.execute(
                text(
                    "INSERT INTO order_takes SELECT 'g' || g, :uid, 2, 't' || g, now(), false"
                    " FROM generate_series(1, 20000) AS g"
                ),
                {"uid": person.id},
            )
            await uow.commit()
        async with store() as uow:
            before = await whole_table_scans(uow, "order_takes")
            view = await uow.orders.read_take_batch([oid, "g7"], wallets, "system")
            after = await whole_table_scans(uow, "order_takes")
        assert [t.executor_id for t in view.takes["g7"]] == [person.id]
        assert after - before == 0  # not one whole-table scan
    finally:
        await store.dispose()
