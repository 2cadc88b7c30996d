"""Orders: the take path, on the shared group commit (services/groupcommit.py).

``take`` submits the command to the area's ``GroupCommit`` (conflict key: the order, so one
take per order per batch). A batch is ONE transaction: the orders are read locked
(``FOR UPDATE``, id order), with their takes; each command is decided on its own
(``domain.orders.check_take``): a repeat take answers the contact again with no charge; an
order found past its lifetime or unanswered response window is closed on the spot (as the job
runner would: ``expired``, or ``closed_no_response`` with every fee refunded) and the take is
refused. The fees go to the ledger as one batch (wallet → house, id ``orders:fee:<order>:
<executor>``, so a fee is paid at most once per order and executor, whoever retries), each
accepted or refused on its own (``insufficient_funds``); the takes are inserted in one
statement and the orders' takers written. Each caller is answered after that commit; then the
batch publishes ``WalletChanged`` and ``OrderUpdated``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ...domain.errors import (
    OrderExpired,
    OrderNotFound,
    PermissionDenied,
    StoreError,
    TransientStoreError,
    WagerkitError,
)
from ...domain.identity import Actor
from ...domain.ledger import AccountFlags, AccountKind, TransferRequest
from ...domain.notifications import WalletChanged
from ...domain.orders import (
    FEE_CODE,
    Order,
    OrderUpdated,
    Take,
    auto_close,
    check_take,
    is_order_id,
)
from ...domain.refs import check_key, user_ref
from ...ports import UnitOfWork
from ..groupcommit import GroupCommit
from ..wallets import system_account
from .common import Closed, OrdersBase, close_order, fee_id, order_ref

__all__ = ["OrderTaking", "TakeReceipt"]


@dataclass(frozen=True, slots=True)
class TakeReceipt:
    """The answer to a take: the order after it, its contact, the fee paid (in ``currency``)
    and whether this was a repeat take (nothing charged)."""

    order: Order
    contact: str
    fee: int
    currency: str
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class _Take:
    executor_id: int
    order_id: str


class OrderTaking(OrdersBase):
    _takes: GroupCommit[_Take, TakeReceipt]
    _closed_in_batch: list[Closed]

    async def take(
        self, actor: Actor, order_id: str, *, idempotency_key: str | None = None
    ) -> TakeReceipt:
        """Pay the order's fee and get its contact (see the module docstring). Taking an
        order again returns the contact and charges nothing; the fee's transfer id is the
        (order, executor) pair, so ``idempotency_key`` (checked) adds no second charge."""
        if actor.user_id is None:
            raise PermissionDenied("only a user can take an order")
        if idempotency_key is not None:
            check_key(idempotency_key)
        if not is_order_id(order_id):
            raise OrderNotFound(f"no order {str(order_id)[:40]!r}")
        if self._limit is not None:
            await self._limit(actor, "take")
        return await self._takes.submit(_Take(actor.user_id, order_id))

    async def _run_takes(self, batch: Sequence[_Take]) -> list[TakeReceipt | Exception]:
        answers: dict[int, TakeReceipt | WagerkitError] = {}
        closed: list[Closed] = []

        async def work(uow: UnitOfWork) -> None:
            answers.clear()
            closed.clear()
            now = self._d.clock.now()
            ids = sorted({c.order_id for c in batch})
            orders = await uow.orders.get_many(ids, lock=True)
            takes = await uow.orders.takes_of(ids)
            todo: list[int] = []
            for i, c in enumerate(batch):
                order = orders.get(c.order_id)
                if order is None:
                    answers[i] = OrderNotFound(f"no order {c.order_id}")
                    continue
                mine = [t for t in takes.get(c.order_id, []) if t.executor_id == c.executor_id]
                if mine:  # taking again: the contact, no second charge
                    answers[i] = TakeReceipt(
                        order, order.contact, mine[0].fee, order.currency, replayed=True
                    )
                    continue
                try:
                    check_take(order, c.executor_id, now)
                except OrderExpired as exc:
                    status = auto_close(order, now)
                    assert status is not None
                    closed.append(await close_order(uow, order, status, now))
                    answers[i] = exc
                    continue
                except WagerkitError as exc:
                    answers[i] = exc
                    continue
                todo.append(i)
            if not todo:
                return
            currencies = sorted({orders[batch[i].order_id].currency for i in todo})
            house = {c: (await system_account(uow, AccountKind.HOUSE, c)).id for c in currencies}
            wallets = await uow.ledger.open_accounts(
                [
                    (
                        AccountKind.USER,
                        user_ref(batch[i].executor_id),
                        orders[batch[i].order_id].currency,
                        AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                    )
                    for i in todo
                ]
            )
            paid = [i for i in todo if orders[batch[i].order_id].fee > 0]
            wallet_of = {i: w.id for i, w in zip(todo, wallets, strict=True)}
            results = await uow.ledger.apply(
                [
                    TransferRequest(
                        fee_id(batch[i].order_id, batch[i].executor_id),
                        wallet_of[i],
                        house[orders[batch[i].order_id].currency],
                        orders[batch[i].order_id].fee,
                        FEE_CODE,
                        reference=order_ref(batch[i].order_id),
                        currency=orders[batch[i].order_id].currency,
                    )
                    for i in paid
                ],
                now,
            )
            if any(r.ok and r.replayed for r in results):
                raise TransientStoreError()  # a fee committed after our read: start over
            refused = {i: r.error for i, r in zip(paid, results, strict=True) if not r.ok}
            new_takes: list[Take] = []
            for i in todo:
                c = batch[i]
                error = refused.get(i)
                if error is not None:
                    answers[i] = error
                    continue
                order = orders[c.order_id]
                new_takes.append(
                    Take(
                        c.order_id, c.executor_id, order.fee, fee_id(c.order_id, c.executor_id), now
                    )
                )
                respond_by = order.respond_by or now + timedelta(minutes=order.response_minutes)
                order = dataclasses.replace(
                    order, takers=order.takers + 1, respond_by=respond_by, updated_at=now
                )
                orders[c.order_id] = order
                await uow.orders.update(order)
                answers[i] = TakeReceipt(order, order.contact, order.fee, order.currency)
            if new_takes:
                await uow.orders.add_takes(new_takes)

        await self._d.transaction(work)
        self._closed_in_batch = list(closed)
        return [answers.get(i) or StoreError("the take was not decided") for i in range(len(batch))]

    async def _after_takes(
        self, batch: Sequence[_Take], answers: Sequence[TakeReceipt | Exception]
    ) -> None:
        """Once the callers have their answers: the wallets and orders that moved."""
        closed, self._closed_in_batch = self._closed_in_batch, []
        await self._announce(closed)
        took = [a for a in answers if isinstance(a, TakeReceipt) and not a.replayed]
        users = sorted(
            {
                c.executor_id
                for c, a in zip(batch, answers, strict=True)
                if isinstance(a, TakeReceipt) and not a.replayed
            }
        )
        if users:
            await self._d.publisher.publish(WalletChanged(tuple(users)))
        last: dict[str, Order] = {a.order.id: a.order for a in took}
        for order in last.values():
            await self._d.publisher.publish(OrderUpdated(order.id, order.status, order.takers))
