"""Service orders under random command sequences, against a simple reference model.

A Hypothesis state machine drives ``OrderService`` and the job runner through ``WagerKit``:
create (sometimes with a contact that already has an active order), take (by the client, by
executors who took already, with or without the money), respond, complete, close, delete,
invalid-contact reports and their decisions, time passing and job ticks. The model predicts
what each command must do (for a refusal, its error), every wallet's balance, the house's,
each order's status and takers. After every step: money is conserved, no wallet is below
zero, and the store agrees with the model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from property_stores import StoreMaker, memory_store, postgres_store, sqlite_store

from wagerkit import DEFAULT_LIMITS, Actor, IdentityPolicy, WagerKit
from wagerkit.domain.errors import WagerkitError
from wagerkit.domain.ledger import AccountKind
from wagerkit.domain.orders import OrderStatus
from wagerkit.testing import FixedClock, SequentialIds

T = TypeVar("T")
USERS = 5
FEE, MAX, LIFE, WINDOW = 2, 3, 60, 15
GRANTS = [1000, 1000, 1000, 3, 0]  # user 3 can pay one fee, user 4 none
S = OrderStatus


@dataclass
class MOrder:
    id: str
    client: int
    contact: str
    created: datetime
    status: S = S.ACTIVE
    takers: dict[int, bool] = field(default_factory=dict)  # executor -> refunded
    responded: bool = False
    first_take: datetime | None = None
    reported: set[int] = field(default_factory=set)
    taken_at: dict[int, datetime] = field(default_factory=dict)

    def due(self, now: datetime) -> S | None:
        if self.status is not S.ACTIVE:
            return None
        if (
            self.first_take
            and not self.responded
            and now >= self.first_take + timedelta(minutes=WINDOW)
        ):
            return S.CLOSED_NO_RESPONSE
        if now >= self.created + timedelta(minutes=LIFE):
            return S.EXPIRED
        return None


class OrdersMachine(RuleBasedStateMachine):
    make_store: Callable[[], Awaitable[Any]]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.store, self.cleanup = self.run(type(self).make_store())
        self.clock = FixedClock()
        limits = {**DEFAULT_LIMITS, "order": (10**6, 3600), "take": (10**6, 60)}
        self.kit = WagerKit(
            self.store,
            clock=self.clock,
            ids=SequentialIds(),
            identity_policy=IdentityPolicy(limits=limits),
        )
        self.users = self.run(self._users())
        self.balance = list(GRANTS)
        self.house = 0
        self.orders: list[MOrder] = []
        self.reports: list[tuple[int, MOrder, int]] = []  # (report id, order, executor)
        self.decided: set[int] = set()
        self.rejected = [0] * USERS
        self.contacts = 0

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def teardown(self) -> None:
        try:
            self.run(self.cleanup())
        finally:
            self.loop.close()

    async def _users(self) -> list[Actor]:
        out = []
        for i, grant in enumerate(GRANTS):
            u = await self.kit.users.add(Actor.system(), f"U{i}", welcome_grant=False)
            if grant:
                await self.kit.wallets.grant(Actor.system(), u.id, grant)
            out.append(Actor.of(u))
        return out

    def _expect(self, call: Awaitable[T], error: str | None) -> T | None:
        refused: WagerkitError | None = None
        try:
            result = self.run(call)
        except WagerkitError as exc:
            refused = exc
        if refused is not None:
            assert error is not None, f"refused with {refused.code}: {refused}"
            assert refused.code == error, (refused.code, error, str(refused))
            return None
        assert error is None, f"accepted, expected {error}"
        return result

    def _close(self, o: MOrder, status: S) -> None:
        o.status = status
        if status is S.CLOSED_NO_RESPONSE:
            for ex, refunded in o.takers.items():
                if not refunded:
                    self.balance[ex] += FEE
                    self.house -= FEE
                    o.takers[ex] = True

    # -- commands -------------------------------------------------------------------------
    @rule(client=st.integers(0, USERS - 1), reuse=st.booleans())
    def create(self, client: int, reuse: bool) -> None:
        active = [o for o in self.orders if o.status is S.ACTIVE]
        if reuse and active:
            contact = active[0].contact
            error: str | None = "active_order_exists"
        else:
            self.contacts += 1
            contact, error = f"c{self.contacts}", None
        view = self._expect(
            self.kit.orders.create(self.users[client], "plumbing", "Omsk", "job", contact), error
        )
        if view is not None:
            self.orders.append(MOrder(view.order.id, client, contact, self.clock.now()))

    @rule(data=st.data(), executor=st.integers(0, USERS - 1))
    def take_active(self, data: st.DataObject, executor: int) -> None:
        """A take of an active order (the common case; ``take`` covers every other)."""
        active = [o for o in self.orders if o.status is S.ACTIVE]
        if active:
            self._take(data.draw(st.sampled_from(active)), executor)

    @rule(data=st.data(), executor=st.integers(0, USERS - 1))
    def take(self, data: st.DataObject, executor: int) -> None:
        if self.orders:
            self._take(data.draw(st.sampled_from(self.orders)), executor)

    def _take(self, o: MOrder, executor: int) -> None:
        now = self.clock.now()
        error: str | None
        if executor in o.takers:
            error = None  # a repeat take: the contact, no charge
        elif o.client == executor:
            error = "own_order"
        elif o.status is not S.ACTIVE:
            error = "order_closed"
        elif (status := o.due(now)) is not None:
            error = "order_expired"
            self._close(o, status)
        elif len(o.takers) >= MAX:
            error = "order_full"
        elif self.balance[executor] < FEE:
            error = "insufficient_funds"
        else:
            error = None
        receipt = self._expect(self.kit.orders.take(self.users[executor], o.id), error)
        if receipt is None:
            return
        assert receipt.contact == o.contact
        if executor in o.takers:
            assert receipt.replayed
            return
        assert not receipt.replayed
        o.takers[executor] = False
        o.taken_at[executor] = now
        o.first_take = o.first_take or now
        self.balance[executor] -= FEE
        self.house += FEE

    @rule(data=st.data(), action=st.sampled_from(["respond", "complete", "close", "delete"]))
    def client_action(self, data: st.DataObject, action: str) -> None:
        if not self.orders:
            return
        o = data.draw(st.sampled_from(self.orders))
        who = data.draw(st.sampled_from([o.client, (o.client + 1) % USERS]))
        error: str | None = None
        if who != o.client:
            error = "forbidden"
        elif o.status is not S.ACTIVE:
            error = "order_closed"
        elif action == "delete" and o.takers:
            error = "order_locked"
        view = self._expect(getattr(self.kit.orders, action)(self.users[who], o.id), error)
        if view is None:
            return
        if action == "respond":
            o.responded = True
        else:
            o.status = {"complete": S.COMPLETED, "close": S.CLOSED, "delete": S.DELETED}[action]

    @rule(data=st.data())
    def report(self, data: st.DataObject) -> None:
        taken = [(o, ex) for o in self.orders for ex in o.takers]
        if not taken:
            return
        o, ex = data.draw(st.sampled_from(taken))
        error: str | None = None
        too_late = self.clock.now() - o.taken_at[ex] > timedelta(hours=24)
        if o.takers[ex] or too_late or self.rejected[ex] >= 3:
            error = "report_not_allowed"  # refunded already, after 24 h, or too many rejected
        if error is None and ex in o.reported:
            error = "already_exists"
        r = self._expect(self.kit.orders.report_contact(self.users[ex], o.id, "dead"), error)
        if r is not None:
            o.reported.add(ex)
            self.reports.append((r.id, o, ex))

    @rule(data=st.data(), accept=st.booleans())
    def decide(self, data: st.DataObject, accept: bool) -> None:
        if not self.reports:
            return
        rid, o, ex = data.draw(st.sampled_from(self.reports))
        error = "already_exists" if rid in self.decided else None
        r = self._expect(
            self.kit.orders.decide_report(Actor.system("op"), rid, accept=accept), error
        )
        if r is None:
            return
        self.decided.add(rid)
        if accept and not o.takers[ex]:
            o.takers[ex] = True
            self.balance[ex] += FEE
            self.house -= FEE
        if not accept:
            self.rejected[ex] += 1

    @rule(minutes=st.sampled_from([1, 1, 5, 5, 14, 15, 30, 61, 24 * 60]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule()
    def tick(self) -> None:
        now = self.clock.now()
        part = self.run(self.kit.jobs.tick()).parts["orders"]
        expected = {o.id: o.due(now) for o in self.orders if o.due(now) is not None}
        got = {i: S.EXPIRED for i in part.expired}  # type: ignore[attr-defined]
        got.update({i: S.CLOSED_NO_RESPONSE for i in part.closed_no_response})  # type: ignore[attr-defined]
        assert got == expected
        for o in self.orders:
            if o.id in expected:
                self._close(o, expected[o.id])  # type: ignore[arg-type]

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def books_agree(self) -> None:
        async def read() -> tuple[list[int], int, list[Any]]:
            balances = [
                (await self.kit.wallets.balance(Actor.system(), a.user_id or 0)).balance
                for a in self.users
            ]
            async with self.kit.deps.uow() as uow:
                house = await uow.ledger.find_account(AccountKind.HOUSE, "system", "COIN")
                found = await uow.orders.get_many([o.id for o in self.orders])
            for t in await self.kit.wallets.totals(Actor.system()):
                assert t.conserved, t
            return balances, house.balance if house else 0, [found[o.id] for o in self.orders]

        balances, house, stored = self.run(read())
        assert balances == self.balance
        assert all(b >= 0 for b in balances)
        assert house == self.house
        for o, s in zip(self.orders, stored, strict=True):
            assert (s.status, s.takers, s.responded) == (o.status, len(o.takers), o.responded)


def _run(maker: StoreMaker, max_examples: int, steps: int) -> None:
    machine = type("Machine", (OrdersMachine,), {"make_store": staticmethod(maker)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_orders_state_machine_memory() -> None:
    _run(memory_store, max_examples=120, steps=40)


def test_orders_state_machine_sqlite() -> None:
    _run(sqlite_store, max_examples=10, steps=25)


@pytest.mark.postgres
def test_orders_state_machine_postgres(pg_url: str) -> None:
    _run(postgres_store(pg_url), max_examples=5, steps=25)
