"""Client processes of the PostgreSQL events concurrency tests (test_pg_events_concurrency.py).

Each function runs in its own process (``spawn``), builds its own ``WagerKit`` on the database
and reports, as plain data, what every call returned and when: bets placed by several
concurrent clients (paced) or all at once (so this process's batcher groups them), and job
runners ticking at a given (fixed) time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from wagerkit import DEFAULT_LIMITS, Actor, IdentityPolicy, Role, WagerKit, WagerkitError
from wagerkit.adapters.sql import SqlStore
from wagerkit.testing import FixedClock

# (tag, user id, event id, outcome id, amount, idempotency key)
BetOp = tuple[str, int, int, int, int, str | None]

NO_BET_LIMIT = IdentityPolicy(limits={**DEFAULT_LIMITS, "bet": (10**6, 60)})


async def _until(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def place(kit: WagerKit, op: BetOp) -> dict[str, Any]:
    """Place one bet; the answer (or the error's stable code) with send/answer times."""
    tag, uid, eid, oid, amount, key = op
    res: dict[str, Any] = {
        "tag": tag,
        "user": uid,
        "event": eid,
        "outcome": oid,
        "stake": amount,
        "key": key,
        "sent": time.time(),
    }
    try:
        r = await kit.events.place_bet(
            Actor(uid, Role.PLAYER, f"u{uid}"), eid, oid, amount, idempotency_key=key
        )
        res.update(ok=True, bet_id=r.bet.id, replayed=r.replayed, amount=r.bet.amount)
    except WagerkitError as exc:
        res.update(ok=False, error=exc.code)
    except Exception as exc:  # anything else is a failure the test reports
        res.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    res["done"] = time.time()
    return res


async def _bets(
    url: str, ops: list[BetOp], clients: int, pause: float, start_at: float, at_once: bool
) -> list[dict[str, Any]]:
    store = SqlStore.from_url(url, pool_size=clients)
    kit = WagerKit(store, identity_policy=NO_BET_LIMIT)
    out: list[dict[str, Any]] = []
    try:
        async with store() as uow:  # connect before the start signal
            await uow.events.get(0)
        await _until(start_at)
        if at_once:
            out = list(await asyncio.gather(*(place(kit, op) for op in ops)))
        else:
            queue: asyncio.Queue[BetOp] = asyncio.Queue()
            for op in ops:
                queue.put_nowait(op)

            async def client() -> None:
                while not queue.empty():
                    out.append(await place(kit, queue.get_nowait()))
                    await asyncio.sleep(pause)

            await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        await store.dispose()
    return out


def run_bets(
    url: str,
    ops: list[BetOp],
    *,
    clients: int = 8,
    pause: float = 0.0,
    start_at: float = 0.0,
    at_once: bool = False,
) -> list[dict[str, Any]]:
    """``at_once``: every bet submitted together (the batcher groups them); otherwise
    ``clients`` concurrent clients take the bets one by one, ``pause`` seconds apart."""
    return asyncio.run(_bets(url, ops, clients, pause, start_at, at_once))


async def _jobs(
    url: str, now: str, start_at: float, limit: int, rounds: int
) -> list[dict[str, Any]]:
    store = SqlStore.from_url(url, pool_size=2)
    kit = WagerKit(store, clock=FixedClock(datetime.fromisoformat(now)))
    reports: list[dict[str, Any]] = []
    try:
        async with store() as uow:
            await uow.events.get(0)
        await _until(start_at)
        for _ in range(rounds):
            r = await kit.jobs.tick(limit=limit)
            reports.append({"locked": r.locked, "voided": r.voided, "resumed": r.resumed})
    finally:
        await store.dispose()
    return reports


def run_jobs(
    url: str, now: str, *, start_at: float = 0.0, limit: int = 2, rounds: int = 2
) -> list[dict[str, Any]]:
    """A job runner whose clock stands at ``now`` (ISO): ``rounds`` ticks claiming ``limit``
    events at a time, so that runners started together interleave their claims."""
    return asyncio.run(_jobs(url, now, start_at, limit, rounds))
