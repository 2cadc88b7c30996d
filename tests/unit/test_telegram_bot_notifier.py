"""The Telegram Bot API notifier against a local stub of the Bot API (an aiohttp server the
test starts on a free port): what arrives, 429 retries, refusals, and no token in any log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from wagerkit import OutboundMessage
from wagerkit.adapters.telegram_bot import TelegramBotNotifier, startapp_link
from wagerkit.config import Settings
from wagerkit.ports import Notifier
from wagerkit.testing import NullNotifier, RecordingNotifier

TOKEN = "123456:AAE-secret_token_value_xyz"
MINI_APP = "https://t.me/wagerkit_bot/orders"


@dataclass
class BotStub:
    """Answers ``/bot<token>/<method>`` with the queued answers (then ``ok: true``)."""

    url: str = ""
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append(
            (request.match_info["token"], request.match_info["method"], await request.json())
        )
        status, body = self.answers.pop(0) if self.answers else (200, {"ok": True})
        return web.json_response(body, status=status)


@pytest.fixture
async def stub() -> AsyncIterator[BotStub]:
    bot = BotStub()
    app = web.Application()
    app.router.add_post(r"/bot{token}/{method}", bot.handle)
    runner = web.AppRunner(app, access_log=None)  # the stub is Telegram: its log is not ours
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bot.url = f"http://127.0.0.1:{port}"
    yield bot
    await runner.cleanup()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def notifier(stub: BotStub, sleeps: list[float]) -> AsyncIterator[TelegramBotNotifier]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with TelegramBotNotifier(
        TOKEN,
        api_base=stub.url,
        mini_app_url=MINI_APP,
        timeout=5,
        sleep=sleep,
        max_per_second=None,  # pacing has its own test
    ) as bot:
        yield bot


async def test_a_message_arrives_with_chat_text_and_deep_link_button(
    stub: BotStub, notifier: TelegramBotNotifier
) -> None:
    message = OutboundMessage(
        chat_id=4242, text="Новый заказ: Москва", link="order_AbC-12_xyZ90", link_text="Open"
    )
    assert await notifier.send(message) is True
    [(token, method, body)] = stub.calls
    assert (token, method) == (TOKEN, "sendMessage")
    assert body["chat_id"] == 4242
    assert body["text"] == "Новый заказ: Москва"
    [[button]] = body["reply_markup"]["inline_keyboard"]
    assert button == {"text": "Open", "url": f"{MINI_APP}?startapp=order_AbC-12_xyZ90"}


async def test_plain_messages_and_https_links(stub: BotStub, notifier: TelegramBotNotifier) -> None:
    assert await notifier.send(OutboundMessage(chat_id=1, text="hi"))
    assert await notifier.send(OutboundMessage(chat_id=1, text="see", link="https://example.org/x"))
    assert "reply_markup" not in stub.calls[0][2]
    [[button]] = stub.calls[1][2]["reply_markup"]["inline_keyboard"]
    assert button["url"] == "https://example.org/x"


async def test_a_429_is_retried_after_its_retry_after(
    stub: BotStub, notifier: TelegramBotNotifier, sleeps: list[float]
) -> None:
    stub.answers = [
        (429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 3}}),
        (429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 1}}),
    ]
    assert await notifier.send(OutboundMessage(chat_id=7, text="x")) is True
    assert sleeps == [3, 1]
    assert len(stub.calls) == 3


async def test_429_retries_are_bounded(
    stub: BotStub, notifier: TelegramBotNotifier, sleeps: list[float]
) -> None:
    stub.answers = [(429, {"ok": False, "parameters": {"retry_after": 1}})] * 10
    assert await notifier.send(OutboundMessage(chat_id=7, text="x")) is False
    assert len(stub.calls) == notifier.max_retries + 1
    stub.calls.clear()
    sleeps.clear()
    stub.answers = [(429, {"ok": False, "parameters": {"retry_after": 3600}})]
    assert await notifier.send(OutboundMessage(chat_id=7, text="x")) is False
    assert sleeps == []  # too long a wait: give up rather than hold the caller for an hour


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}),
        (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"}),
        (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
        (200, {"ok": False}),
    ],
)
async def test_refusals_give_false(
    stub: BotStub, notifier: TelegramBotNotifier, status: int, body: dict[str, Any]
) -> None:
    stub.answers = [(status, body)]
    assert await notifier.send(OutboundMessage(chat_id=7, text="x")) is False
    assert len(stub.calls) == 1


async def test_an_unreachable_server_gives_false() -> None:
    async with TelegramBotNotifier(TOKEN, api_base="http://127.0.0.1:9", timeout=2) as bot:
        assert await bot.send(OutboundMessage(chat_id=7, text="x")) is False


async def test_no_log_line_shows_the_token(
    stub: BotStub, notifier: TelegramBotNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stub.answers = [
        (429, {"ok": False, "parameters": {"retry_after": 1}}),
        (400, {"ok": False, "description": f"Bad Request: token {TOKEN} echoed"}),
    ]
    assert await notifier.send(OutboundMessage(chat_id=7, text="x")) is False
    assert await notifier.send(OutboundMessage(chat_id=7, text="y")) is True
    async with TelegramBotNotifier(TOKEN, api_base="http://127.0.0.1:9", timeout=2) as down:
        assert await down.send(OutboundMessage(chat_id=7, text="x")) is False
    assert caplog.records, "the adapter and httpx log the calls"
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(notifier)


async def test_concurrent_sends_are_paced(stub: BotStub) -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))

    async with TelegramBotNotifier(
        TOKEN, api_base=stub.url, max_per_second=4, sleep=sleep, monotonic=lambda: now[0]
    ) as bot:
        sent = await asyncio.gather(
            *(bot.send(OutboundMessage(chat_id=i, text="x")) for i in range(5))
        )
        assert sent == [True] * 5
        assert waits == [0.25, 0.5, 0.75, 1.0]  # the first goes at once, then 4 a second
        waits.clear()
        now[0] += 10  # later, the queue has drained: no wait
        assert await bot.send(OutboundMessage(chat_id=9, text="y"))
        assert waits == []
    assert sorted(body["chat_id"] for _, _, body in stub.calls) == [0, 1, 2, 3, 4, 9]
    with pytest.raises(ValueError, match="max_per_second"):
        TelegramBotNotifier(TOKEN, max_per_second=0)


def test_deep_links() -> None:
    assert startapp_link(MINI_APP, "order_abc") == f"{MINI_APP}?startapp=order_abc"
    assert startapp_link(MINI_APP + "?mode=compact", "x") == f"{MINI_APP}?mode=compact&startapp=x"
    with pytest.raises(ValueError, match="startapp"):
        startapp_link(MINI_APP, "order abc")
    with pytest.raises(ValueError, match="token"):
        TelegramBotNotifier("bad token")


async def test_without_mini_app_url_a_startapp_link_is_left_out(stub: BotStub) -> None:
    async with TelegramBotNotifier(TOKEN, api_base=stub.url) as bot:
        assert await bot.send(OutboundMessage(chat_id=1, text="x", link="order_abc"))
    assert "reply_markup" not in stub.calls[0][2]


async def test_the_test_notifiers_follow_the_port() -> None:
    recording: Notifier = RecordingNotifier(fail_chats=frozenset({2}))
    assert await recording.send(OutboundMessage(chat_id=1, text="a"))
    assert not await recording.send(OutboundMessage(chat_id=2, text="b"))
    assert isinstance(recording, RecordingNotifier)
    assert [m.text for m in recording.to(1)] == ["a"]
    assert recording.sent == [OutboundMessage(chat_id=1, text="a")]
    null: Notifier = NullNotifier()
    assert await null.send(OutboundMessage(chat_id=1, text="a")) is False


async def test_settings_give_the_notifier_options(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).telegram_notifier_options() is None  # type: ignore[call-arg]
    monkeypatch.setenv("WAGERKIT_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WAGERKIT_TELEGRAM_MINI_APP_URL", MINI_APP)
    options = Settings(_env_file=None).telegram_notifier_options()  # type: ignore[call-arg]
    assert options == {
        "token": TOKEN,
        "api_base": "https://api.telegram.org",
        "mini_app_url": MINI_APP,
        "timeout": 10.0,
    }
    async with TelegramBotNotifier(**options) as bot:  # type: ignore[arg-type]
        assert bot.button_url("order_x") == f"{MINI_APP}?startapp=order_x"
