"""Pari-mutuel events, their outcomes and bets (``uow.events``) on the SQL unit of work's
connection (event chat is ``chat.py``).

Locks (PostgreSQL; SQLite runs one writer at a time with ``BEGIN IMMEDIATE`` and ignores them):

* ``lock="share"`` (bet batches) takes ``FOR KEY SHARE`` on the event rows, in id order. Not
  ``FOR SHARE``: a bet batch also increments ``events.bet_count``, and two batches holding
  ``FOR SHARE`` on one row would deadlock on that UPDATE. ``FOR KEY SHARE`` lets bet batches
  run together (their row updates queue one behind the other) and conflicts with
  ``FOR UPDATE``, so a status change waits for the batches in flight and new ones wait for it.
  It is one statement: the outcomes come along as JSON, read from the statement's snapshot, so
  their pool totals may miss batches that committed while this one waited for the lock (the
  totals are only ever incremented in SQL, never written back from these values), and an edit
  that replaced them meanwhile shows as a bet on a deleted outcome: ``add_bets`` reports the
  foreign-key failure as ``TransientStoreError``, and the retry reads the new outcomes.
* ``lock="update"`` (status changes) takes ``FOR UPDATE`` in id order, then reads the events and
  their outcomes with a fresh snapshot: every bet committed before the lock is counted.
* ``claim_due`` takes ``FOR UPDATE SKIP LOCKED``: rows another runner (or a bet batch) holds
  are skipped, and picked up by a later pass.

Set-based writes: a bet batch's inserts, top-ups and pool increments are one statement each
on PostgreSQL (rows passed as one JSON parameter); the rows they update are locked first in id
order, so concurrent batches queue and never deadlock. ``record_results`` is one
``UPDATE … FROM json_to_recordset`` however many bets it settles. SQLite uses ``executemany``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Dialect,
    String,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from ...domain.errors import TransientStoreError
from ...domain.events import (
    Bet,
    BetStatus,
    Event,
    EventDraft,
    EventStatus,
    Outcome,
    StreamType,
)
from ...domain.ledger import AccountKind
from ...ports import BetBatchView, BetResult, NewBet, PoolDelta
from .ledger import _transfer
from .session import int_array
from .session import utc as _utc
from .tables import UtcDateTime, accounts, bets, event_outcomes, events, transfers
from .users import SqlUsers, user_from_json

__all__ = ["SqlEvents"]

_LOCKS = ("none", "share", "update")
_CHUNK = 500  # SQLite: rows per IN (...) list, well under its bound-parameter limit
_STATUS = {s.value: s for s in EventStatus}
_STREAM = {s.value: s for s in StreamType}
_BET_STATUS = {s.value: s for s in BetStatus}


class _Session(Protocol):
    dialect: Dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any: ...


def _iso(value: datetime) -> str:
    """A timestamp for PostgreSQL's JSON parameters (UTC, explicit offset)."""
    return _utc(value).isoformat()


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _outcome(o: Sequence[Any]) -> Outcome:
    return Outcome(id=o[0], name=o[1], position=o[2], total=o[3], bettors=o[4])


def _event(m: Mapping[Any, Any], outcomes: tuple[Outcome, ...]) -> Event:
    return Event(
        id=m["id"],
        title=m["title"],
        description=m["description"],
        stream_type=_STREAM[m["stream_type"]],
        stream_url=m["stream_url"],
        currency=m["currency"],
        outcomes=outcomes,
        min_stake=m["min_stake"],
        max_stake=m["max_stake"],
        rake_bps=m["rake_bps"],
        start_time=m["start_time"],
        betting_locked_at=m["betting_locked_at"],
        settle_deadline=m["settle_deadline"],
        allow_topup=m["allow_topup"],
        status=_STATUS[m["status"]],
        escrow_account_id=m["escrow_account_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        created_by=m["created_by"],
        winning_outcome_id=m["winning_outcome_id"],
        locked_at=m["locked_at"],
        resolved_at=m["resolved_at"],
        bet_count=m["bet_count"],
    )


def _bet(r: Sequence[Any]) -> Bet:
    return Bet(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _BET_STATUS[r[8]], r[9], r[10])


def _new_bet(bet_id: int, b: NewBet) -> Bet:
    placed = _utc(b.placed_at)
    return Bet(
        bet_id, b.event_id, b.outcome_id, b.user_id, b.amount, b.wallet_account_id, placed, placed
    )


_BET_COLUMNS = (
    bets.c.id,
    bets.c.event_id,
    bets.c.outcome_id,
    bets.c.user_id,
    bets.c.amount,
    bets.c.wallet_account_id,
    bets.c.placed_at,
    bets.c.updated_at,
    bets.c.status,
    bets.c.payout,
    bets.c.placements,
)

# -- PostgreSQL statements ---------------------------------------------------------------------

_ids_param = cast(bindparam("ids", type_=String), postgresql.ARRAY(BigInteger))


def _pg_read(lock: str) -> Any:
    """Events by id with their outcomes as one JSON array each, in ONE statement; with
    ``lock="share"`` the event rows are locked ``FOR KEY SHARE`` in id order on the way."""
    inner = select(events).where(events.c.id == any_(_ids_param)).order_by(events.c.id)
    if lock == "share":
        inner = inner.with_for_update(read=True, key_share=True)
    e = inner.subquery("e")
    o = event_outcomes
    outcomes = (
        select(
            func.json_agg(
                postgresql.aggregate_order_by(
                    func.json_build_array(o.c.id, o.c.name, o.c.position, o.c.total, o.c.bettors),
                    o.c.position,
                )
            )
        )
        .where(o.c.event_id == e.c.id)
        .scalar_subquery()
    )
    return select(e, outcomes.label("outcomes")).order_by(e.c.id)


_PG_READ = {lock: _pg_read(lock) for lock in ("none", "share")}
_PG_LOCK_FOR_UPDATE = (
    select(events.c.id).where(events.c.id == any_(_ids_param)).order_by(events.c.id)
).with_for_update()

# Bets in input order (ORDER BY v.i: the serial ids ascend in it); the events' bet counts
# incremented in the same statement. Every UPDATE here locks its rows in id order first (the
# MATERIALIZED "l"), so two batches touching the same rows queue instead of deadlocking.
_PG_ADD_BETS = text(
    "WITH ins AS ("
    " INSERT INTO bets (event_id, outcome_id, user_id, amount, wallet_account_id,"
    " placed_at, updated_at, status, placements)"
    " SELECT v.e, v.o, v.u, v.a, v.w, v.t, v.t, 'open', 1"
    " FROM json_to_recordset(CAST(:rows AS json))"
    " AS v(i integer, e bigint, o bigint, u bigint, a bigint, w bigint, t timestamptz)"
    " ORDER BY v.i"
    " RETURNING id, event_id, user_id),"
    " c AS (SELECT * FROM json_to_recordset(CAST(:counts AS json)) AS c(id bigint, n integer)),"
    " l AS MATERIALIZED (SELECT events.id FROM events WHERE events.id IN (SELECT c.id FROM c)"
    " ORDER BY events.id FOR NO KEY UPDATE),"
    " u AS (UPDATE events SET bet_count = events.bet_count + c.n FROM c, l"
    " WHERE events.id = c.id AND l.id = c.id RETURNING 1)"
    " SELECT id, event_id, user_id FROM ins ORDER BY id"
)


_PG_ADD_TO_POOL = text(
    "WITH v AS (SELECT * FROM json_to_recordset(CAST(:rows AS json))"
    " AS v(id bigint, a bigint, n integer)),"
    " l AS MATERIALIZED (SELECT o.id FROM event_outcomes AS o WHERE o.id IN (SELECT v.id FROM v)"
    " ORDER BY o.id FOR NO KEY UPDATE)"
    " UPDATE event_outcomes SET total = event_outcomes.total + v.a,"
    " bettors = event_outcomes.bettors + v.n"
    " FROM v, l WHERE event_outcomes.id = v.id AND l.id = v.id"
)
_PG_TOP_UP = text(
    "WITH v AS (SELECT * FROM json_to_recordset(CAST(:rows AS json))"
    " AS v(id bigint, a bigint, n integer)),"
    " l AS MATERIALIZED (SELECT b.id FROM bets AS b WHERE b.id IN (SELECT v.id FROM v)"
    " ORDER BY b.id FOR NO KEY UPDATE)"
    " UPDATE bets SET amount = bets.amount + v.a, placements = bets.placements + v.n,"
    " updated_at = :now FROM v, l WHERE bets.id = v.id AND l.id = v.id"
).bindparams(bindparam("now", type_=UtcDateTime()))
# settlement holds the event FOR UPDATE: no one else writes its bets meanwhile
_PG_RECORD_RESULTS = text(
    "UPDATE bets SET status = v.s, payout = v.p, updated_at = :now"
    " FROM json_to_recordset(CAST(:rows AS json)) AS v(id bigint, s text, p bigint)"
    " WHERE bets.id = v.id"
).bindparams(bindparam("now", type_=UtcDateTime()))
_PG_BETS_FOR = text(
    "SELECT b.id, b.event_id, b.outcome_id, b.user_id, b.amount, b.wallet_account_id,"
    " b.placed_at, b.updated_at, b.status, b.payout, b.placements"
    " FROM unnest(CAST(:e AS bigint[]), CAST(:u AS bigint[])) AS k(e, u)"
    " JOIN bets AS b ON b.event_id = k.e AND b.user_id = k.u"
).columns(*_BET_COLUMNS)

# A bet batch's read: the events locked FOR KEY SHARE (in id order) with their outcomes, the
# users' bets and the transfers already recorded under the batch's keys, as JSON, in ONE
# statement: one snapshot, so a batch that committed meanwhile is seen whole (bets and stakes)
# or not at all. (Two statements let a replay see the first bet but not its stake, and be
# refused as a second bet.) Transfers: one index probe per key (LATERAL ... LIMIT 1). And the
# bettors' wallet account ids in each event's currency, where they exist, and the users of the
# batch's access tokens (``user_from_json``'s columns), who are authenticated from them.
_PG_READ_BATCH = text(
    "WITH e AS MATERIALIZED (SELECT * FROM events WHERE id = ANY(CAST(:ids AS bigint[]))"
    " ORDER BY id FOR KEY SHARE)"
    " SELECT"
    " (SELECT json_agg(json_build_array(row_to_json(e), (SELECT json_agg(json_build_array("
    "o.id, o.name, o.position, o.total, o.bettors) ORDER BY o.position)"
    " FROM event_outcomes AS o WHERE o.event_id = e.id)) ORDER BY e.id) FROM e),"
    " (SELECT json_agg(json_build_array(b.id, b.event_id, b.outcome_id, b.user_id, b.amount,"
    " b.wallet_account_id, b.placed_at, b.updated_at, b.status, b.payout, b.placements))"
    " FROM unnest(CAST(:e AS bigint[]), CAST(:u AS bigint[])) AS k(e, u)"
    " JOIN bets AS b ON b.event_id = k.e AND b.user_id = k.u),"
    " (SELECT json_agg(t) FROM json_array_elements_text(CAST(:keys AS json)) AS k(key)"
    " CROSS JOIN LATERAL (SELECT * FROM transfers WHERE transfers.id = k.key LIMIT 1) AS t),"
    " (SELECT json_agg(json_build_array(a.owner, a.currency, a.id))"
    " FROM json_to_recordset(CAST(:wallets AS json)) AS w(e bigint, o text)"
    " JOIN e ON e.id = w.e JOIN accounts AS a"
    " ON a.kind = :kind AND a.owner = w.o AND a.currency = e.currency),"
    " (SELECT json_agg(json_build_array(u.id, u.display_name, u.role, u.status, u.created_at,"
    " u.telegram_id, u.username, u.email, u.password_hash, u.whitelisted, u.rating_sum,"
    " u.rating_count)) FROM users AS u WHERE u.id = ANY(CAST(:uids AS bigint[])))"
)

# A bet batch's write in ONE statement: the new bets (in input order) with the events' bet
# counts, the top-ups and the pool increments. Rows are locked in a fixed order, events, then
# bets, then outcomes (each lock CTE waits for the previous UPDATE through its dummy
# ``count(*) >= 0``), each in id order, so concurrent batches queue instead of deadlocking.
_PG_WRITE_BATCH = text(
    "WITH nv AS (SELECT * FROM json_to_recordset(CAST(:rows AS json))"
    " AS v(i integer, e bigint, o bigint, u bigint, a bigint, w bigint, t timestamptz)),"
    " ins AS (INSERT INTO bets (event_id, outcome_id, user_id, amount, wallet_account_id,"
    " placed_at, updated_at, status, placements)"
    " SELECT nv.e, nv.o, nv.u, nv.a, nv.w, nv.t, nv.t, 'open', 1 FROM nv ORDER BY nv.i"
    " RETURNING id, event_id, user_id),"
    " c AS (SELECT * FROM json_to_recordset(CAST(:counts AS json)) AS c(id bigint, n integer)),"
    " l AS MATERIALIZED (SELECT events.id FROM events WHERE events.id IN (SELECT c.id FROM c)"
    " ORDER BY events.id FOR NO KEY UPDATE),"
    " u AS (UPDATE events SET bet_count = events.bet_count + c.n FROM c, l"
    " WHERE events.id = c.id AND l.id = c.id RETURNING 1),"
    " tv AS (SELECT * FROM json_to_recordset(CAST(:topups AS json))"
    " AS v(id bigint, a bigint, n integer)),"
    " tl AS MATERIALIZED (SELECT b.id FROM bets AS b WHERE b.id IN (SELECT tv.id FROM tv)"
    " AND (SELECT count(*) FROM u) >= 0 ORDER BY b.id FOR NO KEY UPDATE),"
    " tu AS (UPDATE bets SET amount = bets.amount + tv.a, placements = bets.placements + tv.n,"
    " updated_at = :now FROM tv, tl WHERE bets.id = tv.id AND tl.id = tv.id RETURNING 1),"
    " pv AS (SELECT * FROM json_to_recordset(CAST(:pool AS json))"
    " AS v(id bigint, a bigint, n integer)),"
    " pl AS MATERIALIZED (SELECT o.id FROM event_outcomes AS o WHERE o.id IN (SELECT pv.id"
    " FROM pv) AND (SELECT count(*) FROM tu) >= 0 ORDER BY o.id FOR NO KEY UPDATE),"
    " pu AS (UPDATE event_outcomes SET total = event_outcomes.total + pv.a,"
    " bettors = event_outcomes.bettors + pv.n"
    " FROM pv, pl WHERE event_outcomes.id = pv.id AND pl.id = pv.id RETURNING 1)"
    " SELECT id, event_id, user_id FROM ins ORDER BY id"
).bindparams(bindparam("now", type_=UtcDateTime()))

_EVENT_TIMES = (
    "start_time",
    "betting_locked_at",
    "settle_deadline",
    "created_at",
    "updated_at",
    "locked_at",
    "resolved_at",
)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _json_event(pair: Sequence[Any]) -> Event:
    """An event from ``_PG_READ_BATCH``'s JSON: [row, outcomes]."""
    row, outcomes = pair
    m = {k: (_ts(v) if k in _EVENT_TIMES and v is not None else v) for k, v in row.items()}
    return _event(m, tuple(_outcome(o) for o in outcomes or ()))


def _json_bet(r: Sequence[Any]) -> Bet:
    return _bet([*r[:6], _ts(r[6]), _ts(r[7]), *r[8:]])


# -- SQLite statements -------------------------------------------------------------------------

_SQLITE_BET_COUNT = (
    update(events)
    .where(events.c.id == bindparam("b_id"))
    .values(bet_count=events.c.bet_count + bindparam("b_n"))
)
_SQLITE_ADD_TO_POOL = (
    update(event_outcomes)
    .where(event_outcomes.c.id == bindparam("b_id"))
    .values(
        total=event_outcomes.c.total + bindparam("b_a"),
        bettors=event_outcomes.c.bettors + bindparam("b_n"),
    )
)
_SQLITE_TOP_UP = (
    update(bets)
    .where(bets.c.id == bindparam("b_id"))
    .values(
        amount=bets.c.amount + bindparam("b_a"),
        placements=bets.c.placements + bindparam("b_n"),
        updated_at=bindparam("b_now", type_=UtcDateTime()),
    )
)
_SQLITE_RECORD_RESULTS = (
    update(bets)
    .where(bets.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_s"),
        payout=bindparam("b_p"),
        updated_at=bindparam("b_now", type_=UtcDateTime()),
    )
)

# the partial index ix_events_unresolved has exactly this predicate: literal, so that the
# planner can match it whatever the parameters
_UNRESOLVED = text("events.status IN ('scheduled', 'open', 'locked', 'settling', 'voiding')")


def _bet_rows(new: Sequence[NewBet]) -> list[dict[str, Any]]:
    """New bets as the JSON rows PostgreSQL's bet inserts read (``i``: the input order)."""
    return [
        {
            "i": i,
            "e": b.event_id,
            "o": b.outcome_id,
            "u": b.user_id,
            "a": b.amount,
            "w": b.wallet_account_id,
            "t": _iso(b.placed_at),
        }
        for i, b in enumerate(new)
    ]


class SqlEvents:
    def __init__(self, session: _Session) -> None:
        self._c = session
        self._pg = session.dialect.name == "postgresql"

    # -- events --------------------------------------------------------------------------
    async def add(
        self, draft: EventDraft, *, escrow_account_id: int, created_by: int | None, now: datetime
    ) -> Event:
        if draft.betting_locked_at is None or draft.settle_deadline is None:
            raise ValueError("the store takes validated drafts (validate_draft)")
        values = {
            "title": draft.title,
            "description": draft.description,
            "stream_type": draft.stream_type.value,
            "stream_url": draft.stream_url,
            "currency": draft.currency,
            "min_stake": draft.min_stake,
            "max_stake": draft.max_stake,
            "rake_bps": draft.rake_bps,
            "start_time": _utc(draft.start_time),
            "betting_locked_at": _utc(draft.betting_locked_at),
            "settle_deadline": _utc(draft.settle_deadline),
            "allow_topup": draft.allow_topup,
            "status": draft.status.value,
            "escrow_account_id": escrow_account_id,
            "created_by": created_by,
            "winning_outcome_id": None,
            "locked_at": None,
            "resolved_at": None,
            "created_at": _utc(now),
            "updated_at": _utc(now),
            "bet_count": 0,
        }
        event_id = (
            await self._c.execute(insert(events).values(values).returning(events.c.id))
        ).scalar_one()
        outcomes = await self._insert_outcomes(event_id, draft.outcomes)
        return _event({"id": event_id, **values}, outcomes)

    async def _insert_outcomes(self, event_id: int, names: Sequence[str]) -> tuple[Outcome, ...]:
        rows = await self._c.execute(
            insert(event_outcomes).returning(event_outcomes.c.id, event_outcomes.c.position),
            [
                {"event_id": event_id, "name": n, "position": i, "total": 0, "bettors": 0}
                for i, n in enumerate(names)
            ],
        )
        ids = {r.position: r.id for r in rows}
        return tuple(Outcome(ids[i], n, i) for i, n in enumerate(names))

    async def get(self, event_id: int, *, lock: str = "none") -> Event | None:
        return (await self.get_many([event_id], lock=lock)).get(event_id)

    async def get_many(self, event_ids: Sequence[int], *, lock: str = "none") -> dict[int, Event]:
        if lock not in _LOCKS:
            raise ValueError(f"lock must be one of {_LOCKS}")
        ids = sorted(set(event_ids))
        if not ids:
            return {}
        if self._pg and lock == "update":  # lock first, then read with a fresh snapshot
            await self._c.execute(_PG_LOCK_FOR_UPDATE, {"ids": int_array(ids)})
            lock = "none"
        return await self._read(ids, lock)

    async def _read(self, ids: Sequence[int], lock: str = "none") -> dict[int, Event]:
        """Events (in id order) with their outcomes."""
        if self._pg:
            rows = await self._c.execute(_PG_READ[lock], {"ids": int_array(ids)})
            return {
                r.id: _event(r._mapping, tuple(_outcome(o) for o in r.outcomes or ())) for r in rows
            }
        found: list[Row[Any]] = []
        for part in _chunks(ids):
            found += await self._c.execute(
                select(events).where(events.c.id.in_(part)).order_by(events.c.id)
            )
        return await self._with_outcomes(found)

    async def _with_outcomes(self, rows: Sequence[Row[Any]]) -> dict[int, Event]:
        """SQLite: the outcomes of these event rows, in a second statement."""
        by_event: dict[int, list[Outcome]] = {r.id: [] for r in rows}
        o = event_outcomes
        for part in _chunks(list(by_event)):
            q = (
                select(o.c.event_id, o.c.id, o.c.name, o.c.position, o.c.total, o.c.bettors)
                .where(o.c.event_id.in_(part))
                .order_by(o.c.event_id, o.c.position)
            )
            for r in await self._c.execute(q):
                by_event[r[0]].append(_outcome(r[1:]))
        return {r.id: _event(r._mapping, tuple(by_event[r.id])) for r in rows}

    async def update(self, event: Event) -> None:
        await self._c.execute(
            update(events)
            .where(events.c.id == event.id)
            .values(
                title=event.title,
                description=event.description,
                stream_type=event.stream_type.value,
                stream_url=event.stream_url,
                currency=event.currency,
                min_stake=event.min_stake,
                max_stake=event.max_stake,
                rake_bps=event.rake_bps,
                start_time=event.start_time,
                betting_locked_at=event.betting_locked_at,
                settle_deadline=event.settle_deadline,
                allow_topup=event.allow_topup,
                status=event.status.value,
                escrow_account_id=event.escrow_account_id,
                created_by=event.created_by,
                winning_outcome_id=event.winning_outcome_id,
                locked_at=event.locked_at,
                resolved_at=event.resolved_at,
                created_at=event.created_at,
                updated_at=event.updated_at,
            )
        )

    async def replace_outcomes(self, event_id: int, names: Sequence[str]) -> tuple[Outcome, ...]:
        await self._c.execute(delete(event_outcomes).where(event_outcomes.c.event_id == event_id))
        return await self._insert_outcomes(event_id, names)

    async def list_events(
        self,
        *,
        statuses: Sequence[EventStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Event]:
        q = select(events.c.id).order_by(events.c.id.desc()).limit(limit)
        if statuses is not None:
            q = q.where(events.c.status.in_([s.value for s in statuses]))
        if before_id is not None:
            q = q.where(events.c.id < before_id)
        ids = [r.id for r in await self._c.execute(q)]
        found = await self._read(ids) if ids else {}
        return [found[i] for i in ids if i in found]

    async def claim_due(self, now: datetime, stale_before: datetime, limit: int) -> list[Event]:
        s = events.c
        q = (
            select(s.id)
            .where(
                _UNRESOLVED,
                or_(
                    and_(
                        s.status.in_(("scheduled", "open")),
                        or_(s.betting_locked_at <= now, s.start_time <= now),
                    ),
                    and_(s.status.in_(("scheduled", "open", "locked")), s.settle_deadline <= now),
                    and_(s.status.in_(("settling", "voiding")), s.updated_at < stale_before),
                ),
            )
            .order_by(s.id)
            .limit(limit)
        )
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        ids = [r.id for r in await self._c.execute(q)]
        if not ids:
            return []
        found = await self._read(ids)  # a fresh snapshot: the rows as locked
        return [found[i] for i in ids if i in found]

    # -- bets ----------------------------------------------------------------------------
    async def bets_for(self, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Bet]:
        keys = sorted(set(pairs))
        if not keys:
            return {}
        if self._pg:
            rows = await self._c.execute(
                _PG_BETS_FOR,
                {"e": int_array(e for e, _ in keys), "u": int_array(u for _, u in keys)},
            )
            found = [_bet(r) for r in rows]
        else:
            found = []
            for part in _chunks(keys):
                q = select(*_BET_COLUMNS).where(tuple_(bets.c.event_id, bets.c.user_id).in_(part))
                found += [_bet(r) for r in await self._c.execute(q)]
        return {(b.event_id, b.user_id): b for b in found}

    async def add_bets(self, new: Sequence[NewBet]) -> list[Bet]:
        if not new:
            return []
        counts = Counter(b.event_id for b in new)
        if self._pg:
            rows = _bet_rows(new)
            params = {
                "rows": json.dumps(rows),
                "counts": json.dumps([{"id": e, "n": n} for e, n in sorted(counts.items())]),
            }
            try:
                result = await self._c.execute(_PG_ADD_BETS, params)
            except IntegrityError as exc:
                # 23503: an outcome replaced by an edit that committed while this batch waited
                # for the event's lock (its outcomes were read before): retry, and see them
                if getattr(exc.orig, "sqlstate", None) == "23503":
                    raise TransientStoreError() from None
                raise
            ids = {(r.event_id, r.user_id): r.id for r in result}
        else:
            result = await self._c.execute(
                # one multi-row INSERT (written in order under BEGIN IMMEDIATE: the rowids
                # ascend in it); RETURNING's order is not promised, so match rows by key
                insert(bets).returning(bets.c.id, bets.c.event_id, bets.c.user_id),
                [
                    {
                        "event_id": b.event_id,
                        "outcome_id": b.outcome_id,
                        "user_id": b.user_id,
                        "amount": b.amount,
                        "wallet_account_id": b.wallet_account_id,
                        "placed_at": b.placed_at,
                        "updated_at": b.placed_at,
                        "status": BetStatus.OPEN.value,
                        "payout": None,
                        "placements": 1,
                    }
                    for b in new
                ],
            )
            ids = {(r.event_id, r.user_id): r.id for r in result}
            await self._c.execute(
                _SQLITE_BET_COUNT, [{"b_id": e, "b_n": n} for e, n in sorted(counts.items())]
            )
        return [_new_bet(ids[(b.event_id, b.user_id)], b) for b in new]

    async def top_up(self, topups: Sequence[tuple[int, int]], now: datetime) -> None:
        if not topups:
            return
        amounts: dict[int, int] = {}
        placements: Counter[int] = Counter()
        for bet_id, amount in topups:  # one row per bet: UPDATE … FROM applies one match
            amounts[bet_id] = amounts.get(bet_id, 0) + amount
            placements[bet_id] += 1
        order = sorted(amounts)
        if self._pg:
            rows = [{"id": b, "a": amounts[b], "n": placements[b]} for b in order]
            await self._c.execute(_PG_TOP_UP, {"rows": json.dumps(rows), "now": now})
        else:
            await self._c.execute(
                _SQLITE_TOP_UP,
                [{"b_id": b, "b_a": amounts[b], "b_n": placements[b], "b_now": now} for b in order],
            )

    async def add_to_pool(self, deltas: Sequence[PoolDelta]) -> None:
        if not deltas:
            return
        sums: dict[int, list[int]] = {}
        for d in deltas:
            acc = sums.setdefault(d.outcome_id, [0, 0])
            acc[0] += d.amount
            acc[1] += d.bettors
        order = sorted(sums)
        if self._pg:
            rows = [{"id": o, "a": sums[o][0], "n": sums[o][1]} for o in order]
            await self._c.execute(_PG_ADD_TO_POOL, {"rows": json.dumps(rows)})
        else:
            await self._c.execute(
                _SQLITE_ADD_TO_POOL,
                [{"b_id": o, "b_a": sums[o][0], "b_n": sums[o][1]} for o in order],
            )

    async def read_bet_batch(
        self,
        event_ids: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        transfer_ids: Sequence[str],
        wallets: Sequence[tuple[int, str]] = (),
        users: Sequence[int] = (),
    ) -> BetBatchView:
        kind = AccountKind.USER.value
        if not self._pg:  # one writer at a time (BEGIN IMMEDIATE): any order is consistent
            evs = await self.get_many(event_ids, lock="share")
            found: dict[str, Any] = {}
            for part in _chunks(sorted(set(transfer_ids))):
                q = select(transfers).where(transfers.c.id.in_(part))
                found.update((r.id, _transfer(r)) for r in await self._c.execute(q))
            specs = sorted({(o, evs[e].currency) for e, o in wallets if e in evs})
            ids_of: dict[tuple[str, str], int] = {}
            for part in _chunks(specs):
                a = accounts.c
                q = select(a.owner, a.currency, a.id).where(
                    a.kind == kind, tuple_(a.owner, a.currency).in_(part)
                )
                ids_of.update(((r.owner, r.currency), r.id) for r in await self._c.execute(q))
            people = await SqlUsers(self._c).get_many(users) if users else {}  # type: ignore[arg-type]
            return BetBatchView(evs, await self.bets_for(pairs), found, ids_of, people)
        ids, pair_keys = sorted(set(event_ids)), sorted(set(pairs))
        row = (
            await self._c.execute(
                _PG_READ_BATCH,
                {
                    "ids": int_array(ids),
                    "e": int_array(e for e, _ in pair_keys),
                    "u": int_array(u for _, u in pair_keys),
                    "keys": json.dumps(sorted(set(transfer_ids))),
                    "wallets": json.dumps([{"e": e, "o": o} for e, o in sorted(set(wallets))]),
                    "kind": kind,
                    "uids": int_array(sorted(set(users))),
                },
            )
        ).one()
        read = [_json_event(p) for p in row[0] or ()]
        bs = [_json_bet(r) for r in row[1] or ()]
        ts = [_transfer(d) for d in row[2] or ()]
        return BetBatchView(
            {e.id: e for e in read},
            {(b.event_id, b.user_id): b for b in bs},
            {t.id: t for t in ts},
            {(o, c): a for o, c, a in row[3] or ()},
            {u.id: u for u in map(user_from_json, row[4] or ())},
        )

    async def write_bet_batch(
        self,
        new: Sequence[NewBet],
        topups: Sequence[tuple[int, int]],
        deltas: Sequence[PoolDelta],
        now: datetime,
    ) -> list[Bet]:
        if not self._pg:
            added = await self.add_bets(new)
            await self.top_up(topups, now)
            await self.add_to_pool(deltas)
            return added
        if not (new or topups or deltas):
            return []
        counts = Counter(b.event_id for b in new)
        amounts: Counter[int] = Counter()
        placements: Counter[int] = Counter()
        for bet_id, amount in topups:  # one row per bet: UPDATE … FROM applies one match
            amounts[bet_id] += amount
            placements[bet_id] += 1
        pool: dict[int, list[int]] = {}
        for d in deltas:
            acc = pool.setdefault(d.outcome_id, [0, 0])
            acc[0] += d.amount
            acc[1] += d.bettors
        params = {
            "rows": json.dumps(_bet_rows(new)),
            "counts": json.dumps([{"id": e, "n": n} for e, n in sorted(counts.items())]),
            "topups": json.dumps(
                [{"id": b, "a": amounts[b], "n": placements[b]} for b in sorted(amounts)]
            ),
            "pool": json.dumps([{"id": o, "a": a, "n": n} for o, (a, n) in sorted(pool.items())]),
            "now": now,
        }
        try:
            result = await self._c.execute(_PG_WRITE_BATCH, params)
        except IntegrityError as exc:
            # 23503: an outcome replaced by an edit that committed while this batch waited
            # for the event's lock (its outcomes were read before): retry, and see them
            if getattr(exc.orig, "sqlstate", None) == "23503":
                raise TransientStoreError() from None
            raise
        ids = {(r.event_id, r.user_id): r.id for r in result}
        return [_new_bet(ids[(b.event_id, b.user_id)], b) for b in new]

    async def bets_of_event(self, event_id: int) -> list[Bet]:
        q = select(*_BET_COLUMNS).where(bets.c.event_id == event_id).order_by(bets.c.id)
        return [_bet(r) for r in await self._c.execute(q)]

    async def record_results(self, results: Sequence[BetResult], now: datetime) -> None:
        if not results:
            return
        last = {r.bet_id: r for r in results}  # one row per bet
        order = sorted(last)
        if self._pg:
            rows = [{"id": b, "s": last[b].status.value, "p": last[b].payout} for b in order]
            await self._c.execute(_PG_RECORD_RESULTS, {"rows": json.dumps(rows), "now": now})
        else:
            await self._c.execute(
                _SQLITE_RECORD_RESULTS,
                [
                    {"b_id": b, "b_s": last[b].status.value, "b_p": last[b].payout, "b_now": now}
                    for b in order
                ],
            )

    async def list_bets(
        self,
        *,
        event_id: int | None = None,
        user_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Bet]:
        q = select(*_BET_COLUMNS).order_by(bets.c.id.desc()).limit(limit)
        if event_id is not None:
            q = q.where(bets.c.event_id == event_id)
        if user_id is not None:
            q = q.where(bets.c.user_id == user_id)
        if before_id is not None:
            q = q.where(bets.c.id < before_id)
        return [_bet(r) for r in await self._c.execute(q)]
