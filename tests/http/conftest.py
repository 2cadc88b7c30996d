"""A real server for the HTTP tests: uvicorn on a free loopback port, in a thread with its own
event loop, serving ``create_asgi`` (Socket.IO in front of Sanic, lifespan and all).

``serve(asgi_app)`` is a context manager that starts the server, waits until the lifespan
start-up finished, yields the base URL and shuts the server down (running the shutdown
listeners) on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sanic import HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit.config import Settings
from wagerkit.domain import errors as domain
from wagerkit_http import create_app, create_asgi, parse_body
from wagerkit_http.context import WagerkitApp, WagerkitRequest

from pydantic import BaseModel, Field  # isort: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(asgi_app: Any, *, timeout: float = 15.0) -> Iterator[str]:
    """Run ``asgi_app`` under uvicorn in a background thread; yield its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(asgi_app, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # surfaced by the waiting code below
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    waited = 0.0
    while not server.started and thread.is_alive() and waited < timeout:
        threading.Event().wait(0.02)
        waited += 0.02
    if not server.started:
        server.should_exit = True
        thread.join(5)
        sock.close()
        raise RuntimeError(f"server did not start: {errors or 'timeout'}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "server did not stop"


class Echo(BaseModel):
    """A body model for exercising parse_body through a real route."""

    name: str = Field(min_length=1)
    amount: int = Field(gt=0)
    password: str | None = None


ERRORS_BY_CODE: dict[str, type[domain.WagerkitError]] = {
    cls.code: cls for cls in domain.all_error_types()
}


def add_test_routes(app: WagerkitApp) -> None:
    """Routes that exist only in tests: raise each wagerkit error, crash, parse a body."""

    async def raise_error(request: WagerkitRequest, code: str) -> HTTPResponse:
        raise ERRORS_BY_CODE[code](f"detail of {code}")

    async def crash(request: WagerkitRequest) -> HTTPResponse:
        raise RuntimeError("secret internal state: password=hunter2")

    async def echo(request: WagerkitRequest) -> HTTPResponse:
        return json(parse_body(request, Echo).model_dump())

    for handler in (raise_error, crash, echo):
        openapi.exclude()(handler)
    app.add_route(raise_error, "/_test/raise/<code:str>", name="t_raise")
    app.add_route(crash, "/_test/crash", name="t_crash")
    app.add_route(echo, "/_test/echo", methods=["POST"], name="t_echo")


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("http") / "wagerkit.db"


@pytest.fixture(scope="module")
def live(sqlite_file: Path) -> Iterator[tuple[str, WagerkitApp]]:
    """One server per test module on a fresh SQLite file (migrated by the start-up listener)."""
    settings = Settings(
        database_url=f"sqlite:///{sqlite_file}",
        jwt_secret="test-secret-for-http-tests-0123456789abcdef",
        _env_file=None,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    add_test_routes(app)
    with serve(create_asgi(settings, app=app)) as url:
        yield url, app


@pytest.fixture(scope="module")
def base_url(live: tuple[str, WagerkitApp]) -> str:
    return live[0]


@pytest.fixture(scope="module")
def auth_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WagerkitApp, str]]:
    """A server configured for sign-in: a JWT secret, a Telegram bot token, one bootstrap admin
    Telegram id, cheap argon2 parameters. Yields (base URL, app, database URL)."""
    from authkit import ACME_SECRET, ADMIN_TG_ID, BOT_TOKEN, CHEAP_ARGON2, JWT_SECRET

    from wagerkit.adapters.passwords import Argon2PasswordHasher

    db_url = f"sqlite:///{tmp_path_factory.mktemp('auth') / 'auth.db'}"
    settings = Settings(  # type: ignore[call-arg]
        database_url=db_url,
        jwt_secret=JWT_SECRET,
        telegram_bot_token=BOT_TOKEN,
        telegram_admin_ids=str(ADMIN_TG_ID),
        dev_payments=True,
        webhook_secrets={"acme": ACME_SECRET},
        _env_file=None,
    )
    app = create_app(settings, passwords=Argon2PasswordHasher(**CHEAP_ARGON2))
    # every test here signs in from 127.0.0.1: lift the per-address limits (their defaults
    # are tested on servers of their own, test_auth_limits_http.py); "login" stays as it is
    identity = app.ctx.kit.identity
    relaxed = {"login_ip": (10_000, 60), "register": (10_000, 60), "telegram": (10_000, 60)}
    identity.policy = replace(identity.policy, limits={**identity.policy.limits, **relaxed})
    with serve(create_asgi(settings, app=app)) as url:
        yield url, app, db_url


@pytest.fixture
def http(auth_live: tuple[str, WagerkitApp, str]) -> Iterator[Any]:
    import httpx

    with httpx.Client(base_url=auth_live[0], timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def server() -> Any:
    """The ``serve`` context manager, for tests that need a server of their own."""
    return serve


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()
