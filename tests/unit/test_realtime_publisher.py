"""The publisher reads and pushes only what someone may be listening to, off the caller's path."""

from __future__ import annotations

import asyncio
from typing import Any

from wagerkit.adapters.realtime import BALANCE_UPDATE, NAMESPACE, RealtimePublisher
from wagerkit.domain import Actor
from wagerkit.services import WagerKit
from wagerkit.testing import InMemoryStore


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


async def _kit() -> tuple[WagerKit, list[int]]:
    kit = WagerKit(InMemoryStore())
    users = [(await kit.users.add(Actor.system(), n)).id for n in ("a", "b", "c")]
    return kit, users


async def _settle(pub: RealtimePublisher) -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    if pub._balances_task is not None:
        await pub._balances_task


async def test_only_users_with_a_local_socket_get_a_balance_update() -> None:
    kit, (a, b, c) = await _kit()
    emitter = Emitter(Manager({f"user:{a}": {"sid": "e"}}))
    pub = RealtimePublisher(kit, emitter)
    await pub.publish("wallet.changed", {"user_ids": [a, b, c]})
    await _settle(pub)
    assert [(e, r) for e, _, r in emitter.sent] == [(BALANCE_UPDATE, f"user:{a}")]
    assert emitter.sent[0][1]["balances"][0]["balance"] == 1000


async def test_with_a_shared_manager_every_user_is_pushed() -> None:
    kit, users = await _kit()
    emitter = Emitter(Manager({}, channel="socketio"))  # Redis: sockets may be elsewhere
    pub = RealtimePublisher(kit, emitter)
    await pub.publish("wallet.changed", {"user_ids": users})
    await _settle(pub)
    assert sorted(r for _, _, r in emitter.sent) == sorted(f"user:{u}" for u in users)


async def test_an_unwatched_event_costs_no_read() -> None:
    kit, _ = await _kit()
    emitter = Emitter(Manager({}))
    pub = RealtimePublisher(kit, emitter)
    await pub.publish("event.pool", {"event_id": 12345})  # would fail to read: no such event
    assert pub._pending == {}  # no coalesced send was even scheduled
    assert emitter.sent == []
