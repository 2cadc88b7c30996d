"""Ledger throughput: transfers per second in memory, on SQLite and on PostgreSQL by batch size.

Workload: 1,000 funded user wallets; each client repeatedly applies a batch of B random
transfers (1-100 units between two random wallets) in one unit of work, i.e. one durable commit.
Clients are spread over processes so that both cores work, as a server would.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from wagerkit import AccountFlags, AccountKind, TransferRequest
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import InMemoryStore

WALLETS = int(os.environ.get("WAGERKIT_BENCH_WALLETS", "1000"))


async def setup_accounts(store: UnitOfWorkFactory) -> list[int]:
    from datetime import UTC, datetime

    async with store() as uow:
        treasury = await uow.ledger.open_account(
            AccountKind.TREASURY, "system", "COIN", AccountFlags.NONE
        )
        ids = [
            (
                await uow.ledger.open_account(
                    AccountKind.USER,
                    f"user:{i}",
                    "COIN",
                    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                )
            ).id
            for i in range(WALLETS)
        ]
        reqs = [TransferRequest(f"fund:{a}", treasury.id, a, 10**12, "grant") for a in ids]
        results = await uow.ledger.apply(reqs, datetime.now(UTC))
        assert all(r.ok or r.replayed for r in results)
        await uow.commit()
    return ids


async def _clients(
    store: UnitOfWorkFactory,
    ids: list[int],
    batch: int,
    clients: int,
    seconds: float,
    tag: str,
    start_at: float | None = None,
) -> int:
    """Run ``clients`` concurrent loops of batches for ``seconds`` (from wall-clock ``start_at``
    if given, so that workers in several processes measure the same window)."""
    from datetime import UTC, datetime

    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal done
        rng = random.Random(f"{tag}-{n}")
        i = 0
        while time.perf_counter() < deadline:
            reqs = []
            for _ in range(batch):
                a, b = rng.sample(ids, 2)
                i += 1
                reqs.append(
                    TransferRequest(f"{tag}-{n}-{i}", a, b, rng.randint(1, 100), "transfer")
                )
            async with store() as uow:
                results = await uow.ledger.apply(reqs, datetime.now(UTC))
                await uow.commit()
            done += sum(1 for r in results if r.ok)

    await asyncio.gather(*(client(n) for n in range(clients)))
    return done


def _sql_worker(
    url: str, ids: list[int], batch: int, clients: int, seconds: float, tag: str, start_at: float
) -> int:
    from wagerkit.adapters.sql import SqlStore

    async def main() -> int:
        store = SqlStore.from_url(url, pool_size=clients)
        try:
            await _clients(store, ids, batch, clients, 0.3, f"{tag}-warm")  # connect, prepare
            return await _clients(store, ids, batch, clients, seconds, tag, start_at)
        finally:
            await store.dispose()

    return asyncio.run(main())


def sql_rate(
    url: str, ids: list[int], batch: int, clients: int, processes: int, seconds: float, tag: str
) -> float:
    """Transfers committed per second by ``clients`` connections over ``processes`` processes,
    all measuring the same window after they have started and warmed up."""
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    start_at = time.time() + 4.0  # time to spawn, import and warm up
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        futs = [
            pool.submit(_sql_worker, url, ids, batch, c, seconds, f"{tag}-p{i}", start_at)
            for i, c in enumerate(per)
        ]
        total = sum(f.result() for f in futs)
    return total / seconds


def memory_rate(batch: int, seconds: float) -> float:
    async def main() -> float:
        store = InMemoryStore()
        ids = await setup_accounts(store)
        start = time.perf_counter()
        n = await _clients(store, ids, batch, 1, seconds, f"mem{batch}")
        return n / (time.perf_counter() - start)

    return asyncio.run(main())


def dict_baseline(seconds: float) -> float:
    """The floor of Python overhead: two dict updates per transfer, no rules at all."""
    bal = dict.fromkeys(range(WALLETS), 10**12)
    rng = random.Random(1)
    n = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(1000):
            a, b = rng.sample(range(WALLETS), 2)
            amt = rng.randint(1, 100)
            if bal[a] >= amt:
                bal[a] -= amt
                bal[b] += amt
                n += 1
    return n / (time.perf_counter() - start)


def sqlite_raw_baseline(path: str, seconds: float) -> float:
    """Durable single-row transactions/s with the same pragmas (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER)")
    n = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", (n,))
        conn.execute("COMMIT")
        n += 1
    conn.close()
    return n / (time.perf_counter() - start)


def sqlite_rate(url: str, batch: int, seconds: float) -> tuple[float, Any]:
    from wagerkit.adapters.sql import SqlStore

    async def main() -> float:
        store = SqlStore.from_url(url)
        await store.create_all()
        ids = await setup_accounts(store)
        start = time.perf_counter()
        n = await _clients(store, ids, batch, 1, seconds, f"sq{batch}-{time.time_ns()}")
        rate = n / (time.perf_counter() - start)
        await store.dispose()
        return rate

    return asyncio.run(main()), None
