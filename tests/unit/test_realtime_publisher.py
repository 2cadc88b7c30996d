"""The live updates read and push only what someone may be listening to, off the caller's
path; the Socket.IO sink only sends."""

from __future__ import annotations

import asyncio
from typing import Any

from wagerkit.adapters.realtime import NAMESPACE, SocketIOSink
from wagerkit.domain import Actor, PoolChanged, UserChanged, WalletChanged
from wagerkit.services import LiveUpdates, WagerKit
from wagerkit.services.realtime import BALANCE_UPDATE
from wagerkit.testing import InMemoryStore, RecordingPublisher


class Manager:
    def __init__(self, rooms: dict[str, Any], channel: str | None = None) -> None:
        self.rooms = {NAMESPACE: rooms}
        self.channel = channel


class Emitter:
    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    async def emit(self, event: str, data: dict[str, Any], room: str, namespace: str) -> None:
        self.sent.append((event, data, room))


async def _kit(emitter: Emitter) -> tuple[LiveUpdates, list[int]]:
    kit = WagerKit(InMemoryStore(), realtime=SocketIOSink(emitter))
    users = [(await kit.users.add(Actor.system(), n)).id for n in ("a", "b", "c")]
    await _settle(kit.live)  # the welcome grants' own pushes
    emitter.sent.clear()
    assert kit.live is not None
    return kit.live, users


async def _settle(pub: LiveUpdates | None) -> None:
    assert pub is not None
    for _ in range(20):
        await asyncio.sleep(0)
    if pub._balances_task is not None:
        await pub._balances_task


async def test_only_users_with_a_local_socket_get_a_balance_update() -> None:
    emitter = Emitter(Manager({}))
    pub, (a, b, c) = await _kit(emitter)
    emitter.manager.rooms[NAMESPACE][f"user:{a}"] = {"sid": "e"}
    await pub.publish(WalletChanged((a, b, c)))
    await _settle(pub)
    assert [(e, r) for e, _, r in emitter.sent] == [(BALANCE_UPDATE, f"user:{a}")]
    assert emitter.sent[0][1]["balances"][0]["balance"] == 1000


async def test_with_a_shared_manager_every_user_is_pushed() -> None:
    emitter = Emitter(Manager({}, channel="socketio"))  # Redis: sockets may be elsewhere
    pub, users = await _kit(emitter)
    await pub.publish(WalletChanged(tuple(users)))
    await _settle(pub)
    assert sorted(r for _, _, r in emitter.sent) == sorted(f"user:{u}" for u in users)


async def test_an_unwatched_event_costs_no_read() -> None:
    emitter = Emitter(Manager({}))
    pub, _ = await _kit(emitter)
    await pub.publish(PoolChanged(12345))  # would fail to read: no such event
    assert pub._pending == {}  # no coalesced send was even scheduled
    assert emitter.sent == []


class WriteOnlyManager:
    """Like a write-only ``AsyncRedisManager`` (the CLI's): emits and closes rooms, holds no
    sockets."""

    channel = "socketio"

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []
        self.closed: list[str] = []

    async def emit(self, event: str, data: dict[str, Any], room: str, namespace: str) -> None:
        self.sent.append((event, data, room))

    async def close_room(self, room: str, namespace: str) -> None:
        self.closed.append(room)


async def test_the_kit_chains_its_own_publisher_before_the_live_updates() -> None:
    """``WagerKit(publisher=…, realtime=…)``: the embedder's publisher records every typed
    notification, and the live updates still push; a ban closes the user's room (which the
    servers' Redis manager turns into disconnects)."""
    emitter = WriteOnlyManager()
    recorded = RecordingPublisher()
    kit = WagerKit(
        InMemoryStore(), publisher=recorded, realtime=SocketIOSink(emitter), realtime_coalesce=0
    )
    alice = await kit.users.add(Actor.system(), "alice")
    assert recorded.notes == [WalletChanged((alice.id,))]
    assert [(e, r) for e, _, r in emitter.sent] == [(BALANCE_UPDATE, f"user:{alice.id}")]
    await kit.identity.ban(Actor.system(), alice.id, "abuse")
    assert recorded.of(UserChanged) == [UserChanged((alice.id,), banned=True)]
    assert emitter.closed == [f"user:{alice.id}"]


def test_listening_any_is_exact_only_for_local_rooms() -> None:
    local = Emitter(Manager({}))
    sink = SocketIOSink(local)
    assert not sink.listening_any("user:")
    local.manager.rooms[NAMESPACE]["event:3"] = {"sid": "e"}
    assert not sink.listening_any("user:")  # another kind of room
    local.manager.rooms[NAMESPACE]["user:9"] = {}  # a room left empty
    assert not sink.listening_any("user:")
    local.manager.rooms[NAMESPACE]["user:9"] = {"sid": "e"}
    assert sink.listening_any("user:")
    assert SocketIOSink(Emitter(Manager({}, channel="socketio"))).listening_any("user:")
    assert not SocketIOSink(None).listening_any("user:")  # no emitter: nothing is sent


async def test_an_unwatched_order_feed_costs_no_read() -> None:
    """Order updates are read (order, takes, subscribers) only when some client could be in a
    user room; a sink without ``listening_any`` is asked nothing and read for, as before."""
    from wagerkit.domain.orders import OrderCreated, OrderStatus, OrderUpdated

    class CountingStore(InMemoryStore):
        opened = 0

        def __call__(self):  # type: ignore[no-untyped-def]
            CountingStore.opened += 1
            return super().__call__()

    emitter = Emitter(Manager({}))
    kit = WagerKit(CountingStore(), realtime=SocketIOSink(emitter))
    assert kit.live is not None
    notes = (OrderUpdated("A" * 12, OrderStatus.ACTIVE, 1), OrderCreated("B" * 12, "c", "x", 1))
    before = CountingStore.opened
    for note in notes:
        await kit.live.publish(note)
    assert CountingStore.opened == before  # nobody in a user room: nothing read
    emitter.manager.rooms[NAMESPACE]["user:1"] = {"sid": "e"}
    for note in notes:
        await kit.live.publish(note)  # now read (the orders do not exist: logged, not sent)
    assert CountingStore.opened == before + 2
    assert emitter.sent == []

    class Bare:  # a sink of an embedding app, without listening_any
        def listening(self, room: str) -> bool:
            return True

    bare = LiveUpdates.__new__(LiveUpdates)
    bare.sink = Bare()  # type: ignore[assignment]
    assert bare.listening_any("user:") is True
