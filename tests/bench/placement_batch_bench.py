"""Library-level micro benchmark of the contract placement batch on PostgreSQL (no HTTP):
``CLIENTS`` concurrent clients in one process place keyed 10-coin fixed-odds contracts on one
symbol through ``kit.predictions.place`` for ``--seconds``, ``--repeats`` times. Prints, per
run and as medians: placements/s, p50/p99 latency, placements per batch, SQL statements per
batch (SQLAlchemy's ``before_cursor_execute``, plus the statements sent through the driver:
``Session.driver_rows`` and a pipeline's last statement; the COMMIT is not counted) and the
process's CPU per placement.

    python tests/bench/placement_batch_bench.py --seconds 5 --repeats 3

Starts its own PostgreSQL server (tests/pgserver.py). Not part of ``nox -s bench``: it is the
quick before/after check for changes to the placement batch's statements.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import resource
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgserver import create_database, postgres_server
from sqlalchemy import event as sa_event

from wagerkit import Actor, PredictionPolicy, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.adapters.sql.session import Session
from wagerkit.domain.prices import Tick

USERS, CLIENTS = 400, 64
SYSTEM = Actor.system("bench")


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def _run(url: str, seconds: float, repeats: int) -> list[dict[str, float]]:
    upgrade(url)
    store = SqlStore.from_url(url, pool_size=8)
    policy = PredictionPolicy(durations=(60,), max_age=timedelta(hours=2))
    kit = WagerKit(store, predictions=policy)
    users = []
    for start in range(0, USERS, 50):
        users += await asyncio.gather(
            *(kit.users.add(SYSTEM, f"p{i}") for i in range(start, min(USERS, start + 50)))
        )
    async with store() as uow:
        tick = Tick("BTC-USD", kit.deps.clock.now(), Decimal("50000"), "bench")
        await uow.prices.add_ticks([tick])
        await uow.commit()
    statements = 0
    transactions = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    read, pipeline = Session.driver_rows, Session.pipeline

    async def counted_read(self: Session, sql: str, params: Any, **kw: Any) -> Any:
        count()
        return await read(self, sql, params, **kw)

    async def counted_pipeline(self: Session, last: Any = None, **kw: Any) -> Any:
        if last is not None:
            count()
        return await pipeline(self, last, **kw)

    Session.driver_rows = counted_read  # type: ignore[method-assign]
    Session.pipeline = counted_pipeline  # type: ignore[method-assign]
    real = kit.deps.uow

    def counting() -> Any:
        nonlocal transactions
        transactions += 1
        return real()

    kit.deps.uow = counting  # type: ignore[assignment]
    sa_event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    keys = itertools.count()
    out = []
    try:
        for _ in range(repeats + 1):  # the first run warms up (wallets, plans)
            latencies: list[float] = []
            stop = time.perf_counter() + seconds
            s0, t0, cpu0 = statements, transactions, _cpu()

            async def client(c: int, stop: float = stop, lat: list[float] = latencies) -> None:
                mine = users[c::CLIENTS]
                for i in itertools.count():
                    if time.perf_counter() >= stop:
                        return
                    u = mine[i % len(mine)]
                    began = time.perf_counter()
                    await kit.predictions.place(
                        Actor(u.id, Role.PLAYER),
                        "BTC-USD",
                        ("up", "down")[i % 2],
                        10,
                        duration=60,
                        idempotency_key=f"k{next(keys)}",
                    )
                    lat.append(time.perf_counter() - began)

            began = time.perf_counter()
            await asyncio.gather(*(client(c) for c in range(CLIENTS)))
            elapsed = time.perf_counter() - began
            latencies.sort()
            batches = max(1, transactions - t0)
            n = len(latencies)
            out.append(
                {
                    "placements/s": n / elapsed,
                    "p50 ms": latencies[n // 2] * 1000,
                    "p99 ms": latencies[int(n * 0.99)] * 1000,
                    "per batch": n / batches,
                    "statements/batch": (statements - s0) / batches,
                    "CPU ms/placement": (_cpu() - cpu0) / n * 1000,
                }
            )
    finally:
        Session.driver_rows, Session.pipeline = read, pipeline  # type: ignore[method-assign]
        await store.dispose()
    return out[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with postgres_server() as pg:
        url = create_database(pg, "placebatch")
        runs = asyncio.run(_run(url, args.seconds, args.repeats))
    for r in runs:
        print("  ".join(f"{k} {v:8.2f}" for k, v in r.items()))
    print(
        "median: " + "  ".join(f"{k} {statistics.median(r[k] for r in runs):.2f}" for k in runs[0])
    )


if __name__ == "__main__":
    main()
