"""A keyed bet and its replay racing through two processes, with the interleaving pinned.

Two ``WagerKit`` instances on two ``SqlStore`` pools stand for two server processes on one
PostgreSQL database. Kit B's first bet batch is held at one point of its transaction (a
wrapper around its unit of work awaits a gate) while kit A places the same keyed bet and
commits; then B goes on. Whatever B read before the pause, it must answer the replay of A's
bet (``replayed=True``, the same bet), and the user is charged once:

* ``between``: B has read the replays (none yet) but not the user's bets, which it reads after
  A's commit. A store whose batch read is not one snapshot (the SQL store before it read both
  in one statement; the wrapper re-creates that split) sees the bet without its stake: the
  replay used to be refused ``already_bet``.
* ``ledger``: B has read everything (nothing yet) and is about to apply the stake, which the
  ledger now finds already recorded (or its unique id fires): B must start over and see the
  replay, never add the amount to the bet or the pool a second time.

The flaky ``test_a_hot_event_through_several_processes`` found the first; these fail every
time without the fix.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from types import TracebackType
from typing import Any

import pytest
from events_worker import NO_BET_LIMIT
from test_pg_events_concurrency import GRANT, OPERATOR, SYSTEM, check_books

from wagerkit import Actor, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.errors import AlreadyBet
from wagerkit.domain.events import Event, EventDraft, EventStatus
from wagerkit.domain.identity import User
from wagerkit.ports import UnitOfWork

pytestmark = pytest.mark.postgres


class _Gate:
    """Holds the first batch of kit B at ``where`` until ``go`` is set."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.reached = asyncio.Event()
        self.go = asyncio.Event()

    async def hold(self, where: str) -> None:
        if where == self.where and not self.reached.is_set():
            self.reached.set()
            await self.go.wait()


class _Events:
    def __init__(self, inner: Any, ledger: Any, gate: _Gate) -> None:
        self._inner, self._ledger, self._gate = inner, ledger, gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def bets_for(self, pairs: Any) -> Any:
        # the bet batch's reads as separate statements (the old order): replays, then bets
        await self._gate.hold("between")
        return await self._inner.bets_for(pairs)

    async def read_bet_batch(
        self, event_ids: Any, pairs: Any, transfer_ids: Any, wallets: Any = (), users: Any = ()
    ) -> Any:
        if self._gate.where != "between":
            return await self._inner.read_bet_batch(event_ids, pairs, transfer_ids, wallets, users)
        # a store whose batch read is not one snapshot: replays first, bets after a commit
        prior = await self._ledger.get_transfers(transfer_ids) if transfer_ids else {}
        await self._gate.hold("between")
        view = await self._inner.read_bet_batch(event_ids, pairs, [], wallets, users)
        return dataclasses.replace(view, transfers=prior)


class _Ledger:
    def __init__(self, inner: Any, gate: _Gate) -> None:
        self._inner, self._gate = inner, gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def apply(self, items: Any, now: Any) -> Any:
        await self._gate.hold("ledger")
        return await self._inner.apply(items, now)


class _HeldUow:
    def __init__(self, inner: Any, gate: _Gate) -> None:
        self._inner, self._gate = inner, gate

    async def __aenter__(self) -> Any:
        self._uow = await self._inner.__aenter__()
        self.ledger = _Ledger(self._uow.ledger, self._gate)
        self.events = _Events(self._uow.events, self._uow.ledger, self._gate)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._inner.__aexit__(t, e, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


@pytest.fixture
async def two_kits(pg_url: str) -> AsyncIterator[tuple[WagerKit, WagerKit, SqlStore]]:
    upgrade(pg_url)
    a, b = SqlStore.from_url(pg_url), SqlStore.from_url(pg_url)
    try:
        yield (
            WagerKit(a, identity_policy=NO_BET_LIMIT),
            WagerKit(b, identity_policy=NO_BET_LIMIT),
            a,
        )
    finally:
        await a.dispose()
        await b.dispose()


async def _setup(kit: WagerKit, topup: bool) -> tuple[User, Event]:
    user = await kit.users.add(SYSTEM, "Racer")
    now = kit.deps.clock.now()
    event = await kit.events.create(
        OPERATOR,
        EventDraft(
            title="Race",
            outcomes=("A", "B"),
            start_time=now + timedelta(hours=2),
            betting_locked_at=now + timedelta(hours=1),
            status=EventStatus.OPEN,
            allow_topup=topup,
        ),
    )
    return user, event


def _hold(kit: WagerKit, store: Any, gate: _Gate) -> None:
    def uow() -> UnitOfWork:
        return _HeldUow(store(), gate)  # type: ignore[return-value]

    kit.deps.uow = uow


async def _stakes(store: SqlStore, user: User) -> list[str]:
    async with store() as uow:
        journal = await uow.ledger.journal(limit=10_000)
    return sorted(t.id for t in journal if t.code == "stake" and t.reference)


@pytest.mark.parametrize("where", ["between", "ledger"])
@pytest.mark.parametrize("topup", [False, True], ids=["first-bet", "top-up"])
async def test_a_replay_racing_its_bet_gets_the_same_bet(
    two_kits: tuple[WagerKit, WagerKit, SqlStore], where: str, topup: bool
) -> None:
    kit_a, kit_b, store = two_kits
    user, event = await _setup(kit_a, topup)
    player = Actor(user.id, Role.PLAYER, "racer")
    outcome = event.outcomes[1].id
    before = 0
    if topup:  # the racing command is a keyed top-up of an earlier bet
        before = (await kit_a.events.place_bet(player, event.id, outcome, 30)).bet.amount
    gate = _Gate(where)
    _hold(kit_b, kit_b.deps.uow, gate)

    b_task = asyncio.create_task(
        kit_b.events.place_bet(player, event.id, outcome, 50, idempotency_key="k1")
    )
    async with asyncio.timeout(30):
        await gate.reached.wait()  # B's batch is held mid-transaction
    a = await kit_a.events.place_bet(player, event.id, outcome, 50, idempotency_key="k1")
    gate.go.set()  # A has committed: B goes on
    async with asyncio.timeout(30):
        b = await b_task

    assert not a.replayed
    assert b.replayed
    assert b.bet.id == a.bet.id
    assert b.bet.amount == a.bet.amount == before + 50
    assert b.placed == 50
    # charged once: one stake under the key, the wallet and the pool hold it once
    assert (await kit_a.wallets.balance(SYSTEM, user.id)).balance == GRANT - before - 50
    current = await kit_a.events.get(event.id)
    assert current.pool == before + 50
    assert current.bet_count == 1
    assert (await kit_a.events.my_bet(player, event.id)) == a.bet
    await check_books(store, [user])


@pytest.mark.parametrize("where", ["between", "ledger"])
async def test_a_second_key_racing_the_first_bet_is_refused(
    two_kits: tuple[WagerKit, WagerKit, SqlStore], where: str
) -> None:
    """The look-up again never turns a genuinely second bet into a replay."""
    kit_a, kit_b, store = two_kits
    user, event = await _setup(kit_a, topup=False)
    player = Actor(user.id, Role.PLAYER, "racer")
    gate = _Gate(where)
    _hold(kit_b, kit_b.deps.uow, gate)
    b_task = asyncio.create_task(
        kit_b.events.place_bet(player, event.id, event.outcomes[0].id, 50, idempotency_key="k2")
    )
    async with asyncio.timeout(30):
        await gate.reached.wait()
    a = await kit_a.events.place_bet(
        player, event.id, event.outcomes[0].id, 70, idempotency_key="k1"
    )
    gate.go.set()
    with pytest.raises(AlreadyBet):
        async with asyncio.timeout(30):
            await b_task
    assert (await kit_a.wallets.balance(SYSTEM, user.id)).balance == GRANT - 70
    assert (await kit_a.events.get(event.id)).pool == a.bet.amount == 70
    await check_books(store, [user])
