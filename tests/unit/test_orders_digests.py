"""Order digests on every store (memory, SQLite, PostgreSQL): at least once (docs/orders.md,
"Digests"). A delivery the notifier refuses, raises on, or that the Bot API answers with a 500
is retried on a later pass with the same orders; a digest undelivered for a day is dropped;
two job runners send one digest; a runner whose lease ran out cannot overwrite the schedule
of the runner that took the digest over (the one duplicate the design allows)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from builders import assert_conserved

from wagerkit import Actor, OutboundMessage, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.domain.identity import User
from wagerkit.ports import Notifier, UnitOfWorkFactory
from wagerkit.services.orders.digests import GIVE_UP, LEASE, RETRY
from wagerkit.testing import FixedClock, RecordingNotifier, SequentialIds

CHAT = 601


class Flaky(RecordingNotifier):
    """Records deliveries; ``mode``: ``"ok"``, ``"refuse"`` (False) or ``"raise"``."""

    def __init__(self) -> None:
        super().__init__()
        self.mode = "ok"
        self.attempts = 0

    async def send(self, message: OutboundMessage) -> bool:
        self.attempts += 1
        if self.mode == "raise":
            raise RuntimeError("the chat service fell over")
        if self.mode == "refuse":
            return False
        return await super().send(message)


class Gated(RecordingNotifier):
    """Holds every send until ``gate`` is set (``started`` tells a send is waiting)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    async def send(self, message: OutboundMessage) -> bool:
        self.started.set()
        await self.gate.wait()
        return await super().send(message)


def _kit(store: UnitOfWorkFactory, clock: FixedClock, notifier: Notifier) -> WagerKit:
    return WagerKit(store, clock=clock, ids=SequentialIds(), notifier=notifier)


async def _setup(kit: WagerKit, clock: FixedClock) -> tuple[User, User]:
    """A client with two plumbing orders in Moscow (and one in Omsk), and an executor with
    a Telegram id on a 30-minute digest of plumbing; the digest is due in 30 minutes."""
    system = Actor.system("test")
    client = await kit.users.add(system, "Client")
    executor = await kit.users.add(system, "Digest", telegram_id=CHAT)
    await kit.orders.set_preferences(
        Actor.of(executor), mode="digest", digest_minutes=30, categories=["plumbing"]
    )
    clock.advance(seconds=1)
    await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Tap", "c1")
    await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Sink", "c2")
    await kit.orders.create(Actor.of(client), "cleaning", "Omsk", "Floor", "c3")
    clock.advance(minutes=30)
    return client, executor


async def _digests(kit: WagerKit) -> Any:
    return (await kit.jobs.tick()).parts["order_digests"]


def _listed(message: OutboundMessage) -> list[str]:
    return sorted(line.rsplit(": ", 1)[1] for line in message.text.splitlines()[1:])


@pytest.mark.parametrize("failure", ["refuse", "raise"])
async def test_a_failed_digest_is_retried_with_the_same_orders(
    store: UnitOfWorkFactory, clock: FixedClock, failure: str
) -> None:
    notifier = Flaky()
    kit = _kit(store, clock, notifier)
    client, executor = await _setup(kit, clock)
    notifier.mode = failure
    part = await _digests(kit)
    assert (part.sent, part.failed) == ([], [executor.id])
    assert notifier.attempts == 1
    assert (await _digests(kit)).idle  # leased, then due again in RETRY: not before
    clock.advance(RETRY.total_seconds() - 1)
    assert (await _digests(kit)).idle
    assert notifier.attempts == 1
    notifier.mode = "ok"
    clock.advance(seconds=1)
    part = await _digests(kit)
    assert part.sent == [executor.id]
    [message] = notifier.to(CHAT)
    assert message.text.startswith("2 new order(s)")
    assert _listed(message) == ["Sink", "Tap"]
    assert (await _digests(kit)).idle  # delivered once
    # the next digest lists what came after the delivery, a period later
    clock.advance(seconds=1)
    await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Boiler", "c4")
    clock.advance(minutes=29)
    assert (await _digests(kit)).idle
    clock.advance(minutes=1)
    assert (await _digests(kit)).sent == [executor.id]
    assert _listed(notifier.to(CHAT)[-1]) == ["Boiler"]
    await assert_conserved(kit)


async def test_a_bot_api_500_is_retried(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    from aiohttp import web

    from wagerkit.adapters.telegram_bot import TelegramBotNotifier

    statuses = [500]
    calls: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        calls.append(await request.json())
        status = statuses.pop(0) if statuses else 200
        return web.json_response({"ok": status == 200}, status=status)

    app = web.Application()
    app.router.add_post(r"/bot{token}/{method}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bot = TelegramBotNotifier("1:stub", api_base=f"http://127.0.0.1:{runner.addresses[0][1]}")
    try:
        kit = _kit(store, clock, bot)
        _, executor = await _setup(kit, clock)
        assert (await _digests(kit)).failed == [executor.id]
        clock.advance(RETRY.total_seconds())
        assert (await _digests(kit)).sent == [executor.id]
        first, second = calls
        assert first == second  # the same digest, the same orders
        assert first["chat_id"] == CHAT
        assert "Tap" in first["text"]
        assert "Sink" in first["text"]
    finally:
        await bot.aclose()
        await runner.cleanup()


async def test_a_digest_undelivered_for_a_day_is_dropped(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    notifier = Flaky()
    kit = _kit(store, clock, notifier)
    client, executor = await _setup(kit, clock)
    notifier.mode = "refuse"
    assert (await _digests(kit)).failed == [executor.id]
    clock.advance(GIVE_UP.total_seconds())
    assert (await _digests(kit)).dropped == [executor.id]
    notifier.mode = "ok"
    clock.advance(RETRY.total_seconds())
    assert (await _digests(kit)).idle  # given up: the next digest is a period away
    clock.advance(seconds=1)
    await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Boiler", "c4")
    clock.advance(minutes=30)
    assert (await _digests(kit)).sent == [executor.id]
    assert _listed(notifier.to(CHAT)[-1]) == ["Boiler"]  # not the dropped ones


async def test_two_runners_send_one_digest(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    gated, other = Gated(), RecordingNotifier()
    a, b = _kit(store, clock, gated), _kit(store, clock, other)
    _, executor = await _setup(a, clock)
    # runner A claims the digest and is sending it; runner B passes meanwhile
    sending = asyncio.create_task(_digests(a))
    await asyncio.wait_for(gated.started.wait(), 10)
    assert (await _digests(b)).idle
    gated.gate.set()
    assert (await sending).sent == [executor.id]
    assert (len(gated.sent), len(other.sent)) == (1, 0)
    # both at once, a period later (PostgreSQL: the claims SKIP LOCKED each other's rows)
    await _orders_again(a, clock)
    parts = await asyncio.gather(_digests(a), _digests(b))
    assert sorted(u for p in parts for u in p.sent) == [executor.id]
    assert len(gated.sent) + len(other.sent) == 2
    clock.advance(LEASE.total_seconds())
    assert (await _digests(a)).idle
    assert (await _digests(b)).idle


async def _orders_again(kit: WagerKit, clock: FixedClock) -> None:
    async with kit.deps.uow() as uow:
        client = (await uow.users.list(limit=1))[0]
    clock.advance(seconds=1)
    await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Boiler", "c9")
    clock.advance(minutes=30)


async def test_a_runner_whose_lease_ran_out_leaves_the_row_to_its_new_holder(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    gated, other = Gated(), RecordingNotifier()
    a, b = _kit(store, clock, gated), _kit(store, clock, other)
    _, executor = await _setup(a, clock)
    stuck = asyncio.create_task(_digests(a))  # A's send outlives its lease
    await asyncio.wait_for(gated.started.wait(), 10)
    clock.advance(LEASE.total_seconds())
    assert (await _digests(b)).sent == [executor.id]  # B takes it over: the duplicate
    async with b.deps.uow() as uow:
        after_b = await uow.orders.get_preferences(executor.id)
    gated.gate.set()
    assert (await stuck).sent == [executor.id]
    async with a.deps.uow() as uow:
        assert await uow.orders.get_preferences(executor.id) == after_b  # A wrote nothing
    assert len(gated.sent) + len(other.sent) == 2
    assert (await _digests(a)).idle
    assert (await _digests(b)).idle


@pytest.mark.postgres
async def test_changing_preferences_while_a_runner_leases_the_digest_sends_it_once(
    pg_url: str, clock: FixedClock
) -> None:
    """``set_preferences`` reads the row, then writes it whole. A runner that claims, sends and
    settles the digest between that read and that write had its new schedule put back to the
    old due time, so the next pass sent the same digest again. The read now locks the row:
    the runner's claim skips it (SKIP LOCKED), and the digest goes out once, on the next pass."""
    store = SqlStore.from_url(pg_url)
    await store.create_all()
    try:
        notifier = RecordingNotifier()
        kit = _kit(store, clock, notifier)
        _, executor = await _setup(kit, clock)
        service: Any = kit.orders
        categories = service._categories
        passes: list[Any] = []

        async def a_runner_passes_meanwhile(uow: Any) -> Any:
            passes.append(await asyncio.wait_for(_digests(kit), 10))
            return await categories(uow)

        service._categories = a_runner_passes_meanwhile
        await kit.orders.set_preferences(Actor.of(executor), categories=["plumbing"])
        del service._categories
        assert len(passes) == 1
        await _digests(kit)
        assert len(notifier.to(CHAT)) == 1
        assert (await _digests(kit)).idle
    finally:
        await store.dispose()
