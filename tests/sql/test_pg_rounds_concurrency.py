"""Round bets under real concurrency on PostgreSQL: several client processes
(rounds_worker.py) bet on one round at once, every idempotency key sent several times in each
process. Each key yields exactly one bet and one stake; every replay answers that bet; the
round's pool is the sum of the stakes and the books balance."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.testing import FixedClock

sys.path.insert(0, str(Path(__file__).parent))
from rounds_worker import SYM, policy, run_bets

pytestmark = pytest.mark.postgres

PROCESSES = 4
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SYSTEM = Actor.system("test")


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


async def test_processes_betting_one_round_with_duplicate_keys(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    kit = WagerKit(pg_store, clock=FixedClock(T0), predictions=policy())
    users = [(await kit.users.add(SYSTEM, f"P{i}")).id for i in range(60)]
    await kit.jobs.tick()  # opens the round of T0's slot
    (r,) = await kit.predictions.current_rounds(SYM)
    commands = [(u, ("up", "down")[i % 2], 5 + i % 11) for i, u in enumerate(users)]
    now = (T0 + timedelta(seconds=10)).isoformat()
    start_at = time.time() + 1.0
    loop = asyncio.get_running_loop()
    answers = await asyncio.gather(
        *(
            loop.run_in_executor(
                pool,
                partial(run_bets, pg_url, now, r.id, commands, seed=p, start_at=start_at),
            )
            for p in range(PROCESSES)
        )
    )
    flat = [a for part in answers for a in part["answers"]]
    assert len(flat) == 2 * PROCESSES * len(users)
    # the bets of a process were committed in batches (one unit of work each before)
    assert all(part["units"] < 2 * len(users) for part in answers)
    assert all(len(a) == 4 for a in flat), [a for a in flat if len(a) != 4][:5]  # no errors
    by_user: dict[int, set[int]] = defaultdict(set)
    placed = Counter()
    for uid, bet_id, _, replayed in flat:
        by_user[uid].add(bet_id)
        if not replayed:
            placed[uid] += 1
    assert all(len(ids) == 1 for ids in by_user.values())  # every replay got the same bet
    assert placed == Counter({u: 1 for u in users})  # each key placed exactly once
    stake = {u: amount for u, _, amount in commands}
    async with pg_store() as uow:
        bets = await uow.predictions.round_bets(r.id)
        after = await uow.predictions.get_round(r.id)
        stakes = [t for t in await uow.ledger.journal(limit=10_000) if t.code == "round_bet"]
        escrow = await uow.ledger.get_account(r.escrow_account_id)
    assert sorted((b.user_id, b.amount) for b in bets) == sorted(stake.items())
    assert {b.id for b in bets} == {i for ids in by_user.values() for i in ids}
    assert len(stakes) == len(users)  # one stake each
    assert after is not None
    assert escrow is not None
    assert after.pool == sum(stake.values()) == escrow.balance
    assert after.up_count + after.down_count == len(users)
    assert after.up_total == sum(a for _, d, a in commands if d == "up")
    await assert_conserved(kit)
