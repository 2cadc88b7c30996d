"""Fresh stores for the property tests: in memory, SQLite (a new file each time) and
PostgreSQL (one database per test, emptied with TRUNCATE before and after each use)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from wagerkit.adapters.sql import SqlStore
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import InMemoryStore

Cleanup = Callable[[], Awaitable[None]]

StoreMaker = Callable[[], Awaitable[tuple[UnitOfWorkFactory, Cleanup]]]


async def memory_store() -> tuple[UnitOfWorkFactory, Cleanup]:
    async def cleanup() -> None:
        return None

    return InMemoryStore(), cleanup


async def sqlite_store() -> tuple[UnitOfWorkFactory, Cleanup]:
    tmp = tempfile.mkdtemp(prefix="wagerkit-sm-")
    store = SqlStore.from_url(f"sqlite:///{tmp}/ledger.db")
    await store.create_all()

    async def cleanup() -> None:
        await store.dispose()
        shutil.rmtree(tmp, ignore_errors=True)

    return store, cleanup


TRUNCATE = text("TRUNCATE transfers, accounts, users, audit_log RESTART IDENTITY CASCADE")


def postgres_store(url: str) -> StoreMaker:
    async def make() -> tuple[UnitOfWorkFactory, Cleanup]:
        store = SqlStore.from_url(url, pool_size=2)
        await store.create_all()
        async with store.engine.begin() as conn:
            await conn.execute(TRUNCATE)

        async def cleanup() -> None:
            try:
                async with store.engine.begin() as conn:
                    await conn.execute(TRUNCATE)
            finally:
                await store.dispose()

        return store, cleanup

    return make
