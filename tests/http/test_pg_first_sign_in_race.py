"""Concurrent first requests of a new Telegram user (seed 001 answered 500, a duplicate key):
16 clients send their first ``tma`` / ``Bearer <initData>`` request at once, on PostgreSQL.
The user is created once, with the welcome grant once, and every answer is 200."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authkit import BOT_TOKEN, JWT_SECRET, init_data, webapp_pairs

from wagerkit import Actor, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.config import Settings
from wagerkit_http import create_app, create_asgi

pytestmark = pytest.mark.postgres

CLIENTS = 16


@pytest.fixture
def pg_live(server: Any, pg_url: str) -> Iterator[tuple[str, str]]:
    async def create_schema() -> None:
        store = SqlStore.from_url(pg_url)
        await store.create_all()
        await store.dispose()

    asyncio.run(create_schema())
    settings = Settings(  # type: ignore[call-arg]
        database_url=pg_url,
        jwt_secret=JWT_SECRET,
        telegram_bot_token=BOT_TOKEN,
        _env_file=None,
    )
    app = create_app(settings)
    with server(create_asgi(settings, app=app)) as url:
        yield url, pg_url


async def first_requests(base: str, tg: int) -> list[httpx.Response]:
    data = init_data(webapp_pairs(tg, "Racer"))
    schemes = ["tma", "Bearer"]

    async def one(i: int) -> httpx.Response:
        # a client (and connection) each, as separate Mini App users' devices would
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            return await client.get(
                "/api/v1/wallet", headers={"Authorization": f"{schemes[i % 2]} {data}"}
            )

    return await asyncio.gather(*(one(i) for i in range(CLIENTS)))


async def users_and_grants(db_url: str, tg: int) -> tuple[int, list[int]]:
    store = SqlStore.from_url(db_url)
    try:
        async with store() as uow:
            user = await uow.users.get_by_telegram_id(tg)
            assert user is not None
            same = [u for u in await uow.users.list(limit=1000) if u.telegram_id == tg]
        balances = await WagerKit(store).wallets.balances(Actor.system(), user.id)
        totals = await WagerKit(store).wallets.totals(Actor.system())
    finally:
        await store.dispose()
    assert all(t.conserved for t in totals)
    return len(same), [b.available for b in balances]


def test_concurrent_first_requests_create_the_user_once(pg_live: tuple[str, str]) -> None:
    base, db_url = pg_live
    for _ in range(3):  # a race: several new users, so that a missing retry shows
        tg = 800_000_000 + uuid.uuid4().int % 100_000_000
        answers = asyncio.run(first_requests(base, tg))
        assert [r.status_code for r in answers] == [200] * CLIENTS, [
            r.text for r in answers if r.status_code != 200
        ]
        assert len({r.json()["user_id"] for r in answers}) == 1
        count, grants = asyncio.run(users_and_grants(db_url, tg))
        assert count == 1
        assert grants == [1000]  # the welcome grant (COIN:1000), paid once
