"""What the orders area sends outside the transaction (docs/orders.md, "The feed").

* ``register_order_updates(live, orders)`` — the area's one registration on ``LiveUpdates``:
  ``OrderCreated`` → ``order_new`` (the public view, no contact) to the ``user:<id>`` room of
  every executor subscribed to the order's category and city whose setting is ``instant``
  (never the client); ``OrderUpdated`` → ``order_updated`` (takers, free slots, status) to
  the same executors, the client and the order's takers. The updates a take batch publishes
  read their orders, takes and subscribers in one unit of work, at the first of them; nothing
  is read when no client can be in any user room (``LiveUpdates.listening_any``: a server
  process with no such socket and no Redis manager).
* ``OrderNotifications(orders, notifier)`` — an ``EventPublisher`` that sends the same new
  order through the ``Notifier`` port (a Telegram bot) to instant subscribers who have a
  Telegram id, as a background task after the commit (``inline=True``: awaited, for the
  CLI), so no use case and no database transaction waits for the chat service.
* Digests (every N minutes instead of at once) are the job runner's, in ``digests``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...domain.notifications import Notification, OutboundMessage
from ...domain.orders import NotifyMode, Order, OrderCreated, OrderUpdated, Preferences
from ...ports import Notifier
from ..realtime import user_room

if TYPE_CHECKING:
    from ..realtime import LiveUpdates
    from . import OrderService

__all__ = [
    "ORDER_NEW",
    "ORDER_UPDATED",
    "OrderNotifications",
    "order_payload",
    "register_order_updates",
]

log = logging.getLogger("wagerkit.orders")

USER_ROOMS = user_room("")  # the prefix of every user's room
ORDER_NEW = "order_new"
ORDER_UPDATED = "order_updated"


def order_payload(order: Order) -> dict[str, Any]:
    """The public view of an order as the feed carries it (never the contact)."""
    return {
        "id": order.id,
        "category": order.category,
        "city": order.city,
        "description": order.description,
        "status": order.status.value,
        "takers": order.takers,
        "free_slots": order.free_slots,
        "fee": order.fee,
        "currency": order.currency,
        "created_at": order.created_at.isoformat(),
        "expires_at": order.expires_at.isoformat(),
    }


_Read = tuple[Order, list[Preferences], list[int]]


async def _read_many(orders: OrderService, order_ids: Sequence[str]) -> dict[str, _Read]:
    """The orders, their instant subscribers and their takers, in one unit of work: one
    read of the orders, one of their takes, one of the subscribers per (category, city)."""
    async with orders._d.uow() as uow:
        found = await uow.orders.get_many(sorted(set(order_ids)))
        takes = await uow.orders.takes_of(list(found)) if found else {}
        subs: dict[tuple[str, str], list[Preferences]] = {}
        for key in sorted({(o.category, o.city) for o in found.values()}):
            subs[key] = await uow.orders.subscribers(*key)
    return {
        oid: (
            o,
            [
                p
                for p in subs[(o.category, o.city)]
                if p.mode is NotifyMode.INSTANT and p.matches(o)
            ],
            [t.executor_id for t in takes.get(oid, [])],
        )
        for oid, o in found.items()
    }


async def _read(orders: OrderService, order_id: str) -> _Read:
    """The order, its instant subscribers and its takers, in one unit of work."""
    found = (await _read_many(orders, [order_id])).get(order_id)
    if found is None:
        raise LookupError(order_id)
    return found


async def _read_updated(orders: OrderService, order_id: str) -> _Read:
    """``_read``, but the orders a take batch is publishing (``orders._feed_batch``, set
    around its publishing after the commit) are read together at the first of them."""
    got = orders._feed_reads.get(order_id)
    if got is None:
        if order_id not in orders._feed_batch:
            return await _read(orders, order_id)
        orders._feed_reads = await _read_many(orders, sorted(orders._feed_batch))
        got = orders._feed_reads.get(order_id)
        if got is None:
            raise LookupError(order_id)
    return got


def register_order_updates(live: LiveUpdates, orders: OrderService) -> None:
    """The orders area's Socket.IO pushes (see the module docstring)."""

    async def created(note: OrderCreated) -> None:
        if not live.listening_any(USER_ROOMS):  # nobody could get it: read nothing
            return
        order, instant, _ = await _read(orders, note.order_id)
        data = order_payload(order)
        for p in instant:
            room = user_room(p.user_id)
            if live.sink.listening(room):
                await live.send(ORDER_NEW, data, room)

    async def updated(note: OrderUpdated) -> None:
        if not live.listening_any(USER_ROOMS):
            return
        order, instant, takers = await _read_updated(orders, note.order_id)
        data = order_payload(order)
        for uid in sorted({order.client_id, *takers, *(p.user_id for p in instant)}):
            room = user_room(uid)
            if live.sink.listening(room):
                await live.send(ORDER_UPDATED, data, room)

    live.on(OrderCreated, created)
    live.on(OrderUpdated, updated)


def _message(chat_id: int, order: Order) -> OutboundMessage:
    return OutboundMessage(
        chat_id,
        f"New order: {order.category}, {order.city}\n{order.description[:300]}",
        link=f"order_{order.id}",
        link_text="Open the order",
    )


class OrderNotifications:
    """New orders to instant subscribers through the ``Notifier`` (module docstring)."""

    def __init__(self, orders: OrderService, notifier: Notifier, *, inline: bool = False) -> None:
        self._orders = orders
        self._notifier = notifier
        self.inline = inline
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(self, note: Notification) -> None:
        if not isinstance(note, OrderCreated):
            return
        if self.inline:
            await self._send_new(note.order_id)
            return
        task = asyncio.get_running_loop().create_task(self._send_new(note.order_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the sends under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _send_new(self, order_id: str) -> None:
        try:
            order, instant, _ = await _read(self._orders, order_id)
            async with self._orders._d.uow() as uow:
                users = await uow.users.get_many([p.user_id for p in instant])
            for p in instant:
                tid = users[p.user_id].telegram_id if p.user_id in users else None
                if tid is not None:
                    await self._notifier.send(_message(tid, order))
        except Exception:
            log.warning("could not notify the subscribers of order %s", order_id, exc_info=True)
