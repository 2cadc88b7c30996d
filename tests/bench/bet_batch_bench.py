"""Library-level micro benchmark of the bet batch on PostgreSQL (no HTTP): ``CLIENTS``
concurrent clients in one process place keyed 1-coin bets (top-ups after each user's first)
on one hot event through ``kit.events.place_bet`` for ``--seconds``, ``--repeats`` times.
Prints, per run and as medians: bets/s, p50/p99 latency, bets per batch and SQL statements
per batch (SQLAlchemy's ``before_cursor_execute``; the COMMIT is not counted).

    python tests/bench/bet_batch_bench.py --seconds 5 --repeats 3

Starts its own PostgreSQL server (tests/pgserver.py). Not part of ``nox -s bench``: it is the
quick before/after check for changes to the bet batch's statements.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgserver import create_database, postgres_server
from sqlalchemy import event as sa_event

from wagerkit import DEFAULT_LIMITS, Actor, IdentityPolicy, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.events import EventDraft, EventStatus

USERS, CLIENTS = 1000, 64
SYSTEM = Actor.system("bench")
NO_LIMIT = IdentityPolicy(limits={**DEFAULT_LIMITS, "bet": (10**9, 60)})


async def _run(url: str, seconds: float, repeats: int) -> list[dict[str, float]]:
    upgrade(url)
    store = SqlStore.from_url(url, pool_size=8)
    kit = WagerKit(store, identity_policy=NO_LIMIT)
    users = []
    for start in range(0, USERS, 50):
        users += await asyncio.gather(
            *(kit.users.add(SYSTEM, f"p{i}") for i in range(start, min(USERS, start + 50)))
        )
    now = kit.deps.clock.now()
    ev = await kit.events.create(
        Actor(None, Role.OPERATOR, "op"),
        EventDraft(
            title="Hot",
            outcomes=("A", "B", "C"),
            start_time=now + timedelta(hours=2),
            betting_locked_at=now + timedelta(hours=1),
            status=EventStatus.OPEN,
            allow_topup=True,
            max_stake=10**6,
        ),
    )
    statements = 0
    transactions = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

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
        for _ in range(repeats + 1):  # the first run warms up (wallet ids, plans)
            latencies: list[float] = []
            stop = time.perf_counter() + seconds
            s0, t0 = statements, transactions

            async def client(c: int, stop: float = stop, lat: list[float] = latencies) -> None:
                mine = users[c::CLIENTS]
                for i in itertools.count():
                    if time.perf_counter() >= stop:
                        return
                    u = mine[i % len(mine)]
                    o = ev.outcomes[u.id % 3].id
                    began = time.perf_counter()
                    await kit.events.place_bet(
                        Actor(u.id, Role.PLAYER), ev.id, o, 1, idempotency_key=f"k{next(keys)}"
                    )
                    lat.append(time.perf_counter() - began)

            began = time.perf_counter()
            await asyncio.gather(*(client(c) for c in range(CLIENTS)))
            elapsed = time.perf_counter() - began
            latencies.sort()
            batches = max(1, transactions - t0)
            out.append(
                {
                    "bets/s": len(latencies) / elapsed,
                    "p50 ms": latencies[len(latencies) // 2] * 1000,
                    "p99 ms": latencies[int(len(latencies) * 0.99)] * 1000,
                    "bets/batch": len(latencies) / batches,
                    "statements/batch": (statements - s0) / batches,
                }
            )
    finally:
        await store.dispose()
    return out[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with postgres_server() as pg:
        url = create_database(pg, "betbatch")
        runs = asyncio.run(_run(url, args.seconds, args.repeats))
    for r in runs:
        print("  ".join(f"{k} {v:8.1f}" for k, v in r.items()))
    print(
        "median: " + "  ".join(f"{k} {statistics.median(r[k] for r in runs):.1f}" for k in runs[0])
    )


if __name__ == "__main__":
    main()
