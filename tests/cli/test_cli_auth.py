"""``wagerkit auth verify-webapp`` and ``wagerkit auth verify-widget``: no database needed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from cli_harness import Cli
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

TOKEN = "123456789:AAF-cli_test_token"
ENV_TOKEN = "WAGERKIT_TELEGRAM_BOT_TOKEN"
NO_TOKEN_ENV: dict[str, str | None] = {ENV_TOKEN: None}

# Published with @telegram-apps/init-data-node: signed by Telegram's production key for bot
# 7342037359 (and with that sample token's HMAC).
PUBLISHED_TOKEN = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4"
PUBLISHED = (
    "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20"
    "%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22"
    "vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C"
    "%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2F"
    "t.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKo"
    "LDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&"
    "auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-"
    "X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash="
    "a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73"
)


def recent(seconds_ago: int = 30) -> int:
    return int((datetime.now(UTC) - timedelta(seconds=seconds_ago)).timestamp())


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def init_data(auth_date: int, token: str = TOKEN, **user: Any) -> str:
    """initData signed as Telegram does (SPEC section 2), values percent-encoded."""
    u = {"id": 42, "first_name": "Ann", "last_name": "Lee", "username": "ann", **user}
    pairs = [
        ("query_id", "AAHdF6IQ"),
        ("user", json.dumps(u, separators=(",", ":"), ensure_ascii=False)),
        ("auth_date", str(auth_date)),
    ]
    check = "\n".join(f"{k}={v}" for k, v in sorted(pairs))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    pairs.append(("hash", hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()))
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)


def widget(auth_date: int, token: str = TOKEN, **over: Any) -> str:
    fields: dict[str, Any] = {"id": 42, "first_name": "Ann", "username": "ann"}
    fields.update({"auth_date": auth_date, **over})
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hashlib.sha256(token.encode()).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return json.dumps(fields, ensure_ascii=False)


def run_ok(cli: Cli, *args: str, env: dict[str, str | None] | None = None) -> str:
    return cli.ok("auth", *args, db=False, env={**NO_TOKEN_ENV, **(env or {})})


def run_fail(cli: Cli, *args: str, env: dict[str, str | None] | None = None) -> str:
    return cli.fail("auth", *args, db=False, env={**NO_TOKEN_ENV, **(env or {})})


def test_verify_webapp_json(cli: Cli) -> None:
    ts = recent()
    out = run_ok(cli, "verify-webapp", init_data(ts), "--bot-token", TOKEN, "--json")
    assert json.loads(out) == {
        "id": 42,
        "first_name": "Ann",
        "last_name": "Lee",
        "username": "ann",
        "photo_url": None,
        "language_code": None,
        "auth_date": iso(ts),
        "source": "webapp",
        "display_name": "Ann Lee",
    }
    assert out.endswith("}\n")


def test_verify_webapp_table(cli: Cli) -> None:
    out = run_ok(
        cli, "verify-webapp", init_data(recent(), first_name="Ёжик + & ="), "--bot-token", TOKEN
    )
    assert "Telegram sign-in verified" in out
    lines = {" ".join(line.split()) for line in out.splitlines()}
    assert "Telegram id 42" in lines
    assert "Display name Ёжик + & = Lee" in lines
    assert "Source webapp" in lines
    assert "hash matches the bot token; auth_date fresh" in " ".join(out.split())


def test_verify_webapp_token_from_the_environment(cli: Cli) -> None:
    data = init_data(recent())
    out = run_ok(cli, "verify-webapp", data, "--json", env={ENV_TOKEN: TOKEN})
    assert json.loads(out)["id"] == 42
    line = run_fail(cli, "verify-webapp", data, "--json", env={ENV_TOKEN: "1:other"})
    assert line == (
        "error: telegram_bad_hash: initData hash does not match: wrong bot token, "
        "or the data was changed"
    )
    assert run_fail(cli, "verify-webapp", data) == (
        f"error: invalid_input: give --bot-token or set {ENV_TOKEN}"
    )


def test_verify_webapp_refusals_are_one_line(cli: Cli) -> None:
    now = int(datetime.now(UTC).timestamp())
    cases = [
        (init_data(recent(), token="1:wrong"), "telegram_bad_hash: initData hash does not match"),
        (init_data(now - 2 * 86400), "telegram_expired: auth_date is older than 1 day"),
        (
            init_data(now + 3600),
            "telegram_expired: auth_date is in the future by more than 5 minutes",
        ),
        ("", "telegram_malformed: initData is empty"),
        ("user=1&user=2", "telegram_malformed: initData has the field 'user' more than once"),
        ("auth_date=1&hash=xyz", "telegram_malformed: the hash field is not 64 hexadecimal"),
        ("a=" + "x" * 9000, "telegram_malformed: initData is longer than 8192 bytes"),
    ]
    for data, expected in cases:
        line = run_fail(cli, "verify-webapp", data, "--bot-token", TOKEN, "--json")
        assert line.startswith(f"error: {expected}"), line
        assert TOKEN not in line


def test_verify_webapp_ignore_expiry(cli: Cli) -> None:
    ts = int(datetime.now(UTC).timestamp()) - 10 * 86400
    data = init_data(ts)
    assert run_fail(cli, "verify-webapp", data, "--bot-token", TOKEN).startswith(
        "error: telegram_expired:"
    )
    out = run_ok(cli, "verify-webapp", data, "--bot-token", TOKEN, "--ignore-expiry", "--json")
    assert json.loads(out)["auth_date"] == iso(ts)
    table = run_ok(cli, "verify-webapp", data, "--bot-token", TOKEN, "--ignore-expiry")
    assert "auth_date NOT checked" in " ".join(table.split())


def test_verify_webapp_checks_the_signature_with_telegrams_keys(cli: Cli) -> None:
    args = ("verify-webapp", PUBLISHED, "--bot-token", PUBLISHED_TOKEN, "--ignore-expiry")
    out = run_ok(cli, *args, "--bot-id", "7342037359", "--json")
    assert json.loads(out) == {
        "id": 279058397,
        "first_name": "Vladislav + - ? /",
        "last_name": "Kibenko",
        "username": "vdkfrost",
        "photo_url": "https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg",
        "language_code": "ru",
        "auth_date": "2024-12-06T18:28:02+00:00",
        "source": "webapp",
        "display_name": "Vladislav + - ? / Kibenko",
    }
    table = run_ok(cli, *args, "--bot-id", "7342037359")
    assert "signature verifies for bot 7342037359 (production key)" in " ".join(table.split())
    signature_error = (
        "error: telegram_bad_signature: initData signature does not verify: wrong bot id or "
        "key, or the data was changed"
    )
    assert run_fail(cli, *args, "--bot-id", "7342037359", "--test-keys") == signature_error
    assert run_fail(cli, *args, "--bot-id", "7342037358") == signature_error
    removed = PUBLISHED.replace("&signature=", "&sig=")
    assert run_fail(
        cli, "verify-webapp", removed, "--bot-id", "7342037359", "--bot-token", PUBLISHED_TOKEN
    ) == ("error: telegram_bad_signature: initData has no signature field to check")
    assert run_fail(cli, *args, "--test-keys") == "error: invalid_input: --test-keys needs --bot-id"


def test_verify_webapp_signature_from_another_key_is_refused(cli: Cli) -> None:
    key = Ed25519PrivateKey.generate()
    sig = base64.urlsafe_b64encode(key.sign(b"x" * 10)).rstrip(b"=").decode()
    data = init_data(recent()) + f"&signature={sig}"
    line = run_fail(cli, "verify-webapp", data, "--bot-token", TOKEN, "--bot-id", "123456789")
    assert line.startswith("error: telegram_")


def test_verify_widget_json(cli: Cli) -> None:
    ts = recent()
    data = widget(ts, last_name="O'Brien & Co", photo_url="https://t.me/i/u.jpg")
    out = run_ok(cli, "verify-widget", data, "--bot-token", TOKEN, "--json")
    assert json.loads(out) == {
        "id": 42,
        "first_name": "Ann",
        "last_name": "O'Brien & Co",
        "username": "ann",
        "photo_url": "https://t.me/i/u.jpg",
        "language_code": None,
        "auth_date": iso(ts),
        "source": "widget",
        "display_name": "Ann O'Brien & Co",
    }
    table = run_ok(cli, "verify-widget", data, "--bot-token", TOKEN)
    assert "Source widget" in {" ".join(line.split()) for line in table.splitlines()}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("not json", "error: telegram_malformed: Login Widget data is not valid JSON"),
        ("[1, 2]", "error: telegram_malformed: Login Widget data must be a JSON object of fields"),
        (
            '{"id": 1, "id": 2}',
            "error: telegram_malformed: Login Widget data has the field 'id' more than once",
        ),
        ("{}", "error: telegram_malformed: Login Widget data is empty"),
        (
            '{"id": 1, "auth_date": 5, "hash": null}',
            "error: telegram_malformed: Login Widget field 'hash' must be a string or an integer",
        ),
    ],
)
def test_verify_widget_malformed(cli: Cli, data: str, expected: str) -> None:
    assert run_fail(cli, "verify-widget", data, "--bot-token", TOKEN) == expected


def test_verify_widget_refusals(cli: Cli) -> None:
    now = int(datetime.now(UTC).timestamp())
    tampered = json.loads(widget(recent()))
    tampered["id"] = 43
    assert run_fail(cli, "verify-widget", json.dumps(tampered), "--bot-token", TOKEN) == (
        "error: telegram_bad_hash: Login Widget hash does not match: wrong bot token, "
        "or the data was changed"
    )
    stale = widget(now - 2 * 86400)
    assert run_fail(cli, "verify-widget", stale, "--bot-token", TOKEN) == (
        "error: telegram_expired: auth_date is older than 1 day"
    )
    out = run_ok(cli, "verify-widget", stale, "--bot-token", TOKEN, "--ignore-expiry", "--json")
    assert json.loads(out)["id"] == 42
    assert run_fail(cli, "verify-widget", widget(recent())).startswith("error: invalid_input:")


def test_auth_help_loads_nothing_heavy() -> None:
    import subprocess
    import sys

    probe = """
import contextlib, io, sys
sys.argv = ["wagerkit", "auth", "verify-webapp", "--help"]
from wagerkit_cli.main import run
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    run()
print(sorted({m.split('.')[0] for m in sys.modules} & {"wagerkit", "cryptography", "sqlalchemy"}))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
