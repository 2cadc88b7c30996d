"""Client processes of the PostgreSQL raffle race tests (test_pg_raffles_concurrency.py).

Each function runs in its own process (``spawn``) with its own ``WagerKit`` and connection
pool on the database, and reports what every call returned as plain data."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from wagerkit import Actor, Role, WagerKit, WagerkitError
from wagerkit.adapters.sql import SqlStore
from wagerkit.testing import FixedClock

# (user id, raffle id, chosen numbers or None, count, idempotency key)
BuyOp = tuple[int, int, list[int] | None, int, str | None]
OPERATOR = Actor(None, Role.OPERATOR, "op")


async def _until(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def _call(fn: Any) -> dict[str, Any]:
    try:
        return {"ok": True, "value": await fn}
    except WagerkitError as exc:
        return {"ok": False, "error": exc.code}
    except Exception as exc:  # reported, and fails the test
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


async def _buys(url: str, ops: list[BuyOp], start_at: float) -> list[dict[str, Any]]:
    store = SqlStore.from_url(url, pool_size=8)
    kit = WagerKit(store)
    try:
        async with store() as uow:
            await uow.raffles.get(0)
        await _until(start_at)

        async def one(op: BuyOp) -> dict[str, Any]:
            uid, rid, numbers, count, key = op
            actor = Actor(uid, Role.PLAYER, f"u{uid}")
            if numbers is not None:
                call = kit.raffles.buy(actor, rid, numbers=numbers, idempotency_key=key)
            else:
                call = kit.raffles.buy(actor, rid, count=count, idempotency_key=key)
            res = await _call(call)
            if res["ok"]:
                p = res.pop("value")
                res.update(numbers=p.numbers, replayed=p.replayed, amount=p.amount)
            return {"user": uid, "key": key, **res}

        return list(await asyncio.gather(*(one(op) for op in ops)))
    finally:
        await store.dispose()


def run_buys(url: str, ops: list[BuyOp], start_at: float = 0.0) -> list[dict[str, Any]]:
    """Every purchase submitted at once (this process's group commit batches them)."""
    return asyncio.run(_buys(url, ops, start_at))


async def _close_draw(url: str, raffle_ids: list[int], start_at: float) -> list[dict[str, Any]]:
    store = SqlStore.from_url(url, pool_size=4)
    kit = WagerKit(store)
    out: list[dict[str, Any]] = []
    try:
        async with store() as uow:
            await uow.raffles.get(0)
        await _until(start_at)
        for rid in raffle_ids:
            closed = await _call(kit.raffles.close(OPERATOR, rid))
            drawn = await _call(kit.raffles.draw(OPERATOR, rid, public_value=f"value {rid}"))
            out.append(
                {"raffle": rid, "closed": closed["ok"], "drawn": drawn["ok"],
                 "errors": [r.get("error") for r in (closed, drawn) if not r["ok"]]}
            )  # fmt: skip
    finally:
        await store.dispose()
    return out


def run_close_draw(url: str, raffle_ids: list[int], start_at: float = 0.0) -> list[dict[str, Any]]:
    """An operator closing then drawing each raffle (text public value)."""
    return asyncio.run(_close_draw(url, raffle_ids, start_at))


async def _jobs(url: str, now: str, start_at: float) -> list[dict[str, Any]]:
    store = SqlStore.from_url(url, pool_size=2)
    kit = WagerKit(store, clock=FixedClock(datetime.fromisoformat(now)))
    out: list[dict[str, Any]] = []
    try:
        async with store() as uow:
            await uow.raffles.get(0)
        await _until(start_at)
        for _ in range(2):
            part = (await kit.jobs.tick(limit=2)).parts["raffles"]
            out.append({"closed": part.closed, "voided": part.voided})  # type: ignore[attr-defined]
    finally:
        await store.dispose()
    return out


def run_jobs(url: str, now: str, start_at: float = 0.0) -> list[dict[str, Any]]:
    return asyncio.run(_jobs(url, now, start_at))
