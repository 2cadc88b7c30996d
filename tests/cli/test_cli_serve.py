"""``wagerkit serve``: settings reach the server through the environment; uvicorn is faked."""

from __future__ import annotations

import os
from typing import Any

import pytest
import uvicorn
from cli_harness import Cli


@pytest.fixture
def uvicorn_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[tuple[Any, ...], dict[str, Any], dict[str, str]]]:
    """Record uvicorn.run calls (and the environment the workers would see)."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any], dict[str, str]]] = []
    monkeypatch.setattr(os, "environ", os.environ.copy())  # serve exports settings into it

    def fake_run(*args: Any, **kwargs: Any) -> None:
        calls.append(
            (args, kwargs, {k: v for k, v in os.environ.items() if k.startswith("WAGERKIT_")})
        )

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def test_serve_exports_settings_and_starts_the_factory(cli: Cli, uvicorn_calls: list[Any]) -> None:
    res = cli.invoke(
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8123",
        "--workers",
        "3",
        env={"WAGERKIT_LOG_LEVEL": "DEBUG"},
    )
    assert res.exit_code == 0, res.stderr
    assert res.stderr == f"serving on http://0.0.0.0:8123 with 3 worker(s), database {cli.url}\n"
    [(args, kwargs, env)] = uvicorn_calls
    assert args == ("wagerkit_http.asgi:create_asgi",)
    assert kwargs == {
        "factory": True,
        "host": "0.0.0.0",
        "port": 8123,
        "workers": 3,
        "log_level": "debug",
    }
    assert env["WAGERKIT_DATABASE_URL"] == cli.url
    assert (env["WAGERKIT_HOST"], env["WAGERKIT_PORT"], env["WAGERKIT_WORKERS"]) == (
        "0.0.0.0",
        "8123",
        "3",
    )
    assert env["WAGERKIT_CURRENCIES"] == "COIN:0,RUB:2,COP:0,USDT:6"
    assert env["WAGERKIT_JOBS_IN_SERVER"] == "true"
    assert cli.json("db", "current")["up_to_date"]  # the SQLite schema was created first


def test_serve_defaults_come_from_settings(cli: Cli, uvicorn_calls: list[Any]) -> None:
    res = cli.invoke("serve", env={"WAGERKIT_PORT": "9000"})
    assert res.exit_code == 0, res.stderr
    [(_, kwargs, _)] = uvicorn_calls
    assert kwargs == {
        "factory": True,
        "host": "127.0.0.1",
        "port": 9000,
        "workers": 1,
        "log_level": "info",
    }


def test_serve_refuses_bad_options_and_databases(cli: Cli, uvicorn_calls: list[Any]) -> None:
    assert cli.fail("serve", "--port", "70000").startswith(
        "error: usage: Invalid value for '--port'"
    )
    assert Cli("postgresql://u:pw@127.0.0.1:9/x").fail("serve") == (
        "error: store_error: cannot open the database postgresql://u:***@127.0.0.1:9/x"
    )
    assert uvicorn_calls == []
