"""``wagerkit serve``: the one serve path (``wagerkit_http.serve.run``, reached by name), its
JWT secret, its refusals and what uvicorn is told. uvicorn.run is replaced by a recorder:
these tests check what would be served; tests/e2e/test_readme.py serves for real."""

from __future__ import annotations

import os
import re
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cli_harness import Cli

SECRET = "configured-secret-for-the-cli-serve-tests-0123456789"
NO_SECRET: dict[str, str | None] = {"WAGERKIT_JWT_SECRET": None}

Call = tuple[tuple[Any, ...], dict[str, Any], dict[str, str]]


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Record uvicorn.run calls (and the environment the workers would see)."""
    calls: list[Call] = []
    monkeypatch.setattr(os, "environ", os.environ.copy())  # serve exports settings into it

    def fake_run(*args: Any, **kwargs: Any) -> None:
        calls.append(
            (args, kwargs, {k: v for k, v in os.environ.items() if k.startswith("WAGERKIT_")})
        )

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


@pytest.fixture
def port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def _secret_file(cli: Cli) -> Path:
    return Path(cli.url.removeprefix("sqlite:///") + ".jwt-secret")


def _uvicorn_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k != "log_config"}


def test_workers_get_the_real_secret_and_the_factory(
    cli: Cli, uvicorn_calls: list[Call], port: int
) -> None:
    res = cli.invoke(
        "serve",
        "--port",
        str(port),
        "--workers",
        "3",
        env={"WAGERKIT_LOG_LEVEL": "DEBUG", "WAGERKIT_JWT_SECRET": SECRET},
    )
    assert res.exit_code == 0, res.stderr
    assert (
        res.stderr == f"serving on http://127.0.0.1:{port} with 3 worker(s), database {cli.url}\n"
    )
    [(args, kwargs, env)] = uvicorn_calls
    assert args == ("wagerkit_http.asgi:create_asgi",)
    assert _uvicorn_options(kwargs) == {
        "factory": True,
        "workers": 3,
        "host": "127.0.0.1",
        "port": port,
        "log_level": "debug",
        "lifespan": "on",
        "proxy_headers": False,  # forwarded headers are ignored unless configured
        "timeout_graceful_shutdown": 10,
    }
    assert env["WAGERKIT_JWT_SECRET"] == SECRET  # in clear, not "**********"
    assert env["WAGERKIT_DATABASE_URL"] == cli.url
    assert (env["WAGERKIT_HOST"], env["WAGERKIT_PORT"], env["WAGERKIT_WORKERS"]) == (
        "127.0.0.1",
        str(port),
        "3",
    )
    assert env["WAGERKIT_CURRENCIES"] == "COIN:0,RUB:2,COP:0,USDT:6"
    assert env["WAGERKIT_JOBS_IN_SERVER"] == "true"
    assert cli.json("db", "current")["up_to_date"]  # the SQLite schema was created first
    assert not _secret_file(cli).exists()  # a configured secret wins: nothing written


def test_one_worker_serves_the_app_built_from_the_settings(
    cli: Cli, uvicorn_calls: list[Call], port: int
) -> None:
    res = cli.invoke("serve", env={"WAGERKIT_PORT": str(port), "WAGERKIT_JWT_SECRET": SECRET})
    assert res.exit_code == 0, res.stderr
    [(args, kwargs, _)] = uvicorn_calls
    [app] = args
    assert app.other_asgi_app.ctx.settings.jwt_secret.get_secret_value() == SECRET
    assert _uvicorn_options(kwargs) == {
        "host": "127.0.0.1",
        "port": port,
        "log_level": "info",
        "lifespan": "on",
        "proxy_headers": False,
        "timeout_graceful_shutdown": 10,
    }


def test_forwarded_headers_only_from_the_configured_proxies(
    cli: Cli, uvicorn_calls: list[Call], port: int
) -> None:
    env = {"WAGERKIT_JWT_SECRET": SECRET, "WAGERKIT_FORWARDED_ALLOW_IPS": "127.0.0.1,10.0.0.0/8"}
    assert cli.invoke("serve", "--port", str(port), "--workers", "2", env=env).exit_code == 0
    [(_, kwargs, exported)] = uvicorn_calls
    assert kwargs["proxy_headers"] is True
    assert kwargs["forwarded_allow_ips"] == "127.0.0.1,10.0.0.0/8"
    assert exported["WAGERKIT_FORWARDED_ALLOW_IPS"] == "127.0.0.1,10.0.0.0/8"


def test_sqlite_without_a_secret_makes_one_once_and_reuses_it(
    cli: Cli, uvicorn_calls: list[Call], port: int
) -> None:
    first = cli.invoke("serve", "--port", str(port), "--workers", "2", env=NO_SECRET)
    assert first.exit_code == 0, first.stderr
    path = _secret_file(cli)
    assert first.stderr.splitlines() == [
        f"generated a JWT secret in {path} (mode 0600, reused by later starts; "
        "WAGERKIT_JWT_SECRET overrides it)",
        f"serving on http://127.0.0.1:{port} with 2 worker(s), database {cli.url}",
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert re.fullmatch("[0-9a-f]{64}", secret)
    assert uvicorn_calls[0][2]["WAGERKIT_JWT_SECRET"] == secret

    second = cli.invoke("serve", "--port", str(port), "--workers", "2", env=NO_SECRET)
    assert second.exit_code == 0, second.stderr
    assert "generated" not in second.stderr
    assert uvicorn_calls[1][2]["WAGERKIT_JWT_SECRET"] == secret
    assert [p.name for p in path.parent.iterdir() if "jwt" in p.name] == [path.name]


def test_a_damaged_secret_file_is_one_line(cli: Cli, uvicorn_calls: list[Call]) -> None:
    path = _secret_file(cli)
    path.write_text("short\n")
    assert cli.fail("serve", env=NO_SECRET) == (
        f"error: invalid_settings: the JWT secret file {path} is damaged (shorter than 32 "
        "bytes): delete it (the next start makes a new one) or set WAGERKIT_JWT_SECRET"
    )
    assert uvicorn_calls == []


def test_start_up_errors_are_one_line_and_exit_2(
    cli: Cli, uvicorn_calls: list[Call], busy_port: int
) -> None:
    assert cli.fail("serve", "--port", "70000").startswith(
        "error: usage: Invalid value for '--port'"
    )
    configured = {"WAGERKIT_JWT_SECRET": SECRET}
    assert Cli("postgresql://u:pw@127.0.0.1:9/x").fail("serve", env=configured) == (
        "error: store_error: cannot open the database postgresql://u:***@127.0.0.1:9/x"
    )
    assert cli.fail("serve", "--port", str(busy_port), env=configured) == (
        f"error: invalid_settings: cannot listen on 127.0.0.1:{busy_port}: Address already "
        "in use (WAGERKIT_HOST, WAGERKIT_PORT)"
    )
    assert cli.fail("serve", env={"WAGERKIT_JWT_SECRET": "too short"}) == (
        "error: invalid_settings: cannot start the server: the JWT secret is too short: "
        "HS256 needs at least 32 bytes"
    )
    assert cli.fail("serve", env={"WAGERKIT_LOG_LEVEL": "loud"}) == (
        "error: invalid_settings: WAGERKIT_LOG_LEVEL: Value error, must be critical, error, "
        "warning, info, debug or trace"
    )
    assert cli.fail("serve", "--log-level", "loud", env=configured) == (
        "error: invalid_input: --log-level must be one of critical, error, warning, info, "
        "debug, trace"
    )
    assert uvicorn_calls == []


def test_help_shows_the_defaults(cli: Cli) -> None:
    text = " ".join(cli.ok("serve", "--help", db=False).split())
    for default in (
        "[default: WAGERKIT_HOST, else 127.0.0.1]",
        "[default: WAGERKIT_PORT, else 8000]",
        "[default: WAGERKIT_WORKERS, else 1]",
        "[default: WAGERKIT_LOG_LEVEL, else info]",
    ):
        assert default in text, text
