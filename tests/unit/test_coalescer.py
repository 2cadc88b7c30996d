"""Coalesced look-ups: concurrent keys share one fetch, nothing is served from before the ask."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from wagerkit.domain import Actor, User
from wagerkit.services import WagerKit
from wagerkit.services.base import Coalescer
from wagerkit.testing import InMemoryStore, InMemoryUnitOfWork


class Source:
    def __init__(self) -> None:
        self.values = {1: "a", 2: "b", 3: "c"}
        self.fetches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def fetch(self, keys: Sequence[int]) -> dict[int, str]:
        self.fetches.append(sorted(keys))
        await self.gate.wait()
        return {k: self.values[k] for k in keys if k in self.values}


async def test_concurrent_keys_share_one_fetch_and_each_gets_its_value() -> None:
    src = Source()
    c: Coalescer[int, str] = Coalescer(src.fetch)
    got = await asyncio.gather(c.get(1), c.get(2), c.get(2), c.get(9))
    assert got == ["a", "b", "b", None]
    assert src.fetches == [[1, 2, 9]]


async def test_a_key_asked_during_a_fetch_is_read_again_afterwards() -> None:
    src = Source()
    src.gate.clear()
    c: Coalescer[int, str] = Coalescer(src.fetch)
    first = asyncio.ensure_future(c.get(1))
    await asyncio.sleep(0)  # the first fetch is running and blocked
    src.values[1] = "changed"  # committed after the first fetch began
    second = asyncio.ensure_future(c.get(1))
    src.gate.set()
    assert await first in ("a", "changed")
    assert await second == "changed"  # never the value read before it asked
    assert src.fetches == [[1], [1]]


async def test_a_failed_fetch_fails_its_callers_only() -> None:
    calls = 0

    async def fetch(keys: Sequence[int]) -> dict[int, int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("down")
        return {k: k for k in keys}

    c: Coalescer[int, int] = Coalescer(fetch)
    with pytest.raises(RuntimeError):
        await c.get(1)
    assert await c.get(2) == 2


async def test_authenticate_reads_concurrent_users_in_one_query() -> None:
    from wagerkit.adapters.tokens import JwtTokenService

    store = InMemoryStore()
    reads: list[int] = []

    def uow() -> InMemoryUnitOfWork:
        u = store()
        real = u.users.get_many

        async def counted(ids: Sequence[int]) -> dict[int, User]:
            reads.append(len(ids))
            return await real(ids)

        u.users.get_many = counted  # type: ignore[method-assign]
        return u

    kit = WagerKit(uow, tokens=JwtTokenService("k" * 32))
    users = [await kit.users.add(Actor.system(), f"u{i}") for i in range(5)]
    tokens = [kit.identity.session_for(u).access_token for u in users]
    actors = await asyncio.gather(*(kit.identity.authenticate(t) for t in tokens))
    assert [a.user_id for a in actors] == [u.id for u in users]
    assert sum(reads) == 5  # every user read, fresh
    assert len(reads) < 5  # but not one query each
