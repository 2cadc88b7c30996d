"""Price predictions over HTTP against a real server: place (Idempotency-Key, the seeds'
field names, ``start_price`` ignored and said so), list mine, get one (seed 004's status
shape), close early; rounds list, current, bet; staff exposure and voids; problem+json for
bad input. The books balance at the end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from authkit import (
    ADMIN_TG_ID,
    BOT_TOKEN,
    CHEAP_ARGON2,
    JWT_SECRET,
    admin_session,
    bearer,
    register,
)
from builders import assert_conserved
from test_events_http import Live

from wagerkit import Tick
from wagerkit.adapters.passwords import Argon2PasswordHasher
from wagerkit.config import Settings
from wagerkit.testing import InMemoryStore
from wagerkit_http import create_app, create_asgi
from wagerkit_http.context import WagerkitApp


@contextlib.contextmanager
def _server(server: Any, tmp: Any, memory: bool) -> Iterator[Live]:
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp.mktemp('pred') / 'pred.db'}",
        jwt_secret=JWT_SECRET,
        telegram_bot_token=BOT_TOKEN,
        telegram_admin_ids=str(ADMIN_TG_ID),
        price_feed="manual",
        round_symbols="BTC-USD",
        round_interval="1h",
        jobs_in_server=False,
        _env_file=None,
    )
    store = InMemoryStore() if memory else None
    app = create_app(settings, store=store, passwords=Argon2PasswordHasher(**CHEAP_ARGON2))
    identity = app.ctx.kit.identity
    relaxed = {"login_ip": (10_000, 60), "register": (10_000, 60), "telegram": (10_000, 60)}
    identity.policy = replace(identity.policy, limits={**identity.policy.limits, **relaxed})
    loops: list[asyncio.AbstractEventLoop] = []

    async def grab_loop(app: WagerkitApp) -> None:
        loops.append(asyncio.get_running_loop())

    app.register_listener(grab_loop, "before_server_start")
    with server(create_asgi(settings, app=app)) as url:
        yield Live(url, app, loops[0])


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def live(request: pytest.FixtureRequest, server: Any, tmp_path_factory: Any) -> Iterator[Live]:
    with _server(server, tmp_path_factory, request.param == "memory") as live:
        yield live


def _price(live: Live, value: str) -> None:
    async def put() -> None:
        async with live.kit.deps.uow() as uow:
            await uow.prices.add_ticks(
                [Tick("BTC-USD", datetime.now(UTC), Decimal(value), "operator")]
            )
            await uow.commit()

    live.run(put())


def test_contracts_over_http(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=20) as http:
        admin = bearer(admin_session(http)["access_token"])
        p = bearer(register(http)["access_token"])
        body = {"symbol": "BTC-USD", "direction": "up", "stake": 10, "duration": "1m"}
        r = http.post("/api/v1/predictions", json=body, headers=p)
        assert r.status_code == 409
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "price_unavailable"
        _price(live, "50000")
        h = {**p, "Idempotency-Key": "c-1"}
        r = http.post("/api/v1/predictions", json=body, headers=h)
        assert r.status_code == 201, r.text
        c = r.json()["contract"]
        assert (c["status"], c["entry_price"], c["result"], c["profit"]) == (
            "open",
            "50000",
            None,
            None,
        )
        again = http.post("/api/v1/predictions", json=body, headers=h)
        assert (again.status_code, again.json()["replayed"]) == (200, True)
        # seed 003: {amount, direction: long|short, time}
        s3 = http.post(
            "/api/v1/predictions",
            json={"symbol": "BTC-USD", "amount": 5, "direction": "short", "time": 60},
            headers=p,
        )
        assert s3.status_code == 201, s3.text
        assert s3.json()["contract"]["direction"] == "down"
        # seed 004: {exchange, bet_amount, leverage, direction, time, start_price}
        s4 = http.post(
            "/api/v1/predictions",
            json={
                "exchange": "BTC-USD",
                "bet_amount": 20,
                "leverage": 5,
                "direction": "long",
                "time": "5m",
                "start_price": 1,
            },
            headers=p,
        )
        assert s4.status_code == 201, s4.text
        m = s4.json()
        assert "start_price was ignored" in m["notes"][0]
        assert m["contract"]["entry_price"] == "50000"
        _price(live, "50500")
        closed = http.post(f"/api/v1/predictions/{m['contract']['id']}/close", headers=p).json()
        assert (closed["status"], closed["result"], closed["profit"], closed["payout"]) == (
            "won",
            "W",
            1,
            21,
        )
        mine = http.get("/api/v1/predictions/me", params={"status": "open"}, headers=p).json()
        assert [x["id"] for x in mine["contracts"]] == [s3.json()["contract"]["id"], c["id"]]
        got = http.get(f"/api/v1/predictions/{c['id']}", headers=p).json()
        assert got["id"] == c["id"]
        other = bearer(register(http)["access_token"])
        assert http.get(f"/api/v1/predictions/{c['id']}", headers=other).status_code == 403
        assert http.get("/api/v1/predictions/999999", headers=p).status_code == 404
        ex = http.get("/api/v1/admin/predictions/exposure", headers=admin).json()["exposure"]
        assert {e["symbol"]: e["exposure"] for e in ex} == {"*": 27, "BTC-USD": 27}
        assert http.get("/api/v1/admin/predictions/exposure", headers=p).status_code == 403
        for path in (f"/api/v1/admin/predictions/{c['id']}/void", "/api/v1/admin/rounds/1/void"):
            r = http.post(path, json={"reason": "mine"}, headers=p)
            assert (r.status_code, r.json()["code"]) == (403, "forbidden")
        v = http.post(
            f"/api/v1/admin/predictions/{c['id']}/void", json={"reason": "feed"}, headers=admin
        )
        assert (v.status_code, v.json()["status"], v.json()["payout"]) == (200, "void", 10)
        bad = http.post("/api/v1/predictions", json={**body, "direction": "sideways"}, headers=p)
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")
        bad = http.post("/api/v1/predictions", json={**body, "stake": "10"}, headers=p)
        assert bad.status_code == 422
        live.conserved()


def test_rounds_over_http(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=20) as http:
        admin = bearer(admin_session(http)["access_token"])
        p = bearer(register(http)["access_token"])
        live.run(live.kit.jobs.tick())
        (r,) = http.get("/api/v1/rounds/current", params={"symbol": "BTC-USD"}).json()["rounds"]
        b = http.post(
            f"/api/v1/rounds/{r['id']}/bets", json={"direction": "up", "amount": 7}, headers=p
        )
        assert b.status_code == 201, b.text
        assert b.json()["round"]["pool"]["up"] == {"total": 7, "bettors": 1}
        assert (
            http.post(
                f"/api/v1/rounds/{r['id']}/bets", json={"direction": "up", "amount": 7}, headers=p
            ).status_code
            == 409
        )
        assert http.get(f"/api/v1/rounds/{r['id']}").json()["pool"]["total"] == 7
        assert http.get("/api/v1/rounds").json()["rounds"][0]["id"] == r["id"]
        v = http.post(
            f"/api/v1/admin/rounds/{r['id']}/void", json={"reason": "test"}, headers=admin
        )
        assert (v.status_code, v.json()["status"]) == (200, "voided")
        assert http.get("/api/v1/rounds/424242").status_code == 404
        live.conserved()
        live.run(assert_conserved(live.kit))


async def test_socketio_clients_get_round_updates_results_and_balances(
    server: Any, tmp_path_factory: Any
) -> None:
    import socketio  # type: ignore[import-untyped]

    with (
        _server(server, tmp_path_factory, True) as live,
        httpx.Client(base_url=live.url, timeout=20) as http,
    ):
        token = register(http)["access_token"]
        p = bearer(token)
        live.run(live.kit.jobs.tick())  # the current round
        _price(live, "100")
        ahttp = httpx.AsyncClient(base_url=live.url, timeout=20)
        client = socketio.AsyncClient(reconnection=False)
        got: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for name in ("round_update", "contract_result", "balance_update"):
            client.on(name, lambda data, name=name: got.put_nowait((name, data)))
        await client.connect(
            live.url, transports=["websocket"], wait_timeout=5, auth={"token": token}
        )
        try:
            ack = await client.call("join_round", {"symbol": "BTC-USD"}, timeout=5)
            (r,) = ack["rounds"]
            assert (await client.call("join_round", {"round_id": r["id"]}, timeout=5))["round"][
                "id"
            ] == r["id"]
            assert "error" in await client.call("join_round", {"round_id": "x"}, timeout=5)
            b = await ahttp.post(
                f"/api/v1/rounds/{r['id']}/bets", json={"direction": "up", "amount": 9}, headers=p
            )
            assert b.status_code == 201

            async def next_of(kind: str) -> Any:
                while True:
                    name, data = await asyncio.wait_for(got.get(), 5)
                    if name == kind:
                        return data

            update = await next_of("round_update")
            assert (update["id"], update["pool"]["up"]["total"]) == (r["id"], 9)
            c = (
                await ahttp.post(
                    "/api/v1/predictions",
                    json={
                        "symbol": "BTC-USD",
                        "direction": "up",
                        "stake": 10,
                        "duration": "1m",
                        "leverage": 10,
                    },
                    headers=p,
                )
            ).json()["contract"]
            _price(live, "101")
            closed = (await ahttp.post(f"/api/v1/predictions/{c['id']}/close", headers=p)).json()
            result = await next_of("contract_result")
            assert (result["id"], result["status"], result["result"], result["profit"]) == (
                c["id"],
                "won",
                "W",
                closed["profit"],
            )
            balance = await next_of("balance_update")
            assert balance["balances"]
        finally:
            await client.disconnect()
            await ahttp.aclose()
        live.conserved()
