"""Orders: the take path, on the shared group commit (services/groupcommit.py).

``take`` submits the command to the area's ``GroupCommit`` (conflict key: the order and the
executor). A batch is ONE transaction: one read (``read_take_batch``) gives the orders locked
(``FOR UPDATE``, id order) with their takes, the executors' wallet ids and the house
accounts; each command is checked (``domain.orders.check_take``), and the takes of one
order share its free slots in arrival order (a fee the ledger refuses frees its slot for the
next in line, in the same transaction): a repeat take answers the contact with no charge; an
order found past its lifetime or unanswered response window is closed on the spot (as the job
runner would: ``expired``, or ``closed_no_response`` with every fee refunded) and the take is
refused. The fees go to the ledger as one batch (wallet → house, id ``orders:fee:<order>:
<executor>``, so a fee is paid at most once per order and executor, whoever retries), each
accepted or refused on its own (``insufficient_funds``); the takes and the orders' takers are
one write, which PostgreSQL gets with the COMMIT, as it gets the ledger's (so a batch is two
statements and the COMMIT). Each caller is answered after that commit; then the batch
publishes ``WalletChanged`` and ``OrderUpdated``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...domain.errors import (
    OrderExpired,
    OrderFull,
    OrderNotFound,
    PermissionDenied,
    StoreError,
    TransientStoreError,
    WagerkitError,
)
from ...domain.identity import Actor, Role, User
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
from ...ports import TakeBatchView, UnitOfWork
from ..accounts import SYSTEM_OWNER
from ..groupcommit import GroupCommit
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
    version: str | None = None  # set: admit the executor from its token, read in the batch


async def _accounts(
    uow: UnitOfWork, batch: Sequence[_Take], todo: list[int], view: TakeBatchView
) -> tuple[dict[int, int], dict[str, int]]:
    """The wallet of each take in ``todo`` and the house account of each currency, from the
    batch's read; the missing ones (a first take in a currency) opened in one statement."""
    wallet_of: dict[int, int] = {}
    missing: list[int] = []
    for i in todo:
        key = (user_ref(batch[i].executor_id), view.orders[batch[i].order_id].currency)
        wid = view.wallets.get(key)
        if wid is None:
            missing.append(i)
        else:
            wallet_of[i] = wid
    house = dict(view.houses)
    currencies = sorted({view.orders[batch[i].order_id].currency for i in todo} - set(house))
    if missing or currencies:
        opened = await uow.ledger.open_accounts(
            [
                (
                    AccountKind.USER,
                    user_ref(batch[i].executor_id),
                    view.orders[batch[i].order_id].currency,
                    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                )
                for i in missing
            ]
            + [(AccountKind.HOUSE, SYSTEM_OWNER, c, AccountFlags.NONE) for c in currencies]
        )
        wallet_of.update((i, a.id) for i, a in zip(missing, opened, strict=False))
        house.update((c, a.id) for c, a in zip(currencies, opened[len(missing) :], strict=True))
    return wallet_of, house


class OrderTaking(OrdersBase):
    _takes: GroupCommit[_Take, TakeReceipt]
    _claims: Callable[[str], tuple[int, str]] | None
    _admit: Callable[[User | None, str], Actor] | None
    _closed_in_batch: list[Closed]
    _feed_batch: frozenset[str]  # the orders the after-commit hook is publishing
    _feed_reads: dict[str, Any]  # what the live feed read of them (live.py)

    async def take(
        self, actor: Actor, order_id: str, *, idempotency_key: str | None = None
    ) -> TakeReceipt:
        """Pay the order's fee and get its contact (see the module docstring). Taking an
        order again returns the contact and charges nothing; the fee's transfer id is the
        (order, executor) pair, so ``idempotency_key`` (checked) adds no second charge."""
        if actor.user_id is None:
            raise PermissionDenied("only a user can take an order")
        return await self._submit_take(actor, None, order_id, idempotency_key)

    async def take_with_token(
        self, token: str, order_id: str, *, idempotency_key: str | None = None
    ) -> TakeReceipt:
        """``take`` for the bearer of an access token, authenticated inside the take's own
        batch: the token is verified here, and the user is read fresh (banned, whitelist,
        password changed) by the batch's one read, as the bets' and ticket purchases' are
        (the HTTP server's ``POST /orders/{id}/take``)."""
        if self._claims is None or self._admit is None:
            raise PermissionDenied("no token service configured")
        user_id, version = self._claims(token)
        actor = Actor(user_id, Role.PLAYER)  # only its id is used before the batch admits it
        return await self._submit_take(actor, version, order_id, idempotency_key)

    async def _submit_take(
        self, actor: Actor, version: str | None, order_id: str, idempotency_key: str | None
    ) -> TakeReceipt:
        assert actor.user_id is not None
        if idempotency_key is not None:
            check_key(idempotency_key)
        if not is_order_id(order_id):
            raise OrderNotFound(f"no order {str(order_id)[:40]!r}")
        if self._limit is not None:
            await self._limit(actor, "take")
        return await self._takes.submit(_Take(actor.user_id, order_id, version))

    async def _run_takes(self, batch: Sequence[_Take]) -> list[TakeReceipt | Exception]:
        answers: dict[int, TakeReceipt | WagerkitError] = {}
        closed: list[Closed] = []

        async def work(uow: UnitOfWork) -> None:
            answers.clear()
            closed.clear()
            now = self._d.clock.now()
            view = await uow.orders.read_take_batch(
                sorted({c.order_id for c in batch}),
                sorted({(c.order_id, user_ref(c.executor_id)) for c in batch}),
                SYSTEM_OWNER,
                sorted({c.executor_id for c in batch if c.version is not None}),
            )
            orders, takes = view.orders, view.takes
            todo: list[int] = []
            for i, c in enumerate(batch):
                if c.version is not None:  # authenticate now, from the user read just now
                    assert self._admit is not None
                    try:
                        self._admit(view.users.get(c.executor_id), c.version)
                    except WagerkitError as exc:
                        answers[i] = exc
                        continue
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
                except OrderFull:
                    todo.append(i)  # decided with the batch's other takes of this order below
                except OrderExpired as exc:
                    if not any(x.order.id == order.id for x in closed):
                        status = auto_close(order, now)
                        assert status is not None
                        closed.append(await close_order(uow, order, status, now))
                    answers[i] = exc
                except WagerkitError as exc:
                    answers[i] = exc
                else:
                    todo.append(i)
            if todo:
                await self._charge(uow, batch, todo, view, answers, now)

        await self._d.transaction(work)
        self._closed_in_batch = list(closed)
        return [answers.get(i) or StoreError("the take was not decided") for i in range(len(batch))]

    async def _charge(
        self,
        uow: UnitOfWork,
        batch: Sequence[_Take],
        todo: list[int],
        view: TakeBatchView,
        answers: dict[int, TakeReceipt | WagerkitError],
        now: datetime,
    ) -> None:
        """Charge the takes in ``todo`` (in arrival order), as many per order as it has free
        slots. A fee the ledger refuses frees its slot: the takes first turned away as full
        from that order are then tried again, in the same transaction."""
        orders = view.orders
        wallet_of, house = await _accounts(uow, batch, todo, view)
        new_takes: list[Take] = []
        changed: dict[str, Order] = {}
        pending = list(todo)
        while pending:
            accepted: list[int] = []
            full: dict[str, list[int]] = {}
            free = {oid: orders[oid].free_slots for oid in {batch[i].order_id for i in pending}}
            for i in pending:
                oid = batch[i].order_id
                if free[oid] > 0:
                    free[oid] -= 1
                    accepted.append(i)
                else:
                    full.setdefault(oid, []).append(i)
            paid = [i for i in accepted if orders[batch[i].order_id].fee > 0]
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
            freed: set[str] = set()
            for i in accepted:
                c = batch[i]
                error = refused.get(i)
                if error is not None:
                    answers[i] = error
                    freed.add(c.order_id)
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
                orders[c.order_id] = changed[c.order_id] = order
                answers[i] = TakeReceipt(order, order.contact, order.fee, order.currency)
            pending = [i for oid in sorted(freed) for i in full.pop(oid, [])]
            for oid, rest in full.items():
                for i in rest:
                    answers[i] = OrderFull(
                        f"at most {orders[oid].max_executors} executors may take an order"
                    )
            pending.sort()
        if new_takes:
            await uow.orders.add_takes(new_takes, list(changed.values()))

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
        last: dict[str, Order] = {}
        for a in took:  # each order as its last take of the batch left it
            if a.order.id not in last or a.order.takers > last[a.order.id].takers:
                last[a.order.id] = a.order
        # the feed reads these orders in one unit of work (live.py, _read_updated)
        self._feed_batch, self._feed_reads = frozenset(last), {}
        try:
            for order in last.values():
                await self._d.publisher.publish(OrderUpdated(order.id, order.status, order.takers))
        finally:
            self._feed_batch, self._feed_reads = frozenset(), {}
