"""``balance_update`` pushes, for any process that changes wallets.

``BalancePublisher`` is an ``EventPublisher``: after every ``wallet.changed`` it reads the
users' balances and emits ``balance_update`` to each ``user:<id>`` room through an *emitter*,
anything with ``async emit(event, data, room=..., namespace=...)``: the server's
``socketio.AsyncServer``, or a write-only ``socketio.AsyncRedisManager(REDIS_URL,
write_only=True)`` in a process without a Socket.IO server (the CLI, a worker), whose emits
reach the sockets held by the server processes through Redis. No third-party import here:
the emitter is duck-typed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from wagerkit.domain.identity import Actor
from wagerkit.domain.money import CurrencyRegistry

__all__ = [
    "BALANCE_UPDATE",
    "NAMESPACE",
    "BalancePublisher",
    "balance_payload",
    "balance_view",
    "user_room",
]

log = logging.getLogger("wagerkit.adapters.realtime")

NAMESPACE = "/"
BALANCE_UPDATE = "balance_update"


def user_room(user_id: int | str) -> str:
    """The room every socket of one user joins (for ``balance_update`` and the like)."""
    return f"user:{user_id}"


def balance_view(b: Any, currencies: CurrencyRegistry) -> dict[str, Any]:
    """One ``WalletBalance`` as ``GET /api/v1/wallet`` shows it: minor units plus the same
    amounts formatted in the currency's precision."""
    cur = currencies.get(b.currency)

    def fmt(units: int) -> str:
        return cur.format(units) if cur is not None else str(units)

    return {
        "currency": b.currency,
        "balance": b.balance,
        "available": b.available,
        "held": b.held,
        "frozen": b.frozen,
        "balance_formatted": fmt(b.balance),
        "available_formatted": fmt(b.available),
        "held_formatted": fmt(b.held),
    }


async def balance_payload(kit: Any, user_id: int) -> dict[str, Any]:
    """``{"user_id", "balances": [...]}`` as ``GET /api/v1/wallet`` shows them (``kit`` is a
    ``WagerKit``)."""
    balances = await kit.wallets.balances(Actor.system("realtime"), user_id)
    return {
        "user_id": user_id,
        "balances": [balance_view(b, kit.deps.currencies) for b in balances],
    }


class BalancePublisher:
    """An ``EventPublisher``: turns ``wallet.changed`` into ``balance_update`` pushes.

    ``kit`` (a ``WagerKit``) and ``emitter`` may be set after construction, once they exist;
    until then events are dropped. Failures are logged, never raised: the change has already
    been committed.
    """

    def __init__(self, kit: Any = None, emitter: Any = None) -> None:
        self.kit = kit
        self.emitter = emitter

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        if topic != "wallet.changed" or self.kit is None or self.emitter is None:
            return
        for user_id in payload.get("user_ids", ()):
            try:
                data = await balance_payload(self.kit, int(user_id))
                await self.emitter.emit(
                    BALANCE_UPDATE, data, room=user_room(user_id), namespace=NAMESPACE
                )
            except Exception:
                log.warning("could not push balance_update to user %s", user_id, exc_info=True)
