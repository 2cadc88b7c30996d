"""Price-prediction contracts under random command sequences, against a reference model, on
memory, SQLite and PostgreSQL. A Hypothesis state machine sets prices, places fixed-odds and
multiplier contracts (keyed, sometimes replayed with the same or other content), closes
multipliers early, voids as staff, moves the clock and runs the job runner. The model applies
SPEC section 4 to the ticks it recorded (entry: latest tick no older than max age; exit: the
first tick at or after expiry within the buffer, else void) and predicts every refusal, every
wallet, the house and the exposure. After every step: money is conserved, the store agrees
with the model, the exposure equals the open contracts' maximum payouts, within its limit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
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
from property_stores import StoreMaker, memory_store, sqlite_store
from sqlalchemy import text

from wagerkit import Actor, PredictionPolicy, Role, Tick, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.domain.errors import (
    ContractStateConflict,
    ExposureLimit,
    IdempotencyConflict,
    InsufficientFunds,
    PriceUnavailable,
)
from wagerkit.domain.ledger import AccountKind
from wagerkit.domain.predictions import (
    ContractKind,
    ContractStatus,
    Direction,
    fixed_result,
    max_payout,
    multiplier_result,
)
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, SequentialIds

T = TypeVar("T")
USERS, GRANT, SYM = 3, 1000, "BTC-USD"
POLICY = PredictionPolicy(
    durations=(30, 60), leverages=(2, 10), cap=3, commission_bps=100, exposure_limit_total=900
)


@dataclass
class MContract:
    id: int
    user: int
    direction: Direction
    stake: int
    leverage: int | None
    expires: datetime
    entry: Decimal
    commission: int
    max_payout: int
    status: ContractStatus = ContractStatus.OPEN
    payout: int | None = None


class PredictionsMachine(RuleBasedStateMachine):
    make_store: StoreMaker = staticmethod(memory_store)  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.cleanup: Callable[[], Awaitable[None]] | None = None
        self.store, self.cleanup = self.run(type(self).make_store())
        self.clock = FixedClock()
        self.kit = WagerKit(self.store, clock=self.clock, ids=SequentialIds(), predictions=POLICY)
        self.staff = Actor(None, Role.OPERATOR, "op")
        self.users = self.run(self._users())
        self.balance = [GRANT] * USERS
        self.house = 0
        self.ticks: list[Tick] = []
        self.contracts: dict[int, MContract] = {}
        self.keys: dict[str, tuple[int, Direction, int, int | None, int]] = {}

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def teardown(self) -> None:
        try:
            if self.cleanup is not None:
                self.run(self.cleanup())
        finally:
            self.loop.close()

    async def _users(self) -> list[Actor]:
        return [Actor.of(await self.kit.users.add(Actor.system(), f"U{i}")) for i in range(USERS)]

    # -- the model's price rule ------------------------------------------------------------
    def _entry(self) -> Tick | None:
        now = self.clock.now()
        past = [t for t in self.ticks if t.observed_at <= now]
        if not past or now - past[-1].observed_at > POLICY.max_age:
            return None
        return past[-1]

    def _exposure(self) -> int:
        return sum(c.max_payout for c in self.contracts.values() if c.status is ContractStatus.OPEN)

    def _resolve(self, c: MContract, status: ContractStatus, payout: int) -> None:
        c.status, c.payout = status, payout
        self.balance[c.user] += payout
        self.house -= payout

    # -- rules -----------------------------------------------------------------------------
    @rule(move=st.integers(-300, 300), later=st.integers(0, 4))
    def set_price(self, move: int, later: int) -> None:
        last = self.ticks[-1].price if self.ticks else Decimal(1000)
        at = self.clock.now() + timedelta(seconds=later)
        if self.ticks and at <= self.ticks[-1].observed_at:
            return
        tick = Tick(SYM, at, max(Decimal("0.01"), last + Decimal(move) / 100), "operator")
        self.ticks.append(tick)

        async def put() -> None:
            async with self.kit.deps.uow() as uow:
                await uow.prices.add_ticks([tick])
                await uow.commit()

        self.run(put())

    @rule(
        user=st.integers(0, USERS - 1),
        up=st.booleans(),
        stake=st.integers(1, 400),
        leverage=st.sampled_from([None, None, 2, 10]),
        duration=st.sampled_from([30, 60]),
        key=st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
    )
    def place(
        self, user: int, up: bool, stake: int, leverage: int | None, duration: int, key: str | None
    ) -> None:
        d = Direction.UP if up else Direction.DOWN
        full_key = None if key is None else f"{user}-{key}"
        known = self.keys.get(full_key) if full_key else None
        try:
            r = self.run(
                self.kit.predictions.place(
                    self.users[user],
                    SYM,
                    d,
                    stake,
                    duration=duration,
                    leverage=leverage,
                    idempotency_key=full_key,
                )
            )
        except IdempotencyConflict:
            assert known is not None
            assert known[1:] != (d, stake, leverage, duration)
            return
        except PriceUnavailable:
            assert known is None
            assert self._entry() is None
            return
        except ExposureLimit:
            kind = ContractKind.FIXED if leverage is None else ContractKind.MULTIPLIER
            assert known is None
            assert self._exposure() + max_payout(kind, stake, 8000, POLICY.cap) > 900
            return
        except InsufficientFunds:
            fee = stake * leverage * 100 // 10000 if leverage else 0
            assert known is None
            assert self.balance[user] < stake + fee
            return
        if known is not None:
            assert r.replayed
            assert r.contract.id == known[0]
            return
        assert not r.replayed
        entry = self._entry()
        assert entry is not None
        assert r.contract.entry_price == entry.price
        c = r.contract
        self.contracts[c.id] = MContract(
            c.id, user, d, stake, leverage, c.expires_at, c.entry_price, c.commission, c.max_payout
        )
        assert c.max_payout == max_payout(c.kind, stake, 8000, POLICY.cap)
        self.balance[user] -= stake + c.commission
        self.house += stake + c.commission
        if full_key:
            self.keys[full_key] = (c.id, d, stake, leverage, duration)

    @precondition(lambda self: self.contracts)
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.contracts)))
        c = self.contracts[cid]
        try:
            got = self.run(self.kit.predictions.close(self.users[c.user], cid))
        except ContractStateConflict:
            assert (
                c.status is not ContractStatus.OPEN
                or c.leverage is None
                or self.clock.now() >= c.expires
            )
            return
        except PriceUnavailable:
            assert self._entry() is None
            return
        if c.status is not ContractStatus.OPEN:  # closed before: idempotent
            assert got.payout == c.payout
            return
        entry = self._entry()
        assert entry is not None
        assert c.leverage is not None
        assert got.exit_price == entry.price

        status, payout = multiplier_result(
            c.stake, c.leverage, POLICY.cap, c.direction, c.entry, entry.price
        )
        assert (got.status, got.payout) == (status, payout)
        self._resolve(c, status, payout)

    @precondition(lambda self: self.contracts)
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.contracts)))
        c = self.contracts[cid]
        try:
            self.run(self.kit.predictions.void(self.staff, cid, "model"))
        except ContractStateConflict:
            assert c.status is not ContractStatus.OPEN
            return
        assert c.status is ContractStatus.OPEN
        self._resolve(c, ContractStatus.VOID, c.stake + c.commission)

    @rule(seconds=st.sampled_from([1, 5, 14, 16, 30, 61]))
    def advance_and_tick(self, seconds: int) -> None:
        self.clock.advance(seconds)
        self.run(self.kit.jobs.tick())
        now = self.clock.now()

        for c in self.contracts.values():
            if c.status is not ContractStatus.OPEN or c.expires > now:
                continue
            exit_ = next((t for t in self.ticks if t.observed_at >= c.expires), None)
            if exit_ is not None and exit_.observed_at - c.expires <= POLICY.buffer:
                if c.leverage is None:
                    status, payout = fixed_result(c.stake, 8000, c.direction, c.entry, exit_.price)
                else:
                    status, payout = multiplier_result(
                        c.stake, c.leverage, POLICY.cap, c.direction, c.entry, exit_.price
                    )
                self._resolve(c, status, payout)
            elif c.expires + POLICY.buffer < now:
                self._resolve(c, ContractStatus.VOID, c.stake + c.commission)

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def agrees_with_the_model(self) -> None:
        async def read() -> tuple[
            list[int], int, dict[int, tuple[ContractStatus, int | None]], int, bool
        ]:
            wallets = [
                (await self.kit.wallets.balance(Actor.system(), u.user_id or 0)).balance
                for u in self.users
            ]
            async with self.kit.deps.uow() as uow:
                house = await uow.ledger.find_account(AccountKind.HOUSE, "system", "COIN")
                rows = {s: a for _, s, a in await uow.predictions.exposure()}
                found = {
                    c.id: (c.status, c.payout)
                    for c in await uow.predictions.list_contracts(limit=1000)
                }
            totals = await self.kit.wallets.totals(Actor.system())
            conserved = all(t.conserved for t in totals)
            return (
                wallets,
                0 if house is None else house.balance,
                found,
                rows.get("*", 0),
                conserved,
            )

        wallets, house, found, exposure, conserved = self.run(read())
        assert conserved
        assert wallets == self.balance
        assert house == self.house
        assert found == {c.id: (c.status, c.payout) for c in self.contracts.values()}
        assert exposure == self._exposure() <= 900


TRUNCATE = text(
    "TRUNCATE prediction_round_bets, prediction_rounds, prediction_contracts, "
    "prediction_exposure, price_ticks, transfers, accounts, users, audit_log "
    "RESTART IDENTITY CASCADE"
)


def _postgres(url: str) -> StoreMaker:
    async def make() -> tuple[UnitOfWorkFactory, Callable[[], Awaitable[None]]]:
        store = SqlStore.from_url(url, pool_size=2)
        await store.create_all()
        async with store.engine.begin() as conn:
            await conn.execute(TRUNCATE)

        async def cleanup() -> None:
            try:
                async with store.engine.begin() as conn:
                    await conn.execute(TRUNCATE)
            finally:
                await store.dispose()

        return store, cleanup

    return make


def _run(maker: StoreMaker, max_examples: int, steps: int) -> None:
    machine: Any = type("Machine", (PredictionsMachine,), {"make_store": staticmethod(maker)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_predictions_state_machine_memory() -> None:
    _run(memory_store, max_examples=80, steps=40)


def test_predictions_state_machine_sqlite() -> None:
    _run(sqlite_store, max_examples=10, steps=25)


@pytest.mark.postgres
def test_predictions_state_machine_postgres(pg_url: str) -> None:
    _run(_postgres(pg_url), max_examples=6, steps=25)
