"""``wagerkit auth token``: a short-lived access token signed with the server's secret."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_harness import Cli

from wagerkit.adapters.tokens import JwtTokenService

SECRET = "configured-secret-for-the-auth-token-tests-0123456789"


def _verify(secret: str, token: str) -> int:
    return JwtTokenService(secret).verify(token, now=datetime.now(UTC))[0]


def test_a_token_for_a_demo_user_uses_the_servers_secret_file(cli: Cli) -> None:
    cli.ok("demo")
    res = cli.invoke("auth", "token", "demo-alice", env={"WAGERKIT_JWT_SECRET": None})
    assert res.exit_code == 0, res.stderr
    path = Path(cli.url.removeprefix("sqlite:///") + ".jwt-secret")
    assert res.stderr.startswith(f"generated a JWT secret in {path} ")  # as serve would
    secret = path.read_text().strip()
    assert _verify(secret, res.stdout.strip()) == 1
    # the next one reads the same file, by id, and says nothing
    res = cli.invoke("auth", "token", "2", "--json", env={"WAGERKIT_JWT_SECRET": None})
    assert (res.exit_code, res.stderr) == (0, "")
    doc = json.loads(res.stdout)
    assert (doc["token_type"], doc["user"]["username"]) == ("bearer", "demo-bob")
    assert _verify(secret, doc["access_token"]) == 2
    expires = datetime.fromisoformat(doc["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < expires <= timedelta(minutes=15)


def test_a_configured_secret_wins_and_nothing_is_written(cli: Cli, tmp_path: Path) -> None:
    cli.ok("demo")
    out = cli.ok(
        "auth", "token", "demo-carol", "--minutes", "2", env={"WAGERKIT_JWT_SECRET": SECRET}
    )
    assert _verify(SECRET, out.strip()) == 3
    assert not list(tmp_path.glob("*.jwt-secret"))


def test_refusals_are_one_line(cli: Cli) -> None:
    cli.ok("demo")
    configured = {"WAGERKIT_JWT_SECRET": SECRET}
    assert cli.fail("auth", "token", "nobody", env=configured) == (
        "error: user_not_found: no user 'nobody'"
    )
    cli.ok("users", "ban", "1", "--reason", "spam")
    assert cli.fail("auth", "token", "demo-alice", env=configured).startswith(
        "error: account_banned: "
    )
    assert cli.fail("auth", "token", "demo-bob", "--minutes", "0", env=configured).startswith(
        "error: usage: Invalid value for '--minutes'"
    )


@pytest.mark.postgres
def test_postgresql_needs_the_setting(pg_url: str) -> None:
    assert (
        Cli(pg_url)
        .fail("auth", "token", "1", env={"WAGERKIT_JWT_SECRET": None})
        .startswith("error: invalid_settings: no JWT secret configured: set WAGERKIT_JWT_SECRET")
    )
