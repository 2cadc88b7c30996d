"""Socket.IO with authentication, against the real server with a real python-socketio
client: refused without or with a bad token or when banned, rooms per user,
``request_balance`` → ``balance_update``, and a balance change made over HTTP pushed to the
user's socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
import socketio
from authkit import JWT_SECRET, admin_session, bearer, init_data, register, webapp_pairs

from wagerkit_http.context import WagerkitApp


class Client:
    """A socketio.AsyncClient that queues every ``balance_update`` and ``connect_error``."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.updates: asyncio.Queue[Any] = asyncio.Queue()
        self.refusals: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("balance_update", self.updates.put)
        self.sio.on("connect_error", self.refusals.put)
        self.gone = asyncio.Event()  # set when the connection ends
        self.sio.on("disconnect", lambda *_: self.gone.set())

    async def connect(self, url: str, auth: Any) -> None:
        await self.sio.connect(url, transports=["websocket"], wait_timeout=5, auth=auth)


@asynccontextmanager
async def connected(url: str, auth: Any) -> AsyncIterator[Client]:
    c = Client()
    await c.connect(url, auth)
    try:
        yield c
    finally:
        await c.sio.disconnect()


async def refused(url: str, auth: Any) -> dict[str, Any]:
    c = Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await c.connect(url, auth)
    data = await asyncio.wait_for(c.refusals.get(), 5)
    assert isinstance(data, dict)
    return data


def coin(payload: dict[str, Any]) -> int:
    (b,) = [b["balance"] for b in payload["balances"] if b["currency"] == "COIN"]
    return int(b)


async def test_connect_refused_without_or_with_a_bad_token(
    auth_live: tuple[str, WagerkitApp, str],
) -> None:
    url = auth_live[0]
    with httpx.Client(base_url=url) as http:
        user = register(http)
    uid = user["user"]["id"]
    now = int(time.time())
    expired = jwt.encode(
        {"sub": str(uid), "iat": now - 7200, "exp": now - 3600, "typ": "access"}, JWT_SECRET
    )
    forged = jwt.encode({"sub": str(uid), "iat": now, "exp": now + 60, "typ": "access"}, "k" * 40)
    assert (await refused(url, None))["data"]["code"] == "unauthenticated"
    assert (await refused(url, {"token": 42}))["data"]["code"] == "unauthenticated"
    assert (await refused(url, {"token": "garbage"}))["data"]["code"] == "token_invalid"
    assert (await refused(url, {"token": forged}))["data"]["code"] == "token_invalid"
    assert (await refused(url, {"token": expired}))["data"]["code"] == "token_expired"
    bad_init = init_data(webapp_pairs(123), token="1:other")
    assert (await refused(url, {"init_data": bad_init}))["data"]["code"] == "telegram_bad_hash"


async def test_good_token_connects_and_request_balance_answers(
    auth_live: tuple[str, WagerkitApp, str],
) -> None:
    url = auth_live[0]
    with httpx.Client(base_url=url) as http:
        user = register(http)
    async with connected(url, {"token": user["access_token"]}) as c:
        ack = await c.sio.call("request_balance", {}, timeout=5)
        update = await asyncio.wait_for(c.updates.get(), 5)
        assert update == ack
        assert update["user_id"] == user["user"]["id"]
        assert coin(update) == 1000
        assert await c.sio.call("ping", 1, timeout=5) == "pong"


async def test_mini_app_init_data_connects(auth_live: tuple[str, WagerkitApp, str]) -> None:
    url = auth_live[0]
    data = init_data(webapp_pairs(880001, "Sock"))
    async with connected(url, {"init_data": data}) as c:
        update = await c.sio.call("request_balance", timeout=5)
        assert coin(update) == 1000


async def test_admin_adjust_over_http_pushes_balance_update_to_the_user_only(
    auth_live: tuple[str, WagerkitApp, str],
) -> None:
    url = auth_live[0]
    async with httpx.AsyncClient(base_url=url) as http:
        with httpx.Client(base_url=url) as sync_http:
            alice, bob = register(sync_http), register(sync_http)
            admin = bearer(admin_session(sync_http)["access_token"])
        async with (
            connected(url, {"token": alice["access_token"]}) as a,
            connected(url, {"token": alice["access_token"]}) as a2,
            connected(url, {"token": bob["access_token"]}) as b,
        ):
            r = await http.post(
                f"/api/v1/admin/users/{alice['user']['id']}/balance-adjust",
                json={"amount": 123, "currency": "COIN", "reason": "push test"},
                headers=admin,
            )
            assert r.status_code == 200, r.text
            for sock in (a, a2):  # every socket of alice, none of bob's
                update = await asyncio.wait_for(sock.updates.get(), 5)
                assert update["user_id"] == alice["user"]["id"]
                assert coin(update) == 1123
            await asyncio.sleep(0.3)
            assert b.updates.empty()


async def _ban_unannounced(db_url: str, admin_id: int, user_id: int) -> None:
    """Ban through the use cases of this process, on the server's database, with no live
    updates: a ban whose notification never reaches the server (another process without
    Redis)."""
    from wagerkit import WagerKit
    from wagerkit.adapters.sql import SqlStore

    store = SqlStore.from_url(db_url, pool_size=1)
    try:
        kit = WagerKit(store)
        await kit.identity.ban(await kit.identity.actor_for(admin_id), user_id, "unannounced")
    finally:
        await store.dispose()


async def test_banned_user_is_refused_and_cut_off(auth_live: tuple[str, WagerkitApp, str]) -> None:
    """A ban the server was not told about: the next call on the socket is refused and the
    socket is cut off."""
    url, _, db_url = auth_live
    with httpx.Client(base_url=url) as http:
        user = register(http)
        admin_id = admin_session(http)["user"]["id"]
    uid = user["user"]["id"]
    c = Client()
    await c.connect(url, {"token": user["access_token"]})
    await _ban_unannounced(db_url, admin_id, uid)
    try:
        ack = await c.sio.call("request_balance", timeout=5)
        assert ack["error"]["code"] == "account_banned"
        for _ in range(50):
            if not c.sio.connected:
                break
            await asyncio.sleep(0.05)
        assert not c.sio.connected
    finally:
        await c.sio.disconnect()
    assert (await refused(url, {"token": user["access_token"]}))["data"]["code"] == (
        "account_banned"
    )


async def test_a_ban_cuts_off_the_users_open_sockets_at_once(
    auth_live: tuple[str, WagerkitApp, str],
) -> None:
    """Banned over HTTP: every socket of the user is disconnected by the server within a
    second, with no call on it; another user's socket stays up; reconnecting is refused."""
    url = auth_live[0]
    with httpx.Client(base_url=url) as http:
        user, other = register(http), register(http)
        admin = bearer(admin_session(http)["access_token"])
    uid = user["user"]["id"]
    async with (
        connected(url, {"token": user["access_token"]}) as s1,
        connected(url, {"token": user["access_token"]}) as s2,
        connected(url, {"token": other["access_token"]}) as bystander,
    ):
        async with httpx.AsyncClient(base_url=url) as ahttp:
            r = await ahttp.post(
                f"/api/v1/admin/users/{uid}/ban", json={"reason": "abuse"}, headers=admin
            )
            assert r.status_code == 200, r.text
        await asyncio.wait_for(asyncio.gather(s1.gone.wait(), s2.gone.wait()), 1)
        assert not s1.sio.connected
        assert not s2.sio.connected
        assert bystander.sio.connected
        assert await bystander.sio.call("ping", timeout=5) == "pong"
    assert (await refused(url, {"token": user["access_token"]}))["data"]["code"] == (
        "account_banned"
    )
