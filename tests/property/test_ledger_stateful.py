"""The ledger under random command sequences, checked against a reference model, on every store.

A Hypothesis state machine submits single transfers, holds (with and without timeouts), posts
(full and partial), voids, linked batches (some members deliberately failing), mixed batches,
replays of earlier idempotency keys (same and altered content), freezes, clock advances and the
expiry of timed-out holds, through the store's units of work. After every step the store's
account totals must equal the model's, money must be conserved per currency (posted and
pending separately), and no user wallet may be below zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from ledger_model import PENDING, POST, SINGLE, VOID, Item, MAccount, Model, check_results
from property_stores import StoreMaker, memory_store, postgres_store, sqlite_store

from wagerkit.domain.ledger import AccountFlags, AccountKind, LinkedBatch, TransferRequest

T = TypeVar("T")

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
USER_FLAG = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
MISSING_ACCOUNT = 999

# (kind, owner, currency, is a user wallet)
ACCOUNTS = [
    *[(AccountKind.USER, f"user:{i}", "COIN", True) for i in range(1, 6)],
    (AccountKind.TREASURY, "system", "COIN", False),
    (AccountKind.ESCROW, "holds", "COIN", False),
    (AccountKind.USER, "user:1", "RUB", True),
    (AccountKind.TREASURY, "system", "RUB", False),
]


class LedgerMachine(RuleBasedStateMachine):
    make_store: StoreMaker = staticmethod(memory_store)  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.cleanup: Callable[[], Awaitable[None]] | None = None
        self.now = START
        self.model = Model()
        self.history: list[Item] = []  # every item submitted, accepted or not
        self.pending_ids: list[str] = []  # ids of every hold request submitted
        self.other_ids: list[str] = ["no-such-transfer"]  # ids that are not holds
        self.n = 0
        self.last_seq = 0
        self.store, self.cleanup = self.run(type(self).make_store())
        self.run(self._open_accounts())

    # -- plumbing ------------------------------------------------------------------------
    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def teardown(self) -> None:
        try:
            if self.cleanup is not None:
                self.run(self.cleanup())
        finally:
            self.loop.close()

    async def _open_accounts(self) -> None:
        uow = self.store()
        async with uow:
            for kind, owner, currency, user in ACCOUNTS:
                flags = USER_FLAG if user else AccountFlags.NONE
                acc = await uow.ledger.open_account(kind, owner, currency, flags)
                assert acc.id not in self.model.accounts
                assert acc.flags == flags
                assert acc.currency == currency
                self.model.accounts[acc.id] = MAccount(acc.id, currency, user)
            await uow.commit()
        ids = list(self.model.accounts)  # in the order of ACCOUNTS
        kinds = [kind for kind, *_ in ACCOUNTS]
        self.all_ids = ids
        self.users = [a for a, k in zip(ids, kinds, strict=True) if k is AccountKind.USER]
        self.coin_users = [a for a in self.users if self.model.accounts[a].currency == "COIN"]
        self.treasuries = [a for a, k in zip(ids, kinds, strict=True) if k is AccountKind.TREASURY]
        self.escrow = ids[kinds.index(AccountKind.ESCROW)]

    def new_id(self) -> str:
        self.n += 1
        return f"t{self.n}"

    async def _apply(self, items: list[Item]) -> list[Any]:
        uow = self.store()
        async with uow:
            results = await uow.ledger.apply(items, self.now)
            await uow.commit()
        return results

    def submit(self, items: list[Item], *, remember: bool = True) -> None:
        results = self.run(self._apply(items))
        outcomes = self.model.apply(items, self.now)
        self.last_seq = check_results(results, outcomes, items, self.now, self.last_seq)
        if remember:
            self.history.extend(items)

    # -- request generators -------------------------------------------------------------
    def draw_amount(self, data: st.DataObject) -> int:
        size = data.draw(st.sampled_from(["small"] * 8 + ["zero", "huge"]))
        if size == "zero":
            return 0
        if size == "huge":
            return data.draw(st.integers(10**6, 10**7))  # more than any wallet holds
        return data.draw(st.integers(1, 300))

    def draw_pair(self, data: st.DataObject, *, pending: bool) -> tuple[int, int]:
        """Mostly sensible account pairs, sometimes mismatched, the same or missing."""
        accs = self.model.accounts
        source = data.draw(st.sampled_from(["treasury"] * 4 + ["user"] * 5 + ["any"]))
        if source == "treasury":
            dr = data.draw(st.sampled_from(self.treasuries))
        elif source == "user":
            dr = data.draw(st.sampled_from(self.users))
        else:
            dr = data.draw(st.sampled_from([*self.all_ids, MISSING_ACCOUNT]))
        target = data.draw(st.sampled_from(["same-currency"] * 8 + ["any", "missing"]))
        if target == "missing":
            return dr, MISSING_ACCOUNT
        currency = accs[dr].currency if dr in accs else "COIN"
        pool = [
            a for a in self.all_ids if target == "any" or (accs[a].currency == currency and a != dr)
        ]
        if pending and target != "any" and currency == "COIN":
            pool = [self.escrow, *pool]
        return dr, data.draw(st.sampled_from(pool))

    def gen_move(self, data: st.DataObject, *, pending: bool | None = None) -> TransferRequest:
        if pending is None:
            pending = data.draw(st.booleans())
        dr, cr = self.draw_pair(data, pending=pending)
        tid = self.new_id()
        if pending:
            timeout = data.draw(st.one_of(st.just(0), st.integers(1, 120)))
            self.pending_ids.append(tid)
            return TransferRequest(
                tid, dr, cr, self.draw_amount(data), "hold", PENDING, timeout_seconds=timeout
            )
        self.other_ids.append(tid)
        return TransferRequest(tid, dr, cr, self.draw_amount(data), "transfer", SINGLE)

    def gen_resolve(
        self, data: st.DataObject, kind: Any, pool: list[str] | None = None
    ) -> TransferRequest:
        open_holds = self.open_holds()
        where = data.draw(st.sampled_from(["open"] * 7 + ["any-hold"] * 2 + ["other"]))
        if pool:
            target = data.draw(st.sampled_from(pool))
        elif where == "open" and open_holds:
            target = data.draw(st.sampled_from(open_holds))
        elif where != "other" and self.pending_ids:
            target = data.draw(st.sampled_from(self.pending_ids))
        else:
            target = data.draw(st.sampled_from(self.other_ids))
        tid = self.new_id()
        self.other_ids.append(tid)
        if kind is POST:
            amount = data.draw(st.one_of(st.just(0), st.integers(1, 200), st.integers(1, 400)))
            return TransferRequest(tid, amount=amount, code="", kind=POST, pending_id=target)
        return TransferRequest(tid, code="", kind=VOID, pending_id=target)

    def open_holds(self) -> list[str]:
        return sorted(
            t
            for t, rec in self.model.transfers.items()
            if rec.kind is PENDING and t not in self.model.resolved
        )

    # -- rules ---------------------------------------------------------------------------
    @rule(data=st.data(), amount=st.integers(1, 1000))
    def grant(self, data: st.DataObject, amount: int) -> None:
        user = data.draw(st.sampled_from(self.users))
        currency = self.model.accounts[user].currency
        treasury = next(t for t in self.treasuries if self.model.accounts[t].currency == currency)
        tid = self.new_id()
        self.other_ids.append(tid)
        self.submit([TransferRequest(tid, treasury, user, amount, "grant", memo="grant")])

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        self.submit([self.gen_move(data, pending=False)])

    @rule(data=st.data())
    def hold(self, data: st.DataObject) -> None:
        self.submit([self.gen_move(data, pending=True)])

    @precondition(lambda self: bool(self.open_holds()))
    @rule(data=st.data())
    def post(self, data: st.DataObject) -> None:
        self.submit([self.gen_resolve(data, POST)])

    @precondition(lambda self: bool(self.open_holds()))
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        self.submit([self.gen_resolve(data, VOID)])

    @rule(seconds=st.integers(0, 90))
    def advance_clock(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule()
    def expire_timed_out_holds(self) -> None:
        async def due() -> list[Any]:
            uow = self.store()
            async with uow:
                return await uow.ledger.expired_pending(self.now, 1000)

        found = self.run(due())
        assert {t.id for t in found} == self.model.due(self.now)
        for t in found:
            assert t.kind is PENDING
            assert t.expires_at is not None
            assert t.expires_at <= self.now
        voids: list[Item] = [
            TransferRequest(f"void:{t.id}", kind=VOID, code="", pending_id=t.id) for t in found
        ]
        if voids:
            self.submit(voids, remember=False)
            assert self.model.due(self.now) == set()

    @rule(data=st.data(), size=st.integers(2, 3), force_failure=st.booleans())
    def linked_batch(self, data: st.DataObject, size: int, force_failure: bool) -> None:
        members: list[TransferRequest] = []
        own_pendings: list[str] = []
        for _ in range(size):
            choice = data.draw(st.sampled_from(["single", "hold", "post", "post-own", "void"]))
            if choice in ("post", "void") and not self.open_holds():
                choice = "single"
            if choice == "single":
                members.append(self.gen_move(data, pending=False))
            elif choice == "hold":
                members.append(self.gen_move(data, pending=True))
                own_pendings.append(members[-1].id)
            elif choice == "post-own" and own_pendings:
                members.append(self.gen_resolve(data, POST, own_pendings))
            elif choice == "void":
                members.append(self.gen_resolve(data, VOID))
            else:
                members.append(self.gen_resolve(data, POST))
        if force_failure:
            i = data.draw(st.integers(0, size - 1))
            user = data.draw(st.sampled_from(self.coin_users))
            members[i] = TransferRequest(members[i].id, user, self.escrow, 10**9, "overdraft")
        self.submit([LinkedBatch(members)])

    @rule(data=st.data(), size=st.integers(2, 4))
    def mixed_batch(self, data: st.DataObject, size: int) -> None:
        """Independent requests in one commit, possibly repeating one (a replay in-batch)."""
        items: list[Item] = []
        for _ in range(size):
            choice = data.draw(st.sampled_from(["move", "post", "void", "again", "old"]))
            if choice in ("post", "void") and not self.open_holds():
                choice = "move"
            if choice == "old" and self.history:
                old = data.draw(st.sampled_from(self.history))
                items.append(old)
            elif choice in ("move", "old"):
                items.append(self.gen_move(data))
            elif choice == "post":
                items.append(self.gen_resolve(data, POST))
            elif choice == "void":
                items.append(self.gen_resolve(data, VOID))
            elif items:
                items.append(data.draw(st.sampled_from(items)))
        if items:
            self.submit(items)

    @precondition(lambda self: bool(self.history))
    @rule(data=st.data(), alter=st.sampled_from(["same", "same", "memo", "reference", "amount"]))
    def replay(self, data: st.DataObject, alter: str) -> None:
        item = data.draw(st.sampled_from(self.history))
        if alter != "same":
            if isinstance(item, LinkedBatch):
                i = data.draw(st.integers(0, len(item.requests) - 1))
                reqs = list(item.requests)
                reqs[i] = replace(reqs[i], memo=reqs[i].memo + "!")
                item = LinkedBatch(reqs)
            elif alter == "amount" and item.kind in (SINGLE, PENDING):
                item = replace(item, amount=item.amount + 1)
            elif alter == "reference":
                item = replace(item, reference=item.reference + "!")
            else:
                item = replace(item, memo=item.memo + "!")
        self.submit([item], remember=False)

    @rule(data=st.data())
    def freeze_or_unfreeze(self, data: st.DataObject) -> None:
        """Freeze one account, or (more often, so that most of the time money can move)
        unfreeze every frozen one."""
        frozen = [a for a, m in self.model.accounts.items() if m.frozen]
        if frozen and data.draw(st.integers(0, 2)):
            changed = frozen
            for a in changed:
                self.model.accounts[a].frozen = False
        else:
            changed = [data.draw(st.sampled_from(self.all_ids))]
            self.model.accounts[changed[0]].frozen = True

        async def go() -> None:
            uow = self.store()
            async with uow:
                for aid in changed:
                    await uow.ledger.set_flags(aid, self.model.accounts[aid].flags)
                await uow.commit()

        self.run(go())

    # -- the invariants ------------------------------------------------------------------
    @invariant()
    def store_agrees_with_model(self) -> None:
        async def read() -> tuple[list[Any], dict[int, Any]]:
            uow = self.store()
            async with uow:
                totals = await uow.ledger.totals()
                accs = {a: await uow.ledger.get_account(a) for a in self.model.accounts}
            return totals, accs

        totals, accs = self.run(read())
        sums = self.model.sums()
        assert {t.currency for t in totals} == set(sums)
        for t in totals:
            assert t.conserved, t
            assert t.debits_posted == t.credits_posted
            assert t.debits_pending == t.credits_pending
            assert (t.debits_posted, t.credits_posted, t.debits_pending, t.credits_pending) == sums[
                t.currency
            ]
        for aid, m in self.model.accounts.items():
            acc = accs[aid]
            assert acc is not None
            got = (acc.debits_posted, acc.credits_posted, acc.debits_pending, acc.credits_pending)
            assert got == m.totals(), (aid, got, m)
            assert acc.flags == m.flags
            assert min(got) >= 0
            if m.user:
                assert acc.balance >= 0, acc
                assert acc.available >= 0, acc


def _run(maker: StoreMaker, max_examples: int, steps: int = 40) -> None:
    machine = type("Machine", (LedgerMachine,), {"make_store": staticmethod(maker)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_ledger_state_machine_memory() -> None:
    _run(memory_store, max_examples=150)


def test_ledger_state_machine_sqlite() -> None:
    _run(sqlite_store, max_examples=40)


@pytest.mark.postgres
def test_ledger_state_machine_postgres(pg_url: str) -> None:
    _run(postgres_store(pg_url), max_examples=25)
