"""Client processes of the PostgreSQL orders race tests (test_pg_orders_races.py).

Each function runs in its own process (``spawn``), builds its own ``WagerKit`` on the database
(its own pool and group commit) with a clock standing at a given time, and reports as plain
data what every call returned: takes sent all at once, and job runners ticking.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from wagerkit import DEFAULT_LIMITS, Actor, IdentityPolicy, Role, WagerKit, WagerkitError
from wagerkit.adapters.sql import SqlStore
from wagerkit.testing import FixedClock

NO_LIMIT = IdentityPolicy(limits={**DEFAULT_LIMITS, "take": (10**6, 60), "order": (10**6, 60)})


async def _until(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def _take(kit: WagerKit, executor: int, order_id: str) -> dict[str, Any]:
    res: dict[str, Any] = {"executor": executor, "order": order_id}
    try:
        r = await kit.orders.take(Actor(executor, Role.PLAYER, f"u{executor}"), order_id)
        res.update(ok=True, contact=r.contact, replayed=r.replayed, fee=r.fee)
    except WagerkitError as exc:
        res.update(ok=False, error=exc.code, text=str(exc))
    except Exception as exc:  # anything else is a failure the test reports
        res.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    return res


async def _takes(
    url: str, ops: list[tuple[int, str]], now: str, start_at: float
) -> list[dict[str, Any]]:
    store = SqlStore.from_url(url, pool_size=8)
    kit = WagerKit(store, clock=FixedClock(datetime.fromisoformat(now)), identity_policy=NO_LIMIT)
    try:
        async with store() as uow:  # connect before the start signal
            await uow.orders.get_many([])
        await _until(start_at)
        return list(await asyncio.gather(*(_take(kit, e, o) for e, o in ops)))
    finally:
        await store.dispose()


def run_takes(
    url: str, ops: list[tuple[int, str]], now: str, start_at: float = 0.0
) -> list[dict[str, Any]]:
    """Send every (executor, order) take at once at ``start_at`` (epoch seconds); the clock
    of this process stands at ``now`` (ISO)."""
    return asyncio.run(_takes(url, ops, now, start_at))


async def _jobs(url: str, now: str, start_at: float, limit: int) -> list[dict[str, Any]]:
    store = SqlStore.from_url(url, pool_size=2)
    kit = WagerKit(store, clock=FixedClock(datetime.fromisoformat(now)))
    out: list[dict[str, Any]] = []
    try:
        async with store() as uow:
            await uow.orders.get_many([])
        await _until(start_at)
        while True:
            part = (await kit.jobs.tick(limit=limit)).parts["orders"]
            out.append(
                {
                    "expired": list(part.expired),  # type: ignore[attr-defined]
                    "closed": list(part.closed_no_response),  # type: ignore[attr-defined]
                    "refunds": part.refunds,  # type: ignore[attr-defined]
                }
            )
            if part.idle:
                break
    finally:
        await store.dispose()
    return out


def run_jobs(url: str, now: str, *, start_at: float = 0.0, limit: int = 3) -> list[dict[str, Any]]:
    """A job runner at ``now`` (ISO) ticking until a pass finds nothing (``limit`` orders
    claimed at a time, so runners started together interleave their claims)."""
    return asyncio.run(_jobs(url, now, start_at, limit))
