"""Orders: the job runner's source (``DueWork``, SPEC section 7).

``OrdersDueWork`` claims active orders past their lifetime or past an unanswered response
window (``FOR UPDATE SKIP LOCKED``: a row another runner holds is skipped) and closes each in
the claiming transaction: ``expired`` (no refund) or ``closed_no_response`` with every fee
refunded (``orders:refund:<order>:<executor>``, once per take). A closed order leaves the
claim, so two runners never refund a take twice; a take racing the close either commits first
(and is refunded with the others) or finds the order closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ...domain.audit import AuditRecord
from ...domain.orders import OrderStatus, auto_close
from ...ports import UnitOfWork
from .common import Closed, OrdersBase, close_order, order_ref

__all__ = ["OrdersDue", "OrdersDueWork"]


@dataclass(slots=True)
class OrdersDue:
    expired: list[str] = field(default_factory=list)
    closed_no_response: list[str] = field(default_factory=list)
    refunds: int = 0

    @property
    def idle(self) -> bool:
        return not (self.expired or self.closed_no_response)


class OrdersDueWork:
    """The orders area's due work: expire and auto-close (see the module docstring)."""

    name = "orders"

    def __init__(self, orders: OrdersBase) -> None:
        self._orders = orders

    async def run_due(self, now: datetime, limit: int) -> OrdersDue:
        part = OrdersDue()
        d = self._orders._d

        async def work(uow: UnitOfWork) -> list[Closed]:
            out: list[Closed] = []
            for order in await uow.orders.claim_due(now, limit):
                status = auto_close(order, now)
                if status is None:
                    continue
                closed = await close_order(uow, order, status, now)
                out.append(closed)
                await uow.audit.add(
                    AuditRecord(
                        now,
                        None,
                        "jobs",
                        f"order.auto_{status.value}",
                        order_ref(order.id),
                        "response window passed"
                        if status is OrderStatus.CLOSED_NO_RESPONSE
                        else "lifetime passed",
                        {"refunds": str(len(closed.refunded))},
                    )
                )
            return out

        while True:
            closed = await d.transaction(work)
            if not closed:
                break
            for c in closed:
                if c.order.status is OrderStatus.EXPIRED:
                    part.expired.append(c.order.id)
                else:
                    part.closed_no_response.append(c.order.id)
                part.refunds += len(c.refunded)
            await self._orders._announce(closed)
        return part
