"""The authentication edge over HTTP, against a real server: seed 001's ``Authorization: Bearer
<initData>`` (told apart from a JWT, with the freshness check), and the access-token cookie
with its Origin rule for state-changing requests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import socketio
from authkit import (
    BOT_TOKEN,
    CHEAP_ARGON2,
    JWT_SECRET,
    bearer,
    init_data,
    webapp_pairs,
    widget_for,
)

from wagerkit.config import Settings
from wagerkit_http import create_app, create_asgi
from wagerkit_http.auth import AUTH_COOKIE, is_jwt

PROBLEM = "application/problem+json"
ALLOWED = "https://app.example.org"


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


@pytest.fixture(scope="module")
def live(server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    from wagerkit.adapters.passwords import Argon2PasswordHasher

    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path_factory.mktemp('edge') / 'edge.db'}",
        jwt_secret=JWT_SECRET,
        telegram_bot_token=BOT_TOKEN,
        allowed_origins=f"{ALLOWED}, https://other.example.org/",
        _env_file=None,
    )
    app = create_app(settings, passwords=Argon2PasswordHasher(**CHEAP_ARGON2))
    identity = app.ctx.kit.identity
    relaxed = {"login_ip": (10_000, 60), "register": (10_000, 60), "telegram": (10_000, 60)}
    identity.policy = replace(identity.policy, limits={**identity.policy.limits, **relaxed})
    with server(create_asgi(settings, app=app)) as url:
        yield url, app


@pytest.fixture(scope="module")
def base(live: tuple[str, Any]) -> str:
    return str(live[0])


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as client:
        yield client


def new_tg() -> int:
    return 700_000_000 + uuid.uuid4().int % 100_000_000


def fresh_init_data(tg: int, *, auth_date: int | None = None) -> str:
    pairs = webapp_pairs(tg, "Seed Client", username=f"c{tg}")
    if auth_date is not None:
        pairs = [(k, str(auth_date) if k == "auth_date" else v) for k, v in pairs]
    return init_data(pairs)


# -- Bearer <initData> -----------------------------------------------------------------------


def test_jwt_and_init_data_are_told_apart() -> None:
    assert is_jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl_-")
    assert not is_jwt(fresh_init_data(1))
    assert not is_jwt("a.b")
    assert not is_jwt("a.b.c.d")
    assert not is_jwt("a=.b.c")


def test_seed_style_bearer_init_data_is_accepted(http: httpx.Client) -> None:
    tg = new_tg()
    data = fresh_init_data(tg)
    me = http.get("/api/v1/me", headers=bearer(data))
    assert me.status_code == 200, me.text
    assert me.json()["telegram_id"] == tg
    # the same user through tma, and through the wallet
    assert http.get("/api/v1/me", headers={"Authorization": f"tma {data}"}).json() == me.json()
    assert http.get("/api/v1/wallet", headers=bearer(data)).json()["user_id"] == me.json()["id"]
    # a JWT in the same header still works
    session = http.post("/api/v1/auth/telegram/webapp", json={"init_data": data}).json()
    assert http.get("/api/v1/me", headers=bearer(session["access_token"])).json() == me.json()


@pytest.mark.parametrize(
    ("auth_date", "code"),
    [
        (1, "telegram_expired"),  # 1970, which the seed accepted
        (0, "telegram_expired"),
        (-86_400 - 120, "telegram_expired"),  # a day and two minutes old
        (3_600, "telegram_expired"),  # an hour in the future
    ],
)
def test_stale_and_future_init_data_is_refused(
    http: httpx.Client, auth_date: int, code: str
) -> None:
    when = auth_date if auth_date in (0, 1) else int(time.time()) + auth_date
    data = fresh_init_data(new_tg(), auth_date=when)
    problem(http.get("/api/v1/me", headers=bearer(data)), 401, code)


def test_forged_bearer_init_data_is_refused(http: httpx.Client) -> None:
    data = fresh_init_data(new_tg())
    forged = data.replace("Seed", "Evil")
    assert forged != data
    problem(http.get("/api/v1/me", headers=bearer(forged)), 401, "telegram_bad_hash")
    other_bot = init_data(webapp_pairs(new_tg()), token="1:another-bot-token")
    problem(http.get("/api/v1/me", headers=bearer(other_bot)), 401, "telegram_bad_hash")
    problem(http.get("/api/v1/me", headers=bearer("hash=&auth_date=")), 401, "telegram_malformed")
    problem(http.get("/api/v1/me", headers=bearer("not-a-token")), 401, "token_invalid")


# -- the access-token cookie -------------------------------------------------------------------


def register(http: httpx.Client, *, cookie: bool, **headers: str) -> httpx.Response:
    name = f"u{uuid.uuid4().hex[:12]}"
    return http.post(
        "/api/v1/auth/register",
        params={"cookie": "1"} if cookie else None,
        json={"username": name, "password": "correct horse battery", "display_name": name},
        headers=headers,
    )


def set_cookie(r: httpx.Response) -> str:
    [header] = [v for k, v in r.headers.multi_items() if k.lower() == "set-cookie"]
    return header


def cookie_header(token: str) -> dict[str, str]:
    return {"Cookie": f"{AUTH_COOKIE}={token}"}


def test_a_sign_in_sets_the_cookie_only_when_asked(http: httpx.Client) -> None:
    assert "set-cookie" not in register(http, cookie=False).headers
    r = register(http, cookie=True)
    assert r.status_code == 201, r.text
    header = set_cookie(r)
    token = r.json()["access_token"]
    assert header.startswith(f"{AUTH_COOKIE}={token};")
    attributes = {a.strip().split("=")[0].lower() for a in header.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
    assert "samesite=strict" in header.lower()
    assert "path=/" in header.lower()
    assert "domain" not in attributes
    max_age = int(header.lower().split("max-age=")[1].split(";")[0])
    assert 3000 < max_age <= 3600  # the token's lifetime (60 minutes by default)

    login = http.post(
        "/api/v1/auth/login?cookie=1",
        json={"login": r.json()["user"]["username"], "password": "correct horse battery"},
    )
    assert login.status_code == 200, login.text
    assert set_cookie(login).startswith(f"{AUTH_COOKIE}=")
    webapp = http.post(
        "/api/v1/auth/telegram/webapp?cookie=1", json={"init_data": fresh_init_data(new_tg())}
    )
    assert webapp.status_code == 200, webapp.text
    assert set_cookie(webapp).startswith(f"{AUTH_COOKIE}=")
    widget = http.post(
        "/api/v1/auth/telegram", params={"cookie": "true"}, json=widget_for(new_tg())
    )
    assert widget.status_code == 200, widget.text
    assert set_cookie(widget).startswith(f"{AUTH_COOKIE}={widget.json()['access_token']};")


def test_the_api_accepts_the_cookie(http: httpx.Client) -> None:
    r = register(http, cookie=True)
    token = r.json()["access_token"]
    me = http.get("/api/v1/me", headers=cookie_header(token))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == r.json()["user"]["id"]
    # the header wins when both are sent
    other = register(http, cookie=False).json()
    both = http.get("/api/v1/me", headers={**cookie_header(token), **bearer(other["access_token"])})
    assert both.json()["id"] == other["user"]["id"]
    problem(http.get("/api/v1/me", headers=cookie_header("garbage")), 401, "token_invalid")


def test_state_changing_cookie_requests_need_an_allowed_origin(http: httpx.Client) -> None:
    token = register(http, cookie=True).json()["access_token"]
    body = {"currency": "COIN", "amount": 1, "method": "dev"}
    url = "/api/v1/wallet/withdrawals"
    for origin in (None, "https://evil.example.com", "null", "http://app.example.org"):
        headers = cookie_header(token) | ({"Origin": origin} if origin else {})
        problem(http.post(url, json=body, headers=headers), 403, "origin_not_allowed")
    # an allowed origin passes the check (whatever the use case then says)
    for origin in (ALLOWED, "https://OTHER.example.org"):
        r = http.post(url, json=body, headers=cookie_header(token) | {"Origin": origin})
        assert r.status_code != 403 or r.json()["code"] != "origin_not_allowed", r.text
    # a read needs no Origin; the header path needs none either
    assert http.get("/api/v1/wallet", headers=cookie_header(token)).status_code == 200
    r = http.post(url, json=body, headers=bearer(token) | {"Origin": "https://evil.example.com"})
    assert r.status_code != 403 or r.json()["code"] != "origin_not_allowed", r.text


def test_asking_for_a_cookie_from_a_foreign_origin_is_refused(http: httpx.Client) -> None:
    problem(
        register(http, cookie=True, Origin="https://evil.example.com"), 403, "origin_not_allowed"
    )
    assert register(http, cookie=True, Origin=ALLOWED).status_code == 201
    # without the cookie, the Origin does not matter (nothing is set in the browser)
    assert register(http, cookie=False, Origin="https://evil.example.com").status_code == 201


def test_logout_clears_the_cookie(http: httpx.Client) -> None:
    r = http.post("/api/v1/auth/logout")
    assert r.status_code == 200
    assert r.json() == {"cookie_cleared": True}
    header = set_cookie(r).lower()
    assert header.startswith(f"{AUTH_COOKIE.lower()}=;") or header.startswith(
        f'{AUTH_COOKIE.lower()}="";'
    )
    assert "max-age=0" in header
    assert "path=/" in header
    assert "secure" in header


# -- Socket.IO with the cookie -----------------------------------------------------------------


async def socket_with_cookie(url: str, headers: dict[str, str]) -> tuple[bool, Any]:
    """Connect with only these handshake headers (no ``auth``): (connected, refusal or the
    balance_update answer)."""
    client = socketio.AsyncClient(reconnection=False)
    refusals: asyncio.Queue[Any] = asyncio.Queue()
    client.on("connect_error", refusals.put)
    try:
        await client.connect(url, transports=["websocket"], wait_timeout=5, headers=headers)
    except socketio.exceptions.ConnectionError:
        return False, await asyncio.wait_for(refusals.get(), 5)
    try:
        return True, await client.call("request_balance", timeout=5)
    finally:
        await client.disconnect()


def test_a_socket_connects_with_the_cookie_from_an_allowed_origin(
    live: tuple[str, Any], http: httpx.Client
) -> None:
    url, app = live
    r = register(http, cookie=True)
    token, user_id = r.json()["access_token"], r.json()["user"]["id"]
    cookie = f"{AUTH_COOKIE}={token}"
    # python-socketio admits browsers from the server's own origin only: allow that one here
    settings = app.ctx.settings
    app.ctx.settings = settings.model_copy(update={"allowed_origins": f"{ALLOWED},{url}"})
    try:
        ok, answer = asyncio.run(socket_with_cookie(url, {"Cookie": cookie, "Origin": url}))
        assert ok, answer
        assert answer["user_id"] == user_id
        ok, refusal = asyncio.run(socket_with_cookie(url, {"Cookie": cookie}))  # no Origin
        assert not ok
        assert refusal["data"]["code"] == "origin_not_allowed"
        ok, refusal = asyncio.run(
            socket_with_cookie(url, {"Cookie": f"{AUTH_COOKIE}=garbage", "Origin": url})
        )
        assert not ok
        assert refusal["data"]["code"] == "token_invalid"
    finally:
        app.ctx.settings = settings
    ok, refusal = asyncio.run(socket_with_cookie(url, {"Cookie": cookie, "Origin": url}))
    assert not ok  # the server's own origin is not in the list now
    assert refusal["data"]["code"] == "origin_not_allowed"
