"""Prices over HTTP against a real server, on every store: current prices (the server's job
loop records the configured random-walk symbol), one symbol, its ticks, staff-set prices
(audited, 403 for players), and problem+json for bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from authkit import bearer, register
from test_auth_http import problem
from test_events_http import STORES, Live, admin_h, live_server


@pytest.fixture(scope="module", params=STORES)
def px_live(
    request: pytest.FixtureRequest, server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    with live_server(request, server, tmp_path_factory) as live:
        yield live


@pytest.fixture
def http(px_live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=px_live.url, timeout=20) as client:
        yield client


def test_the_server_records_the_configured_symbol(http: httpx.Client) -> None:
    deadline = time.monotonic() + 10
    while True:  # the job loop samples once a second
        [demo] = http.get("/api/v1/prices").json()["prices"]
        if demo["price"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert demo["symbol"] == "DEMO-USD"
    assert demo["source"] == "random"
    assert demo["fresh"] is True
    one = http.get("/api/v1/prices/DEMO-USD").json()
    assert set(one) == {"symbol", "price", "observed_at", "source"}
    ticks = http.get("/api/v1/prices/DEMO-USD/ticks", params={"limit": 2}).json()
    assert ticks["symbol"] == "DEMO-USD"
    assert 1 <= len(ticks["ticks"]) <= 2


def test_staff_set_a_price(http: httpx.Client, px_live: Live) -> None:
    admin = admin_h(http)
    r = http.post(
        "/api/v1/prices/BTC-USD",
        json={"price": "0.000000012345678901", "reason": "manual"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    tick = r.json()
    assert (tick["symbol"], tick["price"], tick["source"]) == (
        "BTC-USD", "0.000000012345678901", "operator",
    )  # fmt: skip
    assert http.get("/api/v1/prices/BTC-USD").json() == tick
    since = (datetime.fromisoformat(tick["observed_at"]) - timedelta(seconds=1)).isoformat()
    ticks = http.get("/api/v1/prices/BTC-USD/ticks", params={"since": since}).json()["ticks"]
    assert tick in ticks
    audit = http.get("/api/v1/admin/audit", params={"action": "price.set"}, headers=admin)
    assert audit.status_code == 200, audit.text
    assert any(e["target"] == "price:BTC-USD" for e in audit.json()["entries"])
    px_live.conserved()


def test_players_may_not_set_prices(http: httpx.Client) -> None:
    h = bearer(register(http)["access_token"])
    problem(http.post("/api/v1/prices/BTC-USD", json={"price": "1"}, headers=h), 403, "forbidden")
    problem(http.post("/api/v1/prices/BTC-USD", json={"price": "1"}), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"price": 97000.12}, "validation_failed"),  # a JSON number is a float: refused
        ({"price": "1e5"}, "invalid_input"),
        ({"price": "0"}, "invalid_input"),
        ({"price": "-1"}, "invalid_input"),
        ({"price": "1.0000000000000000001"}, "invalid_input"),
        ({"price": "1", "extra": 1}, "validation_failed"),
        ({}, "validation_failed"),
    ],
)
def test_bad_prices_are_422(http: httpx.Client, body: dict[str, Any], code: str) -> None:
    admin = admin_h(http)
    problem(http.post("/api/v1/prices/BTC-USD", json=body, headers=admin), 422, code)


def test_bad_symbols_and_queries(http: httpx.Client) -> None:
    admin = admin_h(http)
    problem(http.get("/api/v1/prices/NOPE-USD"), 404, "price_not_found")
    problem(http.get("/api/v1/prices/btc"), 422, "invalid_input")
    problem(
        http.post("/api/v1/prices/bad%20sym", json={"price": "1"}, headers=admin),
        422,
        "invalid_input",
    )
    problem(http.get("/api/v1/prices/BTC/ticks", params={"limit": 0}), 422, "validation_failed")
    problem(
        http.get("/api/v1/prices/BTC/ticks", params={"since": "2026-01-01T00:00:00"}),
        422,
        "validation_failed",
    )
    assert http.get("/api/v1/prices/NONE/ticks").json() == {"symbol": "NONE", "ticks": []}
    now = datetime.now(UTC).isoformat()
    assert http.get("/api/v1/prices/NONE/ticks", params={"since": now}).status_code == 200


def test_prices_are_in_the_openapi_document(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/v1/prices"]) == {"get"}
    assert set(paths["/api/v1/prices/{symbol}"]) == {"get", "post"}
    assert set(paths["/api/v1/prices/{symbol}/ticks"]) == {"get"}
    for name in ("TickOut", "PriceList", "TickList", "PriceIn", "CurrentPriceOut"):
        assert name in spec["components"]["schemas"]
