"""What the orders area's parts share: settings, views, and closing an order with its refunds.

``OrderService`` (this package's ``__init__``) is one class from three parts: ``operations``
(categories, create, read, edit, client actions, reports, reviews, preferences), ``taking``
(the take path on the shared group commit) and ``due`` (the job runner's source). Each part
inherits ``OrdersBase``, which the constructor fills.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ...domain.audit import AuditRecord
from ...domain.errors import InvalidInput, OrderNotFound
from ...domain.identity import Actor
from ...domain.ledger import AccountFlags, AccountKind, TransferRequest
from ...domain.notifications import WalletChanged
from ...domain.orders import (
    REFUND_CODE,
    Order,
    OrderStatus,
    OrderUpdated,
    Take,
    is_order_id,
    refund_due,
)
from ...domain.refs import Area, transfer_id, user_ref
from ...ports import UnitOfWork
from ..accounts import system_account
from ..base import Deps

__all__ = [
    "Closed",
    "OrderView",
    "OrdersBase",
    "close_order",
    "fee_id",
    "order_ref",
    "refund_id",
    "refund_takes",
]


def fee_id(order_id: str, executor_id: int) -> str:
    """The one fee an executor ever pays for an order (a second take is a replay)."""
    return transfer_id(Area.ORDERS, "fee", order_id, executor_id)


def refund_id(order_id: str, executor_id: int) -> str:
    """The one refund of that fee (auto-close and an accepted report share it)."""
    return transfer_id(Area.ORDERS, "refund", order_id, executor_id)


def order_ref(order_id: str) -> str:
    """An order as transfers' reference and audit records' target."""
    return f"order:{order_id}"


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as one reader may see it: ``contact`` is ``None`` (and the order's own
    ``contact`` blank) unless the reader is its client or an executor who paid."""

    order: Order
    contact: str | None
    taken_by_me: bool = False

    @classmethod
    def of(cls, order: Order, visible: bool, taken_by_me: bool = False) -> OrderView:
        if visible:
            return cls(order, order.contact, taken_by_me)
        return cls(dataclasses.replace(order, contact=""), None, taken_by_me)


@dataclass(frozen=True, slots=True)
class Closed:
    """An order closed in a transaction: its new state and who got a fee back."""

    order: Order
    refunded: tuple[int, ...] = ()


async def refund_takes(uow: UnitOfWork, order: Order, takes: Sequence[Take], now: datetime) -> None:
    """Refund the fee of each take not refunded yet (house → wallet, ids from ``refund_id``:
    once per take, whoever asks), and mark them refunded."""
    todo = [t for t in takes if not t.refunded and t.fee > 0]
    if not todo:
        return
    house = await system_account(uow, AccountKind.HOUSE, order.currency)
    wallets = await uow.ledger.open_accounts(
        [
            (
                AccountKind.USER,
                user_ref(t.executor_id),
                order.currency,
                AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
            )
            for t in todo
        ]
    )
    results = await uow.ledger.apply(
        [
            TransferRequest(
                refund_id(t.order_id, t.executor_id),
                house.id,
                w.id,
                t.fee,
                REFUND_CODE,
                reference=order_ref(order.id),
                currency=order.currency,
            )
            for t, w in zip(todo, wallets, strict=True)
        ],
        now,
    )
    for r in results:
        r.unwrap()
    await uow.orders.mark_refunded([(t.order_id, t.executor_id) for t in todo])


async def close_order(uow: UnitOfWork, order: Order, status: OrderStatus, now: datetime) -> Closed:
    """Write ``order`` closed with ``status``; a ``closed_no_response`` refunds every fee."""
    new = order.with_status(status, now)
    await uow.orders.update(new)
    refunded: tuple[int, ...] = ()
    if refund_due(status):
        takes = (await uow.orders.takes_of([order.id])).get(order.id, [])
        await refund_takes(uow, order, takes, now)
        refunded = tuple(t.executor_id for t in takes if not t.refunded and t.fee > 0)
    return Closed(new, refunded)


class OrdersBase:
    """The state every part of ``OrderService`` reads (set by its constructor)."""

    _d: Deps
    _limit: Callable[[Actor, str], Awaitable[None]] | None
    _city: Callable[[str], str | None] | None
    currency: str

    async def _get(self, uow: UnitOfWork, order_id: object, *, lock: bool = False) -> Order:
        if not is_order_id(order_id):
            raise OrderNotFound(f"no order {str(order_id)[:40]!r}")
        assert isinstance(order_id, str)
        found = (await uow.orders.get_many([order_id], lock=lock)).get(order_id)
        if found is None:
            raise OrderNotFound(f"no order {order_id}")
        return found

    def _canonical_city(self, city: str) -> str:
        """The city as stored: the directory's spelling when one is configured (unknown
        cities refused), else the cleaned text."""
        if self._city is None:
            return city
        canonical = self._city(city)
        if canonical is None:
            raise InvalidInput(f"unknown city {city[:40]!r}")
        return canonical

    def _audit(
        self, actor: Actor, action: str, target: str, reason: str, **details: str
    ) -> AuditRecord:
        return AuditRecord(
            self._d.clock.now(), actor.user_id, actor.name, action, target, reason[:500], details
        )

    async def _announce(self, closed: Sequence[Closed]) -> None:
        """After the commit: each closed order's update, and the wallets refunded."""
        users: set[int] = set()
        for c in closed:
            await self._d.publisher.publish(
                OrderUpdated(c.order.id, c.order.status, c.order.takers)
            )
            users.update(c.refunded)
        if users:
            await self._d.publisher.publish(WalletChanged(tuple(sorted(users))))
