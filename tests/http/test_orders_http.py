"""The orders area over HTTP and Socket.IO, against a real uvicorn server (in-memory store)
with httpx and real python-socketio clients: seed 001's routes and shapes, contacts only for
whom paid, problem+json errors, the public reviews without contacts or Telegram ids, the
profile, preferences and the city autocomplete; ``order_new`` reaches subscribed executors
only. Ends with the books checked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import httpx
import pytest
import socketio  # type: ignore[import-untyped]
from authkit import JWT_SECRET
from builders import assert_conserved

from wagerkit import Actor, Role, User, WagerKit
from wagerkit.config import Settings
from wagerkit.testing import InMemoryStore
from wagerkit_http import create_app, create_asgi
from wagerkit_http.context import WagerkitApp

T = TypeVar("T")
SYSTEM = Actor.system("tests")
API = "/api/v1"


@dataclass
class Live:
    url: str
    app: WagerkitApp
    loop: asyncio.AbstractEventLoop

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    @property
    def kit(self) -> WagerKit:
        return self.app.ctx.kit

    async def user(self, role: Role = Role.PLAYER) -> tuple[User, dict[str, str]]:
        user = await self.call(self.kit.users.add(SYSTEM, f"u{uuid.uuid4().hex[:8]}", role=role))
        token = self.kit.identity.session_for(user).access_token
        return user, {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def live(server: Any) -> Iterator[Live]:
    settings = Settings(  # type: ignore[call-arg]
        database_url="sqlite:///:memory:", jwt_secret=JWT_SECRET, _env_file=None
    )
    app = create_app(settings, store=InMemoryStore())
    identity = app.ctx.kit.identity
    limits = {**identity.policy.limits, "order": (10_000, 3600), "take": (10_000, 60)}
    identity.policy = replace(identity.policy, limits=limits)
    loops: list[asyncio.AbstractEventLoop] = []

    async def capture(_app: Any) -> None:
        loops.append(asyncio.get_running_loop())

    app.register_listener(capture, "after_server_start")
    manager: AbstractContextManager[str] = server(create_asgi(settings, app=app))
    with manager as url:
        yield Live(url, app, loops[0])


@pytest.fixture
async def http(live: Live) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url + API, timeout=10) as c:
        yield c


def _problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.text


async def _order(http: httpx.AsyncClient, h: dict[str, str], contact: str) -> dict[str, Any]:
    body = {"category": "plumbing", "city": "москва", "description": "Tap", "contact": contact}
    r = await http.post("/orders", json=body, headers=h)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_a_day_of_an_order(live: Live, http: httpx.AsyncClient) -> None:
    _client, hc = await live.user()
    ex = [await live.user() for _ in range(4)]
    order = await _order(http, hc, "+7 900 1")
    oid = order["id"]
    assert (order["city"], order["contact"], order["free_slots"]) == ("Москва", "+7 900 1", 3)
    assert order["minutes_left"] in (59, 60)  # whole minutes left, as the seed counts
    listed = (await http.get("/orders", params={"city": "Москва"})).json()["orders"]
    assert [o["id"] for o in listed if o["id"] == oid] == [oid]
    assert all(o["contact"] is None for o in listed)
    assert (await http.get(f"/orders/{oid}")).json()["contact"] is None
    assert (await http.get(f"/orders/{oid}", headers=ex[0][1])).json()["contact"] is None
    # takes: 201 with the contact, then 200 replayed with no charge; the fourth is 409
    r = await http.post(f"/orders/{oid}/take", headers=ex[0][1])
    assert r.status_code == 201, r.text
    assert (r.json()["contact"], r.json()["fee"], r.json()["replayed"]) == ("+7 900 1", 2, False)
    r = await http.post(f"/orders/{oid}/take", headers=ex[0][1])
    assert (r.status_code, r.json()["replayed"]) == (200, True)
    for _, h in ex[1:3]:
        assert (await http.post(f"/orders/{oid}/take", headers=h)).status_code == 201
    _problem(await http.post(f"/orders/{oid}/take", headers=ex[3][1]), 409, "order_full")
    _problem(await http.post(f"/orders/{oid}/take", headers=hc), 403, "own_order")
    assert (await http.get(f"/orders/{oid}", headers=ex[1][1])).json()["contact"] == "+7 900 1"
    _problem(
        await http.put(f"/orders/{oid}", json={"city": "Казань"}, headers=hc), 409, "order_locked"
    )
    me = (await http.get("/users/me", headers=ex[0][1])).json()
    assert (me["balance"], me["currency"], me["orders_taken"]) == (998, "COIN", 1)
    # the client answers and completes; reviews open
    assert (await http.post(f"/orders/{oid}/respond", headers=hc)).json()["responded"]
    assert (await http.post(f"/orders/{oid}/complete", headers=hc)).json()["status"] == "completed"
    review = {"order_id": oid, "executor_id": ex[0][0].id, "rating": 5, "text": "fast"}
    r = await http.post("/reviews/client", json=review, headers=hc)
    assert r.status_code == 201, r.text
    _problem(await http.post("/reviews/client", json=review, headers=hc), 409, "already_reviewed")
    _problem(
        await http.post("/reviews/client", json={**review, "rating": 9}, headers=hc),
        422,
        "validation_failed",
    )
    r = await http.post(
        "/reviews/executor", json={"order_id": oid, "reason": "rude"}, headers=ex[1][1]
    )
    assert r.status_code == 201, r.text
    reviews = (await http.get("/reviews", params={"executor_id": ex[0][0].id})).json()["reviews"]
    assert [x["rating"] for x in reviews] == [5]
    text = (await http.get("/reviews")).text
    assert "+7 900 1" not in text
    assert "telegram" not in text
    rated = (await http.get("/users/me", headers=ex[0][1])).json()
    assert (rated["rating"], rated["rating_sum"], rated["rating_count"]) == (5.0, 5, 1)
    await live.call(assert_conserved(live.kit))


async def test_edits_reports_and_staff(live: Live, http: httpx.AsyncClient) -> None:
    _client, hc = await live.user()
    _taker, ht = await live.user()
    _, hop = await live.user(Role.OPERATOR)
    order = await _order(http, hc, "+7 900 2")
    oid = order["id"]
    _problem(
        await http.post("/orders", json={**order, "id": 1}, headers=hc), 422, "validation_failed"
    )
    _problem(
        await http.post(
            "/orders",
            json={"category": "plumbing", "city": "Atlantis", "description": "x", "contact": "y"},
            headers=hc,
        ),
        422,
        "invalid_input",
    )
    _problem(
        await http.post("/orders", json={"category": "plumbing"}, headers={}),
        401,
        "unauthenticated",
    )
    edited = await http.put(f"/orders/{oid}", json={"city": "Казань"}, headers=hc)
    assert edited.json()["city"] == "Казань"
    _problem(await http.put(f"/orders/{oid}", json={"city": "Омск"}, headers=ht), 403, "forbidden")
    _problem(await http.get("/orders/nope"), 404, "order_not_found")
    await http.post(f"/orders/{oid}/take", headers=ht)
    r = await http.post(f"/orders/{oid}/report-contact", json={"reason": "dead"}, headers=ht)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    _problem(await http.get("/admin/order-reports", headers=ht), 403, "forbidden")
    for verdict in ("accept", "reject"):
        _problem(
            await http.post(f"/admin/order-reports/{rid}/{verdict}", headers=ht), 403, "forbidden"
        )
    pending = (await http.get("/admin/order-reports", headers=hop)).json()["reports"]
    assert rid in [x["id"] for x in pending]
    r = await http.post(f"/admin/order-reports/{rid}/accept", json={"reason": "ok"}, headers=hop)
    assert r.json()["status"] == "accepted", r.text
    assert (await http.get("/users/me", headers=ht)).json()["balance"] == 1000
    _problem(
        await http.post(f"/admin/order-reports/{rid}/reject", headers=hop), 409, "already_exists"
    )
    # a deletable order
    other = await _order(http, hc, "+7 900 3")
    assert (await http.delete(f"/orders/{other['id']}", headers=hc)).json()["status"] == "deleted"
    # categories, cities, profile and preferences
    cats = (await http.get("/categories")).json()["categories"]
    assert len(cats) >= 7
    assert (await http.get("/cities", params={"prefix": "мос"})).json()["cities"][0] == "Москва"
    r = await http.put("/users/me", json={"display_name": "Ivan", "phone": "+7 1"}, headers=ht)
    assert (r.json()["display_name"], r.json()["phone"]) == ("Ivan", "+7 1")
    r = await http.put(
        "/users/me/preferences", json={"categories": ["plumbing"], "cities": ["казань"]}, headers=ht
    )
    assert (r.json()["categories"], r.json()["cities"]) == (["plumbing"], ["Казань"])
    r = await http.put(
        "/users/me/notification-settings", json={"mode": "digest", "digest_minutes": 30}, headers=ht
    )
    assert (r.json()["mode"], r.json()["digest_minutes"]) == ("digest", 30)
    cat = {"name": "Towing", "fee": 5, "max_executors": 1}
    _problem(
        await http.put("/admin/order-categories/towing", json=cat, headers=ht), 403, "forbidden"
    )
    r = await http.put("/admin/order-categories/towing", json=cat, headers=hop)
    assert r.json()["fee"] == 5, r.text
    await live.call(assert_conserved(live.kit))


class Feed:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.got: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for name in ("order_new", "order_updated"):
            self.sio.on(name, self._put(name))

    def _put(self, name: str) -> Any:
        async def put(data: Any) -> None:
            await self.got.put((name, data))

        return put

    async def next(self, wait: float = 5) -> tuple[str, Any]:
        return await asyncio.wait_for(self.got.get(), wait)


@asynccontextmanager
async def feed(live: Live, headers: dict[str, str]) -> AsyncIterator[Feed]:
    f = Feed()
    token = headers["Authorization"].split()[1]
    await f.sio.connect(live.url, transports=["websocket"], wait_timeout=5, auth={"token": token})
    try:
        yield f
    finally:
        await f.sio.disconnect()


async def test_the_feed_reaches_subscribed_executors_only(
    live: Live, http: httpx.AsyncClient
) -> None:
    _, hc = await live.user()
    _, hs = await live.user()
    _, hx = await live.user()
    _, hd = await live.user()
    subs = {"categories": ["electrical"], "cities": ["Самара"]}
    await http.put("/users/me/preferences", json=subs, headers=hs)
    await http.put("/users/me/preferences", json={**subs, "cities": ["Омск"]}, headers=hx)
    await http.put("/users/me/preferences", json=subs, headers=hd)
    await http.put("/users/me/notification-settings", json={"mode": "off"}, headers=hd)
    async with feed(live, hs) as fs, feed(live, hx) as fx, feed(live, hd) as fd:
        body = {
            "category": "electrical",
            "city": "Самара",
            "description": "Sparks",
            "contact": "z1",
        }
        oid = (await http.post("/orders", json=body, headers=hc)).json()["id"]
        name, data = await fs.next()
        assert (name, data["id"], data["free_slots"]) == ("order_new", oid, 3)
        assert "contact" not in data
        await http.post(f"/orders/{oid}/take", headers=hs)
        name, data = await fs.next()
        assert (name, data["takers"]) == ("order_updated", 1)
        await asyncio.sleep(0.3)
        assert fx.got.empty()
        assert fd.got.empty()
