"""``wagerkit orders create`` tells instant subscribers through the Telegram bot when
``WAGERKIT_TELEGRAM_BOT_TOKEN`` is set (docs/orders.md, "The feed and notifications"): one
``sendMessage`` per subscriber with a Telegram id, after the commit, and the token never on
the terminal. The Bot API is a local stub (a threaded HTTP server: the CLI runs its own event
loop in the test's thread)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cli_harness import Cli

from wagerkit import Actor, WagerKit
from wagerkit.adapters.sql import SqlStore

TOKEN = "4242:cli-secret_token_value"


@dataclass
class BotApi:
    """Records ``/bot<token>/<method>`` calls; answers ``status`` (200: ``ok: true``)."""

    url: str = ""
    status: int = 200
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def bot_api() -> Iterator[BotApi]:
    api = BotApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            _, bot, method = self.path.split("/", 2)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            api.calls.append((bot.removeprefix("bot"), method, body))
            answer = json.dumps(
                {"ok": True} if api.status == 200 else {"ok": False, "description": "boom"}
            ).encode()
            self.send_response(api.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:  # the stub is Telegram: quiet
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _subscribers(cli: Cli) -> None:
    """User 1 (client, made by the CLI); 2 an instant subscriber with Telegram id 7001; 3 an
    instant subscriber without one; 4 subscribed to another category."""
    cli.ok("users", "add", "Client")

    async def setup() -> None:
        store = SqlStore.from_url(cli.url)
        try:
            kit = WagerKit(store)
            system = Actor.system("test")
            tg = await kit.users.add(system, "Telegram executor", telegram_id=7001)
            plain = await kit.users.add(system, "Plain executor")
            other = await kit.users.add(system, "Cleaner", telegram_id=7003)
            await kit.orders.set_preferences(Actor.of(tg), categories=["plumbing"])
            await kit.orders.set_preferences(Actor.of(plain), mode="instant")
            await kit.orders.set_preferences(Actor.of(other), categories=["cleaning"])
        finally:
            await store.dispose()

    asyncio.run(setup())


def _env(api: BotApi) -> dict[str, str | None]:
    return {
        "WAGERKIT_TELEGRAM_BOT_TOKEN": TOKEN,
        "WAGERKIT_TELEGRAM_API_BASE": api.url,
        "WAGERKIT_TELEGRAM_MINI_APP_URL": "https://t.me/wagerkit_bot/orders",
    }


def test_orders_create_notifies_instant_subscribers(cli: Cli, bot_api: BotApi) -> None:
    _subscribers(cli)
    res = cli.invoke(
        "orders", "create", "plumbing", "Москва", "Leaking tap", "--contact", "+7 9", "--as", "1",
        "--json", env=_env(bot_api),
    )  # fmt: skip
    assert res.exit_code == 0, (res.stdout, res.stderr, res.exception)
    oid = json.loads(res.stdout)["id"]
    [(token, method, body)] = bot_api.calls  # sent before the command returned
    assert (token, method) == (TOKEN, "sendMessage")
    assert body["chat_id"] == 7001
    assert "Leaking tap" in body["text"]
    assert "+7 9" not in json.dumps(body)
    [[button]] = body["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/wagerkit_bot/orders?startapp=order_{oid}"
    assert TOKEN not in res.stdout + res.stderr
    # without a token: nothing is sent
    assert cli.json("orders", "create", "plumbing", "Омск", "Tap", "--contact", "c2", "--as", "1")
    assert len(bot_api.calls) == 1


def test_a_refusing_bot_api_does_not_fail_the_command(cli: Cli, bot_api: BotApi) -> None:
    _subscribers(cli)
    bot_api.status = 500
    res = cli.invoke(
        "orders", "create", "plumbing", "Москва", "Tap", "--contact", "+7 8", "--as", "1",
        "--json", env=_env(bot_api),
    )  # fmt: skip
    assert res.exit_code == 0, (res.stdout, res.stderr, res.exception)
    assert [c[2]["chat_id"] for c in bot_api.calls] == [7001]  # tried once, not retried
    assert TOKEN not in res.stdout + res.stderr
    assert cli.json("orders", "list")["orders"][0]["description"] == "Tap"  # committed


def test_a_malformed_token_is_refused_without_showing_it(cli: Cli) -> None:
    cli.ok("users", "add", "Client")
    line = cli.fail("orders", "list", env={"WAGERKIT_TELEGRAM_BOT_TOKEN": "bad token/x"})
    assert line == "error: invalid_settings: WAGERKIT_TELEGRAM_BOT_TOKEN is empty or malformed"
