"""The per-client-address limits of the sign-in routes at their defaults, on a server of its
own (the shared sign-in server lifts them, since all its tests come from one address):
``login_ip`` 30, ``register`` 10 and ``telegram`` 30 a minute, each 429 with Retry-After."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authkit import BOT_TOKEN, CHEAP_ARGON2, JWT_SECRET, init_data, webapp_pairs, widget_for
from test_auth_http import problem

from wagerkit.adapters.passwords import Argon2PasswordHasher
from wagerkit.config import Settings
from wagerkit_http import create_app, create_asgi


@pytest.fixture(scope="module")
def limited(server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path_factory.mktemp('limits') / 'limits.db'}",
        jwt_secret=JWT_SECRET,
        telegram_bot_token=BOT_TOKEN,
        rate_limit_storage="memory://",
        _env_file=None,
    )
    app = create_app(settings, passwords=Argon2PasswordHasher(**CHEAP_ARGON2))
    with (
        server(create_asgi(settings, app=app)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


def _rate_limited(r: httpx.Response) -> None:
    problem(r, 429, "rate_limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60


def _register(http: httpx.Client) -> httpx.Response:
    name = f"u{uuid.uuid4().hex[:12]}"
    body = {"username": name, "password": "correct horse", "display_name": name}
    return http.post("/api/v1/auth/register", json=body)


def test_register_is_limited_per_address(limited: httpx.Client) -> None:
    assert [_register(limited).status_code for _ in range(10)] == [201] * 10
    _rate_limited(_register(limited))


def test_telegram_sign_in_is_limited_per_address(limited: httpx.Client) -> None:
    base = 760000 + uuid.uuid4().int % 10000
    codes = [
        limited.post("/api/v1/auth/telegram", json=widget_for(base + i)).status_code
        for i in range(15)
    ] + [
        limited.post(
            "/api/v1/auth/telegram/webapp", json={"init_data": init_data(webapp_pairs(base + i))}
        ).status_code
        for i in range(15, 30)
    ]
    assert codes == [200] * 30
    _rate_limited(limited.post("/api/v1/auth/telegram", json=widget_for(base + 99)))
    _rate_limited(
        limited.post(
            "/api/v1/auth/telegram/webapp",
            json={"init_data": init_data(webapp_pairs(base + 98))},
        )
    )


def test_login_is_limited_per_address_whatever_the_name(limited: httpx.Client) -> None:
    """Rotating login names does not escape the limit (each attempt costs an argon2 hash)."""
    codes = [
        limited.post(
            "/api/v1/auth/login", json={"login": f"nobody{i}", "password": "wrong pass"}
        ).status_code
        for i in range(30)
    ]
    assert codes == [401] * 30
    _rate_limited(
        limited.post("/api/v1/auth/login", json={"login": "someone-new", "password": "x" * 8})
    )
