"""Round trips of a contract placement batch on PostgreSQL, counted with SQLAlchemy's
``before_cursor_execute`` plus the statements sent through the driver (the batch read, and a
pipeline's last statement); the COMMIT, which carries the deferred ledger write, the contracts'
insert and the exposure update, is not counted.

A batch of keyed placements on a symbol the house has exposure on is: the batch read (the
exposure rows ``FOR UPDATE``, replays, latest tick, wallet and house ids, reserved contract
ids: one statement) and the ledger's lock-and-read. A batch of replays is the read alone. It
was six statements before (replays, tick, open_accounts, exposure lock, ledger, contracts'
insert).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from builders import assert_conserved
from predictions_worker import policy
from statements import StatementCounter

from wagerkit import Actor, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.prices import Tick
from wagerkit.testing import FixedClock

pytestmark = pytest.mark.postgres

SYSTEM = Actor.system("test")
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[SqlStore]:
    upgrade(pg_url)
    store = SqlStore.from_url(pg_url)
    try:
        yield store
    finally:
        await store.dispose()


async def test_a_placement_batch_is_two_statements(
    pg: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = WagerKit(pg, clock=FixedClock(T0), predictions=policy())
    users = [await kit.users.add(SYSTEM, f"Player {i}") for i in range(20)]
    async with pg() as uow:
        await uow.prices.add_ticks([Tick("BTC-USD", T0, Decimal("100"), "operator")])
        await uow.commit()
    counter = StatementCounter(kit, pg, monkeypatch, pipelines=True)

    async def batch(key: str) -> tuple[int, list[Any]]:
        start = len(counter.marks)
        got = await asyncio.gather(
            *(
                kit.predictions.place(
                    Actor(u.id, Role.PLAYER),
                    "BTC-USD",
                    "up",
                    10,
                    duration=60,
                    idempotency_key=key,
                )
                for u in users
            )
        )
        assert len(counter.marks) == start + 1  # one batch, no retry
        return counter.between(start), got

    try:
        await batch("first")  # wallets and the house opened, the exposure rows created
        fresh, placed = await batch("second")
        replays, again = await batch("second")
    finally:
        counter.close()
    assert fresh == 2  # read + the ledger's lock-and-read
    assert replays == 1  # read only: nothing to write
    assert not any(r.replayed for r in placed)
    assert all(r.replayed for r in again)
    assert [r.contract for r in again] == [r.contract for r in placed]
    async with pg() as uow:
        stored = await uow.predictions.list_contracts(limit=100)
        exposure = await uow.predictions.exposure()
    assert len(stored) == 40
    by_id = {c.id: c for c in stored}
    assert all(by_id[r.contract.id] == r.contract for r in placed)  # the ids answered
    assert len({r.contract.id for r in placed}) == 20
    mp = placed[0].contract.max_payout
    assert sorted((s, a) for _, s, a in exposure) == [("*", 40 * mp), ("BTC-USD", 40 * mp)]
    await assert_conserved(kit)
