"""Events under real concurrency on PostgreSQL: separate client processes (events_worker.py),
each with its own connection pool and its own bet batcher, against one database.

* bets racing an operator's lock: every bet acknowledged is in the pool and was placed before
  the lock; every bet sent after the lock returned is refused;
* bets racing a settlement: no bet gets into a settled event, every acknowledged bet got its
  result, the escrow ends at zero;
* several job runners ticking at once over many due events: each event is locked, voided or
  resumed by exactly one of them (one audit record each), every stake refunded once;
* a hot event: hundreds of concurrent bets through one process's batcher, and through several
  processes at once, with replays and duplicates racing each other: every acknowledged bet
  exists exactly once and was charged once.

Every scenario ends with the books checked: money conserved per currency, no wallet below
zero, escrow == the open stakes (zero once resolved), pool == the bets.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

from wagerkit import Actor, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.events import Bet, BetStatus, Event, EventDraft, EventStatus
from wagerkit.domain.identity import User
from wagerkit.domain.ledger import Transfer
from wagerkit.ports import UnitOfWork
from wagerkit.testing import FixedClock

sys.path.insert(0, str(Path(__file__).parent))
from events_worker import NO_BET_LIMIT, BetOp, place, run_bets, run_jobs

pytestmark = pytest.mark.postgres

GRANT = 1000
SYSTEM = Actor.system("test")
OPERATOR = Actor(None, Role.OPERATOR, "op")
PROCESSES, CLIENTS = 4, 8


@pytest.fixture
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as executor:
        yield executor


@pytest.fixture
async def pg_store(pg_url: str) -> Any:
    upgrade(pg_url)
    s = SqlStore.from_url(pg_url, pool_size=20)
    try:
        yield s
    finally:
        await s.dispose()


async def _users(kit: WagerKit, n: int) -> list[User]:
    out: list[User] = []
    for start in range(0, n, 20):
        out += await asyncio.gather(
            *(kit.users.add(SYSTEM, f"Player {i}") for i in range(start, min(n, start + 20)))
        )
    return out


async def _open_event(kit: WagerKit, **kw: Any) -> Event:
    now = kit.deps.clock.now()
    fields: dict[str, Any] = {
        "title": "Hot match",
        "outcomes": ("A", "B", "C"),
        "start_time": now + timedelta(hours=2),
        "betting_locked_at": now + timedelta(hours=1),
        "status": EventStatus.OPEN,
    }
    fields.update(kw)
    return await kit.events.create(OPERATOR, EventDraft(**fields))


async def _read(store: SqlStore, work: Callable[[UnitOfWork], Any]) -> Any:
    async with store() as uow:
        return await work(uow)


async def _journal(uow: UnitOfWork) -> list[Transfer]:
    out: list[Transfer] = []
    while batch := await uow.ledger.journal(after_seq=out[-1].seq if out else 0, limit=1000):
        out.extend(batch)
    return out


async def check_books(store: SqlStore, users: list[User]) -> None:
    """Conservation, no wallet below zero, and per event: escrow == open stakes (0 once
    final), pool totals and bettor counts == its bets."""
    async with store() as uow:
        for t in await uow.ledger.totals():
            assert t.conserved, t
        for u in users:
            for acc in await uow.ledger.accounts_of(f"user:{u.id}"):
                assert acc.balance >= 0, acc
                assert acc.available >= 0, acc
        for e in await uow.events.list_events(limit=200):
            bets = await uow.events.bets_of_event(e.id)
            escrow = await uow.ledger.get_account(e.escrow_account_id)
            assert escrow is not None
            if e.status.final:
                assert escrow.balance == 0, e
                assert all(b.status is not BetStatus.OPEN for b in bets), e
            else:
                assert escrow.balance == sum(b.amount for b in bets), e
            totals: Counter[int] = Counter()
            bettors: Counter[int] = Counter()
            for b in bets:
                totals[b.outcome_id] += b.amount
                bettors[b.outcome_id] += 1
            for o in e.outcomes:
                assert (o.total, o.bettors) == (totals[o.id], bettors[o.id]), (e.id, o)
            assert e.bet_count == len(bets)


async def _submit(pool: ProcessPoolExecutor, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    return await asyncio.wrap_future(pool.submit(fn, *args, **kw))


def _shares(ops: list[BetOp], n: int) -> list[list[BetOp]]:
    return [ops[i::n] for i in range(n)]


async def _wait_for_bets(kit: WagerKit, event_id: int, at_least: int) -> None:
    async with asyncio.timeout(60):  # the client processes must have started betting
        while True:
            if (await kit.events.get(event_id)).bet_count >= at_least:
                return
            await asyncio.sleep(0.005)


def _unexpected(results: list[dict[str, Any]], allowed: set[str]) -> list[dict[str, Any]]:
    return [r for r in results if not r["ok"] and r["error"] not in allowed]


def _assert_each_ack_in_store(results: list[dict[str, Any]], bets: list[Bet]) -> None:
    """Every acknowledged bet is in the store, once, with the stake acknowledged; nothing
    else is."""
    by_user = {b.user_id: b for b in bets}
    assert len(by_user) == len(bets)  # one bet per user
    acked = {r["user"]: r for r in results if r["ok"]}
    assert set(acked) == set(by_user)
    for uid, r in acked.items():
        b = by_user[uid]
        assert (b.id, b.amount, b.outcome_id) == (r["bet_id"], r["amount"], r["outcome"])


# -- bets racing a lock and a settlement --------------------------------------------------------


def _paced_plan(users: list[User], event: Event, rng: random.Random) -> list[BetOp]:
    return [
        ("bet", u.id, event.id, rng.choice(event.outcomes).id, rng.randint(1, 300), f"k{u.id}")
        for u in users
    ]


@pytest.mark.parametrize("race", ["lock", "settle"])
async def test_bets_racing_a_lock_or_a_settlement(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor, race: str
) -> None:
    store = pg_store
    kit = WagerKit(store, identity_policy=NO_BET_LIMIT)  # the real clock, like the clients
    users = await _users(kit, 360)
    users, stragglers = users[:320], users[320:]
    event = await _open_event(kit, rake_bps=250)
    ops = _paced_plan(users, event, random.Random(race))
    start_at = time.time() + 0.5
    jobs = [
        _submit(pool, run_bets, pg_url, share, clients=CLIENTS, pause=0.02, start_at=start_at)
        for share in _shares(ops, PROCESSES)
    ]
    gathered = asyncio.gather(*jobs)
    await _wait_for_bets(kit, event.id, 40)  # the race is on: now close the event
    if race == "lock":
        closed = await kit.events.lock(OPERATOR, event.id)
    else:
        closed = await kit.events.settle(OPERATOR, event.id, event.outcomes[0].id)
    closed_at = time.time()  # the status change has committed
    # bets certainly sent after the close (on a busy machine the paced ones may all be sent
    # before it): each of them must be refused too
    late_ops = _paced_plan(stragglers, event, random.Random(f"late-{race}"))
    stragglers_done = [
        _submit(pool, run_bets, pg_url, share, clients=CLIENTS, pause=0.0, start_at=0.0)
        for share in _shares(late_ops, PROCESSES)
    ]
    results = [r for share in await gathered for r in share]
    late_results = [r for share in await asyncio.gather(*stragglers_done) for r in share]

    assert len(results) == len(ops)
    assert len(late_results) == len(late_ops)
    results += late_results
    assert _unexpected(results, {"betting_closed"}) == []
    accepted = [r for r in results if r["ok"]]
    assert len(accepted) >= 40
    # a bet sent after the lock/settlement had committed is refused
    late = [r for r in results if r["sent"] > closed_at]
    assert len(late) >= len(late_ops)
    assert all(not r["ok"] for r in late)

    event_now = await kit.events.get(event.id)
    bets = await _read(store, lambda uow: uow.events.bets_of_event(event.id))
    _assert_each_ack_in_store(results, bets)
    assert closed.locked_at is not None
    assert event_now.locked_at == closed.locked_at
    # each bet in the pool was placed before the event closed (same machine, same clock)
    assert all(b.placed_at <= closed.locked_at for b in bets)

    escrow = await _read(store, lambda uow: uow.ledger.get_account(event.escrow_account_id))
    stakes = sum(r["stake"] for r in accepted)
    async with store() as uow:
        journal = await _journal(uow)
    stake_ids = Counter(t.id for t in journal if t.code == "stake")
    assert set(stake_ids) == {f"stake:{r['user']}:{r['key']}" for r in accepted}
    assert all(n == 1 for n in stake_ids.values())
    if race == "lock":
        assert event_now.status is EventStatus.LOCKED
        assert escrow.balance == event_now.pool == stakes
        balances = {r["user"]: GRANT - r["stake"] for r in accepted}
    else:
        assert event_now.status is EventStatus.SETTLED
        assert escrow.balance == 0
        # every accepted bet got its result, paid once
        assert all(b.status in (BetStatus.WON, BetStatus.LOST) for b in bets)
        paid = Counter(t.reference for t in journal if t.code == "payout")
        assert all(n == 1 for n in paid.values())
        won = [b for b in bets if b.status is BetStatus.WON]
        assert {f"event:{event.id}:bet:{b.id}" for b in won} == set(paid)
        rake = sum(t.amount for t in journal if t.code == "rake")
        assert sum(b.payout or 0 for b in bets) + rake == stakes
        balances = {b.user_id: GRANT - b.amount + (b.payout or 0) for b in bets}
    for u in users:
        bal = await kit.wallets.balance(SYSTEM, u.id)
        assert bal.balance == balances.get(u.id, GRANT), u
    await check_books(store, users)


# -- job runners ----------------------------------------------------------------------------


async def test_job_runners_never_process_an_event_twice(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    store = pg_store
    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    clock = FixedClock(t0)
    kit = WagerKit(store, clock=clock, identity_policy=NO_BET_LIMIT)
    users = await _users(kit, 5)
    rng = random.Random(3)
    h = timedelta(hours=1)
    groups: dict[str, list[Event]] = defaultdict(list)
    for i in range(72):
        kind = ("lock", "void", "void-locked", "resume", "later", "lock-scheduled")[i % 6]
        if kind in ("lock", "lock-scheduled"):
            times = {"betting_locked_at": t0 + h, "start_time": t0 + 2 * h}
        elif kind == "later":
            times = {"betting_locked_at": t0 + 5 * h, "start_time": t0 + 6 * h}
        else:  # closes in 30 minutes, deadline after one hour
            times = {
                "betting_locked_at": t0 + h / 2,
                "start_time": t0 + h,
                "settle_deadline": t0 + h,
            }
        status = EventStatus.SCHEDULED if kind == "lock-scheduled" else EventStatus.OPEN
        event = await _open_event(kit, title=f"{kind} {i}", status=status, **times)
        groups[kind].append(event)
        if status is EventStatus.OPEN:
            await asyncio.gather(
                *(
                    kit.events.place_bet(
                        Actor(u.id, Role.PLAYER),
                        event.id,
                        rng.choice(event.outcomes).id,
                        rng.randint(1, 5),
                    )
                    for u in users
                )
            )
        if kind == "void-locked":
            await kit.events.lock(OPERATOR, event.id)
    # settlements interrupted after their first payout, left half-done ("settling")
    kit.events.chunk_size = 1

    def interrupt(done: int, total: int) -> None:
        raise InterruptedError

    for event in groups["resume"]:
        current = await kit.events.get(event.id)
        winner = max(current.outcomes, key=lambda o: o.total)  # someone to pay
        with pytest.raises(InterruptedError):
            await kit.events.settle(OPERATOR, event.id, winner.id, progress=interrupt)
        assert (await kit.events.get(event.id)).status is EventStatus.SETTLING

    later = (t0 + 2 * h).isoformat()
    start_at = time.time() + 1.0
    reports = await asyncio.gather(
        *(_submit(pool, run_jobs, pg_url, later, start_at=start_at) for _ in range(PROCESSES))
    )
    claimed: dict[str, Counter[int]] = {k: Counter() for k in ("locked", "voided", "resumed")}
    for runner in reports:
        for rep in runner:
            for k in claimed:
                claimed[k].update(rep[k])

    ids = {k: {e.id for e in v} for k, v in groups.items()}
    # each due event was handled by exactly one runner, once
    assert claimed["locked"] == Counter(ids["lock"] | ids["lock-scheduled"])
    assert claimed["voided"] == Counter(ids["void"] | ids["void-locked"])
    assert claimed["resumed"] == Counter(ids["resume"])

    async with store() as uow:
        audit = await uow.audit.list(limit=10_000)
        journal = await _journal(uow)
    per_event = Counter((a.action, a.target) for a in audit)
    for kind, events in groups.items():
        for e in events:
            lock_n = per_event[("event.auto_lock", f"event:{e.id}")]
            void_n = per_event[("event.auto_void", f"event:{e.id}")]
            assert lock_n == (1 if kind in ("lock", "lock-scheduled") else 0), (kind, e.id)
            assert void_n == (1 if kind in ("void", "void-locked") else 0), (kind, e.id)
            current = await kit.events.get(e.id)
            expected = {
                "lock": EventStatus.LOCKED,
                "lock-scheduled": EventStatus.LOCKED,
                "void": EventStatus.VOIDED,
                "void-locked": EventStatus.VOIDED,
                "resume": EventStatus.SETTLED,
                "later": EventStatus.OPEN,
            }[kind]
            assert current.status is expected, (kind, current)

    refunds = Counter(t.reference for t in journal if t.code == "refund")
    payouts = Counter(t.reference for t in journal if t.code == "payout")
    assert all(n == 1 for n in refunds.values())
    assert all(n == 1 for n in payouts.values())
    async with store() as uow:
        for e in groups["void"] + groups["void-locked"]:
            bets = await uow.events.bets_of_event(e.id)
            assert len(bets) == len(users)
            for b in bets:
                assert refunds[f"event:{e.id}:bet:{b.id}"] == 1
                assert (b.status, b.payout) == (BetStatus.REFUNDED, b.amount)
        for e in groups["resume"]:
            bets = await uow.events.bets_of_event(e.id)
            assert all(b.status in (BetStatus.WON, BetStatus.LOST) for b in bets)
            assert {f"event:{e.id}:bet:{b.id}" for b in bets if b.payout} == {
                r for r in payouts if r.startswith(f"event:{e.id}:")
            }
    # what each user has: the grant less the stakes still in play, plus what settlements paid
    async with store() as uow:
        all_bets = [
            b
            for e in await uow.events.list_events(limit=200)
            for b in await uow.events.bets_of_event(e.id)
        ]
    for u in users:
        mine = [b for b in all_bets if b.user_id == u.id]
        expected = GRANT - sum(b.amount for b in mine) + sum(b.payout or 0 for b in mine)
        assert (await kit.wallets.balance(SYSTEM, u.id)).balance == expected
    await check_books(store, users)


# -- a hot event ------------------------------------------------------------------------------


def _hot_plan(
    users: list[User], event: Event, rng: random.Random, racing: int
) -> tuple[list[BetOp], list[BetOp], list[BetOp]]:
    """One bet per user, plus for ``racing`` users the same keyed bet sent again (a replay)
    and for ``racing`` others a second bet under another key (must be refused)."""
    first = [
        ("bet", u.id, event.id, rng.choice(event.outcomes).id, rng.randint(1, 200), f"a{u.id}")
        for u in users
    ]
    replays = [("replay", *op[1:]) for op in rng.sample(first, racing)]
    rest = [op for op in first if op[1] not in {r[1] for r in replays}]
    seconds = [
        ("second", uid, eid, oid, amount, f"b{uid}")
        for _, uid, eid, oid, amount, _ in rng.sample(rest, racing)
    ]
    return first, replays, seconds  # type: ignore[return-value]


def _check_hot(results: list[dict[str, Any]], n_users: int) -> None:
    assert _unexpected(results, {"already_bet"}) == []
    by_user: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_user[r["user"]].append(r)
    assert len(by_user) == n_users
    for answers in by_user.values():
        tags = sorted(a["tag"] for a in answers)
        ok = [a for a in answers if a["ok"]]
        if tags == ["bet", "replay"]:
            # a keyed bet and its replay: both acknowledged with the same bet, charged once
            assert len(ok) == 2, answers
            assert ok[0]["bet_id"] == ok[1]["bet_id"]
            assert sorted(a["replayed"] for a in ok) == [False, True]
        elif tags == ["bet", "second"]:
            # two bets of one user under different keys: exactly one got in
            assert len(ok) == 1, answers
            (refused,) = [a for a in answers if not a["ok"]]
            assert refused["error"] == "already_bet"
        else:
            assert tags == ["bet"]
            assert len(ok) == 1, answers
            assert not ok[0]["replayed"]


async def _check_hot_store(
    store: SqlStore, kit: WagerKit, event: Event, results: list[dict[str, Any]], users: list[User]
) -> None:
    bets = await _read(store, lambda uow: uow.events.bets_of_event(event.id))
    _assert_each_ack_in_store(results, bets)
    async with store() as uow:
        journal = await _journal(uow)
        escrow = await uow.ledger.get_account(event.escrow_account_id)
    stakes = Counter(t.debit_account_id for t in journal if t.code == "stake")
    assert len(stakes) == len(users)  # every user charged, once
    assert set(stakes.values()) == {1}
    current = await kit.events.get(event.id)
    total = sum(b.amount for b in bets)
    assert escrow is not None
    assert escrow.balance == current.pool == total
    assert current.bet_count == len(users)
    for b in bets:
        assert (await kit.wallets.balance(SYSTEM, b.user_id)).balance == GRANT - b.amount
    await check_books(store, users)


async def test_a_hot_event_through_one_process_batcher(pg_store: SqlStore) -> None:
    store = pg_store
    kit = WagerKit(store, identity_policy=NO_BET_LIMIT)
    users = await _users(kit, 400)
    event = await _open_event(kit)
    first, replays, seconds = _hot_plan(users, event, random.Random(1), 60)
    ops = first + replays + seconds
    random.Random(2).shuffle(ops)
    transactions = 0
    real = kit.deps.uow

    def counting() -> UnitOfWork:
        nonlocal transactions
        transactions += 1
        return real()

    kit.deps.uow = counting  # type: ignore[assignment]
    results = await asyncio.gather(*(place(kit, op) for op in ops))
    kit.deps.uow = real
    _check_hot(results, len(users))
    assert transactions < len(ops) // 10, transactions  # the batcher grouped them
    await _check_hot_store(store, kit, event, results, users)


async def test_a_hot_event_through_several_processes(
    pg_store: SqlStore, pg_url: str, pool: ProcessPoolExecutor
) -> None:
    store = pg_store
    kit = WagerKit(store, identity_policy=NO_BET_LIMIT)
    users = await _users(kit, 480)
    event = await _open_event(kit)
    first, replays, seconds = _hot_plan(users, event, random.Random(5), 80)
    # a user's bet and its replay (or its second bet) go to different processes: they race
    shares = _shares(first, PROCESSES)
    where = {op[1]: i for i, share in enumerate(shares) for op in share}
    for op in replays + seconds:
        shares[(where[op[1]] + 1 + op[1] % (PROCESSES - 1)) % PROCESSES].append(op)
    start_at = time.time() + 1.0
    results = [
        r
        for share in await asyncio.gather(
            *(
                _submit(pool, run_bets, pg_url, s, clients=CLIENTS, start_at=start_at, at_once=True)
                for s in shares
            )
        )
        for r in share
    ]
    assert len(results) == len(first) + len(replays) + len(seconds)
    _check_hot(results, len(users))
    await _check_hot_store(store, kit, event, results, users)
