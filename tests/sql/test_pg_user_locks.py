"""Read-modify-write of a user row holds the row lock: a concurrent ban cannot be overwritten
by a stale full-row write, and two admins cannot demote each other past the last admin."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from wagerkit import Actor, Role, UserStatus, WagerKit
from wagerkit.adapters.sql import SqlStore

pytestmark = pytest.mark.postgres


async def test_a_locked_user_read_waits_for_the_concurrent_writer(pg_url: str) -> None:
    store = SqlStore.from_url(pg_url)
    await store.create_all()
    kit = WagerKit(store)
    u = await kit.users.add(Actor.system(), "U")

    async with store() as first:
        mine = await first.users.get(u.id, for_update=True)
        assert mine is not None

        async def second() -> UserStatus:
            async with store() as uow:
                seen = await uow.users.get(u.id, for_update=True)
                assert seen is not None
                await uow.commit()
                return seen.status

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # blocked on the row lock
        await first.users.update(dataclasses.replace(mine, status=UserStatus.BANNED))
        await first.commit()
    assert (
        await asyncio.wait_for(waiting, 10) is UserStatus.BANNED
    )  # the fresh row, not a stale one
    await store.dispose()


async def test_two_admins_cannot_demote_each_other_at_once(pg_url: str) -> None:
    store = SqlStore.from_url(pg_url)
    await store.create_all()
    kit = WagerKit(store)
    a = await kit.users.add(Actor.system(), "A", role=Role.ADMIN)
    b = await kit.users.add(Actor.system(), "B", role=Role.ADMIN)
    for _ in range(8):  # a race: repeat it so that a missing lock shows every time
        for user in (a, b):
            await kit.identity.set_role(Actor.system(), user.id, Role.ADMIN, "reset")
        fresh_a = await kit.users.get(Actor.system(), a.id)
        fresh_b = await kit.users.get(Actor.system(), b.id)
        outcomes = await asyncio.gather(
            kit.identity.set_role(Actor.of(fresh_a), b.id, Role.PLAYER, "race"),
            kit.identity.set_role(Actor.of(fresh_b), a.id, Role.PLAYER, "race"),
            return_exceptions=True,
        )
        assert sum(1 for o in outcomes if isinstance(o, Exception)) == 1  # one is refused
        async with store() as uow:
            assert await uow.users.count_active_admins() == 1
    await store.dispose()
