"""Deposits and withdrawals over HTTP against a real server: the dev provider, a signed-webhook
provider (signatures computed here with hmac), staff confirm/fail, Idempotency-Key, and the
books balanced after each scenario."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
from authkit import ACME_SECRET, admin_session, bearer, register
from test_auth_http import conserved, problem

from wagerkit_http.context import WagerkitApp


def coin(http: httpx.Client, h: dict[str, str]) -> dict[str, Any]:
    (b,) = [b for b in http.get("/api/v1/wallet", headers=h).json()["balances"]
            if b["currency"] == "COIN"]  # fmt: skip
    return b  # type: ignore[no-any-return]


def signed(payload: dict[str, Any], secret: str = ACME_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Wagerkit-Signature": sig, "content-type": "application/json"}


def test_dev_deposit_is_instant_and_idempotent(
    http: httpx.Client, auth_live: tuple[str, WagerkitApp, str]
) -> None:
    user = register(http)
    h = bearer(user["access_token"])
    key = {"Idempotency-Key": f"dep-{uuid.uuid4().hex[:10]}"}
    body = {"amount": 500, "currency": "COIN", "provider": "dev"}
    first = http.post("/api/v1/wallet/deposits", json=body, headers={**h, **key})
    again = http.post("/api/v1/wallet/deposits", json=body, headers={**h, **key})
    assert first.status_code == 200, first.text
    assert first.json() == again.json()
    assert first.json()["status"] == "succeeded"
    assert first.json()["user_id"] == user["user"]["id"]
    assert coin(http, h)["balance"] == 1500
    problem(http.post("/api/v1/wallet/deposits", json={**body, "amount": 9},
            headers={**h, **key}), 409, "idempotency_conflict")  # fmt: skip
    problem(http.post("/api/v1/wallet/deposits", json={**body, "provider": "nope"}, headers=h),
            422, "payment_provider_unavailable")  # fmt: skip
    problem(http.post("/api/v1/wallet/deposits", json=body), 401, "unauthenticated")
    mine = http.get("/api/v1/wallet/payments", headers=h).json()["payments"]
    assert [p["id"] for p in mine] == [first.json()["id"]]
    conserved(auth_live[2])


def test_webhook_withdrawal_holds_then_pays_out_once(
    http: httpx.Client, auth_live: tuple[str, WagerkitApp, str]
) -> None:
    user = register(http)
    h = bearer(user["access_token"])
    r = http.post("/api/v1/wallet/withdrawals",
                  json={"amount": 300, "provider": "acme"}, headers=h)  # fmt: skip
    assert r.status_code == 200, r.text
    pay = r.json()
    assert pay["status"] == "pending"
    assert (coin(http, h)["balance"], coin(http, h)["available"]) == (1000, 700)
    problem(http.post("/api/v1/wallet/withdrawals", json={"amount": 10**5, "provider": "acme"},
            headers=h), 409, "insufficient_funds")  # fmt: skip

    event = {"reference": f"acme-{uuid.uuid4().hex[:8]}", "payment_id": pay["id"],
             "status": "succeeded", "amount": 300, "currency": "COIN"}  # fmt: skip
    raw, headers = signed(event)
    bad = http.post("/api/v1/payments/webhooks/acme", content=raw,
                    headers={**headers, "X-Wagerkit-Signature": "0" * 64})  # fmt: skip
    problem(bad, 401, "webhook_bad_signature")
    tampered = raw.replace(b"300", b"301")
    problem(http.post("/api/v1/payments/webhooks/acme", content=tampered, headers=headers), 401,
            "webhook_bad_signature")  # fmt: skip
    ok = http.post("/api/v1/payments/webhooks/acme", content=raw, headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "succeeded"
    replay = http.post("/api/v1/payments/webhooks/acme", content=raw, headers=headers)
    assert replay.json() == ok.json()
    assert (coin(http, h)["balance"], coin(http, h)["available"]) == (700, 700)
    # a player may not confirm or fail; staff fail a second withdrawal and the hold is released
    second = http.post("/api/v1/wallet/withdrawals",
                       json={"amount": 200, "provider": "acme"}, headers=h).json()  # fmt: skip
    assert coin(http, h)["available"] == 500
    problem(http.post(f"/api/v1/admin/payments/{second['id']}/confirm", json={}, headers=h),
            403, "forbidden")  # fmt: skip
    admin = bearer(admin_session(http)["access_token"])
    failed = http.post(f"/api/v1/admin/payments/{second['id']}/fail",
                       json={"reason": "bank refused"}, headers=admin)  # fmt: skip
    assert failed.status_code == 200, failed.text
    assert failed.json()["status"] == "failed"
    assert (coin(http, h)["balance"], coin(http, h)["available"]) == (700, 700)
    problem(http.post(f"/api/v1/admin/payments/{second['id']}/confirm", headers=admin), 409,
            "payment_already_final")  # fmt: skip
    listed = http.get("/api/v1/admin/payments", params={"user_id": user["user"]["id"]},
                      headers=admin).json()["payments"]  # fmt: skip
    assert [p["status"] for p in listed] == ["failed", "succeeded"]
    conserved(auth_live[2])
