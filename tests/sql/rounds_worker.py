"""Client processes of the PostgreSQL round-bet concurrency test (test_pg_rounds_concurrency.py):
each builds its own ``WagerKit`` on the database, bets on one round and reports, as plain
data, what each call returned."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime
from typing import Any

from wagerkit import Actor, Role, WagerKit, WagerkitError
from wagerkit.adapters.sql import SqlStore
from wagerkit.domain.predictions import PredictionPolicy
from wagerkit.ports import UnitOfWork
from wagerkit.testing import FixedClock

SYM = "BTC-USD"


def policy() -> PredictionPolicy:
    return PredictionPolicy(durations=(60,), round_interval=60, round_symbols=(SYM,))


async def _bet(
    url: str, now: str, round_id: int, commands: list[tuple[int, str, int]], seed: int, start: float
) -> dict[str, Any]:
    store = SqlStore.from_url(url, pool_size=4)
    kit = WagerKit(store, clock=FixedClock(datetime.fromisoformat(now)), predictions=policy())
    try:
        async with store() as uow:
            await uow.predictions.get_round(round_id)
        todo = [c for c in commands for _ in range(2)]  # each key twice in this process too
        random.Random(seed).shuffle(todo)
        inner, opened = kit.deps.uow, [0]

        def counted() -> UnitOfWork:
            opened[0] += 1
            return inner()

        kit.deps.uow = counted
        delay = start - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

        async def one(uid: int, direction: str, amount: int) -> Any:
            try:
                r = await kit.predictions.bet_round(
                    Actor(uid, Role.PLAYER),
                    round_id,
                    direction,
                    amount,
                    idempotency_key=f"k{uid}",
                )
                return [uid, r.bet.id, r.bet.amount, r.replayed]
            except WagerkitError as exc:
                return [uid, exc.code]
            except Exception as exc:  # reported, and the test fails on it
                return [uid, f"{type(exc).__name__}: {exc}"]

        out: list[Any] = []
        for i in range(0, len(todo), 16):  # several concurrent batches per process
            out += await asyncio.gather(*(one(*c) for c in todo[i : i + 16]))
        return {"answers": out, "units": opened[0]}
    finally:
        await store.dispose()


def run_bets(
    url: str,
    now: str,
    round_id: int,
    commands: list[tuple[int, str, int]],
    *,
    seed: int,
    start_at: float,
) -> dict[str, Any]:
    """Bet every (user, direction, amount) command twice, key ``k<user>``, in random order;
    report each call's answer and how many units of work the process opened."""
    return asyncio.run(_bet(url, now, round_id, commands, seed, start_at))
