"""Round trips of a bet batch on PostgreSQL, counted with SQLAlchemy's ``before_cursor_execute``
plus ``Session.driver_rows`` (the batch read goes to psycopg as it is, unprepared; the COMMIT,
which carries the deferred writes, is not counted).

A batch of new bets, top-ups and replays is: the batch read (event lock, bets, replays, the
bettors' wallet ids and ids reserved for the new bets: one statement) and the ledger's
lock-and-read; the ledger's write and the bet write (bets under the reserved ids, counts,
top-ups, pool: one statement) go with the COMMIT, in one round trip, so the event's escrow
account is locked for that round trip only; plus ``open_accounts`` only when a bettor has no
wallet in the event's currency yet. It was eight statements, then four (the two writes each in
a round trip of their own, and the COMMIT a third).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from events_worker import NO_BET_LIMIT
from statements import StatementCounter
from test_pg_events_concurrency import SYSTEM, _users, check_books

from wagerkit import Actor, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.domain.events import EventDraft, EventStatus

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[SqlStore]:
    upgrade(pg_url)
    store = SqlStore.from_url(pg_url)
    try:
        yield store
    finally:
        await store.dispose()


async def test_a_bet_batch_is_two_statements(pg: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = WagerKit(pg, identity_policy=NO_BET_LIMIT)
    users = await _users(kit, 20)
    now = kit.deps.clock.now()
    operator = Actor(None, Role.OPERATOR, "op")
    event = await kit.events.create(
        operator,
        EventDraft(
            title="Counted",
            outcomes=("A", "B"),
            start_time=now + timedelta(hours=2),
            betting_locked_at=now + timedelta(hours=1),
            status=EventStatus.OPEN,
            allow_topup=True,
        ),
    )
    o = event.outcomes[0].id
    counter = StatementCounter(kit, pg, monkeypatch)

    async def batch(ops: list[tuple[int, str]]) -> list[int]:
        """Submit ``ops`` (user id, key) together: one batch; its statement count."""
        start = len(counter.marks)
        await asyncio.gather(
            *(
                kit.events.place_bet(Actor(u, Role.PLAYER), event.id, o, 5, idempotency_key=k)
                for u, k in ops
            )
        )
        return [counter.between(i) for i in range(start, len(counter.marks))]

    first = await batch([(u.id, f"a{u.id}") for u in users])  # new bets
    mixed = await batch(
        [(u.id, f"a{u.id}") for u in users[:10]]  # replays
        + [(u.id, f"b{u.id}") for u in users[10:]]  # top-ups
    )
    counter.close()

    assert first == [2], first
    assert mixed == [2], mixed
    for u in users[:10]:
        assert (await kit.wallets.balance(SYSTEM, u.id)).balance == 1000 - 5
    for u in users[10:]:
        assert (await kit.wallets.balance(SYSTEM, u.id)).balance == 1000 - 10
    assert (await kit.events.get(event.id)).pool == 10 * 5 + 10 * 10
    await check_books(pg, users)
