"""POST /bets authenticates a bearer token inside the bet's own batch: the user is still read
fresh, so a ban, a password change or a bad token refuse the bet and move nothing."""

from __future__ import annotations

from typing import Any

import httpx
from authkit import admin_session, bearer, register


def _event(http: httpx.Client, admin: dict[str, str]) -> tuple[int, int]:
    r = http.post(
        "/api/v1/admin/events",
        json={
            "title": "Token bets",
            "outcomes": ["A", "B"],
            "status": "open",
            "start_time": "2030-01-01T00:00:00Z",
            "allow_topup": True,
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body["id"], body["outcomes"][0]["id"]


def _bet(http: httpx.Client, token: str, event: int, outcome: int, key: str) -> httpx.Response:
    return http.post(
        "/api/v1/bets",
        json={"event_id": event, "outcome_id": outcome, "amount": 10},
        headers={**bearer(token), "Idempotency-Key": key},
    )


def _balance(http: httpx.Client, token: str) -> int:
    r = http.get("/api/v1/wallet", headers=bearer(token))
    assert r.status_code == 200, r.text
    return int(r.json()["balances"][0]["balance"])


def test_a_banned_user_cannot_bet_with_a_token_issued_before_the_ban(http: httpx.Client) -> None:
    admin = bearer(admin_session(http)["access_token"])
    player = register(http)
    token = player["access_token"]
    event, outcome = _event(http, admin)
    assert _bet(http, token, event, outcome, "one").status_code == 201
    before = _balance(http, token)
    r = http.post(
        f"/api/v1/admin/users/{player['user']['id']}/ban", json={"reason": "x"}, headers=admin
    )
    assert r.status_code == 200, r.text
    r = _bet(http, token, event, outcome, "two")
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "account_banned"
    r = _bet(http, token, event, outcome, "one")  # not even a replay answers a banned user
    assert r.status_code == 403, r.text
    http.post(
        f"/api/v1/admin/users/{player['user']['id']}/unban", json={"reason": "x"}, headers=admin
    )
    assert _balance(http, token) == before  # nothing moved while banned


def test_bad_tokens_are_refused_before_any_bet(http: httpx.Client) -> None:
    admin = bearer(admin_session(http)["access_token"])
    event, outcome = _event(http, admin)
    for token in ("not-a-jwt", "a.b.c", admin["Authorization"].split()[1][:-3] + "xyz"):
        r = _bet(http, token, event, outcome, "k")
        assert r.status_code == 401, r.text
        assert r.headers["content-type"] == "application/problem+json"
    r = http.get(f"/api/v1/events/{event}")
    assert r.json()["bet_count"] == 0
