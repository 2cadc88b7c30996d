"""Raffles under real concurrency on PostgreSQL: separate client processes
(raffles_worker.py), each with its own pool and group commit, against one database.

* 64 buyers race for the last numbers of a raffle (random picks, contested chosen numbers,
  replayed keys): no number is sold twice, every acknowledged purchase holds its tickets and
  was charged once, the refused ones were charged nothing, random buyers never see the race;
* 32 buyers each try 32 purchases against a per-user limit of 12, from 4 processes at once (their
  batches read the raffle FOR KEY SHARE and run in parallel; the buyers' advisory locks keep
  the counts exact): each ends with exactly 12 tickets, the rest refused ``ticket_limit_exceeded``;
* two operators close and draw the same raffles at once: each raffle is closed once, drawn
  once and paid once;
* two job runners tick over many due raffles at once: each is closed by exactly one.

Every scenario ends with the books: conservation, no wallet below zero, escrow = tickets sold
(zero once paid or refunded)."""

from __future__ import annotations

import asyncio
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

from wagerkit import (
    Actor,
    PrizeMode,
    RaffleCategoryDraft,
    RaffleDraft,
    RaffleStatus,
    Role,
    WagerKit,
)
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.identity import User
from wagerkit.testing import FixedClock

sys.path.insert(0, str(Path(__file__).parent))
from raffles_worker import BuyOp, run_buys, run_close_draw, run_jobs

pytestmark = pytest.mark.postgres

SYSTEM = Actor.system("test")
OPERATOR = Actor(None, Role.OPERATOR, "op")
PROCESSES = 4
PRICE = 10


@pytest.fixture
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as executor:
        yield executor


@pytest.fixture
async def pg_store(pg_url: str) -> Any:
    upgrade(pg_url)
    s = SqlStore.from_url(pg_url, pool_size=10)
    try:
        yield s
    finally:
        await s.dispose()


async def _users(kit: WagerKit, n: int) -> list[User]:
    return [await kit.users.add(SYSTEM, f"Player {i}") for i in range(n)]


async def _raffle(  # type: ignore[no-untyped-def]
    kit: WagerKit,
    capacity: int,
    *,
    minutes: int = 60,
    min_tickets: int = 1,
    max_per_user: int | None = None,
):
    c = await kit.raffles.create_category(
        OPERATOR, RaffleCategoryDraft("Hot", PRICE, capacity, 1, 1000, (), PrizeMode.PROPORTIONAL)
    )
    now = kit.deps.clock.now()
    return await kit.raffles.create(
        OPERATOR,
        RaffleDraft(
            "hot",
            c.id,
            now,
            now + timedelta(minutes=minutes),
            min_tickets=min_tickets,
            max_per_user=max_per_user,
        ),
    )


async def check_books(store: SqlStore, users: list[User]) -> None:
    async with store() as uow:
        for t in await uow.ledger.totals():
            assert t.conserved, t
        for u in users:
            for acc in await uow.ledger.accounts_of(f"user:{u.id}"):
                assert acc.balance >= 0, acc
        for r in await uow.raffles.list_raffles(limit=500):
            tickets = await uow.raffles.tickets_of(r.id)
            assert r.sold == len(tickets) == len({t.number for t in tickets})
            escrow = await uow.ledger.get_account(r.escrow_account_id)
            assert escrow is not None
            if r.paid_at is not None:
                assert escrow.balance == 0, r
            else:
                assert escrow.balance == sum(t.price for t in tickets), r


async def _submit(pool: ProcessPoolExecutor, fn: Any, *args: Any) -> Any:
    return await asyncio.wrap_future(pool.submit(fn, *args))


async def test_64_buyers_race_for_the_last_numbers(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    kit = WagerKit(pg_store)
    users = await _users(kit, 65)
    r = await _raffle(kit, 100)
    seller = Actor(users[64].id, Role.PLAYER, "seller")
    await kit.raffles.buy(seller, r.id, numbers=list(range(60)))  # 40 numbers left
    ops: list[BuyOp] = []
    for i, u in enumerate(users[:64]):
        if i % 8 == 0:  # contested chosen numbers: 8 buyers, 4 numbers
            ops.append((u.id, r.id, [60 + (i // 16)], 1, f"k{i}"))
        else:
            ops.append((u.id, r.id, None, 1, f"k{i}"))
    ops += [ops[1], ops[2]]  # replays racing their first answers
    start = time.time() + 2
    shares = [ops[i::PROCESSES] for i in range(PROCESSES)]
    results = [
        x
        for part in await asyncio.gather(
            *(_submit(pool, run_buys, pg_url, s, start) for s in shares)
        )
        for x in part
    ]
    crashes = [
        x for x in results if not x["ok"] and x["error"] not in ("sold_out", "ticket_unavailable")
    ]
    assert crashes == []
    fresh = [x for x in results if x["ok"] and not x["replayed"]]
    numbers = Counter(n for x in fresh for n in x["numbers"])
    assert all(c == 1 for c in numbers.values())
    assert len(numbers) == 40  # every last number sold, none twice
    raffle = await kit.raffles.get(r.id)
    assert raffle.sold == 100
    # each buyer charged for what it holds, no more
    for u in users[:64]:
        held = len(await kit.raffles.tickets(Actor(u.id, Role.PLAYER, "x")))
        bal = (await kit.wallets.balance(Actor(u.id, Role.PLAYER, "x"), u.id)).balance
        assert bal == 1000 - PRICE * held
    # random buyers never saw the race: only sold_out once the numbers ran out
    random_refused = [
        x
        for x in results
        if not x["ok"] and x["error"] != "sold_out" and x["key"] and int(x["key"][1:]) % 8
    ]
    assert random_refused == []
    await check_books(pg_store, users)


async def test_per_user_limit_holds_across_processes(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    kit = WagerKit(pg_store)
    users = await _users(kit, 32)
    limit, rounds = 12, 8
    r = await _raffle(kit, 4000, max_per_user=limit)
    # every process tries ``rounds`` purchases per buyer (random tickets, and a chosen one):
    # 32 tries per buyer, at most 12 may pass; a process's batches never hold one buyer twice,
    # so only the other processes' batches, running at the same time, can race a buyer's count
    shares: list[list[BuyOp]] = [[] for _ in range(PROCESSES)]
    for p in range(PROCESSES):
        for i, u in enumerate(users):
            for k in range(rounds):
                chosen = [100 * i + 10 * p + k] if k == 1 else None
                shares[p].append((u.id, r.id, chosen, 1, f"{p}-{i}-{k}"))
    start = time.time() + 5  # every process ready: their batches overlap
    results = [
        x
        for part in await asyncio.gather(
            *(_submit(pool, run_buys, pg_url, s, start) for s in shares)
        )
        for x in part
    ]
    refused = [x for x in results if not x["ok"] and x["error"] != "ticket_limit_exceeded"]
    # a chosen number may have gone to a random pick; nothing else is refused
    assert [x for x in refused if x["error"] != "ticket_unavailable" or x["key"][-1] != "1"] == []
    passed = Counter(x["user"] for x in results if x["ok"])
    assert passed == {u.id: limit for u in users}
    for u in users:
        player = Actor(u.id, Role.PLAYER, "x")
        assert len(await kit.raffles.tickets(player)) == limit
        assert (await kit.wallets.balance(player, u.id)).balance == 1000 - limit * PRICE
    assert (await kit.raffles.get(r.id)).sold == limit * len(users)
    await check_books(pg_store, users)


async def test_two_operators_close_and_draw_once(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    kit = WagerKit(pg_store)
    users = await _users(kit, 6)
    raffles = [await _raffle(kit, 20) for _ in range(6)]
    for r in raffles:
        for u in users:
            await kit.raffles.buy(Actor(u.id, Role.PLAYER, "p"), r.id, count=2)
    ids = [r.id for r in raffles]
    start = time.time() + 2
    a, b = await asyncio.gather(
        _submit(pool, run_close_draw, pg_url, ids, start),
        _submit(pool, run_close_draw, pg_url, ids, start),
    )
    for x, y in zip(a, b, strict=True):
        assert x["closed"] + y["closed"] == 1, (x, y)
        assert x["drawn"] + y["drawn"] == 1, (x, y)
        assert set(x["errors"] + y["errors"]) <= {"raffle_state_conflict"}
    for r in raffles:
        done = await kit.raffles.get(r.id)
        assert done.status is RaffleStatus.DRAWN
        assert done.paid_at is not None
        assert (await kit.raffles.verify(r.id)).match
        entries = await kit.audit.list(OPERATOR, target=f"raffle:{r.id}", limit=50)
        assert Counter(e.action for e in entries)["raffle.close"] == 1
        assert Counter(e.action for e in entries)["raffle.draw"] == 1
    await check_books(pg_store, users)


async def test_two_job_runners_close_each_raffle_once(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    clock = FixedClock()
    kit = WagerKit(pg_store, clock=clock)
    users = await _users(kit, 3)
    raffles = [await _raffle(kit, 10, minutes=5, min_tickets=2) for _ in range(8)]
    for i, r in enumerate(raffles):
        for u in users[: 1 + i % 3]:  # some below the minimum: voided and refunded
            await kit.raffles.buy(Actor(u.id, Role.PLAYER, "p"), r.id, count=1)
    now = (clock.now() + timedelta(minutes=10)).isoformat()
    start = time.time() + 2
    a, b = await asyncio.gather(
        _submit(pool, run_jobs, pg_url, now, start), _submit(pool, run_jobs, pg_url, now, start)
    )
    closed = Counter(rid for rep in a + b for rid in rep["closed"] + rep["voided"])
    assert sorted(closed) == sorted(r.id for r in raffles)
    assert all(c == 1 for c in closed.values())
    for r in raffles:
        done = await kit.raffles.get(r.id)
        assert done.status in (RaffleStatus.CLOSED, RaffleStatus.VOIDED)
        if done.status is RaffleStatus.VOIDED:
            assert done.paid_at is not None
    await check_books(pg_store, users)
