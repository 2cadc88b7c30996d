"""One client process of the PostgreSQL concurrency test: runs its share of transfers with
several concurrent connections and reports what each call returned."""

from __future__ import annotations

import asyncio
from typing import Any

from wagerkit import Actor, InsufficientFunds, WagerKit
from wagerkit.adapters.sql import SqlStore

Op = tuple[str, int, int, int]  # key, from user, to user, amount


async def _run(url: str, ops: list[Op], clients: int) -> list[dict[str, Any]]:
    store = SqlStore.from_url(url, pool_size=clients)
    kit = WagerKit(store)
    queue: asyncio.Queue[Op] = asyncio.Queue()
    for op in ops:
        queue.put_nowait(op)
    out: list[dict[str, Any]] = []

    async def client() -> None:
        while not queue.empty():
            key, src, dst, amount = queue.get_nowait()
            try:
                t = await kit.wallets.transfer(
                    Actor.system(), src, dst, amount, idempotency_key=key
                )
                out.append({"key": key, "ok": True, "id": t.id, "seq": t.seq})
            except InsufficientFunds:
                out.append({"key": key, "ok": False, "error": "insufficient_funds"})
            except Exception as exc:  # anything else is a failure the test reports
                out.append({"key": key, "ok": False, "error": f"{type(exc).__name__}: {exc}"})

    await asyncio.gather(*(client() for _ in range(clients)))
    await store.dispose()
    return out


def run_client_process(url: str, ops: list[Op], clients: int) -> list[dict[str, Any]]:
    return asyncio.run(_run(url, ops, clients))
