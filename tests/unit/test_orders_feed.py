"""The orders feed without a server: ``order_new`` to subscribed instant executors only,
``order_updated`` when takers change or the order closes, the same new order through the
``Notifier`` (after the commit, to subscribers with a Telegram id), and digests as due work
(SPEC sections 6 and 8; the Socket.IO client test is tests/http/test_orders_http.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from wagerkit import Actor, NotifyMode, Role, WagerKit
from wagerkit.domain.identity import User
from wagerkit.ports import NewUser
from wagerkit.testing import FixedClock, InMemoryStore, RecordingNotifier, SequentialIds


class Sink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    def listening(self, room: str) -> bool:
        return True

    async def send(self, name: str, data: Mapping[str, Any], room: str) -> None:
        self.sent.append((name, dict(data), room))

    async def disconnect(self, room: str) -> None:
        return None

    def rooms(self, name: str) -> list[str]:
        return [room for n, _, room in self.sent if n == name]


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def kit(sink: Sink, notifier: RecordingNotifier, clock: FixedClock) -> WagerKit:
    return WagerKit(
        InMemoryStore(),
        clock=clock,
        ids=SequentialIds(),
        realtime=sink,
        realtime_coalesce=0,
        notifier=notifier,
    )


async def _user(kit: WagerKit, name: str, telegram_id: int | None) -> User:
    async with kit.deps.uow() as uow:
        user = await uow.users.add(
            NewUser(name, Role.PLAYER, kit.deps.clock.now(), telegram_id=telegram_id)
        )
        await uow.commit()
    await kit.wallets.grant(Actor.system(), user.id, 100)
    return user


async def test_new_orders_reach_matching_instant_subscribers_only(
    kit: WagerKit, sink: Sink, notifier: RecordingNotifier
) -> None:
    client = await _user(kit, "Client", 500)
    match = await _user(kit, "Match", 501)
    anywhere = await _user(kit, "Anywhere", None)
    other_city = await _user(kit, "Kazan only", 503)
    other_cat = await _user(kit, "Cleaning only", 504)
    digest = await _user(kit, "Digest", 505)
    off = await _user(kit, "Off", 506)
    await kit.orders.set_preferences(Actor.of(match), categories=["plumbing"], cities=["moscow"])
    await kit.orders.set_preferences(Actor.of(anywhere), mode="instant")
    await kit.orders.set_preferences(Actor.of(other_city), cities=["Kazan"])
    await kit.orders.set_preferences(Actor.of(other_cat), categories=["cleaning"])
    await kit.orders.set_preferences(Actor.of(digest), mode=NotifyMode.DIGEST)
    await kit.orders.set_preferences(Actor.of(off), mode=NotifyMode.OFF)
    await kit.orders.set_preferences(Actor.of(client), mode="instant")  # never its own
    view = await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Tap", "+7 1")
    assert sorted(sink.rooms("order_new")) == sorted([f"user:{match.id}", f"user:{anywhere.id}"])
    [(_, data, _)] = [s for s in sink.sent if s[0] == "order_new"][:1]
    assert data["id"] == view.order.id
    assert "contact" not in data
    assert "+7 1" not in str(sink.sent)
    # the Notifier: the instant subscribers with a Telegram id, a deep link to the order
    assert [m.chat_id for m in notifier.sent] == [501]
    assert notifier.sent[0].link == f"order_{view.order.id}"
    assert "+7 1" not in notifier.sent[0].text
    # a take: order_updated to the client, the taker and the subscribers
    sink.sent.clear()
    await kit.orders.take(Actor.of(other_cat), view.order.id)
    rooms = sink.rooms("order_updated")
    assert sorted(rooms) == sorted(f"user:{u.id}" for u in (client, match, anywhere, other_cat))
    assert {d["takers"] for n, d, _ in sink.sent if n == "order_updated"} == {1}
    sink.sent.clear()
    await kit.orders.close(Actor.of(client), view.order.id)
    assert {d["status"] for n, d, _ in sink.sent if n == "order_updated"} == {"closed"}


async def test_digests_are_due_work(
    kit: WagerKit, notifier: RecordingNotifier, clock: FixedClock
) -> None:
    client = await _user(kit, "Client", 600)
    digest = await _user(kit, "Digest", 601)
    await kit.orders.set_preferences(
        Actor.of(digest), mode="digest", digest_minutes=30, cities=["Moscow"]
    )
    clock.advance(seconds=1)
    await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Tap", "c1")
    await kit.orders.create(Actor.of(client), "cleaning", "Omsk", "Floor", "c2")
    clock.advance(minutes=29, seconds=-1)
    assert (await kit.jobs.tick()).parts["order_digests"].idle
    assert notifier.to(601) == []
    clock.advance(minutes=1)
    part = (await kit.jobs.tick()).parts["order_digests"]
    assert part.sent == [digest.id]  # type: ignore[attr-defined]
    [message] = notifier.to(601)
    assert "1 new order" in message.text
    assert "Tap" in message.text
    assert "Floor" not in message.text
    assert (await kit.jobs.tick()).parts["order_digests"].idle  # once
    clock.advance(minutes=30)  # nothing new since: nothing sent
    await kit.jobs.tick()
    assert len(notifier.to(601)) == 1


async def test_the_telegram_stub_receives_new_orders(clock: FixedClock) -> None:
    """The Bot API adapter end to end: a local stub of the Bot API gets one ``sendMessage``
    per instant subscriber with a Telegram id, with a button opening the Mini App on the
    order; the use case returned before (the send runs after the commit)."""
    from aiohttp import web

    from wagerkit.adapters.telegram_bot import TelegramBotNotifier

    calls: list[tuple[str, dict[str, Any]]] = []

    async def handle(request: web.Request) -> web.Response:
        calls.append((request.match_info["method"], await request.json()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post(r"/bot{token}/{method}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    bot = TelegramBotNotifier(
        "123:stub-token", api_base=url, mini_app_url="https://t.me/wagerkit_bot/orders"
    )
    try:
        kit = WagerKit(InMemoryStore(), clock=clock, notifier=bot)
        client = await _user(kit, "Client", 700)
        ex = await _user(kit, "Executor", 701)
        await _user(kit, "Not subscribed", 702)
        await kit.orders.set_preferences(Actor.of(ex), categories=["locksmith"])
        view = await kit.orders.create(Actor.of(client), "locksmith", "Tula", "Door", "+7 5")
        assert kit.order_notifications is not None
        await kit.order_notifications.drain()
        [(method, body)] = calls
        assert method == "sendMessage"
        assert body["chat_id"] == 701
        assert "Door" in body["text"]
        assert "+7 5" not in body["text"]
        [[button]] = body["reply_markup"]["inline_keyboard"]
        assert button["url"] == f"https://t.me/wagerkit_bot/orders?startapp=order_{view.order.id}"
    finally:
        await bot.aclose()
        await runner.cleanup()
