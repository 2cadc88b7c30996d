"""Raffles over HTTP against a real server: staff categories and raffles, purchases with
Idempotency-Key replays, the refusals as problem+json, close with the commitment, a beacon
draw paid once, the public record and its verification, a lottery draw corrected before its
payout, voids, staff-only endpoints, and the OpenAPI document. Ends with the books balanced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from test_auth_http import problem
from test_events_http import Live, admin_h, coin, live_server, player

from wagerkit import raffle_draw


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def rf_live(
    request: pytest.FixtureRequest, server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    with live_server(request, server, tmp_path_factory) as live:
        yield live


@pytest.fixture
def http(rf_live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rf_live.url, timeout=20) as client:
        yield client


def at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def new_raffle(http: httpx.Client, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    cat = {"name": "Gold", "ticket_price": 10, "capacity": 100, "winners": 3,
           "split": [50, 30, 20], "rake_bps": 1000, **fields.pop("category", {})}  # fmt: skip
    r = http.post("/api/v1/admin/raffle-categories", json=cat, headers=admin)
    assert r.status_code == 201, r.text
    body = {"name": "Friday", "category_id": r.json()["id"], "start": at(minutes=-1),
            "end": at(hours=1), "min_tickets": 3, **fields}  # fmt: skip
    r = http.post("/api/v1/admin/raffles", json=body, headers=admin)
    assert r.status_code == 201, r.text
    raffle: dict[str, Any] = r.json()
    return raffle


def test_beacon_raffle_end_to_end(http: httpx.Client, rf_live: Live) -> None:
    admin = admin_h(http)
    r = new_raffle(http, admin)
    assert (r["status"], r["category"]["prizes"], r["sold"]) == ("open", [450, 270, 180], 0)
    (h1, _), (h2, _), (h3, _) = player(http), player(http), player(http)
    before = coin(http, h1)
    buy = f"/api/v1/raffles/{r['id']}/tickets"
    first = http.post(buy, json={"numbers": [3, 17]}, headers={**h1, "Idempotency-Key": "b1"})
    assert first.status_code == 201, first.text
    assert (first.json()["numbers"], first.json()["amount"]) == ([3, 17], 20)
    again = http.post(buy, json={"numbers": [3, 17]}, headers={**h1, "Idempotency-Key": "b1"})
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    problem(http.post(buy, json={"count": 3}, headers={**h1, "Idempotency-Key": "b1"}), 409,
            "idempotency_conflict")  # fmt: skip
    assert coin(http, h1) == before - 20
    problem(http.post(buy, json={"numbers": [17]}, headers=h2), 409, "ticket_unavailable")
    problem(http.post(buy, json={"numbers": [100]}, headers=h2), 422, "invalid_input")
    problem(http.post(buy, json={}, headers=h2), 422, "invalid_input")
    problem(http.post(buy, json={"count": 1}), 401, "unauthenticated")
    assert http.post(buy, json={"count": 4}, headers=h2).status_code == 201
    assert http.post(buy, json={"count": 4}, headers=h3).status_code == 201
    detail = http.get(f"/api/v1/raffles/{r['id']}", headers=h1).json()
    assert (detail["sold"], detail["my_numbers"], len(detail["numbers_sold"])) == (10, [3, 17], 10)
    assert http.get(f"/api/v1/raffles/{r['id']}").json()["my_numbers"] is None
    mine = http.get("/api/v1/tickets/me", headers=h1).json()["tickets"]
    assert sorted(t["number"] for t in mine) == [3, 17]
    problem(http.post(f"/api/v1/admin/raffles/{r['id']}/close", headers=h1), 403, "forbidden")
    problem(http.get(f"/api/v1/raffles/{r['id']}/record"), 404, "raffle_not_found")
    closed = http.post(f"/api/v1/admin/raffles/{r['id']}/close", headers=admin)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    problem(http.post(buy, json={"count": 1}, headers=h1), 409, "raffle_state_conflict")
    drawn = http.post(f"/api/v1/admin/raffles/{r['id']}/draw",
                      json={"public_value": "Lotto 2026-01-02: 1 2 3"}, headers=admin)  # fmt: skip
    assert drawn.status_code == 200, drawn.text
    d = drawn.json()
    assert [w["prize"] for w in d["winners"]] == [45, 27, 18]
    assert d["paid_at"] is not None
    problem(http.post(f"/api/v1/admin/raffles/{r['id']}/draw", json={"public_value": "x"},
                      headers=admin), 409, "raffle_state_conflict")  # fmt: skip
    record = http.get(f"/api/v1/raffles/{r['id']}/record").json()
    assert record["commitment"] == closed.json()["commitment"]
    assert raffle_draw.verify_record(record).match
    verdict = http.get(f"/api/v1/raffles/{r['id']}/verify").json()
    assert verdict["match"] is True
    assert verdict["winners"] == [w["number"] for w in d["winners"]]
    rf_live.conserved()


def test_lottery_correct_pay_void_and_categories(http: httpx.Client, rf_live: Live) -> None:
    admin = admin_h(http)
    r = new_raffle(http, admin, draw_mode="lottery", lottery_name="Lotería",
                   category={"winners": 1, "split": []}, min_tickets=1)  # fmt: skip
    (h1, _), (h2, _) = player(http), player(http)
    http.post(f"/api/v1/raffles/{r['id']}/tickets", json={"numbers": [10]}, headers=h1)
    http.post(f"/api/v1/raffles/{r['id']}/tickets", json={"numbers": [20]}, headers=h2)
    base = f"/api/v1/admin/raffles/{r['id']}"
    assert http.post(f"{base}/close", json={"reason": "sales over"}, headers=admin).is_success
    d = http.post(f"{base}/draw", json={"numbers": [4515]}, headers=admin).json()
    assert ([w["number"] for w in d["winners"]], d["paid_at"]) == ([20], None)
    problem(http.post(f"{base}/correct", json={"numbers": [4505], "reason": ""}, headers=admin),
            422, "invalid_input")  # fmt: skip
    c = http.post(f"{base}/correct", json={"numbers": [4505], "reason": "typo"}, headers=admin)
    assert [w["number"] for w in c.json()["winners"]] == [10]
    paid = http.post(f"{base}/pay", headers=admin).json()
    assert paid["paid_at"] is not None
    problem(http.post(f"{base}/correct", json={"numbers": [1], "reason": "late"}, headers=admin),
            409, "raffle_state_conflict")  # fmt: skip
    # a voided raffle refunds everyone
    v = new_raffle(http, admin, name="Void me")
    before = coin(http, h1)
    http.post(f"/api/v1/raffles/{v['id']}/tickets", json={"count": 5}, headers=h1)
    problem(http.patch(f"/api/v1/admin/raffles/{v['id']}", json={"name": "x"}, headers=admin),
            409, "raffle_state_conflict")  # fmt: skip
    out = http.post(f"/api/v1/admin/raffles/{v['id']}/void", json={"reason": "rain"},
                    headers=admin)  # fmt: skip
    assert out.json()["status"] == "voided"
    assert coin(http, h1) == before
    cats = http.get("/api/v1/raffle-categories").json()["categories"]
    assert len(cats) >= 2
    cid = cats[0]["id"]
    upd = http.put(f"/api/v1/admin/raffle-categories/{cid}",
                   json={"name": "Gold 2", "ticket_price": 5, "capacity": 10}, headers=admin)  # fmt: skip
    assert upd.json()["collection"] == 50
    gone = http.delete(f"/api/v1/admin/raffle-categories/{cid}", headers=admin)
    assert (gone.status_code, gone.json()["id"]) == (200, cid)
    problem(http.delete(f"/api/v1/admin/raffle-categories/{cid}", headers=admin), 404,
            "raffle_not_found")  # fmt: skip
    problem(http.get("/api/v1/admin/tickets", headers=h1), 403, "forbidden")
    assert http.get("/api/v1/admin/tickets", headers=admin).json()["tickets"]
    listed = http.get("/api/v1/raffles", params={"status": "voided"}).json()["raffles"]
    assert v["id"] in [x["id"] for x in listed]
    problem(http.get("/api/v1/raffles/0"), 404, "raffle_not_found")
    rf_live.conserved()


def test_openapi_lists_the_raffle_operations(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for p in ("/api/v1/raffles", "/api/v1/raffles/{raffle_id}/tickets",
              "/api/v1/raffles/{raffle_id}/record", "/api/v1/admin/raffles/{raffle_id}/draw",
              "/api/v1/admin/raffle-categories", "/api/v1/tickets/me"):  # fmt: skip
        assert p in paths, sorted(paths)
