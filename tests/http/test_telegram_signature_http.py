"""The Mini App's third-party Ed25519 ``signature`` over HTTP, on a server that knows only
the bot id (its own module: it starts a second app, and sanic-ext keeps one OpenAPI builder
per process)."""

from __future__ import annotations

from typing import Any

import httpx
from authkit import JWT_SECRET, init_data, webapp_pairs, widget_for
from test_auth_http import problem


def test_webapp_signature_checked_with_bot_id_only(server: Any, tmp_path: Any) -> None:
    """A server that knows only the bot id checks the Ed25519 ``signature`` (here against a
    key pair made in the test, standing in for Telegram's)."""
    from authkit import BOT_ID, CHEAP_ARGON2
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from wagerkit.adapters.passwords import Argon2PasswordHasher
    from wagerkit.config import Settings
    from wagerkit_http import create_app, create_asgi

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'ed.db'}",
        jwt_secret=JWT_SECRET,
        telegram_bot_id=BOT_ID,
        _env_file=None,
    )
    app = create_app(
        settings, passwords=Argon2PasswordHasher(**CHEAP_ARGON2), telegram_public_key=public
    )
    with server(create_asgi(settings, app=app)) as url:
        tg = 730001
        signed = init_data(webapp_pairs(tg), token="1:unknown-to-server", ed25519_key=key)
        r = httpx.post(f"{url}/api/v1/auth/telegram/webapp", json={"init_data": signed})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["telegram_id"] == tg
        wrong_bot = init_data(webapp_pairs(tg), ed25519_key=key, bot_id=BOT_ID + 1)
        problem(httpx.post(f"{url}/api/v1/auth/telegram/webapp", json={"init_data": wrong_bot}),
                401, "telegram_bad_signature")  # fmt: skip
        unsigned = init_data(webapp_pairs(tg))
        problem(httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"tma {unsigned}"}),
                401, "telegram_bad_signature")  # fmt: skip
        # the Login Widget needs the bot token, which this server does not have
        problem(httpx.post(f"{url}/api/v1/auth/telegram", json=widget_for(tg)), 503,
                "telegram_not_configured")  # fmt: skip
