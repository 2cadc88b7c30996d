"""The bet batch's repository methods on every store (memory, SQLite, PostgreSQL):
``read_bet_batch`` answers what ``get_many``, ``bets_for`` and ``get_transfers`` answer, and
``write_bet_batch`` does what ``add_bets``, ``top_up`` and ``add_to_pool`` do."""

from __future__ import annotations

from datetime import timedelta

from wagerkit import Actor, Role, WagerKit
from wagerkit.domain.events import EventDraft, EventStatus
from wagerkit.ports import NewBet, PoolDelta, UnitOfWorkFactory


async def test_read_and_write_a_bet_batch(
    kit: WagerKit, store: UnitOfWorkFactory, system: Actor
) -> None:
    now = kit.deps.clock.now()
    op = Actor(None, Role.OPERATOR, "op")

    async def event(title: str) -> int:
        draft = EventDraft(
            title=title,
            outcomes=("A", "B"),
            start_time=now + timedelta(hours=2),
            betting_locked_at=now + timedelta(hours=1),
            status=EventStatus.OPEN,
            allow_topup=True,
        )
        return (await kit.events.create(op, draft)).id

    e1, e2 = await event("one"), await event("two")
    alice, bob = await kit.users.add(system, "Alice"), await kit.users.add(system, "Bob")
    first = await kit.events.place_bet(
        Actor(alice.id, Role.PLAYER),
        e1,
        (await kit.events.get(e1)).outcomes[0].id,
        7,
        idempotency_key="k1",
    )
    stake = f"stake:{alice.id}:k1"
    wallets = {
        (f"user:{u.id}", "COIN"): (await kit.wallets.balance(system, u.id)).account_id
        for u in (alice, bob)
    }

    async with store() as uow:
        view = await uow.events.read_bet_batch(
            [e2, e1, 999],
            [(e1, alice.id), (e1, bob.id), (e2, alice.id)],
            [stake, "nope"],
            [(e1, f"user:{alice.id}"), (e2, f"user:{bob.id}"), (999, "user:1"), (e1, "nobody")],
        )
        assert view.wallets == wallets
        assert view.events == await uow.events.get_many([e1, e2])
        assert view.bets == {(e1, alice.id): first.bet}
        assert view.transfers == await uow.ledger.get_transfers([stake])
        assert view.transfers[stake].amount == 7
        empty = await uow.events.read_bet_batch([], [], [])
        assert (empty.events, empty.bets, empty.transfers, empty.wallets) == ({}, {}, {}, {})

        ev1 = view.events[e1]
        o1, o2 = ev1.outcomes[0].id, view.events[e2].outcomes[1].id
        wallet = first.bet.wallet_account_id
        later = now + timedelta(minutes=1)
        added = await uow.events.write_bet_batch(
            [NewBet(e2, o2, alice.id, 5, wallet, later), NewBet(e1, o1, bob.id, 3, wallet, later)],
            [(first.bet.id, 4)],
            [PoolDelta(o2, 5, 1), PoolDelta(o1, 3, 1), PoolDelta(o1, 4, 0)],
            later,
        )
        assert [(b.event_id, b.user_id, b.amount) for b in added] == [
            (e2, alice.id, 5),
            (e1, bob.id, 3),
        ]
        assert added[0].id < added[1].id
        assert await uow.events.write_bet_batch([], [], [], later) == []
        await uow.commit()

    async with store() as uow:
        bets = await uow.events.bets_for([(e1, alice.id), (e1, bob.id), (e2, alice.id)])
        events = await uow.events.get_many([e1, e2])
    assert bets[(e1, alice.id)].amount == 11
    assert bets[(e1, alice.id)].placements == 2
    assert bets[(e1, alice.id)].updated_at == later
    assert bets[(e1, bob.id)] == added[1]
    assert bets[(e2, alice.id)] == added[0]
    assert [(o.total, o.bettors) for o in events[e1].outcomes] == [(14, 2), (0, 0)]
    assert [(o.total, o.bettors) for o in events[e2].outcomes] == [(0, 0), (5, 1)]
    assert (events[e1].bet_count, events[e2].bet_count) == (2, 1)
