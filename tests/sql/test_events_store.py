"""The events and chat repositories' contract on every store (the ``store`` fixture: in memory,
SQLite, PostgreSQL), and what only the SQL stores promise: the round trips of the hot
statements, PostgreSQL's row locks, and the unique (event, user) bet as a lost race."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select

from wagerkit import AccountFlags, AccountKind, Role
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.tables import users
from wagerkit.domain.chat import ChatMessage, Mute
from wagerkit.domain.errors import TransientStoreError
from wagerkit.domain.events import (
    BetStatus,
    Event,
    EventDraft,
    EventStatus,
    StreamType,
    validate_draft,
)
from wagerkit.domain.ledger import TransferRequest
from wagerkit.ports import BetResult, NewBet, NewUser, PoolDelta, UnitOfWork, UnitOfWorkFactory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SQL_STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


async def _sql(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> SqlStore:
    url = (
        f"sqlite:///{tmp_path / 'wagerkit.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    store = SqlStore.from_url(url)
    await store.create_all()
    return store


@pytest.fixture(params=SQL_STORES)
async def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    sql = await _sql(request, tmp_path, request.param)
    try:
        yield sql
    finally:
        await sql.dispose()


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[SqlStore]:
    sql = SqlStore.from_url(pg_url)
    await sql.create_all()
    try:
        yield sql
    finally:
        await sql.dispose()


def _draft(title: str = "Final", **kw: Any) -> EventDraft:
    fields: dict[str, Any] = dict(
        title=title,
        outcomes=("Red", "Blue", "Draw"),
        start_time=T0 + timedelta(hours=2),
        betting_locked_at=T0 + timedelta(hours=1),
        description="the final match",
        stream_type=StreamType.TWITCH,
        stream_url="https://twitch.tv/x",
        currency="COIN",
        min_stake=5,
        max_stake=10_000,
        rake_bps=250,
        allow_topup=True,
        status=EventStatus.OPEN,
    )
    fields.update(kw)
    return validate_draft(EventDraft(**fields))


async def _users(uow: UnitOfWork, n: int) -> list[tuple[int, int]]:
    """``n`` users with their COIN wallets: [(user id, wallet account id)]."""
    out = []
    for i in range(n):
        u = await uow.users.add(NewUser(f"U{i}", Role.PLAYER, T0))
        wallet = await uow.ledger.open_account(
            AccountKind.USER, f"user:{u.id}", "COIN", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
        )
        out.append((u.id, wallet.id))
    return out


async def _event(uow: UnitOfWork, title: str = "Final", **kw: Any) -> Event:
    escrow = await uow.ledger.open_account(
        AccountKind.ESCROW, f"event:{title}", "COIN", AccountFlags.NONE
    )
    return await uow.events.add(
        _draft(title, **kw), escrow_account_id=escrow.id, created_by=None, now=T0
    )


def _utc(*values: datetime | None) -> None:
    for v in values:
        if v is not None:
            assert v.utcoffset() == timedelta(0), v  # aware (a naive one has None), UTC


# -- events ----------------------------------------------------------------------------------


async def test_an_event_round_trips_with_its_outcomes(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        ((uid, _),) = await _users(uow, 1)
        escrow = await uow.ledger.open_account(
            AccountKind.ESCROW, "event:x", "COIN", AccountFlags.NONE
        )
        draft = _draft()
        added = await uow.events.add(draft, escrow_account_id=escrow.id, created_by=uid, now=T0)
        await uow.commit()
    assert [o.name for o in added.outcomes] == ["Red", "Blue", "Draw"]
    assert [o.position for o in added.outcomes] == [0, 1, 2]
    assert len({o.id for o in added.outcomes}) == 3
    async with store() as uow:
        for lock in ("none", "share", "update"):
            got = await uow.events.get(added.id, lock=lock)
            assert got == added
        assert await uow.events.get(added.id + 1000) is None
    assert got is not None
    assert (got.title, got.description, got.stream_type, got.stream_url) == (
        "Final",
        "the final match",
        StreamType.TWITCH,
        "https://twitch.tv/x",
    )
    assert (got.min_stake, got.max_stake, got.rake_bps, got.allow_topup) == (5, 10_000, 250, True)
    assert got.status is EventStatus.OPEN
    assert got.escrow_account_id == escrow.id
    assert got.created_by == uid
    assert got.bet_count == 0
    assert got.pool == 0
    assert got.start_time == T0 + timedelta(hours=2)
    assert got.betting_locked_at == T0 + timedelta(hours=1)
    assert got.settle_deadline == draft.settle_deadline == T0 + timedelta(hours=25)
    assert (got.created_at, got.updated_at) == (T0, T0)
    assert (got.winning_outcome_id, got.locked_at, got.resolved_at) == (None, None, None)
    _utc(got.start_time, got.betting_locked_at, got.settle_deadline, got.created_at, got.updated_at)


async def test_get_many_returns_the_existing_ones(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        a = await _event(uow, "A")
        b = await _event(uow, "B", outcomes=("x", "y"))
        await uow.commit()
    async with store() as uow:
        for lock in ("none", "share", "update"):
            got = await uow.events.get_many([b.id, 999_999, a.id, b.id], lock=lock)
            assert got == {a.id: a, b.id: b}
        assert await uow.events.get_many([]) == {}
    assert [o.name for o in got[b.id].outcomes] == ["x", "y"]


async def test_update_writes_every_field_but_the_pool_and_bet_count(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        ((uid, wallet),) = await _users(uow, 1)
        e = await _event(uow)
        await uow.events.add_bets([NewBet(e.id, e.outcomes[0].id, uid, 40, wallet, T0)])
        await uow.events.add_to_pool([PoolDelta(e.outcomes[0].id, 40, 1)])
        await uow.commit()
    later = T0 + timedelta(minutes=5)
    stale = dataclasses.replace(
        e,
        title="Renamed",
        description="new",
        stream_type=StreamType.YOUTUBE,
        stream_url="https://youtube.com/y",
        min_stake=7,
        max_stake=70,
        rake_bps=1000,
        start_time=T0 + timedelta(hours=3),
        betting_locked_at=T0 + timedelta(hours=2),
        settle_deadline=T0 + timedelta(hours=30),
        allow_topup=False,
        status=EventStatus.SETTLING,
        winning_outcome_id=e.outcomes[1].id,
        locked_at=later,
        resolved_at=later + timedelta(seconds=1),
        updated_at=later,
        created_by=42,
        bet_count=0,  # ignored
    )
    async with store() as uow:
        await uow.events.update(stale)
        await uow.commit()
    async with store() as uow:
        got = await uow.events.get(e.id)
    assert got is not None
    assert got.bet_count == 1
    assert [(o.total, o.bettors) for o in got.outcomes] == [(40, 1), (0, 0), (0, 0)]
    assert got == dataclasses.replace(stale, outcomes=got.outcomes, bet_count=1)
    _utc(got.locked_at, got.resolved_at)


async def test_replace_outcomes(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        e = await _event(uow)
        await uow.commit()
    async with store() as uow:
        new = await uow.events.replace_outcomes(e.id, ["Left", "Right"])
        await uow.commit()
    assert [(o.name, o.position, o.total, o.bettors) for o in new] == [
        ("Left", 0, 0, 0),
        ("Right", 1, 0, 0),
    ]
    assert not {o.id for o in new} & {o.id for o in e.outcomes}
    async with store() as uow:
        got = await uow.events.get(e.id)
    assert got is not None
    assert got.outcomes == new


async def test_list_events_newest_first_with_filters(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        a = await _event(uow, "A")
        b = await _event(uow, "B", status=EventStatus.SCHEDULED)
        c = await _event(uow, "C")
        await uow.commit()
    async with store() as uow:
        ev = uow.events
        assert [e.id for e in await ev.list_events()] == [c.id, b.id, a.id]
        assert await ev.list_events(limit=1) == [c]
        assert [e.id for e in await ev.list_events(before_id=c.id)] == [b.id, a.id]
        opened = await ev.list_events(statuses=[EventStatus.OPEN])
        assert [e.id for e in opened] == [c.id, a.id]
        assert opened[1] == a  # with its outcomes
        both = [EventStatus.SCHEDULED, EventStatus.OPEN]
        assert [e.id for e in await ev.list_events(statuses=both, before_id=b.id)] == [a.id]
        assert await ev.list_events(statuses=[EventStatus.SETTLED]) == []


async def test_claim_due_picks_what_a_job_must_act_on(store: UnitOfWorkFactory) -> None:
    now = T0 + timedelta(hours=10)
    stale = now - timedelta(minutes=5)
    h = timedelta(hours=1)
    async with store() as uow:
        due_lock = await _event(uow, "lock", start_time=now + h, betting_locked_at=now - h)
        due_start = await _event(  # started, though betting_locked_at is later
            uow, "start", start_time=now, betting_locked_at=now + h, settle_deadline=now + 2 * h
        )
        not_yet = await _event(uow, "later", start_time=now + 2 * h, betting_locked_at=now + h)
        sched = await _event(
            uow,
            "sched",
            status=EventStatus.SCHEDULED,
            start_time=now - h,
            betting_locked_at=now - h,
        )
        locked_due = await _event(uow, "deadline", start_time=now - 3 * h, settle_deadline=now)
        locked_not = await _event(uow, "locked", start_time=now - 3 * h, settle_deadline=now + h)
        settling_stale = await _event(uow, "stale", start_time=now - 3 * h)
        settling_fresh = await _event(uow, "fresh", start_time=now - 3 * h)
        voiding_stale = await _event(uow, "voiding", start_time=now - 3 * h)
        settled = await _event(uow, "settled", start_time=now - 3 * h, settle_deadline=now - h)
        for e, status, updated in [
            (locked_due, EventStatus.LOCKED, T0),
            (locked_not, EventStatus.LOCKED, T0),
            (settling_stale, EventStatus.SETTLING, stale - timedelta(seconds=1)),
            (settling_fresh, EventStatus.SETTLING, stale),
            (voiding_stale, EventStatus.VOIDING, T0),
            (settled, EventStatus.SETTLED, T0),
        ]:
            winner = e.outcomes[0].id if status is not EventStatus.VOIDING else None
            await uow.events.update(
                dataclasses.replace(e, status=status, updated_at=updated, winning_outcome_id=winner)
            )
        await uow.commit()
    expected = [due_lock, due_start, sched, locked_due, settling_stale, voiding_stale]
    async with store() as uow:
        claimed = await uow.events.claim_due(now, stale, 100)
        assert [e.id for e in claimed] == [e.id for e in expected]
        assert [e.title for e in await uow.events.claim_due(now, stale, 2)] == ["lock", "start"]
    assert claimed[0] == due_lock
    assert claimed[4].status is EventStatus.SETTLING
    assert not_yet.id not in {e.id for e in claimed}


# -- bets ------------------------------------------------------------------------------------


async def test_bets_round_trip(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        people = await _users(uow, 4)
        e = await _event(uow)
        other = await _event(uow, "Other", outcomes=("p", "q"))
        await uow.commit()
    red, blue, _ = (o.id for o in e.outcomes)
    t1 = T0 + timedelta(minutes=1)
    # input order is not user order: ids ascend in input order all the same
    new = [
        NewBet(e.id, blue, people[3][0], 30, people[3][1], T0),
        NewBet(e.id, red, people[0][0], 10, people[0][1], T0),
        NewBet(other.id, other.outcomes[1].id, people[0][0], 7, people[0][1], t1),
        NewBet(e.id, red, people[2][0], 20, people[2][1], t1),
    ]
    async with store() as uow:
        added = await uow.events.add_bets(new)
        await uow.events.add_to_pool([PoolDelta(blue, 30, 1), PoolDelta(red, 30, 2)])
        await uow.events.add_to_pool([PoolDelta(other.outcomes[1].id, 7, 1)])
        await uow.commit()
    assert [b.id for b in added] == sorted(b.id for b in added)
    for b, nb in zip(added, new, strict=True):
        assert (b.event_id, b.outcome_id, b.user_id, b.amount, b.wallet_account_id) == (
            nb.event_id,
            nb.outcome_id,
            nb.user_id,
            nb.amount,
            nb.wallet_account_id,
        )
        assert (b.placed_at, b.updated_at) == (nb.placed_at, nb.placed_at)
        assert (b.status, b.payout, b.placements) == (BetStatus.OPEN, None, 1)

    async with store() as uow:
        got = await uow.events.get(e.id)
        assert got is not None
        assert got.bet_count == 3
        assert [(o.total, o.bettors) for o in got.outcomes] == [(30, 2), (30, 1), (0, 0)]
        got_other = await uow.events.get(other.id)
        assert got_other is not None
        assert got_other.bet_count == 1
        assert got_other.pool == 7
        pairs = [(e.id, people[0][0]), (e.id, people[1][0]), (other.id, people[0][0])]
        found = await uow.events.bets_for(pairs)
        assert found == {(e.id, people[0][0]): added[1], (other.id, people[0][0]): added[2]}
        assert await uow.events.bets_for([]) == {}
        assert await uow.events.bets_of_event(e.id) == [added[0], added[1], added[3]]
        for b in await uow.events.bets_of_event(e.id):
            _utc(b.placed_at, b.updated_at)

    t2 = T0 + timedelta(minutes=2)
    async with store() as uow:
        await uow.events.top_up([(added[1].id, 5)], t2)
        await uow.events.top_up([(added[1].id, 6), (added[3].id, 1)], t2)
        await uow.commit()
    async with store() as uow:
        top = await uow.events.bets_for([(e.id, people[0][0]), (e.id, people[2][0])])
    assert top[(e.id, people[0][0])] == dataclasses.replace(
        added[1], amount=21, placements=3, updated_at=t2
    )
    assert top[(e.id, people[2][0])] == dataclasses.replace(
        added[3], amount=21, placements=2, updated_at=t2
    )

    t3 = T0 + timedelta(minutes=3)
    async with store() as uow:
        await uow.events.record_results(
            [
                BetResult(added[0].id, BetStatus.LOST, 0),
                BetResult(added[1].id, BetStatus.WON, 35),
                BetResult(added[3].id, BetStatus.REFUNDED, 21),
            ],
            t3,
        )
        await uow.commit()
    async with store() as uow:
        final = await uow.events.bets_of_event(e.id)
    assert [(b.status, b.payout, b.updated_at) for b in final] == [
        (BetStatus.LOST, 0, t3),
        (BetStatus.WON, 35, t3),
        (BetStatus.REFUNDED, 21, t3),
    ]
    assert final[1].placed_at == T0  # first placement kept


async def test_list_bets_newest_first_with_filters(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        (u1, w1), (u2, w2) = await _users(uow, 2)
        a = await _event(uow, "A")
        b = await _event(uow, "B")
        bets = await uow.events.add_bets(
            [
                NewBet(a.id, a.outcomes[0].id, u1, 10, w1, T0),
                NewBet(a.id, a.outcomes[1].id, u2, 20, w2, T0),
                NewBet(b.id, b.outcomes[0].id, u1, 30, w1, T0),
            ]
        )
        await uow.commit()
    a1, a2, b1 = bets
    async with store() as uow:
        ev = uow.events
        assert await ev.list_bets() == [b1, a2, a1]
        assert await ev.list_bets(user_id=u1) == [b1, a1]
        assert await ev.list_bets(event_id=a.id) == [a2, a1]
        assert await ev.list_bets(event_id=a.id, user_id=u1) == [a1]
        assert await ev.list_bets(limit=1) == [b1]
        assert await ev.list_bets(before_id=b1.id) == [a2, a1]
        assert await ev.list_bets(user_id=u2, before_id=a2.id) == []


# -- chat ------------------------------------------------------------------------------------


async def test_chat_messages(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        (u1, _), (u2, _) = await _users(uow, 2)
        e = await _event(uow)
        f = await _event(uow, "F")
        msgs = []
        for i in range(5):
            at = T0 + timedelta(seconds=i)
            msgs.append(await uow.chat.add(e.id, (u1, u2)[i % 2], f"U{i % 2}", f"hi {i}", at))
        elsewhere = await uow.chat.add(f.id, u1, "U0", "other room", T0)
        await uow.commit()
    assert msgs[0] == ChatMessage(msgs[0].id, e.id, u1, "U0", "hi 0", T0, False)
    assert [m.id for m in msgs] == sorted(m.id for m in msgs)
    async with store() as uow:
        assert await uow.chat.get(msgs[1].id) == msgs[1]
        assert await uow.chat.get(elsewhere.id + 100) is None
        await uow.chat.delete(msgs[3].id)
        await uow.commit()
    async with store() as uow:
        deleted = await uow.chat.get(msgs[3].id)
        assert deleted == dataclasses.replace(msgs[3], deleted=True)  # the text stays
        assert await uow.chat.recent(e.id) == [msgs[4], msgs[2], msgs[1], msgs[0]]
        assert await uow.chat.recent(e.id, limit=2) == [msgs[4], msgs[2]]
        assert await uow.chat.recent(e.id, before_id=msgs[2].id) == [msgs[1], msgs[0]]
        assert await uow.chat.recent(f.id) == [elsewhere]
        got = await uow.chat.get(msgs[0].id)
    assert got is not None
    _utc(got.created_at)


async def test_chat_mutes(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        (u1, _), (u2, _) = await _users(uow, 2)
        await uow.commit()
    first = Mute(u1, T0 + timedelta(hours=1), "spam", T0, u2)
    async with store() as uow:
        assert await uow.chat.get_mute(u1) is None
        await uow.chat.set_mute(first)
        await uow.chat.set_mute(Mute(u2, None, "", T0, None))
        await uow.commit()
    async with store() as uow:
        assert await uow.chat.get_mute(u1) == first
        got = await uow.chat.get_mute(u2)
        assert got == Mute(u2, None, "", T0, None)
        replaced = Mute(u1, None, "again", T0 + timedelta(minutes=1), None)
        await uow.chat.set_mute(replaced)  # create or replace
        await uow.commit()
    async with store() as uow:
        assert await uow.chat.get_mute(u1) == replaced
        await uow.chat.remove_mute(u1)
        await uow.chat.remove_mute(u1)  # absent: nothing to do
        await uow.commit()
    async with store() as uow:
        assert await uow.chat.get_mute(u1) is None
        assert await uow.chat.get_mute(u2) is not None
    _utc(first.until, replaced.created_at)


# -- the ledger's batch helpers --------------------------------------------------------------


async def test_open_accounts_and_get_transfers(store: UnitOfWorkFactory) -> None:
    user_flags = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    async with store() as uow:
        existing = await uow.ledger.open_account(AccountKind.USER, "user:1", "COIN", user_flags)
        treasury = await uow.ledger.open_account(
            AccountKind.TREASURY, "system", "COIN", AccountFlags.NONE
        )
        await uow.commit()
    specs = [
        (AccountKind.USER, "user:3", "COIN", user_flags),
        (AccountKind.USER, "user:1", "COIN", user_flags),
        (AccountKind.USER, "user:2", "RUB", user_flags),
        (AccountKind.USER, "user:3", "COIN", user_flags),  # twice: the same account
    ]
    async with store() as uow:
        opened = await uow.ledger.open_accounts(specs)
        assert await uow.ledger.open_accounts([]) == []
        await uow.commit()
    assert [(a.kind, a.owner, a.currency) for a in opened] == [s[:3] for s in specs]
    assert opened[1] == existing
    assert opened[0] == opened[3]
    assert len({a.id for a in opened}) == 3
    assert all(a.flags == user_flags and a.balance == 0 for a in opened)
    async with store() as uow:
        assert await uow.ledger.open_accounts(specs) == opened  # nothing new
        assert await uow.ledger.find_account(AccountKind.USER, "user:2", "RUB") == opened[2]
        results = await uow.ledger.apply(
            [
                TransferRequest("t1", treasury.id, opened[0].id, 5, "grant"),
                TransferRequest("t2", treasury.id, opened[1].id, 6, "grant"),
            ],
            T0,
        )
        assert all(r.ok for r in results)
        await uow.commit()
    async with store() as uow:
        got = await uow.ledger.get_transfers(["t2", "missing", "t1"])
        assert set(got) == {"t1", "t2"}
        assert got["t2"] == await uow.ledger.get_transfer("t2")
        assert got["t1"].amount == 5
        assert got["t2"].credit_account_id == opened[1].id
        assert await uow.ledger.get_transfers([]) == {}


# -- SQL only: round trips, lost races, big batches -------------------------------------------


@contextmanager
def _statements(store: SqlStore) -> Iterator[list[str]]:
    """The statements sent to the database while the block runs (executemany counts once)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa_event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa_event.remove(store.engine.sync_engine, "before_cursor_execute", record)


async def test_a_bet_batch_costs_one_statement_per_step(sql_store: SqlStore) -> None:
    pg = sql_store.dialect == "postgresql"
    async with sql_store() as uow:
        people = await _users(uow, 50)
        events = [await _event(uow, f"E{i}") for i in range(3)]
        await uow.commit()
    new = [
        NewBet(e.id, e.outcomes[i % 3].id, uid, 10 + i, wallet, T0)
        for i, (uid, wallet) in enumerate(people)
        for e in events
    ]
    async with sql_store() as uow:
        with _statements(sql_store) as seen:
            got = await uow.events.get_many([e.id for e in events], lock="share")
        assert len(got) == 3
        assert len(seen) == (1 if pg else 2)
        with _statements(sql_store) as seen:
            await uow.events.bets_for([(b.event_id, b.user_id) for b in new])
        assert len(seen) == 1
        with _statements(sql_store) as seen:
            added = await uow.events.add_bets(new)
        assert len(added) == 150
        assert len(seen) == (1 if pg else 2)
        with _statements(sql_store) as seen:
            await uow.events.add_to_pool([PoolDelta(b.outcome_id, b.amount, 1) for b in new])
        assert len(seen) == 1
        with _statements(sql_store) as seen:
            await uow.events.top_up([(b.id, 1) for b in added], T0)
        assert len(seen) == 1
        with _statements(sql_store) as seen:
            await uow.ledger.open_accounts(
                [(AccountKind.USER, f"user:{n}", "COIN", AccountFlags.NONE) for n in range(60)]
            )
        assert len(seen) == (1 if pg else 2)
        with _statements(sql_store) as seen:
            got = await uow.events.get_many([e.id for e in events], lock="update")
        assert len(seen) == 2  # PostgreSQL: lock, then read with a fresh snapshot
        await uow.commit()
    assert [e.bet_count for e in got.values()] == [50, 50, 50]
    assert sum(e.pool for e in got.values()) == sum(b.amount for b in new)
    bets = {(b.event_id, b.user_id): b for b in added}
    async with sql_store() as uow:
        assert await uow.events.bets_for(list(bets)) == {
            k: dataclasses.replace(b, amount=b.amount + 1, placements=2) for k, b in bets.items()
        }


async def test_record_results_for_thousands_of_bets_in_one_statement(sql_store: SqlStore) -> None:
    n = 3000
    async with sql_store.engine.begin() as conn:  # many users at once
        await conn.execute(
            insert(users),
            [
                {"display_name": f"U{i}", "role": "player", "status": "active", "created_at": T0}
                for i in range(n)
            ],
        )
        user_ids = sorted((await conn.execute(select(users.c.id))).scalars())
    async with sql_store() as uow:
        wallets = await uow.ledger.open_accounts(
            [(AccountKind.USER, f"user:{u}", "COIN", AccountFlags.NONE) for u in user_ids]
        )
        e = await _event(uow)
        f = await _event(uow, "F")
        added = await uow.events.add_bets(
            [
                NewBet(e.id, e.outcomes[u % 3].id, u, 1 + u, w.id, T0)
                for u, w in zip(user_ids, wallets, strict=True)
            ]
        )
        untouched = await uow.events.add_bets(
            [NewBet(f.id, f.outcomes[0].id, user_ids[0], 9, wallets[0].id, T0)]
        )
        await uow.commit()
    assert len(added) == n
    assert [b.id for b in added] == sorted(b.id for b in added)
    winner = e.outcomes[0].id
    results = [
        BetResult(b.id, BetStatus.WON, b.amount * 2)
        if b.outcome_id == winner
        else BetResult(b.id, BetStatus.LOST, 0)
        for b in added
    ]
    later = T0 + timedelta(hours=1)
    async with sql_store() as uow:
        with _statements(sql_store) as seen:
            await uow.events.record_results(results, later)
        assert len(seen) == 1
        await uow.commit()
    async with sql_store() as uow:
        stored = await uow.events.bets_of_event(e.id)
        assert await uow.events.bets_of_event(f.id) == untouched
    assert [b.id for b in stored] == [b.id for b in added]
    for r, b in zip(results, stored, strict=True):
        assert (b.status, b.payout, b.updated_at) == (r.status, r.payout, later)
    assert {b.status for b in stored} == {BetStatus.WON, BetStatus.LOST}


async def test_a_second_bet_of_a_user_on_an_event_is_a_lost_race(sql_store: SqlStore) -> None:
    async with sql_store() as uow:
        ((uid, wallet),) = await _users(uow, 1)
        e = await _event(uow)
        await uow.events.add_bets([NewBet(e.id, e.outcomes[0].id, uid, 10, wallet, T0)])
        await uow.commit()
    with pytest.raises(TransientStoreError):  # the service retries, and sees the first bet
        async with sql_store() as uow:
            await uow.events.add_bets([NewBet(e.id, e.outcomes[1].id, uid, 10, wallet, T0)])
    async with sql_store() as uow:
        f = await _event(uow, "F")
        await uow.commit()
    with pytest.raises(TransientStoreError):  # twice in one batch: the same lost race
        async with sql_store() as uow:
            await uow.events.add_bets([NewBet(f.id, f.outcomes[0].id, uid, 1, wallet, T0)] * 2)
    async with sql_store() as uow:
        got = await uow.events.get(e.id)
        assert got is not None
        assert got.bet_count == 1
        assert len(await uow.events.bets_of_event(e.id)) == 1


async def test_timestamps_come_back_in_utc_whatever_zone_went_in(sql_store: SqlStore) -> None:
    plus3 = timezone(timedelta(hours=3))
    start = datetime(2026, 3, 1, 18, 0, tzinfo=plus3)
    now = datetime(2026, 3, 1, 15, 30, tzinfo=plus3)
    async with sql_store() as uow:
        ((uid, wallet),) = await _users(uow, 1)
        escrow = await uow.ledger.open_account(
            AccountKind.ESCROW, "event:tz", "COIN", AccountFlags.NONE
        )
        draft = _draft(start_time=start, betting_locked_at=start - timedelta(minutes=5))
        added = await uow.events.add(draft, escrow_account_id=escrow.id, created_by=None, now=now)
        (bet,) = await uow.events.add_bets(
            [NewBet(added.id, added.outcomes[0].id, uid, 9, wallet, now)]
        )
        msg = await uow.chat.add(added.id, uid, "U", "hello", now)
        await uow.commit()
    async with sql_store() as uow:
        assert await uow.events.get(added.id) == dataclasses.replace(added, bet_count=1)
        assert await uow.events.bets_for([(added.id, uid)]) == {(added.id, uid): bet}
        assert await uow.chat.get(msg.id) == msg
    assert added.start_time == start
    _utc(added.start_time, added.betting_locked_at, added.settle_deadline, added.created_at)
    _utc(bet.placed_at, bet.updated_at, msg.created_at)
    assert added.start_time.tzinfo is UTC
    assert bet.placed_at.tzinfo is UTC
    assert msg.created_at.tzinfo is UTC


async def test_unknown_lock_mode_is_refused(sql_store: SqlStore) -> None:
    async with sql_store() as uow:
        with pytest.raises(ValueError):
            await uow.events.get(1, lock="exclusive")


# -- PostgreSQL row locks ---------------------------------------------------------------------


async def _blocked(task: asyncio.Task[Any]) -> bool:
    await asyncio.sleep(0.3)
    return not task.done()


@pytest.mark.postgres
async def test_claim_due_skips_the_rows_another_runner_holds(pg_store: SqlStore) -> None:
    now = T0 + timedelta(hours=5)
    async with pg_store() as uow:
        due = [await _event(uow, f"E{i}") for i in range(4)]
        await _event(
            uow,
            "later",
            start_time=now + timedelta(hours=2),
            betting_locked_at=now + timedelta(hours=1),
        )
        await uow.commit()
    async with pg_store() as first:
        mine = await first.events.claim_due(now, now, 2)
        assert [e.id for e in mine] == [due[0].id, due[1].id]
        async with pg_store() as second:  # concurrently: the other rows, at once
            theirs = await asyncio.wait_for(second.events.claim_due(now, now, 10), 5)
            assert [e.id for e in theirs] == [due[2].id, due[3].id]
            async with pg_store() as third:
                assert await asyncio.wait_for(third.events.claim_due(now, now, 10), 5) == []
    async with pg_store() as uow:  # released at rollback
        assert len(await uow.events.claim_due(now, now, 10)) == 4


@pytest.mark.postgres
async def test_bet_batches_share_an_event_that_a_status_change_waits_for(
    pg_store: SqlStore,
) -> None:
    async with pg_store() as uow:
        (u1, w1), (u2, w2) = await _users(uow, 2)
        e = await _event(uow)
        await uow.commit()
    red = e.outcomes[0].id
    async with pg_store() as batch1, pg_store() as batch2:
        # two bet batches hold the event together and both write its counters
        assert (await batch1.events.get(e.id, lock="share")) == e
        assert (await asyncio.wait_for(batch2.events.get(e.id, lock="share"), 5)) == e
        await batch1.events.add_bets([NewBet(e.id, red, u1, 10, w1, T0)])
        await batch1.events.add_to_pool([PoolDelta(red, 10, 1)])

        async def change_status() -> Event:
            async with pg_store() as uow:
                seen = await uow.events.get(e.id, lock="update")
                assert seen is not None
                await uow.events.update(dataclasses.replace(seen, status=EventStatus.LOCKED))
                await uow.commit()
                return seen

        status_change = asyncio.create_task(change_status())
        assert await _blocked(status_change)  # waits for both batches
        await batch1.commit()
        # batch2's increments queue behind batch1's, never deadlock, and do not wait for
        # the status change queued on the row
        await asyncio.wait_for(batch2.events.add_bets([NewBet(e.id, red, u2, 5, w2, T0)]), 5)
        await asyncio.wait_for(batch2.events.add_to_pool([PoolDelta(red, 5, 1)]), 5)
        assert await _blocked(status_change)
        await batch2.commit()
    seen = await asyncio.wait_for(status_change, 10)
    # the status change read the event after both batches: every bet counted
    assert seen.bet_count == 2
    assert (seen.outcomes[0].total, seen.outcomes[0].bettors) == (15, 2)

    async with pg_store() as changer:
        await changer.events.get(e.id, lock="update")

        async def bet_batch() -> Event | None:
            async with pg_store() as uow:
                return await uow.events.get(e.id, lock="share")

        waiting = asyncio.create_task(bet_batch())
        assert await _blocked(waiting)  # a bet batch waits for the status change
        await changer.events.update(dataclasses.replace(seen, status=EventStatus.VOIDING))
        await changer.commit()
    after = await asyncio.wait_for(waiting, 10)
    assert after is not None
    assert after.status is EventStatus.VOIDING


@pytest.mark.postgres
async def test_concurrent_bet_batches_on_the_same_events_do_not_deadlock(
    pg_store: SqlStore,
) -> None:
    async with pg_store() as uow:
        people = await _users(uow, 40)
        events = [await _event(uow, f"E{i}") for i in range(3)]
        await uow.commit()

    async def batch(part: list[tuple[int, int]], reverse: bool) -> None:
        order = list(reversed(events)) if reverse else events
        async with pg_store() as uow:
            await uow.events.get_many([e.id for e in order], lock="share")
            added = await uow.events.add_bets(
                [NewBet(e.id, e.outcomes[1].id, u, 1, w, T0) for u, w in part for e in order]
            )
            await asyncio.sleep(0)
            await uow.events.add_to_pool(
                [PoolDelta(e.outcomes[1].id, len(part), len(part)) for e in order]
            )
            await uow.events.top_up([(b.id, 1) for b in reversed(added)], T0)
            await uow.commit()

    await asyncio.wait_for(
        asyncio.gather(*(batch(people[i::8], bool(i % 2)) for i in range(8))), 30
    )
    async with pg_store() as uow:
        got = await uow.events.get_many([e.id for e in events])
        for e in events:
            assert got[e.id].bet_count == 40
            assert (got[e.id].outcomes[1].total, got[e.id].outcomes[1].bettors) == (40, 40)
            assert sum(b.amount for b in await uow.events.bets_of_event(e.id)) == 80


@pytest.mark.postgres
async def test_open_accounts_concurrently_returns_one_account_per_key(pg_store: SqlStore) -> None:
    specs = [(AccountKind.USER, f"user:{i}", "COIN", AccountFlags.NONE) for i in range(30)]

    async def open_them(reverse: bool) -> list[int]:
        async with pg_store() as uow:
            got = await uow.ledger.open_accounts(list(reversed(specs)) if reverse else specs)
            await uow.commit()
        ids = [a.id for a in got]
        return list(reversed(ids)) if reverse else ids

    results = await asyncio.wait_for(
        asyncio.gather(*(open_them(bool(i % 2)) for i in range(6))), 30
    )
    assert all(r == results[0] for r in results)
    assert len(set(results[0])) == 30


@pytest.mark.postgres
async def test_a_bet_batch_that_read_outcomes_an_edit_replaced_is_a_lost_race(
    pg_store: SqlStore,
) -> None:
    async with pg_store() as uow:
        ((uid, wallet),) = await _users(uow, 1)
        e = await _event(uow)
        await uow.commit()
    async with pg_store() as editor:
        await editor.events.get(e.id, lock="update")
        new = await editor.events.replace_outcomes(e.id, ["Left", "Right"])

        async def bet_batch() -> Event | None:
            async with pg_store() as uow:
                seen = await uow.events.get(e.id, lock="share")  # waits for the edit
                assert seen is not None
                await uow.events.add_bets([NewBet(e.id, seen.outcomes[0].id, uid, 10, wallet, T0)])
                await uow.commit()
                return seen

        waiting = asyncio.create_task(bet_batch())
        assert await _blocked(waiting)
        await editor.commit()
    # the batch read the outcomes before the edit committed: its bet on a deleted outcome is
    # refused by the foreign key, as a lost race the service retries (then seeing the new ones)
    with pytest.raises(TransientStoreError):
        await asyncio.wait_for(waiting, 10)
    async with pg_store() as uow:
        seen = await uow.events.get(e.id, lock="share")
        assert seen is not None
        assert seen.outcomes == new
        (bet,) = await uow.events.add_bets([NewBet(e.id, new[0].id, uid, 10, wallet, T0)])
        await uow.commit()
    assert bet.outcome_id == new[0].id
