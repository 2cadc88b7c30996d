"""Client processes of the PostgreSQL predictions concurrency tests
(test_pg_predictions_concurrency.py): each builds its own ``WagerKit`` on the database and
reports, as plain data, what its calls returned."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from wagerkit import Actor, PredictionPolicy, Role, WagerKit, WagerkitError
from wagerkit.adapters.sql import SqlStore
from wagerkit.testing import FixedClock


def policy(**kw: Any) -> PredictionPolicy:
    return PredictionPolicy(durations=(60,), leverages=(5,), max_age=timedelta(hours=1), **kw)


async def _until(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def _settle(url: str, now: str, start_at: float, chunk: int) -> dict[str, int]:
    store = SqlStore.from_url(url, pool_size=2)
    kit = WagerKit(store, clock=FixedClock(datetime.fromisoformat(now)), predictions=policy())
    try:
        async with store() as uow:
            await uow.predictions.get(0)
        await _until(start_at)
        r = await kit.predictions.settle_due(limit=chunk)
        return {"settled": r.settled, "voided": r.voided, "paid": r.paid, "chunks": r.chunks}
    finally:
        await store.dispose()


def run_settle(url: str, now: str, *, start_at: float, chunk: int) -> dict[str, int]:
    """One job runner settling due contracts at ``now`` in chunks of ``chunk``."""
    return asyncio.run(_settle(url, now, start_at, chunk))


async def _place(url: str, now: str, users: list[int], limit: int, start_at: float) -> list[str]:
    store = SqlStore.from_url(url, pool_size=4)
    kit = WagerKit(
        store,
        clock=FixedClock(datetime.fromisoformat(now)),
        predictions=policy(exposure_limit_symbol=limit),
    )
    try:
        async with store() as uow:
            await uow.predictions.get(0)
        await _until(start_at)

        async def one(uid: int) -> str:
            try:
                await kit.predictions.place(
                    Actor(uid, Role.PLAYER), "BTC-USD", "up", 10, duration=60
                )
                return "ok"
            except WagerkitError as exc:
                return exc.code
            except Exception as exc:  # reported, and the test fails on it
                return f"{type(exc).__name__}: {exc}"

        out: list[str] = []
        for start in range(0, len(users), 4):  # several small batches per process
            out += await asyncio.gather(*(one(u) for u in users[start : start + 4]))
        return out
    finally:
        await store.dispose()


def run_place(url: str, now: str, users: list[int], *, limit: int, start_at: float) -> list[str]:
    """Players placing 10-unit fixed-odds contracts (max payout 18) against an exposure limit."""
    return asyncio.run(_place(url, now, users, limit, start_at))
