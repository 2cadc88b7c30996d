"""Identity and wallets over HTTP, against a real server: sign-in (password, Telegram Login
Widget, Mini App initData and the ``tma`` header), tokens, bans and demotions taking effect
at once, admin endpoints closed to players, idempotent adjustments, rate limits."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from authkit import (
    JWT_SECRET,
    admin_session,
    bearer,
    init_data,
    register,
    sign_widget,
    webapp_pairs,
    widget_for,
)

from wagerkit import WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.domain.identity import Actor
from wagerkit_http.context import WagerkitApp

PROBLEM = "application/problem+json"


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def conserved(db_url: str) -> None:
    """Every currency's accounts sum to zero (read through a separate store)."""

    async def check() -> None:
        store = SqlStore.from_url(db_url)
        try:
            totals = await WagerKit(store).wallets.totals(Actor.system())
        finally:
            await store.dispose()
        assert totals
        for t in totals:
            assert t.conserved, t

    asyncio.run(check())


# -- password accounts and the wallet ------------------------------------------------------


def test_register_login_me_wallet_statement(
    http: httpx.Client, auth_live: tuple[str, WagerkitApp, str]
) -> None:
    name = f"ann{uuid.uuid4().hex[:8]}"
    reg = register(http, name, email=f"{name}@example.org")
    assert reg["token_type"] == "bearer"
    assert reg["user"]["username"] == name
    assert reg["user"]["role"] == "player"
    assert "password" not in json.dumps(reg)
    assert "hash" not in json.dumps(reg["user"])

    r = http.post("/api/v1/auth/login", json={"login": name.upper(), "password": "correct horse"})
    assert r.status_code == 200, r.text
    session = r.json()
    assert set(session) == {"access_token", "token_type", "expires_at", "user"}
    by_mail = http.post(
        "/api/v1/auth/login", json={"login": f"{name}@example.org", "password": "correct horse"}
    )
    assert by_mail.status_code == 200
    problem(
        http.post("/api/v1/auth/login", json={"login": name, "password": "wrong horse"}),
        401,
        "invalid_credentials",
    )
    problem(http.post("/api/v1/auth/register", json={
        "username": name, "password": "correct horse", "display_name": "x"}), 409, "already_exists")  # fmt: skip

    h = bearer(session["access_token"])
    me = http.get("/api/v1/me", headers=h).json()
    assert me["id"] == reg["user"]["id"]
    assert me["email"] == f"{name}@example.org"

    wallet = http.get("/api/v1/wallet", headers=h).json()
    assert wallet["user_id"] == me["id"]
    coin = next(b for b in wallet["balances"] if b["currency"] == "COIN")
    assert coin == {
        "currency": "COIN", "balance": 1000, "available": 1000, "held": 0, "frozen": False,
        "balance_formatted": "1000", "available_formatted": "1000", "held_formatted": "0",
    }  # fmt: skip

    # a few adjustments by the admin make a statement worth paging
    admin = bearer(admin_session(http)["access_token"])
    for i, amount in enumerate((50, -20, 7)):
        r = http.post(
            f"/api/v1/admin/users/{me['id']}/balance-adjust",
            json={"amount": amount, "currency": "COIN", "reason": f"step {i}"},
            headers=admin,
        )
        assert r.status_code == 200, r.text
    page1 = http.get("/api/v1/wallet/statement", params={"limit": 2}, headers=h).json()
    assert page1["currency"] == "COIN"
    assert [e["amount"] for e in page1["entries"]] == [7, -20]
    assert page1["entries"][0]["balance_after"] == 1037
    assert page1["next_before"] is not None
    page2 = http.get(
        "/api/v1/wallet/statement",
        params={"limit": 2, "before": page1["next_before"]},
        headers=h,
    ).json()
    assert [e["amount"] for e in page2["entries"]] == [50, 1000]
    assert page2["entries"][-1]["code"] == "grant"
    assert page2["next_before"] is None
    problem(http.get("/api/v1/wallet/statement", params={"limit": 0}, headers=h), 422,
            "validation_failed")  # fmt: skip
    problem(http.get("/api/v1/wallet/statement", params={"currency": "NOPE"}, headers=h), 422,
            "unknown_currency")  # fmt: skip
    conserved(auth_live[2])


def test_missing_or_unknown_authorization_is_401_with_www_authenticate(
    http: httpx.Client,
) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        r = http.get("/api/v1/me", headers=headers)
        problem(r, 401, "unauthenticated")
        assert r.headers["www-authenticate"].startswith("Bearer")


def _claims(user_id: int, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": str(user_id), "iat": now, "exp": now + 600, "typ": "access", **over}


def test_expired_tampered_and_wrong_algorithm_tokens_are_refused(http: httpx.Client) -> None:
    user = register(http)
    uid = user["user"]["id"]
    pwv = jwt.decode(user["access_token"], JWT_SECRET, algorithms=["HS256"])["pwv"]
    good = jwt.encode(_claims(uid, pwv=pwv), JWT_SECRET, algorithm="HS256")
    assert http.get("/api/v1/me", headers=bearer(good)).status_code == 200
    # the same token without the password version, or with another one, is refused
    for stale in ({}, {"pwv": ""}, {"pwv": "0" * 16}):
        token = jwt.encode(_claims(uid, **stale), JWT_SECRET, algorithm="HS256")
        problem(http.get("/api/v1/me", headers=bearer(token)), 401, "token_invalid")

    expired = jwt.encode(
        _claims(uid, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        JWT_SECRET,
        algorithm="HS256",
    )
    r = http.get("/api/v1/me", headers=bearer(expired))
    problem(r, 401, "token_expired")
    assert r.headers["www-authenticate"].startswith("Bearer")

    head, payload, sig = user["access_token"].split(".")
    other = jwt.encode(_claims(uid + 1), JWT_SECRET, algorithm="HS256").split(".")[1]
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    unsigned = jwt.encode(_claims(uid), key=None, algorithm="none")  # type: ignore[arg-type]
    wrong_key = jwt.encode(_claims(uid), "another-secret-of-sufficient-length-000", "HS256")
    hs512 = jwt.encode(_claims(uid), JWT_SECRET * 2, algorithm="HS512")
    for bad in (
        f"{head}.{other}.{sig}",  # payload swapped for another user's
        f"{head}.{payload}.{flipped}",
        unsigned,
        unsigned.rstrip(".") + "." + sig,
        wrong_key,
        hs512,
        "not-a-jwt",
    ):
        r = http.get("/api/v1/me", headers=bearer(bad))
        problem(r, 401, "token_invalid")
        assert bad not in r.text


# -- Telegram ------------------------------------------------------------------------------


def test_widget_sign_in_creates_the_user_once(http: httpx.Client) -> None:
    tg = 700000 + uuid.uuid4().int % 100000
    fields = widget_for(tg, first_name="Zoë + = & %", last_name="Ñandú", username=f"zoe{tg}")
    r = http.post("/api/v1/auth/telegram", json=fields)
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["user"]["telegram_id"] == tg
    assert first["user"]["display_name"] == "Zoë + = & % Ñandú"
    again = http.post("/api/v1/auth/telegram", json=widget_for(tg, first_name="Zoë + = & %",
                      last_name="Ñandú", username=f"zoe{tg}")).json()  # fmt: skip
    assert again["user"]["id"] == first["user"]["id"]
    wallet = http.get("/api/v1/wallet", headers=bearer(again["access_token"])).json()
    assert [b["balance"] for b in wallet["balances"] if b["currency"] == "COIN"] == [1000]


def test_widget_tampered_wrong_token_stale_and_duplicate_keys_are_refused(
    http: httpx.Client,
) -> None:
    tg = 710000 + uuid.uuid4().int % 100000
    good = widget_for(tg)
    problem(http.post("/api/v1/auth/telegram", json={**good, "first_name": "Eve"}), 401,
            "telegram_bad_hash")  # fmt: skip
    problem(http.post("/api/v1/auth/telegram", json={**good, "id": tg + 1}), 401,
            "telegram_bad_hash")  # fmt: skip
    problem(http.post("/api/v1/auth/telegram", json={**good, "extra": "x"}), 401,
            "telegram_bad_hash")  # fmt: skip
    wrong = sign_widget({"id": tg, "first_name": "T", "auth_date": int(time.time())}, "1:bad")
    problem(http.post("/api/v1/auth/telegram", json=wrong), 401, "telegram_bad_hash")
    stale = sign_widget({"id": tg, "first_name": "T", "auth_date": int(time.time()) - 90000})
    problem(http.post("/api/v1/auth/telegram", json=stale), 401, "telegram_expired")
    future = sign_widget({"id": tg, "first_name": "T", "auth_date": int(time.time()) + 3600})
    problem(http.post("/api/v1/auth/telegram", json=future), 401, "telegram_expired")
    # the same key twice: the first (signed) value would pass a lax parser's check
    raw = json.dumps(good)[:-1] + ', "first_name": "Mallory"}'
    r = http.post("/api/v1/auth/telegram", content=raw.encode(),
                  headers={"content-type": "application/json"})  # fmt: skip
    problem(r, 401, "telegram_malformed")
    problem(http.post("/api/v1/auth/telegram", json={"id": tg}), 422, "validation_failed")
    text = http.post("/api/v1/auth/telegram", json=wrong).text
    assert wrong["hash"] not in text
    assert "1:bad" not in text


def test_webapp_sign_in_by_body_and_by_tma_header(http: httpx.Client) -> None:
    tg = 720000 + uuid.uuid4().int % 100000
    data = init_data(webapp_pairs(tg, "Mía & Co = 100%", username=f"mia{tg}"))
    r = http.post("/api/v1/auth/telegram/webapp", json={"init_data": data})
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert user["telegram_id"] == tg
    assert user["display_name"] == "Mía & Co = 100%"

    tma = {"Authorization": f"tma {data}"}
    me = http.get("/api/v1/me", headers=tma)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]
    assert http.get("/api/v1/wallet", headers=tma).json()["user_id"] == user["id"]

    tampered = data.replace("Mini", "Maxi") if "Mini" in data else data.replace("M", "N", 1)
    problem(http.get("/api/v1/me", headers={"Authorization": f"tma {tampered}"}), 401,
            "telegram_bad_hash")  # fmt: skip
    problem(http.post("/api/v1/auth/telegram/webapp", json={"init_data": tampered}), 401,
            "telegram_bad_hash")  # fmt: skip
    other_bot = init_data(webapp_pairs(tg), token="1:other-bot-token")
    problem(http.get("/api/v1/me", headers={"Authorization": f"tma {other_bot}"}), 401,
            "telegram_bad_hash")  # fmt: skip
    dup = data + "&auth_date=1"
    problem(http.get("/api/v1/me", headers={"Authorization": f"tma {dup}"}), 401,
            "telegram_malformed")  # fmt: skip


# -- roles, bans, admin endpoints ----------------------------------------------------------


def test_ban_refuses_the_existing_token_at_once_and_unban_restores_it(
    http: httpx.Client,
) -> None:
    admin = bearer(admin_session(http)["access_token"])
    user = register(http)
    h, uid = bearer(user["access_token"]), user["user"]["id"]
    assert http.get("/api/v1/me", headers=h).status_code == 200
    r = http.post(f"/api/v1/admin/users/{uid}/ban", json={"reason": "spam"}, headers=admin)
    assert r.status_code == 200
    assert r.json()["status"] == "banned"
    problem(http.get("/api/v1/me", headers=h), 403, "account_banned")
    problem(http.get("/api/v1/wallet", headers=h), 403, "account_banned")
    problem(http.post("/api/v1/auth/login", json={"login": user["user"]["username"],
            "password": "correct horse"}), 403, "account_banned")  # fmt: skip
    r = http.post(f"/api/v1/admin/users/{uid}/unban", json={"reason": "appeal"}, headers=admin)
    assert r.json()["status"] == "active"
    assert http.get("/api/v1/me", headers=h).status_code == 200
    audit = http.get("/api/v1/admin/audit", params={"target": f"user:{uid}"}, headers=admin)
    actions = [e["action"] for e in audit.json()["entries"]]
    assert actions[:2] == ["user.unban", "user.ban"]


def test_promotion_and_demotion_take_effect_at_once(http: httpx.Client) -> None:
    admin = bearer(admin_session(http)["access_token"])
    user = register(http)
    h, uid = bearer(user["access_token"]), user["user"]["id"]
    problem(http.get("/api/v1/admin/users", headers=h), 403, "forbidden")
    r = http.post(f"/api/v1/admin/users/{uid}/role",
                  json={"role": "operator", "reason": "helps out"}, headers=admin)  # fmt: skip
    assert r.status_code == 200
    assert r.json()["role"] == "operator"
    assert http.get("/api/v1/admin/users", headers=h).status_code == 200
    # operators may not change roles
    problem(http.post(f"/api/v1/admin/users/{uid}/role", json={"role": "admin", "reason": "x"},
            headers=h), 403, "forbidden")  # fmt: skip
    http.post(f"/api/v1/admin/users/{uid}/role", json={"role": "player", "reason": "done"},
              headers=admin)  # fmt: skip
    problem(http.get("/api/v1/admin/users", headers=h), 403, "forbidden")
    problem(http.post(f"/api/v1/admin/users/{uid}/role", json={"role": "boss", "reason": "x"},
            headers=admin), 422, "validation_failed")  # fmt: skip
    problem(http.post("/api/v1/admin/users/999999999/ban", json={"reason": "x"}, headers=admin),
            404, "user_not_found")  # fmt: skip


ADMIN_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/admin/users", None),
    ("GET", "/api/v1/admin/audit", None),
    ("POST", "/api/v1/admin/users/{id}/role", {"role": "admin", "reason": "me"}),
    ("POST", "/api/v1/admin/users/{id}/ban", {"reason": "x"}),
    ("POST", "/api/v1/admin/users/{id}/unban", {"reason": "x"}),
    ("POST", "/api/v1/admin/users/{id}/whitelist", {"whitelisted": True, "reason": "x"}),
    ("POST", "/api/v1/admin/users/{id}/balance-adjust", {"amount": 10**6, "reason": "gift"}),
    ("GET", "/api/v1/admin/payments", None),
    ("POST", "/api/v1/admin/payments/pay-{id}/confirm", {"reason": "x"}),
    ("POST", "/api/v1/admin/payments/pay-{id}/fail", {"reason": "x"}),
    ("POST", "/api/v1/admin/users/{id}/mute", {"minutes": 5}),
    ("POST", "/api/v1/admin/users/{id}/unmute", None),
]
#: staff operations on events, bets and chat messages: test_events_http.py checks them (403);
#: on predictions and rounds: test_predictions_http.py does
#: on order reports and categories: test_orders_http.py; on raffles: the test after the next
RAFFLE_ADMIN_PREFIXES = ("/api/v1/admin/raffle", "/api/v1/admin/tickets")
EVENT_ADMIN_PREFIXES = (
    *RAFFLE_ADMIN_PREFIXES,
    "/api/v1/admin/events",
    "/api/v1/admin/bets",
    "/api/v1/admin/chat",
    "/api/v1/admin/predictions",
    "/api/v1/admin/rounds",
    "/api/v1/admin/order-",
)


def test_a_player_gets_403_from_every_admin_endpoint(
    http: httpx.Client, auth_live: tuple[str, WagerkitApp, str]
) -> None:
    player = register(http)
    victim = register(http)
    h = bearer(player["access_token"])
    spec = http.get("/openapi.json").json()
    admin_ops = {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        if p.startswith("/api/v1/admin") and not p.startswith(EVENT_ADMIN_PREFIXES)
        for m in ops
    }
    documented = {
        (m, p.replace("pay-{id}", "{payment_id}").replace("{id}", "{user_id}"))
        for m, p, _ in ADMIN_CALLS
    }
    assert documented == admin_ops
    for target in (player["user"]["id"], victim["user"]["id"]):
        for method, path, body in ADMIN_CALLS:
            r = http.request(method, path.format(id=target), json=body, headers=h)
            problem(r, 403, "forbidden")
    wallet = http.get("/api/v1/wallet", headers=h).json()
    assert [b["balance"] for b in wallet["balances"] if b["currency"] == "COIN"] == [1000]
    conserved(auth_live[2])


def test_a_player_gets_403_from_every_raffle_admin_endpoint(
    http: httpx.Client, auth_live: tuple[str, WagerkitApp, str]
) -> None:
    """Every staff raffle operation, called by a player with a body that would be accepted
    from staff, is refused with 403 and changes nothing."""
    admin = bearer(admin_session(http)["access_token"])
    h = bearer(register(http)["access_token"])
    cat = {"name": "Gold", "ticket_price": 10, "capacity": 100, "winners": 3}
    r = http.post("/api/v1/admin/raffle-categories", json=cat, headers=admin)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    now = datetime.now(UTC)
    raffle = {"name": "Friday", "category_id": cid, "start": now.isoformat(),
              "end": (now + timedelta(hours=1)).isoformat(), "min_tickets": 3}  # fmt: skip
    r = http.post("/api/v1/admin/raffles", json=raffle, headers=admin)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    calls: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("POST", "/api/v1/admin/raffle-categories", "", cat),
        ("PUT", "/api/v1/admin/raffle-categories/{category_id}", f"/{cid}", cat),
        ("DELETE", "/api/v1/admin/raffle-categories/{category_id}", f"/{cid}", None),
        ("POST", "/api/v1/admin/raffles", "", raffle),
        ("PATCH", "/api/v1/admin/raffles/{raffle_id}", f"/{rid}", {"name": "Saturday"}),
        ("POST", "/api/v1/admin/raffles/{raffle_id}/close", f"/{rid}/close", None),
        ("POST", "/api/v1/admin/raffles/{raffle_id}/draw", f"/{rid}/draw",
         {"numbers": [1, 2, 3], "reason": "x"}),
        ("POST", "/api/v1/admin/raffles/{raffle_id}/pay", f"/{rid}/pay", None),
        ("POST", "/api/v1/admin/raffles/{raffle_id}/void", f"/{rid}/void", {"reason": "x"}),
        ("POST", "/api/v1/admin/raffles/{raffle_id}/correct", f"/{rid}/correct",
         {"numbers": [1, 2, 3], "reason": "x"}),
        ("GET", "/api/v1/admin/tickets", "", None),
    ]  # fmt: skip
    spec = http.get("/openapi.json").json()
    assert {(m, p) for m, p, _, _ in calls} == {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        if p.startswith(RAFFLE_ADMIN_PREFIXES)
        for m in ops
    }
    for method, path, tail, body in calls:
        concrete = path.split("/{")[0] + tail
        problem(http.request(method, concrete, json=body, headers=h), 403, "forbidden")
    after = http.get(f"/api/v1/raffles/{rid}").json()
    assert (after["name"], after["status"]) == ("Friday", "open")
    conserved(auth_live[2])


def test_a_user_can_read_only_its_own_wallet(http: httpx.Client) -> None:
    """No user id in any non-admin path: the wallet and statement are the caller's own, and
    the only routes that name another user are the admin ones (403 for players, above)."""
    spec = http.get("/openapi.json").json()
    with_params = [p for p in spec["paths"] if "{" in p and p.startswith("/api/v1")]
    assert with_params
    # outside /admin only the provider webhook, the events, prices, predictions, orders and
    # raffles have path parameters, and they name no user
    assert all(
        p.startswith("/api/v1/admin/")
        or p == "/api/v1/payments/webhooks/{provider}"
        or p.startswith("/api/v1/events/{event_id}")
        or p.startswith("/api/v1/prices/{symbol}")
        or p.startswith(("/api/v1/predictions/{contract_id}", "/api/v1/rounds/{round_id}"))
        or p.startswith("/api/v1/orders/{order_id}")
        or p.startswith("/api/v1/raffles/{raffle_id}")
        for p in with_params
    )
    for p in spec["paths"]:
        if p.startswith("/api/v1/wallet") or p == "/api/v1/me":
            for op in spec["paths"][p].values():
                names = {q["name"] for q in op.get("parameters", [])}
                assert not names & {"user_id", "user", "id"}, (p, names)
    a, b = register(http), register(http)
    admin = bearer(admin_session(http)["access_token"])
    http.post(f"/api/v1/admin/users/{b['user']['id']}/balance-adjust",
              json={"amount": 77, "reason": "only b"}, headers=admin)  # fmt: skip
    sa = http.get("/api/v1/wallet/statement", headers=bearer(a["access_token"]),
                  params={"user_id": b["user"]["id"]}).json()  # fmt: skip
    assert sa["user_id"] == a["user"]["id"]
    assert [e["amount"] for e in sa["entries"]] == [1000]
    sb = http.get("/api/v1/wallet/statement", headers=bearer(b["access_token"])).json()
    assert [e["amount"] for e in sb["entries"]] == [77, 1000]


def test_balance_adjust_idempotency_key_moves_money_once(
    http: httpx.Client, auth_live: tuple[str, WagerkitApp, str]
) -> None:
    admin = bearer(admin_session(http)["access_token"])
    user = register(http)
    uid, h = user["user"]["id"], bearer(user["access_token"])
    key = f"adj-{uuid.uuid4().hex[:12]}"
    body = {"amount": 250, "currency": "COIN", "reason": "prize"}
    url = f"/api/v1/admin/users/{uid}/balance-adjust"
    first = http.post(url, json=body, headers={**admin, "Idempotency-Key": key})
    again = http.post(url, json=body, headers={**admin, "Idempotency-Key": key})
    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    assert first.json()["amount"] == 250
    assert first.json()["balance_after"] == 1250
    coin = [b for b in http.get("/api/v1/wallet", headers=h).json()["balances"]
            if b["currency"] == "COIN"]  # fmt: skip
    assert coin[0]["balance"] == 1250
    problem(http.post(url, json={**body, "amount": 300},
            headers={**admin, "Idempotency-Key": key}), 409, "idempotency_conflict")  # fmt: skip
    problem(http.post(url, json=body, headers={**admin, "Idempotency-Key": "bad key!"}), 422,
            "invalid_input")  # fmt: skip
    # without a key every call is new; down never below zero
    assert http.post(url, json={**body, "amount": -50}, headers=admin).json()["amount"] == -50
    problem(http.post(url, json={**body, "amount": -10**6}, headers=admin), 409,
            "insufficient_funds")  # fmt: skip
    problem(http.post(url, json={**body, "amount": "12"}, headers=admin), 422,
            "validation_failed")  # fmt: skip
    problem(http.post(url, json={**body, "amount": 0}, headers=admin), 422, "invalid_amount")
    coin = [b for b in http.get("/api/v1/wallet", headers=h).json()["balances"]
            if b["currency"] == "COIN"]  # fmt: skip
    assert coin[0]["balance"] == 1200
    conserved(auth_live[2])


def test_login_flooding_gets_429_with_retry_after(http: httpx.Client) -> None:
    user = register(http)
    name = user["user"]["username"]
    codes = [
        http.post("/api/v1/auth/login", json={"login": name, "password": "wrong pass"}).status_code
        for _ in range(10)
    ]
    assert codes == [401] * 10
    r = http.post("/api/v1/auth/login", json={"login": name, "password": "correct horse"})
    problem(r, 429, "rate_limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # another login name from the same address is counted apart
    other = register(http)["user"]["username"]
    ok = http.post("/api/v1/auth/login", json={"login": other, "password": "correct horse"})
    assert ok.status_code == 200


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_server_refuses_to_start_without_a_proper_jwt_secret(
    tmp_path: Any, secret: str | None
) -> None:
    from wagerkit.config import Settings
    from wagerkit_http import create_app
    from wagerkit_http.auth import ConfigurationError

    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'x.db'}", jwt_secret=secret, _env_file=None
    )
    with pytest.raises(ConfigurationError, match=r"WAGERKIT_JWT_SECRET|too short") as info:
        create_app(settings)
    if secret:
        assert secret not in str(info.value)
