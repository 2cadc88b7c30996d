"""Helpers for the identity/wallet HTTP tests: Telegram data signed here, independently of
``wagerkit.domain.telegram`` (written from SPEC section 2), and sign-in shortcuts."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

JWT_SECRET = "test-secret-for-http-tests-0123456789abcdef"
BOT_TOKEN = "424242:AAF-http_test_bot_token-wagerkit"
BOT_ID = 424242
ADMIN_TG_ID = 990001
ACME_SECRET = "acme-webhook-secret-0123456789"
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def sign_widget(fields: dict[str, Any], token: str = BOT_TOKEN) -> dict[str, Any]:
    """Login Widget: secret = SHA-256(token); hash = hex HMAC-SHA-256 over the sorted
    ``key=value`` lines of every field except ``hash``."""
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")
    secret = hashlib.sha256(token.encode()).digest()
    return {**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()}


def widget_for(tg_id: int, **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": tg_id, "first_name": "Tess", "auth_date": int(time.time())}
    fields.update(extra)
    return sign_widget(fields)


def init_data(
    pairs: Sequence[tuple[str, str]],
    token: str = BOT_TOKEN,
    *,
    ed25519_key: Any = None,
    bot_id: int = BOT_ID,
) -> str:
    """initData as Telegram builds it: the (decoded) pairs, then ``signature`` (Ed25519 over
    ``"{bot_id}:WebAppData\\n"`` + the sorted lines, when a private key is given) and ``hash``
    (HMAC with secret HMAC-SHA-256("WebAppData", token) over every line but ``hash``),
    percent-encoded."""
    items = list(pairs)
    if ed25519_key is not None:
        import base64

        lines = "\n".join(f"{k}={v}" for k, v in sorted(items))
        sig = ed25519_key.sign(f"{bot_id}:WebAppData\n{lines}".encode())
        items.append(("signature", base64.urlsafe_b64encode(sig).decode().rstrip("=")))
    check = "\n".join(f"{k}={v}" for k, v in sorted(items))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    items.append(("hash", hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()))
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in items)


def webapp_pairs(tg_id: int, first_name: str = "Mini", **user: Any) -> list[tuple[str, str]]:
    u = {"id": tg_id, "first_name": first_name, **user}
    return [
        ("auth_date", str(int(time.time()))),
        ("query_id", "AAH" + uuid.uuid4().hex[:10]),
        ("user", json.dumps(u, ensure_ascii=False, separators=(",", ":"))),
    ]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(http: httpx.Client, username: str | None = None, **extra: Any) -> dict[str, Any]:
    """Register a fresh player; the session body (access_token, user, …)."""
    name = username or f"u{uuid.uuid4().hex[:12]}"
    r = http.post(
        "/api/v1/auth/register",
        json={"username": name, "password": "correct horse", "display_name": name, **extra},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def admin_session(http: httpx.Client) -> dict[str, Any]:
    """Sign in as the bootstrap admin (its Telegram id is in TELEGRAM_ADMIN_IDS)."""
    r = http.post("/api/v1/auth/telegram", json=widget_for(ADMIN_TG_ID, first_name="Root"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["user"]["role"] == "admin"
    return body
