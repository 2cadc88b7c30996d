"""Orders under real concurrency on PostgreSQL: separate client processes (orders_worker.py),
each with its own connection pool and group commit, against one database.

* 20 executors take one order at once: exactly 3 are charged, the rest get ``order_full``;
* one executor with money for 5 takes sends 20 at once on 20 orders: at most 5 succeed and
  no contact is revealed unpaid (seed 001 revealed all 20 and went 30 RUB below zero);
* takes race the response window's auto-close and the lifetime's expiry: every take that
  succeeded is on the books, refunded exactly when the order closed unanswered;
* two job runners auto-close the same orders: each order is closed once and each fee
  refunded once (seed 001 refunded twice with two workers).

Every scenario ends with the books checked: money conserved, no wallet below zero, the house
holding exactly the fees not refunded.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from builders import assert_conserved
from orders_worker import NO_LIMIT, run_jobs, run_takes

from wagerkit import Actor, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.identity import User
from wagerkit.domain.ledger import AccountKind
from wagerkit.domain.orders import OrderStatus
from wagerkit.testing import FixedClock

pytestmark = pytest.mark.postgres

GRANT, FEE = 1000, 2
SYSTEM = Actor.system("test")
PROCESSES = 4


@pytest.fixture
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as executor:
        yield executor


@pytest.fixture
async def pg(pg_url: str) -> Any:
    upgrade(pg_url)
    store = SqlStore.from_url(pg_url, pool_size=10)
    try:
        yield store
    finally:
        await store.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def kit(pg: SqlStore, clock: FixedClock) -> WagerKit:
    return WagerKit(pg, clock=clock, identity_policy=NO_LIMIT)


async def _users(kit: WagerKit, n: int, *, grant: bool = True) -> list[User]:
    return [await kit.users.add(SYSTEM, f"U{i}", welcome_grant=grant) for i in range(n)]


async def _orders(kit: WagerKit, client: User, n: int) -> list[str]:
    me = Actor.of(client)
    return [
        (await kit.orders.create(me, "plumbing", "Moscow", f"job {i}", f"+7-{i}")).order.id
        for i in range(n)
    ]


async def _house(kit: WagerKit) -> int:
    async with kit.deps.uow() as uow:
        acc = await uow.ledger.find_account(AccountKind.HOUSE, "system", "COIN")
    return 0 if acc is None else acc.balance


async def _fees_kept(kit: WagerKit, order_ids: list[str]) -> int:
    async with kit.deps.uow() as uow:
        takes = await uow.orders.takes_of(order_ids)
    return sum(t.fee for ts in takes.values() for t in ts if not t.refunded)


def _split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


def _takes_at_once(
    pool: ProcessPoolExecutor, url: str, ops: list[tuple[int, str]], now: str
) -> list[dict[str, Any]]:
    start = time.time() + 1.5  # every process connected and waiting
    futures = [pool.submit(run_takes, url, part, now, start) for part in _split(ops, PROCESSES)]
    return [r for f in futures for r in f.result(timeout=120)]


async def test_twenty_executors_one_order_exactly_three_charged(
    kit: WagerKit, pg_url: str, pool: ProcessPoolExecutor, clock: FixedClock
) -> None:
    client, *ex = await _users(kit, 21)
    (oid,) = await _orders(kit, client, 1)
    results = _takes_at_once(pool, pg_url, [(e.id, oid) for e in ex], clock.now().isoformat())
    ok = [r for r in results if r["ok"]]
    assert len(ok) == 3, results
    assert not any(r["replayed"] for r in ok)
    assert Counter(r["error"] for r in results if not r["ok"]) == {"order_full": 17}
    assert await _house(kit) == 3 * FEE
    charged = {r["executor"] for r in ok}
    for e in ex:
        bal = (await kit.wallets.balance(SYSTEM, e.id)).balance
        assert bal == (GRANT - FEE if e.id in charged else GRANT)
    view = await kit.orders.get(None, oid)
    assert view.order.takers == 3
    await assert_conserved(kit)


async def test_money_for_five_twenty_takes_at_once(
    kit: WagerKit, pg_url: str, pool: ProcessPoolExecutor, clock: FixedClock
) -> None:
    (client,) = await _users(kit, 1)
    (ex,) = await _users(kit, 1, grant=False)
    await kit.wallets.adjust(SYSTEM, ex.id, 5 * FEE, reason="money for five takes")
    ids = await _orders(kit, client, 20)
    results = _takes_at_once(pool, pg_url, [(ex.id, o) for o in ids], clock.now().isoformat())
    ok = [r for r in results if r["ok"]]
    assert 1 <= len(ok) <= 5, results
    assert all(r["error"] == "insufficient_funds" for r in results if not r["ok"]), results
    assert all("contact" not in r for r in results if not r["ok"])
    balance = (await kit.wallets.balance(SYSTEM, ex.id)).balance
    assert balance == 5 * FEE - FEE * len(ok) >= 0
    paid = {r["order"] for r in ok}
    for oid in ids:  # the contact only where the fee was paid
        view = await kit.orders.get(Actor.of(ex), oid)
        assert (view.contact is not None) == (oid in paid)
        assert view.order.takers == (1 if oid in paid else 0)
    assert await _house(kit) == FEE * len(ok)
    await assert_conserved(kit)


@pytest.mark.parametrize("deadline", ["window", "lifetime"])
async def test_takes_race_auto_close(
    kit: WagerKit, pg_url: str, pool: ProcessPoolExecutor, clock: FixedClock, deadline: str
) -> None:
    client, first, *ex = await _users(kit, 14)
    ids = await _orders(kit, client, 6)
    if deadline == "window":  # taken at once: unanswered 15 minutes later
        for oid in ids:
            await kit.orders.take(Actor.of(first), oid)
        due = clock.now() + timedelta(minutes=15)
    else:  # never taken: past its 60 minutes
        due = clock.now() + timedelta(minutes=60)
    before = (due - timedelta(seconds=1)).isoformat()  # the takers still see it active
    ops = [(e.id, oid) for oid in ids for e in ex[:2]]
    start = time.time() + 1.5
    jobs = [pool.submit(run_jobs, pg_url, due.isoformat(), start_at=start, limit=1)]
    takes = [
        pool.submit(run_takes, pg_url, part, before, start) for part in _split(ops, PROCESSES - 1)
    ]
    results = [r for f in takes for r in f.result(timeout=120)]
    reports = jobs[0].result(timeout=120)
    # SKIP LOCKED: a pass skips the orders a take holds at that instant; the next pass has them
    reports += pool.submit(run_jobs, pg_url, due.isoformat()).result(timeout=120)
    errors = {r["error"] for r in results if not r["ok"]}
    assert errors <= {"order_closed"}, results
    closed = [o for rep in reports for o in rep["closed"] + rep["expired"]]
    assert sorted(closed) == sorted(ids)
    want = OrderStatus.CLOSED_NO_RESPONSE if deadline == "window" else OrderStatus.EXPIRED
    for oid in ids:
        assert (await kit.orders.get(None, oid)).order.status is want
    async with kit.deps.uow() as uow:
        all_takes = await uow.orders.takes_of(ids)
    ok = {(r["executor"], r["order"]) for r in results if r["ok"]}
    stored = {(t.executor_id, t.order_id) for ts in all_takes.values() for t in ts}
    assert ok <= stored  # every acknowledged take is on the books
    for ts in all_takes.values():
        assert all(t.refunded == (deadline == "window") for t in ts)
    assert await _house(kit) == await _fees_kept(kit, ids)
    await assert_conserved(kit)


async def test_two_job_runners_refund_once(
    kit: WagerKit, pg_url: str, pool: ProcessPoolExecutor, clock: FixedClock
) -> None:
    client, a, b = await _users(kit, 3)
    ids = await _orders(kit, client, 24)
    for oid in ids:
        await kit.orders.take(Actor.of(a), oid)
        await kit.orders.take(Actor.of(b), oid)
    assert await _house(kit) == 2 * 24 * FEE
    now = (clock.now() + timedelta(minutes=16)).isoformat()
    start = time.time() + 1.5
    runners = [pool.submit(run_jobs, pg_url, now, start_at=start, limit=2) for _ in range(2)]
    reports = [rep for f in runners for rep in f.result(timeout=120)]
    closed = [o for rep in reports for o in rep["closed"]]
    assert sorted(closed) == sorted(ids)  # each order by exactly one runner
    assert sum(rep["refunds"] for rep in reports) == 48
    assert (await kit.wallets.balance(SYSTEM, a.id)).balance == GRANT
    assert (await kit.wallets.balance(SYSTEM, b.id)).balance == GRANT
    assert await _house(kit) == 0
    for oid in ids:
        entries = await kit.audit.list(SYSTEM, target=f"order:{oid}")
        assert [e.action for e in entries] == ["order.auto_closed_no_response"]
    await assert_conserved(kit)
